import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, samePartition } from '../../src/regions/metrics.js';

const I = (xs: number[]): Int32Array => Int32Array.from(xs);

describe('adjustedRandIndex', () => {
  it('is 1 for the same partition under any renaming', () => {
    expect(adjustedRandIndex(I([0, 0, 1, 1, 2]), I([5, 5, -3, -3, 9]))).toBe(1);
  });

  it('matches hand-computed contingency tables', () => {
    // a=[0,0,1,2], b=[0,0,1,1]: Σ C(nij,2)=1, Σ C(ai,2)=1, Σ C(bj,2)=2, C(4,2)=6
    // expected 1·2/6 = 1/3, max 3/2 → (1 − 1/3)/(3/2 − 1/3) = 4/7 (sklearn's docstring: 0.57)
    expect(adjustedRandIndex(I([0, 0, 1, 2]), I([0, 0, 1, 1]))).toBeCloseTo(4 / 7, 12);
    // a=[0,0,0,1,1,1], b=[0,0,1,1,2,2]: index 2, sa 6, sb 3, C(6,2)=15
    // expected 18/15 = 1.2, max 4.5 → 0.8/3.3 = 8/33
    expect(adjustedRandIndex(I([0, 0, 0, 1, 1, 1]), I([0, 0, 1, 1, 2, 2]))).toBeCloseTo(8 / 33, 12);
    // Crossed halves: index 0, sa = sb = 2, expected 4/6 → (0 − 2/3)/(2 − 2/3) = −1/2
    expect(adjustedRandIndex(I([0, 0, 1, 1]), I([0, 1, 0, 1]))).toBeCloseTo(-0.5, 12);
  });

  it('is symmetric', () => {
    const a = I([0, 0, 1, 1, 1, 2, 2, 0]), b = I([1, 1, 1, 0, 0, 2, 2, 2]);
    expect(adjustedRandIndex(a, b)).toBeCloseTo(adjustedRandIndex(b, a), 14);
  });

  it('returns 1 for the 0/0 cases (both one cluster, both all singletons) and 0 for one cluster vs a split', () => {
    expect(adjustedRandIndex(I([3, 3, 3]), I([7, 7, 7]))).toBe(1);
    expect(adjustedRandIndex(I([0, 1, 2]), I([2, 0, 1]))).toBe(1);
    expect(adjustedRandIndex(I([0, 0, 0, 0]), I([0, 0, 1, 1]))).toBe(0);
  });

  it('rejects labelings of different lengths', () => {
    expect(() => adjustedRandIndex(I([0]), I([0, 1]))).toThrow(/1 vs 2/);
  });
});

describe('samePartition', () => {
  it('accepts a renaming and rejects a regrouping', () => {
    expect(samePartition(I([0, 0, 1, 2]), I([9, 9, 4, 1]))).toBe(true);
    expect(samePartition(I([0, 0, 1, 2]), I([9, 9, 4, 4]))).toBe(false);
    expect(samePartition(I([0, 1, 1]), I([0, 0, 1]))).toBe(false);
  });
});
