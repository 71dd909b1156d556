// The sRGB transfer curves as lookup tables for the denoising graph (graph.ts): in ONNX Runtime a
// Gather is a third of the cost of the exact piecewise Pow with its Where. Pure.
import { linearToSrgbByte, srgbByteToLinear } from '../eval/synthetic-night.js';

/** Entries of the float tables: 4096 keeps every table's error under a tenth of an 8-bit code. */
export const TABLE_SIZE = 4096;

export interface TransferTables {
  /** Linear light per 8-bit code (exact). */
  readonly byteToLinear: Float32Array;
  /** Linear light at sRGB i/(TABLE_SIZE−1). */
  readonly srgbToLinear: Float32Array;
  /** sRGB [0,1] at linear (i/(TABLE_SIZE−1))². */
  readonly sqrtLinearToSrgb: Float32Array;
  /** 8-bit code at linear (i/(TABLE_SIZE−1))², rounded as the exact OETF rounds. */
  readonly sqrtLinearToByte: Uint8Array;
}

const oetf = (l: number): number => (l <= 0.0031308 ? 12.92 * l : 1.055 * l ** (1 / 2.4) - 0.055);
const eotf = (c: number): number => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);

let tables: TransferTables | undefined;

export function transferTables(): TransferTables {
  const last = TABLE_SIZE - 1;
  tables ??= {
    byteToLinear: Float32Array.from({ length: 256 }, (_, i) => srgbByteToLinear(i)),
    srgbToLinear: Float32Array.from({ length: TABLE_SIZE }, (_, i) => eotf(i / last)),
    sqrtLinearToSrgb: Float32Array.from({ length: TABLE_SIZE }, (_, i) => oetf((i / last) ** 2)),
    sqrtLinearToByte: Uint8Array.from({ length: TABLE_SIZE }, (_, i) => linearToSrgbByte((i / last) ** 2)),
  };
  return tables;
}
