// `pie-stream run` with a cluster: section: the lease loop driving the live pipeline through the
// AppHost adapter, face-event stream and model store on the same connection, and the cluster front.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SinkFactory } from '../app.js';
import type { PieConfig } from '../config/schema.js';
import { AppHost } from './app-host.js';
import { openBus, untilNatsAnswers } from './connection.js';
import { ensureEventStream, FaceEventBus } from './events.js';
import { startClusterFront } from './http.js';
import { openModels } from './models.js';
import { ClusterNode } from './node.js';

/** How often a node looks for newly published models of the cameras it runs (one info request per camera). */
const MODEL_REFRESH_MS = 2000;

export async function runClusterNode(config: PieConfig, sinks: SinkFactory, log: (s: string) => void): Promise<{ close(): Promise<void> }> {
  const cluster = config.cluster!;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `pie-stream-${cluster.node}-`));
  // A second connection for events and models keeps large model transfers off the lease loop's path.
  const bus = await untilNatsAnswers(async () => {
    const b = await openBus(cluster, { timeoutMs: 5000, log });
    try {
      await ensureEventStream(b.jsm, cluster.events, b.replicas);
      return b;
    } catch (e) {
      await b.close();
      throw e;
    }
  }, log, 60_000);
  const faceEvents = new FaceEventBus(bus);
  const host = new AppHost({ config, sinks, models: await openModels(bus), faceEvents, dataDir, log });
  // The front listens first: with port 0 the advertised URL needs the port it got.
  let node: ClusterNode | undefined;
  const front = await startClusterFront({ host: config.server.host, port: config.server.port, ...(config.server.token ? { token: config.server.token } : {}), node: () => node, localUrl: (c) => host.urlOf(c), local: () => host.localView(), enhance: config.enhance, events: () => ({ published: faceEvents.published, dropped: faceEvents.dropped }) });
  const url = cluster.url ?? advertisedUrl(config.server.host, front.port);
  node = await ClusterNode.start({ config: cluster, host, log, url });
  // A model published while a camera runs here: picked up within this period (a restart of that camera).
  const refresh = setInterval(() => { void host.refresh(); }, MODEL_REFRESH_MS);
  refresh.unref();
  log(`cluster node ${cluster.node} at ${front.url}, advertised to other nodes as ${url}  (cluster: ${front.url}/api/cluster, cameras: ${front.url}/api/cameras; streams of every camera: /hls/<camera>/<variant>/index.m3u8, ws /ws/<camera>/<variant>; face events: pie-stream.<camera>.faces)`);
  return {
    close: async () => {
      clearInterval(refresh);
      await node?.close();
      await host.close();
      await front.close();
      await bus.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The URL other nodes relay viewers through when cluster.url is not set: the listening address
 * when it is a specific one; for a wildcard (0.0.0.0, ::) this machine's first non-internal IPv4
 * address (the hostname when it has none); loopback stays loopback (nodes on one machine).
 */
export function advertisedUrl(host: string, port: number, nets: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces()): string {
  const bare = host.replace(/^\[|\]$/g, '');
  let name = bare;
  if (bare === '0.0.0.0' || bare === '::') {
    const v4 = Object.values(nets).flat().find((n) => n && n.family === 'IPv4' && !n.internal);
    name = v4?.address ?? os.hostname();
  }
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}
