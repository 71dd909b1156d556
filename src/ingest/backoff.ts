// Restart pacing for a camera that keeps failing: go2rtc's start (1 s five times, then 5 s), then
// 10 s for ever, as Frigate retries: a camera back after an outage of any length streams again
// within 10 s (go2rtc's 60 s step cost up to a minute of lost video after a 30 s outage). Back to
// the start once the source has streamed healthily for a while.
// Pure: the caller passes the time, so it is tested without waiting.

/** The schedule in ms; the last delay repeats, and bounds the time from a camera's return to its frames. */
export const RESTART_DELAYS_MS: readonly number[] = [1000, 1000, 1000, 1000, 1000, 5000, 10_000];
/** Streaming this long without a failure forgives the earlier failures. */
export const HEALTHY_RESET_MS = 30_000;

export interface BackoffOptions {
  /** Delays before each successive restart; the last one repeats. Non-empty, each ≥ 0. */
  readonly delaysMs?: readonly number[];
  /** Healthy streaming time after which the schedule starts again from its first delay. */
  readonly resetAfterMs?: number;
}

export class Backoff {
  private readonly delays: readonly number[];
  private readonly resetAfterMs: number;
  private failures = 0;
  private healthySince: number | undefined;

  constructor(o: BackoffOptions = {}) {
    this.delays = o.delaysMs ?? RESTART_DELAYS_MS;
    this.resetAfterMs = o.resetAfterMs ?? HEALTHY_RESET_MS;
    if (this.delays.length === 0 || this.delays.some((d) => !(d >= 0) || !Number.isFinite(d))) {
      throw new RangeError(`backoff delays must be a non-empty list of finite ms ≥ 0, got [${this.delays.join(', ')}]`);
    }
    if (!(this.resetAfterMs >= 0)) throw new RangeError(`resetAfterMs must be ≥ 0, got ${this.resetAfterMs}`);
  }

  /** Failures counted towards the schedule (0 after a reset). */
  get attempts(): number { return this.failures; }

  /** The source delivers frames: call on each frame (cheap); the first one starts the healthy run. */
  delivering(nowMs: number): void {
    this.healthySince ??= nowMs;
    if (nowMs - this.healthySince >= this.resetAfterMs) this.failures = 0;
  }

  /** The source failed at nowMs: returns how long to wait before the next start. */
  failed(nowMs: number): number {
    if (this.healthySince !== undefined && nowMs - this.healthySince >= this.resetAfterMs) this.failures = 0;
    this.healthySince = undefined;
    const delay = this.delays[Math.min(this.failures, this.delays.length - 1)]!;
    this.failures++;
    return delay;
  }
}
