import { describe, expect, it } from 'vitest';
import { estimateGlobalMotion, jsMotionLoops, remapBilinear, remapPlanes, type GlobalMotion, type LumaPlane, type MotionLoops } from '../../src/denoise/global-motion.js';

const W = 13, H = 9;
const map = (tx: number, ty: number, k = 0): GlobalMotion => ({ tx, ty, k, maxShift: Math.max(Math.abs(tx), Math.abs(ty)), significant: true });
const ramp = (planes: number): Float32Array => Float32Array.from({ length: planes * W * H }, (_, i) => 1 + (i % 97) * 0.5);

describe('moving the denoiser\'s state into a camera\'s spare arrays', () => {
  it('gives what a fresh array gets, in the spare itself, whatever the spare held before', () => {
    for (const m of [map(2, -1), map(-3, 2), map(0, 0, 0.2)]) {
      const src = ramp(3), fresh = remapPlanes(src, 3, W, H, m, 0);
      const spare = new Float32Array(src.length).fill(7); // last move's values: stale
      const into = remapPlanes(src, 3, W, H, m, 0, spare);
      expect(into).toBe(spare);
      expect([...into]).toEqual([...fresh]);
      expect(into.filter((v) => v === 0).length).toBeGreaterThan(0); // what came into view starts at 0, not 7

      const bytes = Uint8Array.from(src, (v) => v), b = remapPlanes(bytes, 3, W, H, m, 0, new Uint8Array(bytes.length).fill(9));
      expect([...b]).toEqual([...remapPlanes(bytes, 3, W, H, m, 0)]);

      const bl = remapBilinear(src, 3, W, H, m, new Float32Array(src.length).fill(7));
      expect([...bl]).toEqual([...remapBilinear(src, 3, W, H, m)]);
    }
  });

  it('never writes into the array it reads (a spare that is the state itself gets a new one)', () => {
    const src = ramp(1), copy = src.slice();
    const out = remapPlanes(src, 1, W, H, map(1, 1), 0, src);
    expect(out).not.toBe(src);
    expect([...src]).toEqual([...copy]);
  });
});

describe('the global-motion fit below the shift its caller acts on', () => {
  // A textured 160×90 luma plane (the fit's size for a 640-px frame), and the same view moved by `dx` low-res pixels.
  const plane = (dx: number): LumaPlane => {
    const w = 160, h = 90, data = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = 0.4 + 0.2 * Math.sin((x - dx) / 3.1) * Math.cos(y / 4.3) + 0.1 * Math.sin((x - dx + 2 * y) / 7.7);
    return { width: w, height: h, factor: 4, data };
  };
  const counting = (): { loops: (r: LumaPlane, c: LumaPlane) => MotionLoops; tested: () => number } => {
    let tiles = 0;
    return { loops: (r, c) => { const L = jsMotionLoops(r, c); return { ...L, tiles: (q, rest) => { tiles++; return L.tiles(q, rest); } }; }, tested: () => tiles };
  };

  it('skips the tests for a still view (the same answer: nothing to follow), and still tests a pan', () => {
    const still = counting(), a = estimateGlobalMotion(plane(0), plane(0), still.loops, { minShift: 0.25 });
    expect(a.significant).toBe(false);
    expect(a.maxShift).toBeLessThan(0.25);
    expect(still.tested()).toBe(0);
    expect(estimateGlobalMotion(plane(0), plane(0)).significant).toBe(false); // tested in full: the same verdict

    const pan = counting(), b = estimateGlobalMotion(plane(0), plane(1), pan.loops, { minShift: 0.25 });
    expect(pan.tested()).toBe(1);
    expect(b.significant).toBe(true);
    expect(Math.abs(b.tx)).toBeGreaterThan(3); // 1 low-res pixel = 4 full-resolution pixels
  });
});
