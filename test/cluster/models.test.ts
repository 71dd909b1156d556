// A camera's adapted model follows it: `pie-stream adapt -c <cluster config>` publishes the accepted
// model to the object store, the node running the camera restarts it with that model, and after
// kill -9 of that node the camera's next owner runs it with the same model. Real node processes
// (`pie-stream run`), a real nats-server, a real (small) adapt run.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBuckets, putCamera } from '../../src/cluster/buckets.js';
import { openBus, type Bus } from '../../src/cluster/connection.js';
import { adaptFootage } from '../helpers/adapt-footage.js';
import { cli } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';
import { NATS_SKIP, startNats, type NatsServer } from '../helpers/nats.js';
import { clusterConfig, killNode, spawnAppNode, until, type AppNodeProc } from './helpers.js';

const LEASE_MS = 3000;
interface Camera { readonly name: string; readonly owner: string | null; readonly status: string; readonly publishedModel?: string; readonly model?: { readonly name: string } }

describe.skipIf(NATS_SKIP !== undefined)('cluster: per-camera models', () => {
  let dir: string, nats: NatsServer, bus: Bus, admin: string;
  const nodes: AppNodeProc[] = [];
  const ports = new Map<string, number>();
  const yard = async (node: string): Promise<Camera | undefined> => {
    const r = await fetch(`http://127.0.0.1:${ports.get(node)}/api/cameras`).catch(() => undefined);
    return r?.ok ? ((await r.json()) as { cameras: Camera[] }).cameras.find((c) => c.name === 'yard') : undefined;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-models-'));
    nats = await startNats(dir);
    bus = await openBus(clusterConfig([nats.url], 'admin', 0), { timeoutMs: 2000 });
    await putCamera(await openBuckets(bus), { name: 'yard', input: 'synthetic:exposure=0.08,noise=4', width: 96, height: 64, fps: 5, outputs: { hls: [], websocket: [] } });
    admin = path.join(dir, 'admin.yaml');
    fs.writeFileSync(admin, `cluster: { servers: [${nats.url}], node: admin, capacity: 0 }\n`);
    // b's larger capacity gives it the one camera (shares by capacity), so the owner is known once settled.
    for (const [name, capacity] of [['b', 2], ['c', 1]] as const) {
      const port = await freePort();
      ports.set(name, port);
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(file, `cluster: { servers: [${nats.url}], node: ${name}, capacity: ${capacity}, leaseMs: ${LEASE_MS} }\nserver: { host: 127.0.0.1, port: ${port} }\nworkers: { enhance: 1 }\n`);
      nodes.push(spawnAppNode(name, file));
    }
    await adaptFootage(dir);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => killNode(n, 'SIGTERM')));
    await bus?.close();
    await nats?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes an accepted adapted model; the owner runs it, and the next owner after kill -9 too', async () => {
    const first = await until('yard running on b', async () => { const c = await yard('b'); return c?.owner === 'b' && c.status === 'online' ? 'b' : undefined; }, 60_000);
    expect((await yard(first))?.publishedModel).toBeUndefined();

    const out = path.join(dir, 'models');
    const r = await cli('adapt', '-q', '--camera', 'yard', '--night', path.join(dir, 'night.mp4'), '--day', path.join(dir, 'day'), '-c', admin,
      '--base', path.join(dir, 'identity.onnx'), '--out-dir', out, '--work-dir', path.join(dir, 'work'), '--steps', '12', '--crop', '32', '--batch', '2',
      '--lr', '3e-3', '--sample-fps', '5', '--holdout', '0.25', '--features', 'none', '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/accepted: .*yard\.onnx/);
    expect(r.err).toMatch(/published to the cluster: yard's owner loads it/);
    const sha = crypto.createHash('sha256').update(fs.readFileSync(path.join(out, 'yard.onnx'))).digest('hex');
    const expected = `yard-${sha.slice(0, 16)}.onnx`;

    // The running owner picks it up (a restart of the camera with the published model).
    await until('the owner runs the published model', async () => (await yard(first))?.publishedModel === expected, 20_000)
      .catch((e: unknown) => { throw new Error(`${String(e)}; ${first}'s log:\n${nodes.find((n) => n.name === first)!.lines.slice(-30).join('\n')}`); });

    // kill -9 the owner: the other node takes yard and runs it with the same model.
    const survivor = first === 'b' ? 'c' : 'b';
    await killNode(nodes.find((n) => n.name === first)!);
    const after = await until('yard on the survivor with its model', async () => { const c = await yard(survivor); return c?.owner === survivor && c.publishedModel ? c : undefined; }, 30_000);
    expect(after.publishedModel).toBe(expected);
    // The app itself says which model it runs.
    expect(after.model?.name).toBe(expected);
    expect(nodes.find((n) => n.name === survivor)!.lines.some((l) => l.includes(`yard: runs its published model ${expected}`))).toBe(true);
  }, 180_000);
});
