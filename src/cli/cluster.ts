// `pie-stream cluster …`: the cluster's camera catalogue and models, managed from any machine that
// reaches NATS. Connection settings come from a config with a cluster: section (the nodes' own).
import fs from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type Env } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import { PieError } from '../errors.js';
import { redact } from '../ingest/redact.js';
import { camerasOfFile, listCameras, openBuckets, putCamera, readLeases, removeCamera } from '../cluster/buckets.js';
import type { Bus } from '../cluster/connection.js';
import { withClusterBus } from './adapt.js';
import { lapsesAtMs } from '../cluster/lease.js';
import { openModels, publishModel } from '../cluster/models.js';

function clusterOf(configPath: string, env: Env): ClusterConfig {
  const c = loadConfig(configPath, env).cluster;
  if (!c) throw new PieError('usage', `${configPath} has no cluster: section`, 'pass the config of a cluster node (--config node.yaml), with cluster: { servers, node, capacity }');
  return c;
}

const withBus = <T>(configPath: string, f: (bus: Bus) => Promise<T>): Promise<T> => withClusterBus(clusterOf(configPath, process.env), f);

export function addClusterCommands(program: Command, log: (s: string) => void): void {
  const cluster = program.command('cluster').description('manage the cameras and models of a pie-stream cluster (NATS JetStream)');
  const cameras = cluster.command('cameras').description('the cluster\'s camera catalogue');
  const cfg = ['-c, --config <file>', 'a config with a cluster: section (how to reach NATS)'] as const;

  cameras.command('add').description('add or replace the cameras of a config file (validated like `run`\'s)')
    .argument('<file>', 'a YAML file with cameras:').requiredOption(...cfg)
    .action(async (file: string, o: { config: string }) => {
      let text: string;
      try { text = fs.readFileSync(file, 'utf8'); } catch { throw new PieError('config', `camera file ${file} cannot be read`, 'pass a YAML file with a cameras: list'); }
      // Validated before connecting: a config with an error is refused and names the key.
      const raws = camerasOfFile(file, text, process.env);
      await withBus(o.config, async (bus) => {
        const b = await openBuckets(bus);
        for (const raw of raws) { await putCamera(b, raw); log(`added ${String(raw['name'])}`); }
      });
    });

  cameras.command('rm').description('remove a camera; its owner stops it within a scan')
    .argument('<name>').requiredOption(...cfg)
    .action(async (name: string, o: { config: string }) => {
      await withBus(o.config, async (bus) => {
        if (!(await removeCamera(await openBuckets(bus), name))) throw new PieError('usage', `no camera ${JSON.stringify(name)} in the cluster`, 'see pie-stream cluster cameras ls');
        log(`removed ${name}`);
      });
    });

  cameras.command('ls').description('list the cluster\'s cameras with their owners')
    .requiredOption(...cfg)
    .action(async (o: { config: string }) => {
      await withBus(o.config, async (bus) => {
        const b = await openBuckets(bus);
        const [list, leases] = await Promise.all([listCameras(b, process.env), readLeases(b)]);
        for (const c of list) {
          const l = leases.get(c.name);
          // Shown against this machine's clock: for people, not for decisions.
          const owner = l?.value && lapsesAtMs(l) > Date.now() ? l.value.node : '-';
          const input = typeof c.raw['input'] === 'string' ? redact(c.raw['input']) : '?';
          process.stdout.write(`${c.name}\t${owner}\t${input}${c.problem ? `\tinvalid here: ${c.problem}` : ''}\n`);
        }
      });
    });

  cluster.command('models').description('per-camera models in the object store')
    .command('put').description('publish a camera\'s model; its owner loads it, and the next owner after a failover too')
    .argument('<camera>').argument('<model>', 'a DCE-Net .onnx file').requiredOption(...cfg)
    .action(async (camera: string, model: string, o: { config: string }) => {
      await withBus(o.config, async (bus) => {
        const r = await publishModel(await openModels(bus), camera, model);
        log(`published ${model} for ${camera} (${r.bytes} bytes, sha256 ${r.sha256.slice(0, 12)}…)`);
      });
    });
}
