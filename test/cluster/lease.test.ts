import { describe, expect, it } from 'vitest';
import { overlaps, ServerClock, targetShares, tenures, type LeaseEntry } from '../../src/cluster/lease.js';

const put = (revision: number, createdMs: number, node: string, leaseMs = 1000): LeaseEntry => ({ camera: 'c', revision, createdMs, value: { node, leaseMs } });
const del = (revision: number, createdMs: number): LeaseEntry => ({ camera: 'c', revision, createdMs });

describe('lease rules', () => {
  it('shares cameras in proportion to capacity, capped, the same answer on every node', () => {
    expect(Object.fromEntries(targetShares([{ node: 'a', capacity: 4 }, { node: 'b', capacity: 3 }, { node: 'c', capacity: 2 }], 5))).toEqual({ a: 2, b: 2, c: 1 });
    expect(Object.fromEntries(targetShares([{ node: 'b', capacity: 3 }, { node: 'c', capacity: 2 }], 5))).toEqual({ b: 3, c: 2 });
    // A small node is capped and its share goes to the big one.
    expect(Object.fromEntries(targetShares([{ node: 'a', capacity: 1 }, { node: 'b', capacity: 10 }], 6))).toEqual({ a: 1, b: 5 });
    expect(Object.fromEntries(targetShares([{ node: 'a', capacity: 2 }, { node: 'b', capacity: 0 }], 9))).toEqual({ a: 2, b: 0 });
  });

  it('reads tenures from a history: renewals extend, a release ends, a lapse ends', () => {
    const t = tenures([put(1, 0, 'a'), put(2, 300, 'a'), del(3, 500), put(4, 600, 'b'), put(5, 2000, 'c')]);
    expect(t.map((x) => [x.node, x.fromMs, x.untilMs])).toEqual([['a', 0, 500], ['b', 600, 1600], ['c', 2000, 3000]]);
    expect(overlaps(t)).toEqual([]);
  });

  it('finds a takeover before the previous lease lapsed', () => {
    const o = overlaps(tenures([put(1, 0, 'a'), put(2, 500, 'a'), put(3, 1200, 'b')]));
    expect(o.map((x) => x.ms)).toEqual([300]);
  });

  it('estimates the server clock from the ack, never ahead of the server', () => {
    let local = 100;
    const clock = new ServerClock(() => local);
    expect(clock.now()).toBeUndefined();
    clock.observe(50_000, 100);
    local = 400;
    expect(clock.now()).toBe(50_300);
    clock.observe(50_100, 400); // an older-looking sample does not pull the estimate back
    expect(clock.now()).toBe(50_300);
  });
});
