// PIE's Bag-of-Curves (BoC) negatives: a positive destroyed by one ISP-like curve (DESIGN §1).
// k = randint(0, 10) inclusive; k % 3 == 0 tone map on V, 1 gamma on RGB, 2 log on V; a coin
// picks the under- or over-exposing variant. Every curve is an 8-bit LUT with truncation, the V
// curves act on OpenCV 8-bit HSV, and gamma is skimage 0.19's adjust_gamma on uint8: the LUTs
// and applied images match ../shared/fixtures/boc/ bit for bit. Pure: randomness is injected.
import { hsvToRgb, OPENCV_X86_AVX2, rgbToHsv, type Hsv2RgbMode } from '../image/hsv.js';
import type { RgbImage } from '../image/types.js';

/** Uniform in [0, 1), like Python's random.random(). */
export type Rng = () => number;

export type Regime = 'under' | 'over';

/** The curve a negative was made with: enough to rebuild its LUT. */
export type BocCurve =
  | { readonly family: 'tone'; readonly regime: Regime; readonly p: number }
  | { readonly family: 'gamma'; readonly regime: Regime; readonly gamma: number }
  | { readonly family: 'log'; readonly regime: Regime; readonly a: number };

export type BocFamily = BocCurve['family'];

/** PIE's parameters. Tone and log are fixed per regime; gamma is drawn from a range. */
export const BOC_PARAMS = {
  tone: { under: 6, over: 0.1 },
  gamma: { under: [5, 8], over: [0, 0.2] },
  log: { under: 10, over: 40 },
} as const;

const FAMILY_OF_K: readonly BocFamily[] = ['tone', 'gamma', 'log'];

/** Truncate a non-negative curve value into a byte, as numpy's astype(uint8) does after min(·, 255). */
const truncByte = (x: number): number => Math.min(Math.trunc(x), 255);

function lutOf(f: (i: number) => number): Uint8Array {
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = truncByte(f(i));
  return lut;
}

/** Tone map on V: V' = (V/255)^p · 255, truncated. */
export const toneLut = (p: number): Uint8Array => lutOf((i) => Math.pow(i / 255, p) * 255);

/** Log curve on V: V' = a · ln(1 + V), truncated (a ≤ 45 keeps it within a byte). */
export const logLut = (a: number): Uint8Array => lutOf((i) => a * Math.log(1 + i));

/**
 * skimage 0.19 adjust_gamma on uint8: 255 · linspace(0, 1, 256)^γ, clipped to 255 and truncated
 * (0.19 has no rint; later versions round). linspace's grid is i·(1/255) with the last point set to
 * exactly 1, which is not always i/255; the grid is reproduced to the bit.
 */
export const gammaLut = (gamma: number): Uint8Array =>
  lutOf((i) => 255 * Math.pow(i === 255 ? 1 : i * (1 / 255), gamma));

/** The 256-entry LUT of a curve. */
export function curveLut(c: BocCurve): Uint8Array {
  switch (c.family) {
    case 'tone': return toneLut(c.p);
    case 'gamma': return gammaLut(c.gamma);
    case 'log': return logLut(c.a);
  }
}

/** Whether a curve's LUT acts on HSV V (tone, log) rather than on each of R, G, B (gamma). */
export const actsOnV = (c: BocCurve): boolean => c.family !== 'gamma';

/** The LUT on each of R, G and B. */
export function applyRgbLut(img: RgbImage, lut: Uint8Array): RgbImage {
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = lut[img.data[i]!]!;
  return { width: img.width, height: img.height, data };
}

/** The LUT on the V channel of OpenCV 8-bit HSV, then back to RGB. */
export function applyVLut(img: RgbImage, lut: Uint8Array, mode: Hsv2RgbMode = OPENCV_X86_AVX2): RgbImage {
  const hsv = rgbToHsv(img.data);
  for (let i = 2; i < hsv.length; i += 3) hsv[i] = lut[hsv[i]!]!;
  return { width: img.width, height: img.height, data: hsvToRgb(hsv, img.width, mode, hsv) };
}

/** Applies a curve to an image (a new image; the input is untouched). */
export function applyCurve(img: RgbImage, c: BocCurve, mode: Hsv2RgbMode = OPENCV_X86_AVX2): RgbImage {
  const lut = curveLut(c);
  return actsOnV(c) ? applyVLut(img, lut, mode) : applyRgbLut(img, lut);
}

/**
 * Draws a curve as PIE does: k = randint(0, 10) inclusive (so tone and gamma get 4/11 each, log
 * 3/11), then a fair coin for under/over, then, for gamma only, γ uniform in the regime's range
 * (Python's uniform: lo + (hi − lo)·u). The draw order (k, coin, γ) is ours: PIE's Python random
 * stream cannot be replayed anyway, only its distribution.
 */
export function sampleCurve(rng: Rng): { readonly k: number; readonly curve: BocCurve } {
  const k = Math.min(Math.floor(rng() * 11), 10); // min: guards an rng that returns 1
  const family = FAMILY_OF_K[k % 3]!;
  const regime: Regime = rng() < 0.5 ? 'under' : 'over';
  switch (family) {
    case 'tone': return { k, curve: { family, regime, p: BOC_PARAMS.tone[regime] } };
    case 'log': return { k, curve: { family, regime, a: BOC_PARAMS.log[regime] } };
    case 'gamma': {
      const [lo, hi] = BOC_PARAMS.gamma[regime];
      return { k, curve: { family, regime, gamma: lo + (hi - lo) * rng() } };
    }
  }
}

export interface BocNegative {
  readonly image: RgbImage;
  readonly curve: BocCurve;
  /** The randint(0, 10) draw that picked the family. */
  readonly k: number;
}

/** One BoC negative of a positive. */
export function bocNegative(positive: RgbImage, rng: Rng, mode: Hsv2RgbMode = OPENCV_X86_AVX2): BocNegative {
  const { k, curve } = sampleCurve(rng);
  return { image: applyCurve(positive, curve, mode), curve, k };
}

/** A small seeded generator (mulberry32) for reproducible negatives and tests. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
