// Lease rules, pure: no IO. A camera's lease is a KV entry whose value names the holder and the
// lease length; the server stamps every write, so expiry is judged on the server's clock:
//   a lease written (created or renewed) at server time C with length T has lapsed at C + T.
// Two sides, two conservative clocks:
//   - the holder counts from when it *sent* its last successful renewal (that is before C), on its own
//     monotonic clock, and stops `margin` before T has passed: it always stops before C + T;
//   - a claimer estimates the server's now from its own last write's stamp plus the time elapsed
//     since that write was *acknowledged* (the stamp came before the ack), an estimate that is never
//     ahead of the server, so it claims only after C + T. After claiming, its own claim's stamp is a
//     server fact: if it is still before C + T (it cannot be, but clocks are facts, estimates are
//     not), the claimer waits out the difference before it starts the camera.

/** The value of a lease entry (JSON). */
export interface LeaseValue {
  readonly node: string;
  /** The lease length this holder promised to honour, in ms. */
  readonly leaseMs: number;
}

/** A lease entry as read from the bucket. */
export interface LeaseEntry {
  readonly camera: string;
  /** The KV revision: the compare-and-set token of the next renewal. */
  readonly revision: number;
  /** The server's stamp of this write, in ms since the epoch. */
  readonly createdMs: number;
  /** undefined when the entry is a delete (a release) or unreadable. */
  readonly value?: LeaseValue;
}

export const encodeLease = (v: LeaseValue): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

export function decodeLease(bytes: Uint8Array): LeaseValue | undefined {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof v !== 'object' || v === null) return undefined;
    const { node, leaseMs } = v as Record<string, unknown>;
    return typeof node === 'string' && typeof leaseMs === 'number' && leaseMs > 0 ? { node, leaseMs } : undefined;
  } catch {
    return undefined;
  }
}

/** Server time at which a lease entry stops holding; -Infinity for a released or unreadable one. */
export const lapsesAtMs = (e: LeaseEntry): number => (e.value ? e.createdMs + e.value.leaseMs : -Infinity);

/** Whether a camera may be claimed at (estimated) server time `serverNowMs`. */
export const isFree = (e: LeaseEntry | undefined, serverNowMs: number): boolean => e === undefined || lapsesAtMs(e) < serverNowMs;

/**
 * The server's clock as this node knows it: the stamp of its latest acknowledged write, advanced by
 * the local monotonic time since the ack. Never ahead of the server (the stamp precedes the ack).
 */
export class ServerClock {
  private sample: { readonly serverMs: number; readonly localMs: number } | undefined;
  constructor(private readonly local: () => number = () => performance.now()) {}

  /** A write stamped `serverMs` was acknowledged at local time `ackLocalMs`. */
  observe(serverMs: number, ackLocalMs: number): void {
    const s = this.sample;
    // Keep the estimate that puts the server furthest ahead: each is a lower bound.
    if (!s || serverMs - ackLocalMs > s.serverMs - s.localMs) this.sample = { serverMs, localMs: ackLocalMs };
  }

  /** undefined until the first write is acknowledged. */
  now(): number | undefined {
    const s = this.sample;
    return s && s.serverMs + (this.local() - s.localMs);
  }
}

export interface NodeShare {
  readonly node: string;
  readonly capacity: number;
}

/**
 * How many of `cameras` each live node should hold: in proportion to capacity, never above it,
 * remainders to the largest fractions, then by name so that every node computes the same answer.
 */
export function targetShares(nodes: readonly NodeShare[], cameras: number): Map<string, number> {
  const out = new Map<string, number>(nodes.map((n) => [n.node, 0]));
  let left = cameras;
  let open = nodes.filter((n) => n.capacity > 0);
  // Water-filling: a node capped at its capacity gives its unused share to the others.
  while (left > 0 && open.length > 0) {
    const total = open.reduce((s, n) => s + n.capacity, 0);
    const exact = open.map((n) => ({ n, x: (left * n.capacity) / total }));
    let given = 0;
    for (const { n, x } of exact) {
      const add = Math.min(Math.floor(x), n.capacity - out.get(n.node)!);
      out.set(n.node, out.get(n.node)! + add);
      given += add;
    }
    const rest = exact.filter(({ n }) => out.get(n.node)! < n.capacity)
      .sort((a, b) => (b.x - Math.floor(b.x)) - (a.x - Math.floor(a.x)) || a.n.node.localeCompare(b.n.node));
    for (const { n } of rest) {
      if (given >= left) break;
      out.set(n.node, out.get(n.node)! + 1);
      given++;
    }
    left -= given;
    open = open.filter((n) => out.get(n.node)! < n.capacity);
    if (given === 0) break;
  }
  return out;
}

/** One lease as history shows it: who held the camera over which stretch of server time. */
export interface Tenure {
  readonly camera: string;
  readonly node: string;
  readonly fromMs: number;
  /** Released (deleted) at, or the last renewal's lapse. */
  readonly untilMs: number;
}

/**
 * The tenures of one key's history (entries in revision order): a run of writes by one node, ended
 * by a delete (release) or by the lapse of its last write. The cluster's promise, checkable from
 * the bucket alone: tenures of one camera never overlap.
 */
export function tenures(history: readonly LeaseEntry[]): Tenure[] {
  const out: Tenure[] = [];
  let cur: { node: string; fromMs: number; last: LeaseEntry } | undefined;
  const close = (untilMs: number): void => {
    if (cur) out.push({ camera: cur.last.camera, node: cur.node, fromMs: cur.fromMs, untilMs });
    cur = undefined;
  };
  for (const e of history) {
    if (!e.value) { close(Math.min(e.createdMs, cur ? lapsesAtMs(cur.last) : e.createdMs)); continue; }
    if (cur && cur.node === e.value.node) { cur.last = e; continue; }
    if (cur) close(lapsesAtMs(cur.last));
    cur = { node: e.value.node, fromMs: e.createdMs, last: e };
  }
  if (cur) close(lapsesAtMs(cur.last));
  return out;
}

/** Pairs of tenures of one camera by different nodes that overlap, and by how much (ms). */
export function overlaps(ts: readonly Tenure[]): Array<{ readonly a: Tenure; readonly b: Tenure; readonly ms: number }> {
  const out: Array<{ a: Tenure; b: Tenure; ms: number }> = [];
  for (let i = 0; i < ts.length; i++) {
    for (let j = i + 1; j < ts.length; j++) {
      const a = ts[i]!, b = ts[j]!;
      const ms = Math.min(a.untilMs, b.untilMs) - Math.max(a.fromMs, b.fromMs);
      if (a.camera === b.camera && a.node !== b.node && ms > 0) out.push({ a, b, ms });
    }
  }
  return out;
}
