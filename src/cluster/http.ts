// The node's front in cluster mode: the viewer, /api/cluster (nodes, capacity, leases and their
// ages), /api/cameras and /api/stats for every camera of the site (site-view.ts: each as its owner
// reports it, with owner and status), and each camera's HLS files, WebSocket streams, snapshot and
// latest faces from whichever node runs it, relayed (proxy.ts): a viewer may open any node.
// Credentials never appear: node records carry no secrets and camera inputs are masked by the apps.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { isLoopback } from '../config/schema.js';
import { messageOf } from '../errors.js';
import { redact } from '../ingest/redact.js';
import { hostnameOf, serveViewerAsset, tokenOk } from '../output/http-server.js';
import { loadViewerAssets } from '../output/viewer-assets.js';
import type { ClusterNode } from './node.js';
import { ClusterProxy, HOP_HEADER, type ProxyLimits, type Upstream } from './proxy.js';
import { SiteView, type DenoiseDefaults, type LocalView } from './site-view.js';

export interface ClusterFront {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface ClusterFrontOptions {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  /** The node, once it has joined (the front listens first, so the node can advertise its port). */
  readonly node: () => ClusterNode | undefined;
  /** The loopback app of a camera this node runs. */
  readonly localUrl: (camera: string) => string | undefined;
  readonly limits?: Partial<ProxyLimits>;
  /** What this node's apps report (its part of the site view). */
  readonly local: () => LocalView;
  /** This node's enhance.denoise and denoiseStrength: what an offline camera without its own would run with. */
  readonly enhance?: DenoiseDefaults;
  /** Face events sent to the bus and dropped (NATS slow or away), for /api/cluster. */
  readonly events?: () => { readonly published: number; readonly dropped: number };
}

/** Per-camera GETs relayed to the camera's app: HLS files, the snapshot, the latest faces. */
const RELAYED = /^\/(?:hls\/([a-z0-9_-]{1,64})\/(?:raw|enhanced)\/[A-Za-z0-9_.-]{1,128}|api\/cameras\/([a-z0-9_-]{1,64})\/(?:snapshot\.jpg|faces\/latest|faces\/latest\.jpg))$/;
const WS = /^\/ws\/([a-z0-9_-]{1,64})\/([a-z]{1,16})$/;

export async function startClusterFront(o: ClusterFrontOptions): Promise<ClusterFront> {
  const proxy = new ClusterProxy(o.token, o.limits);
  const assets = loadViewerAssets();
  let site: SiteView | undefined;
  const json = (res: http.ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };

  /** Where a camera's streams come from now, or why none. */
  const upstreamOf = (req: http.IncomingMessage, camera: string): Upstream | { error: string } => {
    const local = o.localUrl(camera);
    if (local) return { base: local, remote: false };
    // Relayed here by another node that thought we run it: never relay again (no loops).
    if (relayed(req)) return { error: `camera ${camera} is not running on this node (any more)` };
    const s = o.node()?.status();
    if (!s) return { error: 'this node is joining the cluster' };
    const owner = s.cameras.find((c) => c.name === camera)?.owner;
    if (!owner) return { error: s.cameras.some((c) => c.name === camera) ? `camera ${camera} has no owner now (it moves within a lease period)` : `no camera ${camera} in the cluster` };
    const url = s.nodes.find((n) => n.node === owner && n.node !== s.node)?.url;
    return url ? { base: url, remote: true } : { error: `camera ${camera}'s owner ${owner} ${owner === s.node ? 'is starting it' : 'advertises no url'}` };
  };

  const relayed = (req: http.IncomingMessage): boolean => req.headers[HOP_HEADER] !== undefined;

  /** The same gate as a node alone: a token, or loopback-only with a loopback Host (no DNS rebinding). */
  const allowed = (req: http.IncomingMessage, url: URL): boolean =>
    o.token ? tokenOk(req, url, o.token) : isLoopback(hostnameOf(req.headers.host));

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const node = o.node();
    if (url.pathname === '/health') return json(res, 200, { status: node ? 'ok' : 'starting', node: node?.name ?? null });
    if (!allowed(req, url)) return json(res, 401, { error: 'token required: send Authorization: Bearer <token>, or open /?token=<token> in a browser' });
    const asset = assets.get(url.pathname);
    if (asset) return serveViewerAsset(req, res, url, asset, o.token);
    if (!node) return json(res, 503, { error: 'this node is joining the cluster' });
    if (url.pathname === '/api/cluster/local') return json(res, 200, o.local());
    site ??= new SiteView({ node, local: o.local, ...(o.token ? { token: o.token } : {}), ...(o.enhance ? { enhance: o.enhance } : {}) });
    const answer = (p: Promise<unknown>): void => { p.then((v) => json(res, 200, v), (e: unknown) => json(res, 500, { error: redact(`internal error: ${messageOf(e)}`) })); };
    if (url.pathname === '/api/cameras') return answer(site.cameras());
    if (url.pathname === '/api/stats') return answer(site.stats());
    const s = node.status();
    if (url.pathname === '/api/cluster') return json(res, 200, { node: s.node, state: s.state, connected: s.connected, capacity: s.capacity, nodes: s.nodes, leases: s.leases, proxy: proxy.stats(), ...(o.events ? { events: o.events() } : {}), ...(s.lastError ? { lastError: s.lastError } : {}) });
    const m = RELAYED.exec(url.pathname);
    if (m) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'use GET' });
      const up = upstreamOf(req, (m[1] ?? m[2])!);
      if ('error' in up) return json(res, 503, { error: up.error, fix: 'see /api/cameras; try again in a few seconds' });
      // The query passes on without a token: the upstream gets the node's own credentials.
      url.searchParams.delete('token');
      return proxy.relayHttp(req, res, up, `${url.pathname}${url.search}`);
    }
    json(res, 404, { error: `nothing at ${url.pathname}`, see: ['/', '/health', '/api/cluster', '/api/cameras', '/api/stats', '/api/cameras/<camera>/snapshot.jpg', '/hls/<camera>/<variant>/index.m3u8', 'ws /ws/<camera>/<variant>', 'ws /ws/<camera>/events'] });
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, reason: string, error: string): void => {
      const body = JSON.stringify({ error });
      if (socket.writable) socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      else socket.destroy();
    };
    socket.on('error', () => socket.destroy());
    let url: URL;
    try { url = new URL(req.url ?? '/', 'http://x'); } catch { refuse(400, 'Bad Request', 'malformed request URL'); return; }
    // A page on another site must not open our streams with the viewer's cookie.
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let host = '';
      try { host = new URL(origin).host; } catch { /* refused below */ }
      if (host !== req.headers.host) { refuse(403, 'Forbidden', `origin ${origin} is not this server`); return; }
    }
    if (!allowed(req, url)) { refuse(401, 'Unauthorized', 'token required'); return; }
    if (url.pathname === '/ws/events' && !relayed(req)) {
      // Every camera that has an owner now; the relay reopens each one's feed as cameras move.
      const sources = (): Array<{ camera: string; up: Upstream }> => (o.node()?.status().cameras ?? []).flatMap((c) => {
        const up = c.owner ? upstreamOf(req, c.name) : undefined;
        return up && !('error' in up) ? [{ camera: c.name, up }] : [];
      });
      proxy.relayEvents(req, socket, head, sources, refuse);
      return;
    }
    const m = WS.exec(url.pathname);
    if (!m) { refuse(404, 'Not Found', `no stream at ${url.pathname}`); return; }
    const up = upstreamOf(req, m[1]!);
    if ('error' in up) { refuse(503, 'Service Unavailable', up.error); return; }
    proxy.relayWebSocket(req, socket, head, up, url.pathname, refuse);
  });

  await new Promise<void>((r) => server.listen(o.port, o.host, r));
  const a = server.address() as AddressInfo;
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${a.port}`,
    port: a.port,
    close: () => new Promise<void>((r) => { proxy.close(); server.closeAllConnections(); server.close(() => r()); }),
  };
}
