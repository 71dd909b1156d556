// A faster full-resolution curve application (issue 13): instead of upsampling each of the 8
// iterations' maps to full resolution and iterating there (8 resizes, 32 elementwise passes over
// the frame), the 8 iterations are composed at the curves' own low resolution on CURVE_LEVELS
// sample values, the composed curve at each location is fitted by f(v) = v + v(1−v)·q(v) with q a
// quartic (least squares, one 1×1 convolution with a constant matrix), and only the 5 coefficient
// maps are upsampled: one resize and 12 elementwise passes at full resolution. A cubic q was 2–4 dB
// short of 40 dB against the exact form on the worst real photos; the quartic's worst is 43 dB.
//
// The form v + v(1−v)·q(v) is exact at 0 and 1, as every LE curve composition is (black stays
// black, white stays white). Sample values are denser near black, where the curves are steepest.
import type { GraphBuilder } from '../onnx/builder.js';
import { f32 } from '../onnx/tensor.js';

/**
 * How the value curve reaches full resolution: the exact 8 iterations, the fitted curve, or the
 * grid (each cell's curve sampled at levels, applied by a fused loop: tone-grid.ts).
 */
export const CURVE_APPLY = ['exact', 'fitted', 'grid'] as const;
export type CurveApply = (typeof CURVE_APPLY)[number];

/** Sample values of the composed curve per low-resolution location. */
export const CURVE_LEVELS = 16;
/** Coefficients of q (a quartic). */
const DEGREE = 5;

/** The sample values: ((k + ½)/K)², denser near black. */
export function curveLevels(k = CURVE_LEVELS): Float32Array {
  return Float32Array.from({ length: k }, (_, i) => ((i + 0.5) / k) ** 2);
}

/**
 * The least-squares fit as a matrix P [DEGREE × K]: for residuals r_k = f(v_k) − v_k, the
 * coefficients of q are c = P·r, minimising Σ_k (r_k − v_k(1−v_k)·q(v_k))². Pure; exported for tests.
 */
export function fitMatrix(levels: Float32Array): Float64Array {
  const k = levels.length;
  const a = new Float64Array(k * DEGREE); // A[k][j] = v(1−v)·v^j
  for (let i = 0; i < k; i++) {
    const v = levels[i]!;
    for (let j = 0; j < DEGREE; j++) a[i * DEGREE + j] = v * (1 - v) * v ** j;
  }
  // Normal equations (AᵀA) P = Aᵀ, solved by Gauss–Jordan with partial pivoting on [AᵀA | Aᵀ].
  const cols = DEGREE + k;
  const m = new Float64Array(DEGREE * cols);
  for (let r = 0; r < DEGREE; r++) {
    for (let c = 0; c < DEGREE; c++) { let s = 0; for (let i = 0; i < k; i++) s += a[i * DEGREE + r]! * a[i * DEGREE + c]!; m[r * cols + c] = s; }
    for (let i = 0; i < k; i++) m[r * cols + DEGREE + i] = a[i * DEGREE + r]!;
  }
  for (let p = 0; p < DEGREE; p++) {
    let best = p;
    for (let r = p + 1; r < DEGREE; r++) if (Math.abs(m[r * cols + p]!) > Math.abs(m[best * cols + p]!)) best = r;
    if (best !== p) for (let c = 0; c < cols; c++) { const t = m[p * cols + c]!; m[p * cols + c] = m[best * cols + c]!; m[best * cols + c] = t; }
    const d = m[p * cols + p]!;
    for (let c = 0; c < cols; c++) m[p * cols + c]! /= d;
    for (let r = 0; r < DEGREE; r++) {
      if (r === p) continue;
      const f = m[r * cols + p]!;
      if (f !== 0) for (let c = 0; c < cols; c++) m[r * cols + c]! -= f * m[p * cols + c]!;
    }
  }
  const out = new Float64Array(DEGREE * k);
  for (let r = 0; r < DEGREE; r++) for (let i = 0; i < k; i++) out[r * k + i] = m[r * cols + DEGREE + i]!;
  return out;
}

/**
 * `v` [N,1,H,W] through the value curve whose 8 iteration maps are `maps` [N,8,h,w] (at 1/k),
 * by the fitted curve. `iterate(y0, maps)` runs the 8 iterations on y0 [N or 1, K, h or 1, w or 1];
 * `upsample(coef)` resizes [N,C,h,w] maps bilinearly to the height and width of `v`.
 */
export function addFittedCurve(b: GraphBuilder, v: string, maps: string, iterate: (y0: string, maps: string) => string, upsample: (small: string) => string): string {
  const levels = curveLevels();
  const lv = b.constant(f32([1, levels.length, 1, 1], levels), 'curve_levels');
  const resid = b.sub(iterate(lv, maps), lv); // [N,K,h,w]
  const p = fitMatrix(levels);
  const coef = b.op('Conv', [resid, b.constant(f32([DEGREE, levels.length, 1, 1], Array.from(p)), 'curve_fit')]); // [N,5,h,w]
  // Split while small, then upsample each: splitting the upsampled maps copied 5 full frames.
  const c = b.node('Split', [coef], { axis: 1, num_outputs: DEGREE }, { outputs: DEGREE }).map(upsample);
  const q = c.slice(0, -1).reduceRight((acc, ci) => b.add(ci, b.mul(v, acc)), c.at(-1)!); // Horner
  return b.add(v, b.mul(b.mul(v, b.sub(b.scalar(1), v)), q));
}
