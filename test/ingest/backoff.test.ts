import { describe, expect, it } from 'vitest';
import { Backoff, RESTART_DELAYS_MS } from '../../src/ingest/backoff.js';

describe('Backoff', () => {
  it('follows the schedule: 1 s five times, 5 s, then 10 s for ever', () => {
    const b = new Backoff();
    const got = Array.from({ length: 11 }, (_, i) => b.failed(i));
    expect(got).toEqual([1000, 1000, 1000, 1000, 1000, 5000, 10_000, 10_000, 10_000, 10_000, 10_000]);
    expect(RESTART_DELAYS_MS).toEqual([1000, 1000, 1000, 1000, 1000, 5000, 10_000]);
  });

  it('brings a camera back within 10 s of its return, whatever the outage (5 s, 30 s, 5 min)', () => {
    // A camera streams healthily for a minute, then its server is away for `outage` ms; each start
    // during the outage fails after 100 ms (connection refused). Recovery = return → next start.
    const recovery = (outage: number): number => {
      const b = new Backoff();
      b.delivering(0);
      b.delivering(60_000);
      let t = 60_000;
      const back = t + outage;
      t += b.failed(t);
      while (t < back) t += 100 + b.failed(t + 100);
      return t - back;
    };
    const got = [5_000, 30_000, 300_000].map(recovery);
    expect(got.every((ms) => ms <= 10_000)).toBe(true);
    // go2rtc's 60 s step made the 30 s outage cost 55 s more; now it is under 10 s.
    expect(got[1]).toBeLessThan(10_000);
  });

  it('starts again after 30 s of healthy streaming, not before', () => {
    const b = new Backoff();
    for (let i = 0; i < 7; i++) b.failed(0);
    // Streams for 29 s, then fails: still deep in the schedule.
    b.delivering(1000);
    b.delivering(30_000 - 1);
    expect(b.failed(30_000 - 1)).toBe(10_000);
    // Streams for 30 s: forgiven, even if the failure is only noticed later.
    b.delivering(100_000);
    b.delivering(130_000);
    expect(b.attempts).toBe(0);
    expect(b.failed(131_000)).toBe(1000);
    expect(b.failed(131_000)).toBe(1000);
    b.delivering(200_000);
    expect(b.failed(230_000)).toBe(1000); // the healthy run ended at the failure, which came after 30 s
  });

  it('takes scaled delays and a scaled reset (tests, and operators who want other pacing)', () => {
    const b = new Backoff({ delaysMs: [10, 20], resetAfterMs: 50 });
    expect([b.failed(0), b.failed(0), b.failed(0)]).toEqual([10, 20, 20]);
    b.delivering(100);
    expect(b.failed(149)).toBe(20);
    b.delivering(200);
    expect(b.failed(250)).toBe(10);
  });

  it('rejects an empty or negative schedule', () => {
    expect(() => new Backoff({ delaysMs: [] })).toThrow(RangeError);
    expect(() => new Backoff({ delaysMs: [1, -1] })).toThrow(RangeError);
    expect(() => new Backoff({ resetAfterMs: -1 })).toThrow(RangeError);
  });
});
