import { describe, expect, it } from 'vitest';
import { detectAlong } from '../../src/detect/path.js';
import { adaptiveSmooth, boxBlur, estimateNoise, meanLuma, smoothRadius } from '../../src/detect/smooth.js';
import type { RgbImage } from '../../src/image/types.js';
import { mulberry32 } from '../../src/train/boc.js';

function image(w: number, h: number, f: (x: number, y: number) => number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(Math.min(255, Math.max(0, Math.round(f(x, y)))), (y * w + x) * 3, (y * w + x) * 3 + 3);
  return { width: w, height: h, data };
}

/** Grey `level` plus Gaussian noise of σ `sigma` (Box–Muller), the same on R, G and B. */
function noisy(w: number, h: number, level: number, sigma: number, seed = 1): RgbImage {
  const rng = mulberry32(seed);
  return image(w, h, () => level + sigma * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
}

describe('estimateNoise (Immerkær)', () => {
  it('recovers the σ of white noise on a flat image, and ignores smooth structure', () => {
    expect(estimateNoise(noisy(200, 150, 128, 10))).toBeGreaterThan(9);
    expect(estimateNoise(noisy(200, 150, 128, 10))).toBeLessThan(11);
    expect(estimateNoise(image(200, 150, (x, y) => x * 0.8 + y * 0.5))).toBeLessThan(0.6); // a ramp: second differences vanish, up to 8-bit rounding
    expect(estimateNoise(image(2, 2, () => 9))).toBe(0);
  });
});

describe('boxBlur', () => {
  it('leaves a flat image flat (edges clamped, no darkening at the border) and radius 0 as it is', () => {
    const flat = image(17, 9, () => 77);
    expect(boxBlur(flat, 3).data.every((v) => v === 77)).toBe(true);
    const any = noisy(8, 8, 100, 20);
    expect(boxBlur(any, 0)).toBe(any);
  });

  it('spreads an impulse into a kernel that keeps its mass and has variance 2·r(r+1)/3 per axis after two passes', () => {
    const n = 41, c = 20, r = 3;
    const img = image(n, n, (x, y) => (x === c && y === c ? 255 : 0));
    // Work in floats: the 8-bit result rounds, so compare the spread of a larger impulse's row sums.
    const out = boxBlur(img, r);
    let mass = 0, m2 = 0;
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) { const v = out.data[(y * n + x) * 3]!; mass += v; m2 += v * (x - c) ** 2; }
    expect(mass).toBeGreaterThan(255 * 0.9); // rounding of many small values loses a little
    expect(mass).toBeLessThan(255 * 1.1);
    expect(m2 / mass).toBeCloseTo((2 * r * (r + 1)) / 3, 0);
    expect(out.data[(c * n + c) * 3]).toBe(Math.max(...out.data)); // peak stays at the centre
  });

  it('cuts white noise by about the kernel\'s √(Σk²), and does not touch its input', () => {
    const src = noisy(160, 120, 128, 12, 3);
    const copy = Uint8Array.from(src.data);
    const out = boxBlur(src, 2);
    expect(src.data).toEqual(copy);
    expect(estimateNoise(out)).toBeLessThan(estimateNoise(src) / 3);
    expect(meanLuma(out)).toBeCloseTo(meanLuma(src), 0);
  });

  it('rejects a negative or fractional radius', () => {
    expect(() => boxBlur(noisy(4, 4, 1, 1), -1)).toThrow(RangeError);
    expect(() => boxBlur(noisy(4, 4, 1, 1), 1.5)).toThrow(RangeError);
  });
});

describe('adaptiveSmooth', () => {
  it('leaves a clean frame alone and blurs a noisy dark one, more the noisier it is', () => {
    const clean = image(64, 48, (x, y) => 60 + x + y);
    expect(smoothRadius(clean)).toBe(0);
    expect(adaptiveSmooth(clean)).toBe(clean);
    // σ 6 → radius 1; σ 9 → 2 when allowed, but the default cap is 1 (a larger radius erased small faces).
    expect(smoothRadius(noisy(64, 48, 30, 6))).toBe(1);
    expect(smoothRadius(noisy(64, 48, 30, 9), { maxRadius: 3 })).toBe(2);
    expect(smoothRadius(noisy(64, 48, 30, 60))).toBe(1);
  });
});

describe('detectAlong: smoothing by the raw frame\'s noise', () => {
  /** A detector that keeps what it was shown. */
  const recorder = (): { seen: RgbImage[]; finder: { detect(f: readonly RgbImage[]): Promise<[][]> } } => {
    const seen: RgbImage[] = [];
    return { seen, finder: { detect: async (f) => { seen.push(...f); return f.map(() => []); } } };
  };
  it('leaves the enhanced frame of a clean raw frame unblurred, though its own amplified noise would call for a blur', async () => {
    const raw = noisy(64, 48, 20, 3, 2); // σ 3: clean (radius 0)
    const enhanced = noisy(64, 48, 80, 12, 3); // what brightening does to that noise: σ 12 → radius 1 on its own
    expect(smoothRadius(raw)).toBe(0);
    expect(smoothRadius(enhanced)).toBe(1);
    const r = recorder();
    await detectAlong(r.finder, [{ raw, enhanced }], { on: 'fused' });
    expect(r.seen).toHaveLength(2);
    expect(r.seen[0]).toBe(raw);
    expect(r.seen[1]).toBe(enhanced);
  });

  it('blurs both frames of a noisy raw frame by its radius, and neither with smooth: false', async () => {
    const raw = noisy(64, 48, 20, 9, 4), enhanced = noisy(64, 48, 80, 30, 5);
    const r = recorder();
    await detectAlong(r.finder, [{ raw, enhanced }], { on: 'fused' });
    expect(r.seen[0]!.data).toEqual(boxBlur(raw, 1).data);
    expect(r.seen[1]!.data).toEqual(boxBlur(enhanced, 1).data);
    const plain = recorder();
    await detectAlong(plain.finder, [{ raw, enhanced }], { on: 'enhanced', smooth: false });
    expect(plain.seen).toEqual([enhanced]);
  });

  it('looks at a still denoiser\'s raw frame as it is, instead of the blurred raw frame; the enhanced frame still blurred by the raw frame\'s noise', async () => {
    const raw = noisy(64, 48, 20, 9, 4), enhanced = noisy(64, 48, 80, 30, 5), rawDenoised = noisy(64, 48, 20, 1, 6);
    const r = recorder();
    await detectAlong(r.finder, [{ raw, rawDenoised, enhanced }], { on: 'fused' });
    expect(r.seen[0]).toBe(rawDenoised);
    expect(r.seen[1]!.data).toEqual(boxBlur(enhanced, 1).data);
  });
});
