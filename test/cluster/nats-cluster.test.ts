// A 3-server NATS cluster with JetStream (routes on loopback), 3 pie-stream nodes as processes with
// real ffmpeg cameras, buckets replicated 3 times. The server leading the lease bucket is killed for
// real (SIGKILL): nothing stops, every camera keeps delivering frames and its leases keep being
// renewed through the other two; the server comes back and the cluster goes on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASES_BUCKET, openBuckets, putCamera, readLeases, type Buckets } from '../../src/cluster/buckets.js';
import { openBus, type Bus } from '../../src/cluster/connection.js';
import { NATS_SKIP, startNatsCluster, type NatsServer } from '../helpers/nats.js';
import { clusterConfig, killNode, spawnNode, until, type NodeEvent, type NodeProc } from './helpers.js';

// Long enough to ride out a JetStream leader election (nats-server 2.9: up to ~9 s without a leader).
const LEASE_MS = 20_000;
const CAMERAS = ['cam0', 'cam1', 'cam2'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(NATS_SKIP !== undefined)('cluster: a NATS server of three killed', () => {
  let dir: string, servers: NatsServer[], bus: Bus, b: Buckets;
  const events: NodeEvent[] = [];
  const nodes: NodeProc[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-nats3-'));
    servers = await startNatsCluster(dir);
    const urls = servers.map((s) => s.url);
    bus = await openBus(clusterConfig(urls, 'admin', 0), { timeoutMs: 3000 });
    expect(bus.replicas).toBe(3);
    // The JetStream cluster elects its meta leader a moment after the routes connect.
    b = await until('replicated buckets', () => openBuckets(bus).catch(() => undefined), 30_000);
    for (const name of CAMERAS) await putCamera(b, { name, input: 'synthetic', width: 64, height: 36, fps: 5 });
    for (const name of ['a', 'b', 'c']) nodes.push(spawnNode(clusterConfig(urls, name, 2, LEASE_MS), events));
  }, 60_000);

  /** Cameras each node runs now, from its start/stop lines (no node is killed here). */
  const running = (): Map<string, Set<string>> => {
    const m = new Map<string, Set<string>>(['a', 'b', 'c'].map((n) => [n, new Set()]));
    for (const e of events) {
      if (e.ev === 'start' && e.camera) m.get(e.node)!.add(e.camera);
      if (e.ev === 'stop' && e.camera) m.get(e.node)!.delete(e.camera);
    }
    return m;
  };

  afterAll(async () => {
    await Promise.all(nodes.map((n) => killNode(n)));
    await bus?.close();
    await Promise.all((servers ?? []).map((s) => s.kill()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every camera running and renewing while the lease bucket\'s leader server is killed and restarted', async () => {
    // Settled first: one camera a node (shares of 2:2:2 capacities), each delivering frames.
    await until('one camera per node, all delivering', () => {
      const c = running();
      return [...c.values()].every((s) => s.size === 1) && CAMERAS.every((cam) => events.some((e) => e.ev === 'frame' && e.camera === cam));
    }, 40_000);
    const info = await bus.jsm.streams.info(`KV_${LEASES_BUCKET}`);
    expect(info.config.num_replicas).toBe(3);
    const leader = info.cluster?.leader;
    const victim = servers[Number(/^n(\d)$/.exec(leader ?? '')?.[1])];
    expect(victim, `leader ${leader}`).toBeDefined();
    const before = await readLeases(b);

    await victim!.kill();
    const killedAt = Date.now();
    // Longer than a lease: had renewals failed all along, every node would have stopped its cameras.
    await sleep(LEASE_MS + 2000);
    const during = events.filter((e) => e.t > killedAt);
    expect(during.filter((e) => e.ev === 'stop'), 'cameras stopped while a NATS server was down').toEqual([]);
    for (const c of CAMERAS) {
      const ticks = during.filter((e) => e.ev === 'tick' && e.camera === c).map((e) => e.t);
      expect(ticks.length, `${c} delivered frames`).toBeGreaterThan(LEASE_MS / 1000 - 3);
      // No gap in frames longer than a few seconds.
      const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
      expect(Math.max(...gaps), `${c}'s longest gap`).toBeLessThan(5000);
    }
    // The leases were renewed through the other servers (new revisions, same holders).
    const after = await readLeases(b);
    for (const c of CAMERAS) {
      expect(after.get(c)!.revision).toBeGreaterThan(before.get(c)!.revision);
      expect(after.get(c)!.value?.node).toBe(before.get(c)!.value?.node);
    }
    const newLeader = (await bus.jsm.streams.info(`KV_${LEASES_BUCKET}`)).cluster?.leader;
    console.log(`nats cluster: killed ${leader} (the lease bucket's leader); new leader ${newLeader}; no camera stopped over ${LEASE_MS + 2000} ms`);

    // Back: it rejoins, and the bucket has its three replicas current again.
    await victim!.restart();
    await until('the restarted server current again', async () => {
      const i = await bus.jsm.streams.info(`KV_${LEASES_BUCKET}`).catch(() => undefined);
      return i?.cluster?.replicas?.length === 2 && i.cluster.replicas.every((r) => r.current);
    }, 30_000);
    expect(events.filter((e) => e.ev === 'stop' && e.t > killedAt)).toEqual([]);
  }, 120_000);
});
