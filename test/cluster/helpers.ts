// Cluster test plumbing: node processes (test/helpers/cluster-node.ts) whose JSON lines are
// collected, and a recorder of the lease bucket's whole history.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { ClusterConfig } from '../../src/config/schema.js';
import type { Buckets } from '../../src/cluster/buckets.js';
import { leaseEntryOf } from '../../src/cluster/buckets.js';
import type { LeaseEntry } from '../../src/cluster/lease.js';
import { KvWatchInclude } from '@nats-io/kv';

export interface NodeEvent { readonly ev: string; readonly camera?: string; readonly line?: string; readonly t: number; readonly node: string; readonly pid: number }

export interface NodeProc {
  readonly name: string;
  proc: ChildProcess;
  killedAt?: number;
}

const ENTRY = path.resolve(import.meta.dirname, '../helpers/cluster-node.ts');
const RUN = path.resolve(import.meta.dirname, '../helpers/cluster-run.ts');

export function clusterConfig(servers: readonly string[], node: string, capacity: number, leaseMs = 5000): ClusterConfig {
  return { servers, node, capacity, leaseMs, events: { maxAgeS: 3600, maxBytes: 1 << 24 } };
}

export function spawnNode(config: ClusterConfig, events: NodeEvent[]): NodeProc {
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  readline.createInterface({ input: proc.stdout! }).on('line', (l) => {
    try { events.push({ ...(JSON.parse(l) as Omit<NodeEvent, 'node' | 'pid'>), node: config.node, pid: proc.pid ?? 0 }); } catch { /* not ours */ }
  });
  proc.stderr!.on('data', () => {});
  return { name: config.node, proc };
}

export async function killNode(n: NodeProc, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
  const gone = new Promise((r) => n.proc.once('exit', r));
  n.killedAt = Date.now();
  n.proc.kill(signal);
  await gone;
}

export async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every write of the lease bucket from now on, as the server stored it (a KV watch with history). */
export async function recordLeases(b: Buckets): Promise<{ readonly entries: LeaseEntry[]; stop(): void }> {
  const entries: LeaseEntry[] = [];
  const w = await b.leases.watch({ include: KvWatchInclude.AllHistory });
  void (async () => { for await (const e of w) entries.push(leaseEntryOf(e)); })();
  return { entries, stop: () => w.stop() };
}

/**
 * Processing intervals per camera from the nodes' start/stop lines; a killed node's open interval
 * ends at its kill. Returns the overlaps between different nodes, in ms.
 */
export function processingOverlaps(events: readonly NodeEvent[], nodes: readonly NodeProc[]): Array<{ camera: string; a: string; b: string; ms: number }> {
  const open = new Map<string, number>();
  const spans: Array<{ camera: string; node: string; from: number; to: number }> = [];
  for (const e of events) {
    if (!e.camera) continue;
    // By process: a restarted node has the same name as the one killed before it.
    const k = `${e.pid}/${e.camera}`;
    if (e.ev === 'start') open.set(k, e.t);
    else if (e.ev === 'stop' && open.has(k)) { spans.push({ camera: e.camera, node: String(e.pid), from: open.get(k)!, to: e.t }); open.delete(k); }
  }
  for (const [k, from] of open) {
    const [pid, camera] = k.split('/') as [string, string];
    const n = nodes.find((x) => String(x.proc.pid) === pid);
    spans.push({ camera, node: pid, from, to: n?.killedAt ?? Infinity });
  }
  const out: Array<{ camera: string; a: string; b: string; ms: number }> = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i]!, b = spans[j]!;
      const ms = Math.min(a.to, b.to) - Math.max(a.from, b.from);
      if (a.camera === b.camera && a.node !== b.node && ms > 0) out.push({ camera: a.camera, a: a.node, b: b.node, ms });
    }
  }
  return out;
}

/** A full node (`pie-stream run` with the app, encoders and front) from a config file; its log lines are kept. */
export interface AppNodeProc extends NodeProc {
  readonly lines: string[];
}

export function spawnAppNode(name: string, configFile: string): AppNodeProc {
  const proc = spawn(process.execPath, ['--import', 'tsx', RUN, configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  readline.createInterface({ input: proc.stderr! }).on('line', (l) => { lines.push(l); if (lines.length > 2000) lines.shift(); });
  return { name, proc, lines };
}
