// A node cut off from NATS keeps its cameras only while its leases could still hold, stops them
// before they lapse on the server, says so, and claims them again when NATS returns. The server is
// killed for real (SIGKILL) and restarted on the same port and store.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBuckets, putCamera, readLeases } from '../../src/cluster/buckets.js';
import { openBus } from '../../src/cluster/connection.js';
import { lapsesAtMs } from '../../src/cluster/lease.js';
import { freePort } from '../helpers/mosquitto.js';
import { NATS_SKIP, startNats, type NatsServer } from '../helpers/nats.js';
import { clusterConfig, killNode, spawnNode, until, type NodeEvent, type NodeProc } from './helpers.js';

const LEASE_MS = 3000;

describe.skipIf(NATS_SKIP !== undefined)('cluster: NATS unreachable', () => {
  let dir = '', nats: NatsServer | undefined, node: NodeProc | undefined;
  afterAll(async () => {
    if (node) await killNode(node);
    await nats?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops the node\'s cameras before their leases lapse, and rejoins when NATS returns', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-outage-'));
    nats = await startNats(dir);
    const bus = await openBus(clusterConfig([nats.url], 'admin', 0), { timeoutMs: 2000 });
    const b = await openBuckets(bus);
    await putCamera(b, { name: 'door', input: 'synthetic', width: 64, height: 36, fps: 5 });
    const events: NodeEvent[] = [];
    node = spawnNode(clusterConfig([nats.url], 'solo', 1, LEASE_MS), events);
    await until('door running', () => events.some((e) => e.ev === 'frame' && e.camera === 'door'));
    const lease = (await readLeases(b)).get('door');
    await bus.close();

    // Renewals go every LEASE_MS / 3: the lease read just before the kill lapses at most one
    // renewal period later than its own stamp says; the node must have stopped by then.
    await nats.kill();
    const killedAt = Date.now();
    const stop = await until('door stopped', () => events.find((e) => e.ev === 'stop' && e.camera === 'door' && e.t > killedAt), 15_000);
    expect(stop.t - killedAt).toBeLessThan(LEASE_MS);
    expect(lapsesAtMs(lease!) + LEASE_MS / 3 + 200).toBeGreaterThan(stop.t);
    expect(events.some((e) => e.ev === 'log' && /lease not renewed .*another node may take the camera/.test(e.line ?? ''))).toBe(true);

    await nats.restart();
    const restartedAt = Date.now();
    await until('door running again', () => events.find((e) => e.ev === 'frame' && e.camera === 'door' && e.t > restartedAt), 30_000);
  }, 90_000);

  it('waits for NATS at start: a node started before its server joins once the server is up', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-late-nats-'));
    const port = await freePort();
    const events: NodeEvent[] = [];
    const late = spawnNode(clusterConfig([`nats://127.0.0.1:${port}`], 'early', 1, LEASE_MS), events);
    let server: NatsServer | undefined;
    try {
      await until('the node says it waits', () => events.some((e) => e.ev === 'log' && /NATS not answering yet/.test(e.line ?? '')), 20_000);
      server = await startNats(d, port);
      const bus = await openBus(clusterConfig([server.url], 'admin', 0), { timeoutMs: 2000 });
      await putCamera(await openBuckets(bus), { name: 'gate', input: 'synthetic', width: 64, height: 36, fps: 5 });
      await bus.close();
      await until('gate running on the node that started first', () => events.some((e) => e.ev === 'frame' && e.camera === 'gate'), 30_000);
    } finally {
      await killNode(late);
      await server?.kill();
      fs.rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);
});
