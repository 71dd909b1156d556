import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/image/types.js';
import { boxDownscaleRgb, RegionCache } from '../../src/pipeline/regionCache.js';
import type { Segmentation } from '../../src/regions/felzenszwalb.js';

// 4×2 frames at downscale 1, 2-channel "curve maps"; regions injected so the arithmetic is visible:
//   0 0 1 1
//   0 0 1 1
const HALVES: Segmentation = { labels: Int32Array.from([0, 0, 1, 1, 0, 0, 1, 1]), count: 2 };
const frame = (v: number): RgbImage => ({ width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).fill(v) });
const maps = (c0: number[], c1: number[]) => ({ dims: [2, 2, 4], data: Float32Array.from([...c0, ...c1]) });
const close = (got: ArrayLike<number>, want: number[]): void => {
  expect(got.length).toBe(want.length);
  want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
};

function cache(o: Partial<ConstructorParameters<typeof RegionCache>[0]> = {}) {
  let segmented = 0;
  const c = new RegionCache({ downscale: 1, segment: () => { segmented++; return HALVES; }, ...o });
  return { c, segmentations: () => segmented };
}

describe('RegionCache', () => {
  it('pools each channel per region: every pixel of a region carries its mean', () => {
    const { c } = cache();
    const r = c.update(frame(20), maps([0.1, 0.3, -0.2, 0.4, 0.5, 0.7, 0.2, 0.6], [1, 1, 0, 0, 1, 1, 0, 0]));
    expect(r.keyframe).toBe('first');
    expect(r.regions).toBe(2);
    expect(r.dims).toEqual([2, 2, 4]);
    // region 0: 0.1, 0.3, 0.5, 0.7 → 0.4; region 1: -0.2, 0.4, 0.2, 0.6 → 0.25; channel 1: 1 and 0
    close(r.data, [0.4, 0.4, 0.25, 0.25, 0.4, 0.4, 0.25, 0.25, 1, 1, 0, 0, 1, 1, 0, 0]);
  });

  it('keeps mix × each pixel\'s deviation from its region mean', () => {
    const { c } = cache({ mix: 0.5 });
    const r = c.update(frame(20), maps([0.1, 0.3, -0.2, 0.4, 0.5, 0.7, 0.2, 0.6], [0, 0, 0, 0, 0, 0, 0, 0]));
    close(r.data.subarray(0, 8), [0.25, 0.35, 0.025, 0.325, 0.45, 0.55, 0.225, 0.425]);
  });

  it('blends over time with an EMA and converges to a new steady value', () => {
    const { c } = cache({ alpha: 0.5 });
    const a = maps(Array(8).fill(0), Array(8).fill(0));
    const b = maps(Array(8).fill(0.8), Array(8).fill(-0.4));
    c.update(frame(20), a);
    const r1 = c.update(frame(20), b);
    expect(r1.keyframe).toBeUndefined();
    close([r1.data[0]!, r1.data[8]!], [0.4, -0.2]); // halfway
    const r2 = c.update(frame(20), b);
    close([r2.data[0]!, r2.data[8]!], [0.6, -0.3]);
    let r = r2;
    for (let i = 0; i < 30; i++) r = c.update(frame(20), b);
    close([r.data[0]!, r.data[7]!, r.data[8]!], [0.8, 0.8, -0.4]); // error halves each frame: 0.8·2⁻³² ≈ 0
  });

  it('averages frame-to-frame noise: the smoothed value moves by alpha of a jump', () => {
    const { c } = cache({ alpha: 0.2 });
    c.update(frame(20), maps(Array(8).fill(0.5), Array(8).fill(0)));
    const r = c.update(frame(20), maps(Array(8).fill(0.6), Array(8).fill(0)));
    expect(r.data[0]).toBeCloseTo(0.52, 5);
  });

  it('holds a region\'s curve inside the dead band, then jumps to the EMA', () => {
    const { c } = cache({ alpha: 0.5, hold: 0.1 });
    c.update(frame(20), maps(Array(8).fill(0), Array(8).fill(0)));
    const creeping = [1, 2, 3, 4].map(() => c.update(frame(20), maps(Array(8).fill(0.1), Array(8).fill(0))).data[0]);
    expect(creeping).toEqual([0, 0, 0, 0]); // EMA 0.05, 0.075, … never more than 0.1 away
    const r = c.update(frame(20), maps(Array(8).fill(1), Array(8).fill(0)));
    expect(r.data[0]).toBeCloseTo(0.5 * (0.1 * (1 - 2 ** -4)) + 0.5, 5); // EMA after 4 frames of 0.1, then halfway to 1
  });

  it('resets the EMA and re-segments on a scene change', () => {
    const { c, segmentations } = cache({ alpha: 0.1, sceneThreshold: 8 });
    c.update(frame(20), maps(Array(8).fill(0), Array(8).fill(0)));
    const same = c.update(frame(25), maps(Array(8).fill(0.5), Array(8).fill(0))); // 5 levels: same scene
    expect(same.keyframe).toBeUndefined();
    expect(same.sceneDiff).toBeCloseTo(5, 5);
    expect(same.data[0]).toBeCloseTo(0.05, 5);
    const lights = c.update(frame(120), maps(Array(8).fill(0.5), Array(8).fill(0)));
    expect(lights.keyframe).toBe('scene-change');
    expect(lights.data[0]).toBeCloseTo(0.5, 5); // no blending with the old scene
    expect(segmentations()).toBe(2);
    // The new keyframe is the reference now: the same lit frame is no change.
    expect(c.update(frame(120), maps(Array(8).fill(0.5), Array(8).fill(0))).keyframe).toBeUndefined();
  });

  it('re-segments every K frames, carrying the smoothed curves over to the new regions', () => {
    const { c, segmentations } = cache({ alpha: 0.5, refreshEvery: 3 });
    const kinds: (string | undefined)[] = [];
    let last = c.update(frame(20), maps(Array(8).fill(0), Array(8).fill(0)));
    kinds.push(last.keyframe);
    for (let i = 0; i < 6; i++) {
      last = c.update(frame(20), maps(Array(8).fill(0.8), Array(8).fill(0)));
      kinds.push(last.keyframe);
    }
    expect(kinds).toEqual(['first', undefined, undefined, 'refresh', undefined, undefined, 'refresh']);
    expect(segmentations()).toBe(3);
    // 0 → 0.4 → 0.6 → (refresh, carried) 0.7 → 0.75 → 0.775 → (refresh) 0.7875: no jump at refreshes.
    expect(last.data[0]).toBeCloseTo(0.7875, 5);
  });

  it('starts over when the frame size changes, and rejects curve maps of the wrong size', () => {
    const { c } = cache();
    c.update(frame(20), maps(Array(8).fill(0), Array(8).fill(0)));
    const big: RgbImage = { width: 2, height: 2, data: new Uint8Array(12) };
    const seg2 = new RegionCache({ downscale: 1, segment: () => ({ labels: new Int32Array(4), count: 1 }) });
    expect(seg2.update(big, { dims: [1, 2, 2], data: new Float32Array(4) }).keyframe).toBe('first');
    expect(() => c.update(frame(20), { dims: [2, 1, 4], data: new Float32Array(8) })).toThrow(/do not fit/);
    expect(() => new RegionCache({ downscale: 1, alpha: 0 })).toThrow(/alpha/);
  });

  it('segments with SLIC at the curve resolution by default', () => {
    // 16×8 frame, k = 2 → 8×4 curve maps; left half dark, right half bright: two regions at most a few.
    const W = 16, H = 8, data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.fill(x < 8 ? 5 : 40, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const c = new RegionCache({ downscale: 2, regionPixels: 16 });
    const r = c.update({ width: W, height: H, data }, { dims: [1, 1, 4, 8], data: new Float32Array(32).fill(0.3) });
    const g = c.regions!;
    expect([g.width, g.height]).toEqual([8, 4]);
    expect(r.regions).toBe(g.count);
    // No region straddles the edge between the halves.
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) for (let x2 = 4; x2 < 8; x2++) expect(g.labels[y * 8 + x]).not.toBe(g.labels[y * 8 + x2]);
    close(r.data, Array(32).fill(0.3));
  });
});

describe('boxDownscaleRgb', () => {
  it('averages k×k blocks, edge blocks over what they cover', () => {
    const img: RgbImage = { width: 3, height: 1, data: Uint8Array.from([0, 0, 0, 10, 20, 30, 7, 7, 7]) };
    expect(boxDownscaleRgb(img, 2)).toEqual({ width: 2, height: 1, data: Uint8Array.from([5, 10, 15, 7, 7, 7]) });
  });
});
