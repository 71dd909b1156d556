import { describe, expect, it } from 'vitest';
import { labelsDownscale, regionMeans } from '../../src/regions/pool.js';

const I = (xs: number[]): Int32Array => Int32Array.from(xs);

describe('regionMeans', () => {
  // 4×2 labels:  0 0 1 1
  //              0 2 2 1
  const labels = I([0, 0, 1, 1, 0, 2, 2, 1]);

  it('averages each channel over each region at full resolution', () => {
    const data = Float32Array.from([
      1, 2, 3, 4, 5, 6, 7, 8, // channel 0
      10, 20, 30, 40, 50, 60, 70, 80, // channel 1
    ]);
    const r = regionMeans(labels, 4, 2, 3, { dims: [2, 2, 4], data });
    // region 0: pixels 0,1,4 → (1+2+5)/3, (10+20+50)/3; region 1: 2,3,7; region 2: 5,6
    expect([...r.counts]).toEqual([3, 3, 2]);
    expect(r.channels).toBe(2);
    const want = [8 / 3, 80 / 3, 5, 50, 6.5, 65];
    r.means.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  });

  it('samples labels at the block centres for a low-res tensor, and accepts [1,C,H,W]', () => {
    // downscale 2 → tensor 2×1 sampling pixels (1,1) → label 2 and (3,1) → label 1
    const r = regionMeans(labels, 4, 2, 3, { dims: [1, 1, 1, 2], data: Float32Array.from([7, 9]) }, 2);
    expect([...r.counts]).toEqual([0, 1, 1]);
    expect([...r.means]).toEqual([0, 9, 7]); // region 0 is never sampled: mean 0, count 0
    // Same without the factor: inferred from the sizes.
    expect([...regionMeans(labels, 4, 2, 3, { dims: [1, 1, 2], data: Float32Array.from([7, 9]) }).means]).toEqual([0, 9, 7]);
  });

  it('takes odd sizes with a downscale factor (⌊·/d⌋ or ⌈·/d⌉)', () => {
    // 5×1 labels at d=2: ⌈5/2⌉ = 3 cells sample x = 1, 3, 4 (clamped)
    const r = regionMeans(I([0, 1, 1, 2, 3]), 5, 1, 4, { dims: [1, 1, 3], data: Float32Array.from([1, 2, 3]) }, 2);
    expect([...r.counts]).toEqual([0, 1, 1, 1]);
    expect([...r.means]).toEqual([0, 1, 2, 3]);
  });

  it('rejects mismatched shapes and labels out of range', () => {
    expect(() => regionMeans(labels, 4, 2, 3, { dims: [1, 2, 4], data: new Float32Array(7) })).toThrow(/need 8 values/);
    expect(() => regionMeans(labels, 4, 2, 3, { dims: [2, 4], data: new Float32Array(8) })).toThrow(/not \[C,H,W\]/);
    expect(() => regionMeans(labels, 4, 2, 3, { dims: [1, 1, 1], data: new Float32Array(1) }, 2)).toThrow(/not 4x2 downscaled by 2/);
    expect(() => regionMeans(labels, 4, 2, 2, { dims: [1, 2, 4], data: new Float32Array(8) })).toThrow(/label 2 outside 0..1/);
  });
});

describe('labelsDownscale', () => {
  // 4×4:  0 0 1 1
  //       0 1 1 1
  //       2 2 3 3
  //       2 3 3 3
  const labels = I([0, 0, 1, 1, 0, 1, 1, 1, 2, 2, 3, 3, 2, 3, 3, 3]);

  it('takes the majority label of each k×k block', () => {
    expect(labelsDownscale(labels, 4, 4, 2)).toEqual({ labels: I([0, 1, 2, 3]), width: 2, height: 2 });
    // One 4×4 block: 1 and 3 both have 5 pixels; 1 is met first in raster order.
    expect(labelsDownscale(labels, 4, 4, 4).labels).toEqual(I([1]));
  });

  it('breaks ties by first appearance in the block', () => {
    // block [[5, 4], [4, 5]]: 5 first
    expect(labelsDownscale(I([5, 4, 4, 5]), 2, 2, 2).labels).toEqual(I([5]));
  });

  it('cuts the edge blocks short (output ⌈w/k⌉ × ⌈h/k⌉)', () => {
    // 3×1 at k=2: blocks [0,1] → tie → 0, and [2] → 2
    expect(labelsDownscale(I([0, 1, 2]), 3, 1, 2)).toEqual({ labels: I([0, 2]), width: 2, height: 1 });
  });

  it('samples the block centre in centre mode', () => {
    // centre = ⌊k/2⌋ into the block: k=2 → pixels (1,1), (3,1), (1,3), (3,3)
    expect(labelsDownscale(labels, 4, 4, 2, 'centre').labels).toEqual(I([1, 1, 3, 3]));
    expect(labelsDownscale(I([0, 1, 2]), 3, 1, 2, 'centre').labels).toEqual(I([1, 2]));
  });

  it('is the identity at k = 1 and rejects bad input', () => {
    expect(labelsDownscale(labels, 4, 4, 1).labels).toEqual(labels);
    expect(() => labelsDownscale(labels, 4, 4, 0)).toThrow(/positive integer/);
    expect(() => labelsDownscale(I([0, -1]), 2, 1, 1)).toThrow(/negative label/);
    expect(() => labelsDownscale(labels, 3, 3, 1)).toThrow(/16 labels for 3x3/);
  });
});
