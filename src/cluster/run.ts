// `pie-stream run` with a cluster: section: the lease loop driving the live pipeline through the
// AppHost adapter, face-event stream and model store on the same connection, and the cluster front.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SinkFactory } from '../app.js';
import type { PieConfig } from '../config/schema.js';
import { AppHost } from './app-host.js';
import { openBus } from './connection.js';
import { ensureEventStream } from './events.js';
import { startClusterFront } from './http.js';
import { openModels } from './models.js';
import { ClusterNode } from './node.js';

export async function runClusterNode(config: PieConfig, sinks: SinkFactory, log: (s: string) => void): Promise<{ close(): Promise<void> }> {
  const cluster = config.cluster!;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `pie-stream-${cluster.node}-`));
  // A second connection for events and models keeps large model transfers off the lease loop's path.
  const bus = await openBus(cluster, { timeoutMs: 5000, log });
  await ensureEventStream(bus.jsm, cluster.events);
  const host = new AppHost({ config, sinks, models: await openModels(bus), dataDir, log });
  const node = await ClusterNode.start({ config: cluster, host, log });
  const front = await startClusterFront({ host: config.server.host, port: config.server.port, ...(config.server.token ? { token: config.server.token } : {}), node, localUrl: (c) => host.urlOf(c) });
  log(`cluster node ${cluster.node} at ${front.url}  (cluster: ${front.url}/api/cluster, cameras: ${front.url}/api/cameras)`);
  return {
    close: async () => {
      await node.close();
      await host.close();
      await front.close();
      await bus.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
