// The classical baselines `pie-stream eval` scores the model against: one global gamma that lifts
// the mean to a target, and CLAHE. If the network cannot beat these, it is not earning its cost.
import { claheImage, type ClaheOptions } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { applyRgbLut } from '../train/boc.js';

/** 255·(i/255)^γ rounded, for every byte. */
const gammaLutRounded = (gamma: number): Uint8Array =>
  Uint8Array.from({ length: 256 }, (_, i) => Math.round(255 * (i / 255) ** gamma));

/** The γ search range: far beyond any useful curve, and 0 < γ keeps black black. */
const LOG_GAMMA_MIN = Math.log(1 / 64), LOG_GAMMA_MAX = Math.log(64);

export interface GammaResult {
  readonly image: RgbImage;
  readonly gamma: number;
}

/**
 * One global gamma v' = 255·(v/255)^γ on each of R, G, B, with γ chosen so the result's
 * meanBrightness (mean of RGB/255) is as close to `target` as 8-bit rounding allows. The mean is
 * monotone in γ, and evaluated on the 256-bin histogram with the exact rounded LUT that is then
 * applied, so 60 bisection steps on log γ cost nothing and the reported mean is the one delivered.
 * An image whose target is out of reach (all black, say) gets the γ at the end of the range.
 */
export function gammaToMean(img: RgbImage, target = 0.45): GammaResult {
  if (!(target > 0 && target < 1)) throw new RangeError(`gammaToMean: target ${target} is not in (0, 1)`);
  const hist = new Float64Array(256);
  for (let i = 0; i < img.data.length; i++) hist[img.data[i]!]!++;
  const n = img.data.length;
  const meanOf = (gamma: number): number => {
    if (n === 0) return 0;
    const lut = gammaLutRounded(gamma);
    let s = 0;
    for (let v = 0; v < 256; v++) s += hist[v]! * lut[v]!;
    return s / n / 255;
  };
  // Larger γ darkens: find the γ where the mean crosses the target.
  let lo = LOG_GAMMA_MIN, hi = LOG_GAMMA_MAX;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (meanOf(Math.exp(mid)) > target) lo = mid;
    else hi = mid;
  }
  // The rounded LUT makes the mean a step function: take whichever side of the step is closer.
  const gamma = Math.abs(meanOf(Math.exp(lo)) - target) <= Math.abs(meanOf(Math.exp(hi)) - target) ? Math.exp(lo) : Math.exp(hi);
  return { image: applyRgbLut(img, gammaLutRounded(gamma)), gamma };
}

export interface ClaheBaselineOptions extends ClaheOptions {
  /**
   * 'value' (default): equalise HSV value V = max(R, G, B) and scale each pixel's R, G, B by V'/V,
   * which keeps hue and saturation and cannot clip a channel. 'rgb': sharp's CLAHE on each of R, G,
   * B independently, as libvips does on a colour image (shifts hues).
   */
  readonly on?: 'value' | 'rgb';
}

/**
 * CLAHE through sharp (libvips hist_local: sliding window, an eighth of each side by default,
 * max slope 3). libvips equalises every band on its own, so the default runs it on a grey image of
 * V and puts the colour back, the luminance-only CLAHE low-light papers compare against.
 */
export async function clahe(img: RgbImage, o: ClaheBaselineOptions = {}): Promise<RgbImage> {
  const { on = 'value', ...window } = o;
  if (on === 'rgb') return claheImage(img, window);
  const src = img.data, n = img.width * img.height;
  const grey = new Uint8Array(src.length);
  for (let j = 0; j < src.length; j += 3) grey[j] = grey[j + 1] = grey[j + 2] = Math.max(src[j]!, src[j + 1]!, src[j + 2]!);
  const eq = (await claheImage({ width: img.width, height: img.height, data: grey }, window)).data;
  const data = new Uint8Array(src.length);
  for (let p = 0, j = 0; p < n; p++, j += 3) {
    const v = grey[j]!, v2 = eq[j]!;
    if (v === 0) {
      data[j] = data[j + 1] = data[j + 2] = v2; // black has no hue: lift it to grey
      continue;
    }
    const k = v2 / v;
    data[j] = Math.round(src[j]! * k); data[j + 1] = Math.round(src[j + 1]! * k); data[j + 2] = Math.round(src[j + 2]! * k);
  }
  return { width: img.width, height: img.height, data };
}
