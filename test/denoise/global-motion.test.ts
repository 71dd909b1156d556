import { describe, expect, it } from 'vitest';
import { remapBilinear, remapPlanes, type GlobalMotion } from '../../src/denoise/global-motion.js';

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
