// The node's front in cluster mode: /api/cluster (nodes, capacity, leases and their ages),
// /api/cameras (every camera of the cluster with its owner and status), and /hls/… redirected to
// whichever app serves the camera: this node's own (a loopback app) or the owner node's url.
// Credentials never appear: node records carry no secrets and camera inputs are not listed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tokenOk } from '../output/http-server.js';
import type { ClusterNode } from './node.js';

export interface ClusterFront {
  readonly url: string;
  close(): Promise<void>;
}

export async function startClusterFront(o: { readonly host: string; readonly port: number; readonly token?: string; readonly node: ClusterNode; readonly localUrl: (camera: string) => string | undefined }): Promise<ClusterFront> {
  const json = (res: http.ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health') return json(res, 200, { status: 'ok', node: o.node.name });
    if (!tokenOk(req, url, o.token)) return json(res, 401, { error: 'token required' });
    const s = o.node.status();
    if (url.pathname === '/api/cluster') return json(res, 200, { node: s.node, state: s.state, connected: s.connected, capacity: s.capacity, nodes: s.nodes, leases: s.leases, ...(s.lastError ? { lastError: s.lastError } : {}) });
    if (url.pathname === '/api/cameras') return json(res, 200, { node: s.node, cameras: s.cameras });
    const m = /^\/hls\/([a-z0-9_-]+)\//.exec(url.pathname);
    if (m) {
      const camera = m[1]!;
      const local = o.localUrl(camera);
      const owner = s.cameras.find((c) => c.name === camera)?.owner;
      const remote = owner ? s.nodes.find((n) => n.node === owner)?.url : undefined;
      const base = local ?? remote;
      if (!base) return json(res, 503, { error: `camera ${camera} has no owner with a reachable url now`, owner: owner ?? null });
      res.writeHead(307, { location: `${base}${url.pathname}${url.search}` }).end();
      return;
    }
    json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(o.port, o.host, r));
  const a = server.address() as AddressInfo;
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${a.port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
