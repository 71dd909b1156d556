import { describe, expect, it } from 'vitest';
import { LatencyWindow, RateMeter } from '../../src/output/rate.js';

describe('RateMeter', () => {
  it('counts events per second over its window, and forgets older ones', () => {
    const r = new RateMeter(2000);
    for (let t = 0; t < 2000; t += 100) r.add(t); // 10 per second
    expect(r.rate(1999)).toBe(10);
    r.add(2000, 5);
    // At 2500 the events at 0..500 have left the window: 14 remain plus the 5 at once.
    expect(r.rate(2500)).toBe((14 + 5) / 2);
    expect(r.rate(10_000)).toBe(0);
  });

  it('stays bounded under a burst', () => {
    const r = new RateMeter(1000, 16);
    for (let t = 0; t < 1000; t++) r.add(t);
    expect(r.rate(999)).toBeLessThanOrEqual(16);
  });
});

describe('LatencyWindow', () => {
  it('reports the last value and nearest-rank percentiles of the recent window', () => {
    const w = new LatencyWindow(100);
    expect(w.summary()).toEqual({ last: 0, p50: 0, p95: 0 });
    for (let i = 1; i <= 100; i++) w.add(i);
    expect(w.summary()).toEqual({ last: 100, p50: 50, p95: 95 });
    // 100 newer values of 1000 replace all the old ones.
    for (let i = 0; i < 100; i++) w.add(1000);
    expect(w.summary()).toEqual({ last: 1000, p50: 1000, p95: 1000 });
  });
});
