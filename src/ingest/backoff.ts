// Restart pacing for a camera that keeps failing, as go2rtc does it: 1 s five times, then 5 s,
// 10 s, then 60 s for ever; back to the start once the source has streamed healthily for a while.
// Pure: the caller passes the time, so it is tested without waiting.

/** go2rtc's schedule in ms; the last delay repeats. */
export const GO2RTC_DELAYS_MS: readonly number[] = [1000, 1000, 1000, 1000, 1000, 5000, 10_000, 60_000];
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
    this.delays = o.delaysMs ?? GO2RTC_DELAYS_MS;
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
