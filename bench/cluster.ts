// npm run bench -- cluster [--kills 10] [--cameras 6] [--lease 5000] [--seed 1] [--events 400]
// A real nats-server, 3 pie-stream nodes as processes (the real lease loop, real ffmpeg cameras;
// ingest only, as in test/cluster), synthetic cameras. Over N kills of a random node (SIGKILL, then
// restarted under the same name): failover from the kill to the first frame of each orphaned camera
// on its new owner (p50, p95, max), ownership overlaps from the lease bucket's history and from the
// processes' own start/stop times (aim: 0), the balance of cameras per node once settled, and the
// bus's face-event latency (publish → delivery to a JetStream consumer) p50 and p95. The baseline
// is the lease length: a dead node's cameras cannot move before its leases lapse. Writes
// bench/results/cluster.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeliverPolicy } from '@nats-io/jetstream';
import { openBuckets, putCamera } from '../src/cluster/buckets.js';
import { openBus } from '../src/cluster/connection.js';
import { ensureEventStream, EVENTS_STREAM, FaceEventBus, facesSubject } from '../src/cluster/events.js';
import { overlaps, targetShares, tenures } from '../src/cluster/lease.js';
import { clusterConfig, killNode, processingOverlaps, recordLeases, spawnNode, until, type NodeEvent, type NodeProc } from '../test/cluster/helpers.js';
import { NATS_SKIP, startNats } from '../test/helpers/nats.js';
import { describeMachine, machine } from './machine.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const KILLS = arg('kills', 10), CAMERAS = arg('cameras', 6), LEASE_MS = arg('lease', 5000), EVENTS = arg('events', 400);
let seed = arg('seed', 1);
/** Small seeded generator (mulberry32): the same kills for the same seed. */
const random = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : Number.NaN;
};

if (NATS_SKIP) { console.error(NATS_SKIP); process.exit(1); }
const m = machine();
console.log(`machine: ${describeMachine(m)} (load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}: shared, so figures are upper bounds)`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-bench-cluster-'));
const nats = await startNats(dir);
const bus = await openBus(clusterConfig([nats.url], 'bench', 0), { timeoutMs: 3000 });
const b = await openBuckets(bus);
const history = await recordLeases(b);
const names = Array.from({ length: CAMERAS }, (_, i) => `cam${i}`);
for (const name of names) await putCamera(b, { name, input: 'synthetic', width: 64, height: 36, fps: 5 });

const CAPS: Record<string, number> = { a: 4, b: 4, c: 4 };
const events: NodeEvent[] = [];
const nodes = new Map<string, NodeProc>(Object.entries(CAPS).map(([n, cap]) => [n, spawnNode(clusterConfig([nats.url], n, cap, LEASE_MS), events)]));
const everyProc: NodeProc[] = [...nodes.values()];

/** Cameras each live process runs now, by its start/stop lines. */
function running(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const byPid = new Map([...nodes.values()].filter((n) => n.killedAt === undefined).map((n) => [n.proc.pid, n.name]));
  for (const n of byPid.values()) out.set(n, new Set());
  for (const e of events) {
    const n = byPid.get(e.pid);
    if (n === undefined || !e.camera) continue;
    if (e.ev === 'start') out.get(n)!.add(e.camera);
    if (e.ev === 'stop') out.get(n)!.delete(e.camera);
  }
  return out;
}

/** Settled: every camera runs once, each live node holds its share. Returns the counts per node. */
async function settled(what: string): Promise<Record<string, number>> {
  return until(what, () => {
    const r = running();
    const live = [...r.keys()].map((n) => ({ node: n, capacity: CAPS[n]! }));
    const want = targetShares(live, CAMERAS);
    const all = [...r.values()].flatMap((s) => [...s]);
    const ok = all.length === CAMERAS && new Set(all).size === CAMERAS && [...r].every(([n, s]) => s.size === want.get(n));
    return ok ? Object.fromEntries([...r].map(([n, s]) => [n, s.size])) : undefined;
  }, 120_000);
}

const balance: Array<Record<string, number>> = [];
const failovers: number[] = [];
const perKill: Array<{ node: string; orphans: number; allMs: number }> = [];
try {
  balance.push(await settled('the first spread'));
  for (let k = 0; k < KILLS; k++) {
    const victimName = [...nodes.keys()][Math.floor(random() * nodes.size)]!;
    const victim = nodes.get(victimName)!;
    const orphans = [...(running().get(victimName) ?? [])];
    await killNode(victim);
    const killedAt = victim.killedAt!;
    const firsts = await until(`kill ${k + 1}: ${victimName}'s cameras elsewhere`, () => {
      const ts = orphans.map((cam) => events.find((e) => e.ev === 'frame' && e.camera === cam && e.t > killedAt && e.pid !== victim.proc.pid)?.t);
      return ts.every((t) => t !== undefined) ? (ts as number[]).map((t) => t - killedAt) : undefined;
    }, 60_000);
    failovers.push(...firsts);
    perKill.push({ node: victimName, orphans: orphans.length, allMs: Math.max(...firsts) });
    console.log(`kill ${k + 1}/${KILLS}: ${victimName} (${orphans.length} cameras): first frames elsewhere after ${firsts.map((x) => `${x} ms`).join(', ')}`);
    balance.push(await settled(`kill ${k + 1}: the spread over two nodes`));
    const again = spawnNode(clusterConfig([nats.url], victimName, CAPS[victimName]!, LEASE_MS), events);
    nodes.set(victimName, again);
    everyProc.push(again);
    balance.push(await settled(`kill ${k + 1}: ${victimName} back with its share`));
  }

  // Bus latency: face events through the bounded publisher, delivered by a JetStream consumer.
  await ensureEventStream(bus.jsm, { maxAgeS: 600, maxBytes: 64 << 20 }, bus.replicas);
  const sent = new Map<number, number>();
  const latency: number[] = [];
  const consumer = await bus.js.consumers.get(EVENTS_STREAM, { filter_subjects: facesSubject('bench'), deliver_policy: DeliverPolicy.New });
  const sub = await consumer.consume({
    callback: (msg) => {
      const seq = (msg.json() as { seq: number }).seq;
      const t = sent.get(seq);
      if (t !== undefined) latency.push(performance.now() - t);
    },
  });
  const publisher = new FaceEventBus(bus);
  for (let seq = 0; seq < EVENTS; seq++) {
    sent.set(seq, performance.now());
    publisher.publish({ camera: 'bench', seq, ts: Date.now(), width: 64, height: 36, faces: [] });
    await new Promise((r) => setTimeout(r, 20)); // 50 events/s: a busy site's face rate
  }
  await until('the events delivered', () => latency.length >= EVENTS - publisher.dropped, 30_000).catch(() => undefined);
  sub.stop();

  const byCamera = names.map((cam) => tenures(history.entries.filter((e) => e.camera === cam).sort((x, y) => x.revision - y.revision)));
  const leaseOverlaps = byCamera.flatMap((t) => overlaps(t));
  const processOverlaps = processingOverlaps(events, everyProc);
  const spread = balance.map((c) => Math.max(...Object.values(c)) - Math.min(...Object.values(c)));
  const result = {
    date: new Date().toISOString(), machine: m, loadAverage: os.loadavg(),
    setup: { natsServers: 1, nodes: Object.keys(CAPS).length, capacities: CAPS, cameras: CAMERAS, leaseMs: LEASE_MS, kills: KILLS, seed: arg('seed', 1), hosts: 'ingest only (real ffmpeg, synthetic 64x36 at 5 fps)' },
    baseline: `the lease (${LEASE_MS} ms): a dead node's cameras cannot move before its leases lapse`,
    failoverMs: { p50: pct(failovers, 50), p95: pct(failovers, 95), max: Math.max(...failovers), samples: failovers.length, ratioToLease: { p50: pct(failovers, 50) / LEASE_MS, max: Math.max(...failovers) / LEASE_MS } },
    perKill,
    overlaps: { leaseHistory: leaseOverlaps.length, processes: processOverlaps.length, leaseWrites: history.entries.length },
    balance: { settledStates: balance, maxSpread: Math.max(...spread) },
    busLatencyMs: { p50: pct(latency, 50), p95: pct(latency, 95), max: Math.max(...latency), delivered: latency.length, sent: EVENTS, dropped: publisher.dropped },
  };
  console.log(`failover (kill -9 → first frame on the new owner), ${failovers.length} cameras over ${KILLS} kills: p50 ${result.failoverMs.p50} ms, p95 ${result.failoverMs.p95} ms, max ${result.failoverMs.max} ms (baseline: lease ${LEASE_MS} ms; p50 ${result.failoverMs.ratioToLease.p50.toFixed(2)}× it)`);
  console.log(`ownership overlaps: ${leaseOverlaps.length} in the lease history (${history.entries.length} writes), ${processOverlaps.length} in the processes' start/stop times`);
  console.log(`balance (cameras per node once settled, ${balance.length} states): largest spread ${result.balance.maxSpread}; ${balance.map((c) => Object.values(c).join('/')).join(' ')}`);
  console.log(`bus: face event publish → JetStream consumer: p50 ${result.busLatencyMs.p50.toFixed(1)} ms, p95 ${result.busLatencyMs.p95.toFixed(1)} ms (${latency.length}/${EVENTS} delivered, ${publisher.dropped} dropped)`);
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'cluster.json');
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await Promise.all([...nodes.values()].map((n) => killNode(n)));
  history.stop();
  await bus.close();
  await nats.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
