// One pie-stream node in a cluster: every scan it stamps its node record (which also reads the
// server's clock), renews its leases, and then moves towards its share of the cameras: it claims
// free or lapsed ones while under its share, and hands one off (stop, then release) while over it.
// A lease it cannot renew is stopped on a local timer before it could lapse on the server, whatever
// NATS is doing; the rules and the proof of why two nodes never overlap are in lease.ts.
import type { CameraConfig, ClusterConfig } from '../config/schema.js';
import type { Env } from '../config/load.js';
import { messageOf } from '../errors.js';
import { redact } from '../ingest/redact.js';
import {
  claimLease, listCameras, openBuckets, readLeases, readNodes, releaseLease, renewLease, writeNode,
  type Buckets, type NodeEntry, type StoredCamera,
} from './buckets.js';
import { openBus, untilNatsAnswers, type Bus } from './connection.js';
import type { CameraHost } from './host.js';
import { isFree, lapsesAtMs, ServerClock, targetShares, type LeaseEntry, type LeaseValue } from './lease.js';

export interface ClusterNodeOptions {
  readonly config: ClusterConfig;
  readonly host: CameraHost;
  /** Where the cameras' ${VARS} are resolved; default process.env. */
  readonly env?: Env;
  readonly log?: (line: string) => void;
  /** Scan period; default min(1000, leaseMs / 4). */
  readonly scanMs?: number;
  /** KV replicas (at most the NATS servers' count); default cluster.replicas (connection.ts). */
  readonly replicas?: number;
  /** Where other nodes reach this node's front (its advertised URL); default cluster.url. */
  readonly url?: string;
  /** How long start() keeps trying while NATS (or its JetStream) does not answer; default 60 s. */
  readonly startWaitMs?: number;
}

interface Held {
  entry: LeaseEntry;
  /** Local monotonic time the last successful write was sent: the lease holds until at least then + leaseMs. */
  sentAtMs: number;
  readonly deadline: { timer?: NodeJS.Timeout };
  running: boolean;
}

export interface LeaseStatus {
  readonly camera: string;
  readonly node: string;
  /** Since the lease's last write, on the server's clock. */
  readonly ageMs: number;
  readonly expiresInMs: number;
}

export interface ClusterStatus {
  readonly node: string;
  readonly connected: boolean;
  /** 'ok', or 'draining' while NATS is away and held cameras run out their leases. */
  readonly state: 'ok' | 'draining' | 'starting';
  readonly capacity: number;
  readonly nodes: ReadonlyArray<{ readonly node: string; readonly capacity: number; readonly owned: readonly string[]; readonly url?: string; readonly ageMs: number; readonly state: string }>;
  readonly leases: readonly LeaseStatus[];
  readonly cameras: ReadonlyArray<{ readonly name: string; readonly owner: string | null; readonly status: string; readonly publishedModel?: string; readonly problem?: string }>;
  readonly lastError?: string;
}

/** A node waits this long for NATS at start (a boot order, a JetStream cluster electing). */
const START_WAIT_MS = 60_000;
const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ClusterNode {
  private readonly held = new Map<string, Held>();
  private readonly clock = new ServerClock();
  private readonly log: (line: string) => void;
  private readonly leaseMs: number;
  private readonly scanMs: number;
  /** Stop this long before the lease could lapse: time for the camera to shut down. */
  private readonly marginMs: number;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private closed = false;
  private lastError: string | undefined;
  private view: { nodes: NodeEntry[]; leases: Map<string, LeaseEntry>; cameras: StoredCamera[] } = { nodes: [], leases: new Map(), cameras: [] };
  private draining = false;

  private constructor(private readonly o: ClusterNodeOptions, readonly bus: Bus, readonly buckets: Buckets) {
    this.log = o.log ?? (() => {});
    this.leaseMs = o.config.leaseMs;
    this.scanMs = o.scanMs ?? Math.min(1000, this.leaseMs / 4);
    this.marginMs = Math.max(300, this.leaseMs / 5);
  }

  static async start(o: ClusterNodeOptions): Promise<ClusterNode> {
    const { bus, buckets } = await untilNatsAnswers(async () => {
      // JetStream calls fail within a third of a lease, so a renewal can be retried before it lapses.
      const bus = await openBus(o.config, { timeoutMs: Math.max(500, Math.floor(o.config.leaseMs / 3)), ...(o.log ? { log: o.log } : {}) });
      try {
        return { bus, buckets: await openBuckets(bus, o.replicas ?? bus.replicas) };
      } catch (e) {
        await bus.close();
        throw e;
      }
    }, o.log ?? (() => {}), o.startWaitMs ?? START_WAIT_MS);
    const node = new ClusterNode(o, bus, buckets);
    node.log(`cluster: node ${o.config.node} (capacity ${o.config.capacity}) on ${o.config.servers.map(redact).join(', ')}; leases of ${o.config.leaseMs} ms`);
    node.schedule(0);
    return node;
  }

  get name(): string { return this.o.config.node; }

  /** Cameras this node runs now. */
  owned(): string[] { return [...this.held].filter(([, h]) => h.running).map(([c]) => c).sort(); }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.scanning = this.scan().catch((e: unknown) => this.fail(e)).finally(() => { this.scanning = undefined; this.schedule(this.scanMs); });
    }, ms);
  }

  private fail(e: unknown): void {
    const m = messageOf(e);
    // One line per new problem: a NATS outage would otherwise log every scan.
    if (m !== this.lastError) this.log(redact(`cluster: ${m}`));
    this.lastError = m;
  }

  private record(): { node: string; capacity: number; leaseMs: number; owned: string[]; state: 'ok' | 'draining'; url?: string } {
    const c = this.o.config;
    const url = this.o.url ?? c.url;
    return { node: c.node, capacity: c.capacity, leaseMs: this.leaseMs, owned: this.owned(), state: this.draining ? 'draining' : 'ok', ...(url ? { url } : {}) };
  }

  private async scan(): Promise<void> {
    const b = this.buckets;
    const me = this.o.config.node;
    await this.renewDue();
    const mine = await writeNode(b, this.record());
    this.clock.observe(mine.createdMs, now());
    if (this.draining) { this.draining = false; this.log('cluster: NATS answers again; claiming cameras'); }
    this.lastError = undefined;

    const [cameras, leases, nodes] = await Promise.all([listCameras(b, this.o.env ?? process.env), readLeases(b), readNodes(b)]);
    this.view = { cameras, leases, nodes };
    const serverNow = this.clock.now()!;

    // A lease this node thinks it holds but the bucket gives to another: stop at once.
    for (const [camera, h] of this.held) {
      const e = leases.get(camera);
      if (e && e.revision > h.entry.revision && e.value?.node !== me) await this.drop(camera, `lease taken by ${e.value?.node ?? 'a release'}`);
    }
    const runnable = cameras.filter((c) => c.config !== undefined);
    const known = new Set(runnable.map((c) => c.name));
    for (const camera of [...this.held.keys()]) if (!known.has(camera)) await this.handOff(camera, 'removed from the cluster');

    const live = nodes.filter((n) => n.node === me || n.createdMs + n.leaseMs >= serverNow);
    const target = Math.min(this.o.config.capacity, targetShares(live, runnable.length).get(me) ?? 0);
    const count = this.held.size;
    if (count > target) {
      // One hand-off per scan: the others' claims follow before the next one goes.
      const victim = [...this.held.keys()].sort().at(-1)!;
      await this.handOff(victim, `over this node's share (${count} > ${target})`);
      return;
    }
    let want = target - count;
    if (want <= 0) return;
    // Start at a place that differs per node, so simultaneous claimers mostly try different cameras.
    const order = rotate(runnable.map((c) => c.name).filter((c) => !this.held.has(c)), hash(me));
    for (const camera of order) {
      if (want <= 0 || this.closed) break;
      const e = leases.get(camera);
      if (!isFree(e, serverNow)) continue;
      const got = await this.claim(camera, e, runnable.find((c) => c.name === camera)!.config!);
      if (got) want--;
    }
  }

  private async claim(camera: string, over: LeaseEntry | undefined, config: CameraConfig): Promise<boolean> {
    const value: LeaseValue = { node: this.o.config.node, leaseMs: this.leaseMs };
    const sentAtMs = now();
    const entry = await claimLease(this.buckets, camera, value, over && over.value ? over : undefined);
    if (!entry) return false;
    this.clock.observe(entry.createdMs, now());
    const h: Held = { entry, sentAtMs, deadline: {}, running: false };
    this.held.set(camera, h);
    this.arm(camera, h);
    // Belt and braces: the claim's own stamp is a server fact; never start before the old lease's lapse.
    const wait = over ? lapsesAtMs(over) - entry.createdMs : 0;
    if (wait > 0) { this.log(`cluster: ${camera}: waiting ${wait} ms for ${over?.value?.node}'s lease to lapse`); await sleep(wait); }
    if (this.held.get(camera) !== h) return true;
    try {
      await this.o.host.start(config);
      h.running = true;
      this.log(`cluster: ${camera}: claimed${over?.value ? ` from ${over.value.node} (lease lapsed)` : ''}; running`);
    } catch (e) {
      this.log(redact(`cluster: ${camera}: cannot start (${messageOf(e)}); releasing`));
      await this.handOff(camera, 'failed to start');
    }
    return true;
  }

  /** The local deadline: stop before the lease could lapse on the server. */
  private arm(camera: string, h: Held): void {
    if (h.deadline.timer) clearTimeout(h.deadline.timer);
    const ms = h.sentAtMs + this.leaseMs - this.marginMs - now();
    h.deadline.timer = setTimeout(() => {
      if (this.held.get(camera) !== h) return;
      this.draining = true;
      void this.drop(camera, `lease not renewed (NATS ${this.bus.connected() ? 'not answering' : 'unreachable'}); it lapses in ${this.marginMs} ms and another node may take the camera`);
    }, Math.max(0, ms));
    h.deadline.timer.unref?.();
  }

  private async renewDue(): Promise<void> {
    const value: LeaseValue = { node: this.o.config.node, leaseMs: this.leaseMs };
    for (const [camera, h] of [...this.held]) {
      if (now() - h.sentAtMs < this.leaseMs / 3) continue;
      const sentAtMs = now();
      const r = await renewLease(this.buckets, h.entry, value);
      if (this.held.get(camera) !== h) continue;
      if (r === 'lost') { await this.drop(camera, 'lease lost (written by another node)'); continue; }
      this.clock.observe(r.createdMs, now());
      h.entry = r;
      h.sentAtMs = sentAtMs;
      this.arm(camera, h);
    }
  }

  /** Stops a camera and forgets its lease without releasing it (it lapses on its own). */
  private async drop(camera: string, why: string): Promise<void> {
    const h = this.held.get(camera);
    if (!h) return;
    this.held.delete(camera);
    if (h.deadline.timer) clearTimeout(h.deadline.timer);
    this.log(`cluster: ${camera}: stopping: ${why}`);
    await this.o.host.stop(camera).catch((e: unknown) => this.log(redact(`cluster: ${camera}: stop failed: ${messageOf(e)}`)));
  }

  /** Graceful hand-off: stop first, then release, so the next owner never overlaps. */
  private async handOff(camera: string, why: string): Promise<void> {
    const h = this.held.get(camera);
    if (!h) return;
    await this.drop(camera, why);
    await releaseLease(this.buckets, h.entry).catch((e: unknown) => this.log(`cluster: ${camera}: release failed (${messageOf(e)}); the lease lapses instead`));
  }

  /** The camera catalogue as of the last scan (configs valid on this node). */
  catalogue(): readonly StoredCamera[] { return this.view.cameras; }

  status(): ClusterStatus {
    const serverNow = this.clock.now() ?? 0;
    const { nodes, leases, cameras } = this.view;
    const live = (l: LeaseEntry): boolean => l.value !== undefined && lapsesAtMs(l) >= serverNow;
    return {
      node: this.o.config.node,
      connected: this.bus.connected(),
      state: this.draining ? 'draining' : serverNow === 0 ? 'starting' : 'ok',
      capacity: this.o.config.capacity,
      nodes: nodes.map((n) => ({ node: n.node, capacity: n.capacity, owned: n.owned, ...(n.url ? { url: n.url } : {}), ageMs: Math.max(0, Math.round(serverNow - n.createdMs)), state: n.createdMs + n.leaseMs >= serverNow ? n.state : 'gone' })),
      leases: [...leases.values()].filter(live).map((l) => ({ camera: l.camera, node: l.value!.node, ageMs: Math.round(serverNow - l.createdMs), expiresInMs: Math.round(lapsesAtMs(l) - serverNow) })),
      cameras: cameras.map((c) => {
        const l = leases.get(c.name);
        const owner = l && live(l) ? l.value!.node : null;
        const local = this.o.host.status().find((s) => s.name === c.name);
        const status = c.problem ? 'invalid' : local ? local.state : owner ? 'remote' : 'unassigned';
        return { name: c.name, owner, status, ...(local?.model ? { publishedModel: local.model } : {}), ...(c.problem ? { problem: c.problem } : {}) };
      }),
      ...(this.lastError ? { lastError: redact(this.lastError) } : {}),
    };
  }

  /** Stops every camera, releases its leases (others take over at once) and leaves. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.scanning;
    for (const camera of [...this.held.keys()]) await this.handOff(camera, 'node shutting down');
    await this.buckets.nodes.delete(this.o.config.node).catch(() => {});
    await this.bus.close();
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const rotate = <T>(xs: readonly T[], by: number): T[] => (xs.length === 0 ? [] : [...xs.slice(by % xs.length), ...xs.slice(0, by % xs.length)]);
