import { describe, expect, it } from 'vitest';
import { clippedFraction, colorfulness, flicker, LOE_SHORT_SIDE, loe, meanBrightness, psnr, ssim } from '../../src/eval/metrics.js';
import type { RgbImage } from '../../src/image/types.js';
import { mulberry32 } from '../../src/train/boc.js';

const clampByte = (v: number): number => Math.min(255, Math.max(0, v));

/** An image from a per-pixel RGB formula. */
function image(w: number, h: number, f: (x: number, y: number) => readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y).map(clampByte), (y * w + x) * 3);
  return { width: w, height: h, data };
}

const flat = (w: number, h: number, rgb: readonly [number, number, number]): RgbImage => image(w, h, () => rgb);
const mapBytes = (img: RgbImage, f: (v: number, i: number) => number): RgbImage =>
  ({ width: img.width, height: img.height, data: img.data.map((v, i) => clampByte(f(v, i))) });

function noisy(img: RgbImage, amp: number, seed: number): RgbImage {
  const rng = mulberry32(seed);
  return mapBytes(img, (v) => Math.round(v + (rng() * 2 - 1) * amp));
}

// Reference values from this Python (numpy 2.4 + scipy 1.17, the skimage algorithm:
// gaussian_filter(σ=1.5, truncate=3.5) = the 11-tap window, population moments, 5-px border cropped):
//   y, x = np.mgrid[0:24, 0:32]; d = (x*31 + y*17) % 81 - 40
//   A = stack([(x*7+y*13)%256, (x*x+3*y)%256, (x*y*5+17)%256]); B = clip(A + stack([d, -d, 2d]))
//   C = clip(A*3//4 + 20); E = stack([x*7, y*9, (x+y)*3]); F = clip(E + stack([d, d, d]))
const d = (x: number, y: number): number => ((x * 31 + y * 17) % 81) - 40;
const A = image(32, 24, (x, y) => [(x * 7 + y * 13) % 256, (x * x + 3 * y) % 256, (x * y * 5 + 17) % 256]);
const B = image(32, 24, (x, y) => [(x * 7 + y * 13) % 256 + d(x, y), (x * x + 3 * y) % 256 - d(x, y), (x * y * 5 + 17) % 256 + 2 * d(x, y)]);
const C = mapBytes(A, (v) => Math.floor((v * 3) / 4) + 20);
const E = image(32, 24, (x, y) => [x * 7, y * 9, (x + y) * 3]);
const F = image(32, 24, (x, y) => [x * 7 + d(x, y), y * 9 + d(x, y), (x + y) * 3 + d(x, y)]);

describe('psnr', () => {
  it('is 10·log10(255²/MSE) for a known MSE, over every byte', () => {
    const a = flat(4, 4, [100, 100, 100]);
    // One channel of every pixel off by 3: MSE = 9/3 = 3.
    const b = mapBytes(a, (v, i) => (i % 3 === 0 ? v + 3 : v));
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10((255 * 255) / 3), 12);
    expect(psnr(A, B)).toBeCloseTo(18.420405988927776, 10); // numpy on the same pair
  });

  it('is Infinity for identical images and rejects different sizes', () => {
    expect(psnr(A, A)).toBe(Infinity);
    expect(() => psnr(A, flat(24, 32, [0, 0, 0]))).toThrow(/sizes differ/);
  });
});

describe('ssim', () => {
  it('matches the skimage algorithm run in numpy/scipy', () => {
    expect(ssim(A, B)).toBeCloseTo(0.9932604913948888, 10);
    expect(ssim(A, C)).toBeCloseTo(0.9568194188996544, 10);
    expect(ssim(B, C)).toBeCloseTo(0.9590887262168061, 10);
    expect(ssim(E, F)).toBeCloseTo(0.29642105216215064, 10);
  });

  it('is 1 on identical images, symmetric, and falls as noise grows', () => {
    expect(ssim(E, E)).toBeCloseTo(1, 14);
    expect(ssim(F, E)).toBeCloseTo(ssim(E, F), 14);
    const s = [2, 8, 32].map((amp) => ssim(E, noisy(E, amp, 7)));
    expect(s[0]!).toBeLessThan(1);
    expect(s[1]!).toBeLessThan(s[0]!);
    expect(s[2]!).toBeLessThan(s[1]!);
  });

  it('is the luminance term alone between two flat images: (2μxμy + C1)/(μx² + μy² + C1)', () => {
    const c1 = (0.01 * 255) ** 2;
    expect(ssim(flat(12, 11, [100, 100, 100]), flat(12, 11, [50, 50, 50]))).toBeCloseTo((2 * 100 * 50 + c1) / (100 ** 2 + 50 ** 2 + c1), 12);
  });

  it('works on luma: a colour change that keeps 0.299R + 0.587G + 0.114B scores 1', () => {
    // 0.299·15 − 0.587·9 + 0.114·7 = 0: a hue shift invisible to luma, alternated per pixel.
    const shift = (x: number, y: number): number => ((x + y) % 2 ? 1 : -1);
    const hue = image(16, 16, (x, y) => [100 + x * 5 + 15 * shift(x, y), 90 + y * 6 - 9 * shift(x, y), 80 + 7 * shift(x, y)]);
    const base = image(16, 16, (x, y) => [100 + x * 5, 90 + y * 6, 80]);
    expect(psnr(hue, base)).toBeLessThan(30);
    expect(ssim(hue, base)).toBeCloseTo(1, 12);
  });

  it('rejects images smaller than the window', () => {
    expect(() => ssim(flat(10, 20, [0, 0, 0]), flat(10, 20, [0, 0, 0]))).toThrow(/window/);
  });
});

describe('meanBrightness and clippedFraction', () => {
  it('meanBrightness is the mean of all bytes / 255', () => {
    expect(meanBrightness(flat(3, 2, [0, 51, 255]))).toBeCloseTo(306 / 3 / 255, 14);
    expect(meanBrightness(flat(3, 2, [255, 255, 255]))).toBe(1);
  });

  it('counts highlight pixels (any channel 255) and black pixels (all 0) separately', () => {
    // 4 pixels: one channel at 255, all 255, pure black, dark but not black.
    const img: RgbImage = { width: 2, height: 2, data: Uint8Array.from([255, 10, 10, 255, 255, 255, 0, 0, 0, 0, 1, 0]) };
    expect(clippedFraction(img)).toEqual({ highlights: 0.5, shadows: 0.25 });
  });
});

describe('loe', () => {
  const scene = image(120, 80, (x, y) => [(x * 2 + y) % 200, (x + y * 2) % 180, (x * 3 + y * 5) % 190]);

  it('is 0 for a strictly increasing map of every channel (lightness max(R,G,B) keeps its order)', () => {
    expect(loe(scene, mapBytes(scene, (v) => Math.round(v * 1.2 + 10)))).toBe(0);
    expect(loe(scene, scene)).toBe(0);
  });

  it('is small for a brightening gamma (only merged levels count) and large when order is broken', () => {
    const gamma = mapBytes(scene, (v) => Math.round(255 * (v / 255) ** 0.5));
    const inverted = mapBytes(scene, (v) => 255 - v);
    const n = LOE_SHORT_SIDE * Math.round((120 * LOE_SHORT_SIDE) / 80); // 50 × 75 cells
    expect(loe(scene, gamma)).toBeLessThan(0.01 * n);
    expect(loe(scene, inverted)).toBeGreaterThan(0.3 * n);
  });

  it('counts disagreeing pairs exactly on a tiny image (no subsampling below 50 px)', () => {
    // L_in = [10, 20, 30], L_out = [10, 30, 20]: pairs (1,2) and (2,1) disagree → 2 errors / 3 pixels.
    const input: RgbImage = { width: 3, height: 1, data: Uint8Array.from([10, 0, 0, 0, 20, 0, 0, 0, 30]) };
    const output: RgbImage = { width: 3, height: 1, data: Uint8Array.from([10, 0, 0, 0, 30, 0, 0, 0, 20]) };
    expect(loe(input, output)).toBeCloseTo(2 / 3, 14);
  });
});

describe('colorfulness', () => {
  it('is 0 for any grey image and grows with saturation', () => {
    expect(colorfulness(image(8, 8, (x, y) => [x * 30, x * 30, x * 30 + 0 * y]))).toBe(0);
    const stripes = (s: number): RgbImage => image(8, 8, (x) => (x % 2 ? [128 + s, 128 - s, 128] : [128 - s, 128 + s, 128]));
    expect(colorfulness(stripes(20))).toBeGreaterThan(0);
    expect(colorfulness(stripes(80))).toBeGreaterThan(colorfulness(stripes(20)));
  });

  it('matches the formula on a flat colour: 0.3·√(μrg² + μyb²)', () => {
    // R=200, G=100, B=50: rg = 100, yb = 150 − 50 = 100, no spread.
    expect(colorfulness(flat(4, 4, [200, 100, 50]))).toBeCloseTo(0.3 * Math.sqrt(2e4), 12);
  });
});

describe('flicker', () => {
  it('is output frame difference over input frame difference', () => {
    // Input alternates 100/102 (diff 2), output 100/106 (diff 6): ratio 3.
    const ins = [100, 102, 100, 102].map((v) => flat(4, 4, [v, v, v]));
    const outs = [100, 106, 100, 106].map((v) => flat(4, 4, [v, v, v]));
    expect(flicker(ins, outs)).toEqual({ inputDiff: 2, outputDiff: 6, ratio: 3 });
  });

  it('rejects input and output clips of different sizes or lengths', () => {
    const f = flat(4, 4, [0, 0, 0]), g = flat(5, 4, [0, 0, 0]);
    expect(() => flicker([f, f], [g, g])).toThrow(/4x4/);
    expect(() => flicker([f, f], [f])).toThrow(/frames/);
  });
});
