// A fast spatial denoiser for detection, in TypeScript: repeated box blurs (running sums, so the
// cost per pixel does not grow with the radius; two passes approach a Gaussian) with the radius
// chosen from the frame's own noise (Immerkær's estimator, in 8-bit levels). Detection
// needs the face's shape, not its texture: on synthetic night a plain blur of the dark frame took
// BlazeFace's recall at a 100 e⁻ full well from 0.04 to 0.67 (README, "Face detection"), while the
// edge-keeping denoisers (hqdn3d, nlmeans) left most of the noise that the detector trips on.
// Pure: an image in, an image out.
import type { RgbImage } from '../image/types.js';

/**
 * Immerkær (1996) "Fast noise variance estimation": σ = √(π/2)/(6(W−2)(H−2)) · Σ|I ∗ N| with N the
 * difference of two Laplacians, which cancels image structure up to second order. On the luma
 * (Rec. 601) in 8-bit units. 0 for images smaller than 3×3.
 */
export function estimateNoise(img: RgbImage): number {
  const { width: w, height: h, data: d } = img;
  if (w < 3 || h < 3) return 0;
  const y = new Float32Array(w * h);
  for (let i = 0, j = 0; i < y.length; i++, j += 3) y[i] = 0.299 * d[j]! + 0.587 * d[j + 1]! + 0.114 * d[j + 2]!;
  let s = 0;
  for (let r = 1; r < h - 1; r++) {
    for (let c = 1; c < w - 1; c++) {
      const i = r * w + c;
      const v = y[i - w - 1]! - 2 * y[i - w]! + y[i - w + 1]! - 2 * y[i - 1]! + 4 * y[i]! - 2 * y[i + 1]! + y[i + w - 1]! - 2 * y[i + w]! + y[i + w + 1]!;
      s += Math.abs(v);
    }
  }
  return (Math.sqrt(Math.PI / 2) * s) / (6 * (w - 2) * (h - 2));
}

/** Mean luma in 8-bit units. */
export function meanLuma(img: RgbImage): number {
  const d = img.data, n = img.width * img.height;
  let s = 0;
  for (let j = 0; j < d.length; j += 3) s += 0.299 * d[j]! + 0.587 * d[j + 1]! + 0.114 * d[j + 2]!;
  return n ? s / n : 0;
}

/** The horizontal box blur of radius r, the three channels at once, edges clamped (the edge pixel repeats). */
function blurRows(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const norm = 1 / (2 * r + 1);
  for (let y = 0; y < h; y++) {
    const o = y * w * 3;
    let s0 = 0, s1 = 0, s2 = 0;
    for (let k = -r; k <= r; k++) {
      const i = o + Math.min(w - 1, Math.max(0, k)) * 3;
      s0 += src[i]!; s1 += src[i + 1]!; s2 += src[i + 2]!;
    }
    for (let x = 0; x < w; x++) {
      const i = o + x * 3;
      dst[i] = s0 * norm; dst[i + 1] = s1 * norm; dst[i + 2] = s2 * norm;
      const a = o + Math.min(w - 1, x + r + 1) * 3, b = o + Math.max(0, x - r) * 3;
      s0 += src[a]! - src[b]!; s1 += src[a + 1]! - src[b + 1]!; s2 += src[a + 2]! - src[b + 2]!;
    }
  }
}

/**
 * The vertical box blur, a row at a time (a running sum per column kept in one row buffer), so
 * memory is read in order rather than a row apart per step.
 */
function blurColumns(src: Float32Array, dst: Float32Array, stride: number, h: number, r: number): void {
  const norm = 1 / (2 * r + 1), sum = new Float64Array(stride); // doubles: a running sum must not drift
  const row = (y: number): number => Math.min(h - 1, Math.max(0, y)) * stride;
  for (let k = -r; k <= r; k++) {
    const o = row(k);
    for (let x = 0; x < stride; x++) sum[x] = sum[x]! + src[o + x]!;
  }
  for (let y = 0; y < h; y++) {
    const out = y * stride, add = row(y + r + 1), sub = row(y - r);
    for (let x = 0; x < stride; x++) {
      dst[out + x] = sum[x]! * norm;
      sum[x] = sum[x]! + src[add + x]! - src[sub + x]!;
    }
  }
}

/**
 * `passes` box blurs of radius `radius` in x and y. Each pass has variance r(r+1)/3, so two passes
 * of radius r approximate a Gaussian of σ = √(2r(r+1)/3) (r = 3: σ 2.8; r = 5: σ 4.5).
 */
export function boxBlur(img: RgbImage, radius: number, passes = 2): RgbImage {
  if (!(Number.isInteger(radius) && radius >= 0)) throw new RangeError(`boxBlur: radius ${radius} is not an integer ≥ 0`);
  if (radius === 0 || passes < 1) return img;
  const { width: w, height: h } = img;
  const a = Float32Array.from(img.data), b = new Float32Array(a.length);
  for (let p = 0; p < passes; p++) {
    blurRows(a, b, w, h, radius);
    blurColumns(b, a, w * 3, h, radius);
  }
  const data = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) data[i] = Math.round(a[i]!); // Uint8Array clamps
  return { width: w, height: h, data };
}

export interface AdaptiveSmoothOptions {
  /** Noise σ (8-bit levels, luma) at or below which a frame is left alone. */
  readonly cleanBelow?: number;
  /** Radius per level of σ above cleanBelow. */
  readonly radiusPerLevel?: number;
  readonly maxRadius?: number;
}

/**
 * Absolute σ, not σ relative to brightness: BlazeFace sees absolute levels, and the same sensor
 * gave the same σ on a bright and a dark scene but twice the relative noise on the dark one, whose
 * blurred frames then showed false faces. Radius at most 1 (issue 16, docs/quality.md): on the
 * small-face set (faces 10–40 px) the radius 3 that suited 100 px faces took recall at a 300 e⁻
 * full well from 0.30 to 0.00 on every face size, where radius 1 kept or raised it (0.57 → 0.83
 * on faces over 32 px, held-out photos); a larger radius on the whole-frame pass alone was worse
 * than 1 there too. Below σ 5.5 (a 1000 e⁻ full well) the frame is left as it is.
 */
export const ADAPTIVE_SMOOTH_DEFAULTS: Required<AdaptiveSmoothOptions> = { cleanBelow: 4.5, radiusPerLevel: 0.5, maxRadius: 1 };

/** The blur radius for noise σ (8-bit levels): 0 when clean, growing with the noise. */
export function radiusForNoise(sigma: number, o: AdaptiveSmoothOptions = {}): number {
  const { cleanBelow, radiusPerLevel, maxRadius } = { ...ADAPTIVE_SMOOTH_DEFAULTS, ...o };
  return Math.max(0, Math.min(maxRadius, Math.round((sigma - cleanBelow) * radiusPerLevel)));
}

/** The blur radius for a frame from its own noise. */
export function smoothRadius(img: RgbImage, o: AdaptiveSmoothOptions = {}): number {
  return radiusForNoise(estimateNoise(img), o);
}

/**
 * Blurs a frame as much as its own noise calls for (two box passes of smoothRadius). For an
 * enhanced frame use smoothFor with the raw frame's noise: its own is the amplified noise.
 */
export function adaptiveSmooth(img: RgbImage, o: AdaptiveSmoothOptions = {}): RgbImage {
  return boxBlur(img, smoothRadius(img, o));
}

/** Blurs a frame as much as noise σ (measured on the raw frame) calls for. */
export function smoothFor(img: RgbImage, sigma: number, o: AdaptiveSmoothOptions = {}): RgbImage {
  return boxBlur(img, radiusForNoise(sigma, o));
}
