// Image-quality figures for `pie-stream eval` (issue 4): full-reference (PSNR, SSIM against a
// ground truth) and no-reference (brightness, clipping, lightness order, colourfulness, flicker).
// Pure: plain arrays in, numbers out, so each figure is checked on tiny hand-made images.
import { flicker as flickerReport } from '../enhance/flicker.js';
import type { RgbImage } from '../image/types.js';

function checkImage(img: RgbImage, what: string): void {
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(`${what}: ${img.width}x${img.height} RGB needs ${img.width * img.height * 3} bytes, got ${img.data.length}`);
  }
}

function checkPair(a: RgbImage, b: RgbImage, what: string): void {
  checkImage(a, what);
  checkImage(b, what);
  if (a.width !== b.width || a.height !== b.height) throw new RangeError(`${what}: sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`);
}

/** Peak signal-to-noise ratio in dB over every byte of R, G and B (peak 255); Infinity when identical. */
export function psnr(a: RgbImage, b: RgbImage): number {
  checkPair(a, b, 'psnr');
  const x = a.data, y = b.data;
  let se = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - y[i]!;
    se += d * d;
  }
  const mse = se / x.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Rec. 601 luma in 8-bit units, unrounded: the grey image SSIM is computed on. */
function luma(img: RgbImage): Float64Array {
  const n = img.width * img.height, d = img.data, y = new Float64Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) y[i] = 0.299 * d[j]! + 0.587 * d[j + 1]! + 0.114 * d[j + 2]!;
  return y;
}

const SSIM_RADIUS = 5;
const SSIM_TAPS = 2 * SSIM_RADIUS + 1;
const SSIM_SIGMA = 1.5;
/** The normalised 11-tap Gaussian (σ = 1.5): the separable half of Wang et al.'s 11×11 window. */
const GAUSS = ((): Float64Array => {
  const g = Float64Array.from({ length: SSIM_TAPS }, (_, i) => Math.exp(-((i - SSIM_RADIUS) ** 2) / (2 * SSIM_SIGMA * SSIM_SIGMA)));
  const s = g.reduce((p, q) => p + q, 0);
  return g.map((v) => v / s);
})();

/**
 * Mean SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) on luma Y = 0.299R + 0.587G + 0.114B, not per
 * channel: the structural term is about luminance structure, and one channel is 3× cheaper.
 * 11×11 Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03, L = 255, population (1/N-weighted)
 * moments, averaged over the valid region only (windows wholly inside the image, so no padding
 * choice leaks in) — skimage's structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=255) on the same luma. No automatic downsampling (the
 * later MATLAB ssim.m's). The window is separable, and rows are filtered through a ring of 11
 * rows, so memory stays O(width) and a 4 MP image costs ~110 multiply-adds per pixel.
 */
export function ssim(a: RgbImage, b: RgbImage): number {
  checkPair(a, b, 'ssim');
  const { width: w, height: h } = a;
  if (w < SSIM_TAPS || h < SSIM_TAPS) throw new RangeError(`ssim: ${w}x${h} is smaller than the ${SSIM_TAPS}x${SSIM_TAPS} window`);
  const x = luma(a), y = luma(b);
  const c1 = (0.01 * 255) ** 2, c2 = (0.03 * 255) ** 2;
  const ow = w - 2 * SSIM_RADIUS, oh = h - 2 * SSIM_RADIUS;
  // Horizontally filtered x, y, x², y², xy of the last 11 input rows, 5 planes per ring slot.
  const ring = new Float64Array(SSIM_TAPS * 5 * ow);
  let total = 0;
  for (let r = 0; r < h; r++) {
    const slot = (r % SSIM_TAPS) * 5 * ow, row = r * w;
    for (let c = 0; c < ow; c++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let k = 0; k < SSIM_TAPS; k++) {
        const g = GAUSS[k]!, xv = x[row + c + k]!, yv = y[row + c + k]!;
        sx += g * xv; sy += g * yv; sxx += g * xv * xv; syy += g * yv * yv; sxy += g * xv * yv;
      }
      ring[slot + c] = sx; ring[slot + ow + c] = sy; ring[slot + 2 * ow + c] = sxx;
      ring[slot + 3 * ow + c] = syy; ring[slot + 4 * ow + c] = sxy;
    }
    if (r < SSIM_TAPS - 1) continue;
    // Rows r-10 … r are in the ring: one output row, centred on r-5.
    for (let c = 0; c < ow; c++) {
      let mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
      for (let k = 0; k < SSIM_TAPS; k++) {
        const s = ((r - SSIM_TAPS + 1 + k) % SSIM_TAPS) * 5 * ow + c, g = GAUSS[k]!;
        mx += g * ring[s]!; my += g * ring[s + ow]!; exx += g * ring[s + 2 * ow]!;
        eyy += g * ring[s + 3 * ow]!; exy += g * ring[s + 4 * ow]!;
      }
      const vx = exx - mx * mx, vy = eyy - my * my, cxy = exy - mx * my;
      total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
  }
  return total / (ow * oh);
}

/** Mean of R/255, G/255 and B/255 over all pixels (all three channels weighted equally), in [0, 1]. */
export function meanBrightness(img: RgbImage): number {
  checkImage(img, 'meanBrightness');
  const d = img.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  return d.length ? s / d.length / 255 : 0;
}

export interface ClippedFractions {
  /** Pixels with any channel at 255: blown highlights (a saturated colour counts too). */
  readonly highlights: number;
  /** Pixels with every channel at 0: crushed to black. */
  readonly shadows: number;
}

/** Fractions of pixels clipped at either end of the 8-bit range (see ClippedFractions). */
export function clippedFraction(img: RgbImage): ClippedFractions {
  checkImage(img, 'clippedFraction');
  const d = img.data, n = img.width * img.height;
  let hi = 0, lo = 0;
  for (let j = 0; j < d.length; j += 3) {
    const r = d[j]!, g = d[j + 1]!, b = d[j + 2]!;
    if (r === 255 || g === 255 || b === 255) hi++;
    else if ((r | g | b) === 0) lo++;
  }
  return { highlights: n ? hi / n : 0, shadows: n ? lo / n : 0 };
}

/** The short side LOE subsamples to, as in Wang et al.'s NPE code (r = 50 / min(m, n)). */
export const LOE_SHORT_SIDE = 50;

/** Lightness max(R, G, B) sampled at the nearest pixel to each cell centre of a gw×gh grid. */
function lightnessGrid(img: RgbImage, gw: number, gh: number): Uint8Array {
  const out = new Uint8Array(gw * gh), d = img.data;
  for (let gy = 0; gy < gh; gy++) {
    const sy = Math.min(img.height - 1, Math.floor(((gy + 0.5) * img.height) / gh));
    for (let gx = 0; gx < gw; gx++) {
      const sx = Math.min(img.width - 1, Math.floor(((gx + 0.5) * img.width) / gw));
      const j = (sy * img.width + sx) * 3;
      out[gy * gw + gx] = Math.max(d[j]!, d[j + 1]!, d[j + 2]!);
    }
  }
  return out;
}

/**
 * Lightness Order Error (Wang, Zheng, Hu & Li 2013, the NPE paper): with L = max(R, G, B), the mean
 * over pixels x of the number of pixels y where L_in(x) ≥ L_in(y) and L_out(x) ≥ L_out(y)
 * disagree. In [0, n] for n sampled pixels; lower keeps the scene's lightness order. Both images
 * are subsampled to LOE_SHORT_SIDE px on the short side (never upsampled) by nearest-pixel
 * sampling at the same positions, not by resampling as the NPE code's imresize does: the pairs
 * compared are then real pixel pairs, so any per-pixel map that is strictly increasing in L scores
 * exactly 0 (averaging first would let a monotone but nonlinear curve reorder mixed cells). Ties
 * count as in the original (≥), so merging two levels is an order error. O(n²) on ≤ ~3,300 cells.
 */
export function loe(input: RgbImage, output: RgbImage): number {
  checkPair(input, output, 'loe');
  const { width: w, height: h } = input;
  if (w === 0 || h === 0) return 0;
  const r = Math.min(1, LOE_SHORT_SIDE / Math.min(w, h));
  const gw = Math.max(1, Math.round(w * r)), gh = Math.max(1, Math.round(h * r));
  const li = lightnessGrid(input, gw, gh), lo = lightnessGrid(output, gw, gh);
  const n = gw * gh;
  let errors = 0;
  for (let p = 0; p < n; p++) {
    const ip = li[p]!, op = lo[p]!;
    for (let q = 0; q < n; q++) if ((ip >= li[q]!) !== (op >= lo[q]!)) errors++;
  }
  return errors / n;
}

/**
 * Hasler & Süsstrunk (2003) colourfulness on 8-bit values: rg = R − G, yb = (R + G)/2 − B,
 * M = √(σ_rg² + σ_yb²) + 0.3·√(μ_rg² + μ_yb²), population standard deviations. 0 for any grey
 * image; roughly 15 "slightly", 33 "moderately", 59 "quite", 82+ "highly" colourful per the paper.
 */
export function colorfulness(img: RgbImage): number {
  checkImage(img, 'colorfulness');
  const d = img.data, n = img.width * img.height;
  if (n === 0) return 0;
  let srg = 0, syb = 0, srg2 = 0, syb2 = 0;
  for (let j = 0; j < d.length; j += 3) {
    const rg = d[j]! - d[j + 1]!, yb = 0.5 * (d[j]! + d[j + 1]!) - d[j + 2]!;
    srg += rg; syb += yb; srg2 += rg * rg; syb2 += yb * yb;
  }
  const mrg = srg / n, myb = syb / n;
  const vrg = Math.max(0, srg2 / n - mrg * mrg), vyb = Math.max(0, syb2 / n - myb * myb);
  return Math.sqrt(vrg + vyb) + 0.3 * Math.sqrt(mrg * mrg + myb * myb);
}

export interface FlickerFigures {
  /** Mean |frame(t) − frame(t−1)| of the input over all bytes and consecutive pairs, 8-bit levels. */
  readonly inputDiff: number;
  readonly outputDiff: number;
  /** outputDiff / inputDiff; 1 when both are 0, Infinity when only the input's is. */
  readonly ratio: number;
}

/**
 * Temporal flicker of an enhanced clip against its source: the same definition issue 5 uses, so
 * this delegates to enhance/flicker.ts rather than restating it.
 */
export function flicker(inputFrames: readonly RgbImage[], outputFrames: readonly RgbImage[]): FlickerFigures {
  const f0 = inputFrames[0], g0 = outputFrames[0];
  if (f0 && g0 && (f0.width !== g0.width || f0.height !== g0.height)) {
    throw new RangeError(`flicker: input frames are ${f0.width}x${f0.height}, output frames ${g0.width}x${g0.height}`);
  }
  const r = flickerReport(inputFrames, outputFrames);
  return { inputDiff: r.inputDiff, outputDiff: r.outputDiff, ratio: r.flicker };
}

/** sRGB byte → CIELAB (D65), the standard formulas; L* in [0,100]. */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const lin = (v: number): number => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const R = lin(r), G = lin(g), B = lin(b);
  const x = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const fx = f(x), fy = f(y), fz = f(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** Which input pixels are neutral: chroma C*ab below NEUTRAL_CHROMA, and L* above NEUTRAL_MIN_L (not black). */
export const NEUTRAL_CHROMA = 6;
export const NEUTRAL_MIN_L = 3;

/**
 * Colour cast of an enhancer on neutral areas (walls, roads, skies): over the input's neutral
 * pixels, the distance between the mean (a*, b*) of the output and that of the input, in CIELAB
 * units (a just-noticeable difference is about 2). 0 when no pixel of the input is neutral.
 */
export function neutralCast(input: RgbImage, output: RgbImage): number {
  checkPair(input, output, 'neutralCast');
  let n = 0, ai = 0, bi = 0, ao = 0, bo = 0;
  const x = input.data, y = output.data;
  for (let j = 0; j < x.length; j += 3) {
    const [L, a, b] = srgbToLab(x[j]!, x[j + 1]!, x[j + 2]!);
    if (L < NEUTRAL_MIN_L || Math.hypot(a, b) >= NEUTRAL_CHROMA) continue;
    const [, a2, b2] = srgbToLab(y[j]!, y[j + 1]!, y[j + 2]!);
    n++; ai += a; bi += b; ao += a2; bo += b2;
  }
  return n ? Math.hypot((ao - ai) / n, (bo - bi) / n) : 0;
}
