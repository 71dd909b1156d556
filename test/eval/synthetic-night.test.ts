import { describe, expect, it } from 'vitest';
import { darken, EXPOSURE_RANGE, exposureFor, FULL_WELLS, linearToSrgbByte, srgbByteToLinear } from '../../src/eval/synthetic-night.js';
import type { RgbImage } from '../../src/image/types.js';

const flat = (w: number, h: number, v: number): RgbImage => ({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(v) });

function stats(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < xs.length; i++) { s += xs[i]!; s2 += xs[i]! * xs[i]!; }
  const mean = s / xs.length;
  return { mean, variance: s2 / xs.length - mean * mean };
}

const linearOf = (img: RgbImage): Float64Array => Float64Array.from(img.data, srgbByteToLinear);

/**
 * With no read noise, full-scale input and a full well of 100, each code is OETF(k/100) for an
 * integer electron count k, and codes for different k differ (≥ ~1.7 codes per electron up to
 * k = 100), so the counts can be read back exactly.
 */
function electronsOf(img: RgbImage, fullWell: number): Float64Array {
  const codeToK = new Map<number, number>();
  for (let k = fullWell; k >= 0; k--) codeToK.set(linearToSrgbByte(k / fullWell), k);
  return Float64Array.from(img.data, (c) => {
    const k = codeToK.get(c);
    if (k === undefined) throw new Error(`code ${c} is no electron count`);
    return k;
  });
}

describe('sRGB transfer', () => {
  it('round-trips every 8-bit code through linear light', () => {
    for (let i = 0; i < 256; i++) expect(linearToSrgbByte(srgbByteToLinear(i))).toBe(i);
  });

  it('uses the exact piecewise curve (linear toe, 2.4 power)', () => {
    expect(srgbByteToLinear(10)).toBeCloseTo(10 / 255 / 12.92, 15);
    expect(srgbByteToLinear(128)).toBeCloseTo(((128 / 255 + 0.055) / 1.055) ** 2.4, 15);
    expect(srgbByteToLinear(255)).toBe(1);
  });
});

describe('darken', () => {
  const grey = flat(64, 64, 128); // linear 0.2158

  it('scales mean linear light by the exposure', () => {
    const lin = srgbByteToLinear(128);
    for (const exposure of [0.03, 0.06, 0.12]) {
      const m = stats(linearOf(darken(grey, { exposure, fullWell: 1000, seed: 1 }))).mean;
      expect(m / (exposure * lin)).toBeGreaterThan(0.95);
      expect(m / (exposure * lin)).toBeLessThan(1.05);
    }
    const lo = stats(linearOf(darken(grey, { exposure: 0.03, fullWell: 1000, seed: 2 }))).mean;
    const hi = stats(linearOf(darken(grey, { exposure: 0.12, fullWell: 1000, seed: 2 }))).mean;
    expect(hi / lo).toBeGreaterThan(3.8);
    expect(hi / lo).toBeLessThan(4.2);
  });

  it('is noisier the smaller the full well, at the same exposure', () => {
    const v = FULL_WELLS.map((fullWell) => stats(darken(grey, { exposure: 0.1, fullWell, seed: 3 }).data).variance);
    expect(v[0]!).toBeGreaterThan(2 * v[1]!);
    expect(v[1]!).toBeGreaterThan(2 * v[2]!);
  });

  it('draws Poisson electron counts: exact below λ = 30 (mean = variance = λ, P(0) = e^−λ), normal above', () => {
    const white = flat(64, 64, 255); // 12,288 samples
    const small = electronsOf(darken(white, { exposure: 0.05, fullWell: 100, readNoise: 0, seed: 4 }), 100); // λ = 5
    const s = stats(small);
    expect(Math.abs(s.mean - 5)).toBeLessThan(0.1); // SE 0.02
    expect(Math.abs(s.variance - 5)).toBeLessThan(0.35); // SE 0.07
    const zeros = small.filter((k) => k === 0).length / small.length;
    expect(Math.abs(zeros - Math.exp(-5))).toBeLessThan(0.004); // SE 0.0007
    const large = stats(electronsOf(darken(white, { exposure: 0.5, fullWell: 100, readNoise: 0, seed: 5 }), 100)); // λ = 50
    expect(Math.abs(large.mean - 50)).toBeLessThan(0.35); // SE 0.06
    expect(Math.abs(large.variance - 50)).toBeLessThan(3.5); // SE 0.64
  });

  it('adds read noise: black stays black without it and is lifted by it', () => {
    const black = flat(32, 32, 0);
    expect(darken(black, { exposure: 0.1, fullWell: 100, readNoise: 0, seed: 6 }).data.every((v) => v === 0)).toBe(true);
    const lifted = darken(black, { exposure: 0.1, fullWell: 100, seed: 6 }).data; // default σ = 3 e⁻
    const positive = lifted.filter((v) => v > 0).length / lifted.length;
    expect(positive).toBeGreaterThan(0.4); // half of N(0, 3) is positive; the rest clips to 0
    expect(positive).toBeLessThan(0.6);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const o = { exposure: 0.08, fullWell: 300 };
    expect(darken(grey, { ...o, seed: 9 }).data).toEqual(darken(grey, { ...o, seed: 9 }).data);
    expect(darken(grey, { ...o, seed: 9 }).data).not.toEqual(darken(grey, { ...o, seed: 10 }).data);
  });

  it('rejects an exposure outside (0, 1] and a bad size', () => {
    expect(() => darken(grey, { exposure: 0, fullWell: 100, seed: 1 })).toThrow(/exposure/);
    expect(() => darken({ width: 2, height: 2, data: new Uint8Array(5) }, { exposure: 0.1, fullWell: 100, seed: 1 })).toThrow(/bytes/);
  });
});

describe('exposureFor', () => {
  it('is reproducible, in range, log-uniform, and varies with seed and index', () => {
    const xs = Array.from({ length: 2000 }, (_, i) => exposureFor(42, i));
    expect(xs.map((_, i) => exposureFor(42, i))).toEqual(xs);
    expect(xs.every((x) => x >= EXPOSURE_RANGE[0] && x <= EXPOSURE_RANGE[1])).toBe(true);
    expect(new Set(xs).size).toBe(xs.length);
    expect(exposureFor(43, 0)).not.toBe(exposureFor(42, 0));
    // Log-uniform: the median is the geometric mean 0.06, and each stop holds half the draws.
    const below = xs.filter((x) => x < 0.06).length / xs.length;
    expect(below).toBeGreaterThan(0.45);
    expect(below).toBeLessThan(0.55);
    expect(Math.min(...xs)).toBeLessThan(0.031);
    expect(Math.max(...xs)).toBeGreaterThan(0.118);
  });
});
