// The sRGB transfer curves as lookup tables for the denoising graph (graph.ts): in ONNX Runtime a
// Gather is a third of the cost of the exact piecewise Pow with its Where. Pure.
import { srgbByteToLinear } from '../eval/synthetic-night.js';

/** Entries of the float tables: 4096 keeps every table's error under a tenth of an 8-bit code. */
export const TABLE_SIZE = 4096;

export interface TransferTables {
  /** Linear light per 8-bit code (exact). */
  readonly byteToLinear: Float32Array;
  /** sRGB [0,1] at linear (i/(TABLE_SIZE−1))². */
  readonly sqrtLinearToSrgb: Float32Array;
}

const oetf = (l: number): number => (l <= 0.0031308 ? 12.92 * l : 1.055 * l ** (1 / 2.4) - 0.055);

let tables: TransferTables | undefined;

export function transferTables(): TransferTables {
  const last = TABLE_SIZE - 1;
  tables ??= {
    byteToLinear: Float32Array.from({ length: 256 }, (_, i) => srgbByteToLinear(i)),
    sqrtLinearToSrgb: Float32Array.from({ length: TABLE_SIZE }, (_, i) => oetf((i / last) ** 2)),
  };
  return tables;
}

/** The black-clip correction table covers m/σ from 0 to this (beyond it the correction is < 1e-6 σ). */
export const UNCLIP_RANGE = 6;
export const UNCLIP_SIZE = 1024;

const phi = (t: number): number => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
/** Φ by the Abramowitz–Stegun 7.1.26 erf (error < 1.5e-7). */
function Phi(t: number): number {
  const x = Math.abs(t) / Math.SQRT2, k = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * k - 1.453152027) * k + 1.421413741) * k - 0.284496736) * k + 0.254829592) * k * Math.exp(-x * x);
  return t >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

let unclip: Float32Array | undefined;

/**
 * A sensor clips negative values (read noise below black) to 0, so the mean of many clipped
 * shots of a dark pixel lies above its light: E[max(0, s + σz)] = σ·(tΦ(t) + φ(t)), t = s/σ.
 * Entry i, for a mean m = uσ with u = i·UNCLIP_RANGE/(UNCLIP_SIZE−1), holds u − max(t, 0): how many
 * σ to take off the mean to get the light back (t solved by bisection; the mean is monotone in t).
 */
export function unclipTable(): Float32Array {
  unclip ??= Float32Array.from({ length: UNCLIP_SIZE }, (_, i) => {
    const u = (i * UNCLIP_RANGE) / (UNCLIP_SIZE - 1);
    let lo = -8, hi = UNCLIP_RANGE + 1;
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (mid * Phi(mid) + phi(mid) < u) lo = mid;
      else hi = mid;
    }
    return u - Math.max(0, (lo + hi) / 2);
  });
  return unclip;
}
