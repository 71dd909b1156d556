// Small windows over recent events for the status API: a rate (events per second over the last few
// seconds, as Frigate's camera_fps and skipped_fps) and recent latencies (last, p50, p95). Both are
// bounded whatever the event rate, and take the clock as a parameter so tests control time.

export const DEFAULT_RATE_WINDOW_MS = 5_000;

/** Events per second over a sliding window; at most `maxEvents` remembered (the rate saturates there). */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly counts: number[] = [];

  constructor(private readonly windowMs = DEFAULT_RATE_WINDOW_MS, private readonly maxEvents = 4096) {}

  /** Records `count` events at `nowMs`. */
  add(nowMs: number, count = 1): void {
    if (!(count > 0)) return;
    this.evict(nowMs);
    const last = this.times.length - 1;
    // Events in the same millisecond share a slot, so a burst cannot push the window out.
    if (last >= 0 && this.times[last] === nowMs) this.counts[last]! += count;
    else {
      this.times.push(nowMs);
      this.counts.push(count);
      if (this.times.length > this.maxEvents) { this.times.shift(); this.counts.shift(); }
    }
  }

  /** Events per second over the window ending at `nowMs`. */
  rate(nowMs: number): number {
    this.evict(nowMs);
    let n = 0;
    for (const c of this.counts) n += c;
    return n / (this.windowMs / 1000);
  }

  private evict(nowMs: number): void {
    const from = nowMs - this.windowMs;
    let k = 0;
    while (k < this.times.length && this.times[k]! <= from) k++;
    if (k > 0) { this.times.splice(0, k); this.counts.splice(0, k); }
  }
}

export interface LatencySummary {
  readonly last: number;
  readonly p50: number;
  readonly p95: number;
}

/** The last `size` latencies; percentiles by nearest rank. */
export class LatencyWindow {
  private readonly values: number[] = [];
  private next = 0;

  constructor(private readonly size = 200) {}

  add(ms: number): void {
    if (this.values.length < this.size) this.values.push(ms);
    else this.values[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  summary(): LatencySummary {
    if (this.values.length === 0) return { last: 0, p50: 0, p95: 0 };
    const sorted = [...this.values].sort((a, b) => a - b);
    const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
    return { last: this.values[(this.next - 1 + this.size) % this.size]!, p50: rank(0.5), p95: rank(0.95) };
  }
}
