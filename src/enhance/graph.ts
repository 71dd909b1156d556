// The enhancer graph the pipeline runs: a batch of 8-bit RGB frames as decoded (NHWC) in,
// 8-bit frames out, every conversion inside ONNX Runtime. The curve maps are estimated on a
// frame shrunk by an integer factor (box filter), upsampled bilinearly, and the 8 curve
// iterations run at full resolution (Zero-DCE++'s trick), so the 79k-MAC/pixel network runs on
// 1/k² of the pixels.
import { GraphBuilder } from '../onnx/builder.js';
import { f32 } from '../onnx/tensor.js';
import { addCurveIterations, addDceNet, addDceNetWeights, CURVE_CHANNELS, ITERATIONS, type DceNetWeights } from './dcenet.js';

export const FRAMES_INPUT = 'frames';
export const ENHANCED_OUTPUT = 'enhanced';
export const CURVES_OUTPUT = 'curves';

export interface EnhancerGraphOptions {
  /** Curve estimation runs at 1/downscale of the frame size (1 = full resolution, the official way). */
  readonly downscale: number;
  /** Also output the low-resolution curve maps [N,24,ceil(H/k),ceil(W/k)] (for the region cache). */
  readonly curvesOutput?: boolean | 'only';
  /**
   * Scales the curve maps: 0 = no enhancement, 1 = the model as trained, above 1 stronger. Clipped
   * to r ∈ [−1, 1], where every curve y + r·y(y−1) stays monotonic and inside [0, 1]. Default 1.
   */
  readonly strength?: number;
  /**
   * Target mean brightness of the output in (0, 1), e.g. 0.45; unset = the model's own exposure
   * (a curve network's natural exposure is rarely what a site wants). Two steps per frame: the
   * curve strength (0–4) whose output comes closest (addExposureStrength), then one global gamma
   * fitted on the output's pixels for the rest (addExposure, exponent within [1/4, 4]). Both are
   * monotone, so the model's order of lightness is kept.
   */
  readonly exposure?: number;
}

/** Gamma bounds of the exposure control's final fit: far enough for a 10× brightness change, no further. */
export const EXPOSURE_GAMMA_RANGE = [0.25, 4] as const;

/** The one strength range, for the CLI, the config and the graph: 0 = off, 1 = the model as trained. */
export const MAX_STRENGTH = 4;

/** Curve strengths the exposure control tries: 0 (no enhancement) to 4 in steps of 1/8. */
export const EXPOSURE_STRENGTHS: readonly number[] = Array.from({ length: 33 }, (_, i) => i / 8);

/** uint8 NHWC [0,255] → float NCHW [0,1] (the network's input layout). */
export function addFramesToFloat(b: GraphBuilder, frames: string): string {
  // Transpose the bytes before the cast: a quarter of the memory traffic of a float transpose.
  return b.mul(b.cast(b.transpose(frames, [0, 3, 1, 2]), 'float32'), b.scalar(1 / 255));
}

/** float [0,1] → uint8, rounded (half to even, as ONNX Round) and clipped. */
export function addFloatToBytes(b: GraphBuilder, y: string): string {
  const clipped = b.op('Clip', [b.mul(y, b.scalar(255)), b.scalar(0), b.scalar(255)]);
  return b.cast(b.op('Round', [clipped]), 'uint8');
}

/** Box downscale by an integer factor; edge windows that run past the frame average what they cover. */
export function addDownscale(b: GraphBuilder, x: string, k: number): string {
  if (k === 1) return x;
  return b.op('AveragePool', [x], { kernel_shape: [k, k], strides: [k, k], ceil_mode: 1, count_include_pad: 0 });
}

/**
 * The 8 curve iterations at full resolution on `x` [N,3,H,W], with the curve maps given at low
 * resolution [N,24,h,w]. Split while small, then each 3-channel map is upsampled bilinearly right
 * before its iteration: measured on 2 cores at 720p, one 24-channel Resize plus a full-resolution
 * Split costs 55 ms, this 17 ms; an NHWC layout made ORT's Resize slower still.
 */
export function addCurvesAtFullRes(b: GraphBuilder, x: string, curvesSmall: string): string {
  const shape = b.op('Shape', [x]);
  const sizes = b.concat([b.op('Slice', [shape, b.ints([0]), b.ints([1])]), b.ints([3]), b.op('Slice', [shape, b.ints([2]), b.ints([4])])], 0);
  const maps = b.node('Split', [curvesSmall], { axis: 1, num_outputs: ITERATIONS }, { outputs: ITERATIONS });
  const one = b.scalar(1);
  let y = x;
  for (const small of maps) {
    // half_pixel = PyTorch's align_corners=False, what Zero-DCE++ upsamples with.
    const r = b.op('Resize', [small, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
    y = b.add(y, b.mul(r, b.mul(y, b.sub(y, one))));
  }
  return y;
}

/**
 * Curve maps (at 1/k) applied to `x` (float NCHW) and the result as the pipeline's uint8 NHWC
 * frames: the second half of the enhancer, shared with the curve applier (apply-graph.ts).
 */
export function addApplyCurves(b: GraphBuilder, x: string, curves: string, downscale: number, exposure?: number): string {
  let y = downscale === 1 ? addCurveIterations(b, x, curves).at(-1)! : addCurvesAtFullRes(b, x, curves);
  if (exposure !== undefined) y = addExposure(b, y, exposure);
  // Back to NHWC after the cast to bytes: a quarter of the traffic of a float transpose.
  return b.transpose(addFloatToBytes(b, y), [0, 2, 3, 1]);
}

/** Every 4th pixel in each direction: the gamma is fitted on an unaveraged sample of the frame. */
const EXPOSURE_SAMPLE_STEP = 4;

/**
 * y^g per frame, g fitted so that the mean of y^g is the target: Newton's method on a strided
 * sample of the output's own pixels. Fitting g to the mean alone (m^g = t) undershoots on noisy
 * frames, since a concave power pulls a spread-out distribution's mean down (Jensen); a strided
 * sample keeps the noise a box-downscaled frame would have averaged away, at 1/16 of the pixels.
 */
export function addExposure(b: GraphBuilder, y: string, target: number): string {
  const [lo, hi] = EXPOSURE_GAMMA_RANGE;
  const yc = b.op('Clip', [y, b.scalar(0), b.scalar(1)]);
  const step = EXPOSURE_SAMPLE_STEP;
  const sample = b.op('Clip', [b.op('Slice', [yc, b.ints([0, 0]), b.ints([2 ** 31 - 1, 2 ** 31 - 1]), b.ints([2, 3]), b.ints([step, step])]), b.scalar(1e-4), b.scalar(1)]);
  const lnSample = b.op('Log', [sample]);
  const axes = b.ints([1, 2, 3]);
  const mean = (x: string): string => b.op('ReduceMean', [x, axes], { keepdims: 1 });
  const clamp = (g: string): string => b.op('Clip', [g, b.scalar(lo), b.scalar(hi)]);
  const t = b.scalar(target);
  // Start from the mean alone, then three Newton steps on f(g) = mean(s^g) − t, f'(g) = mean(s^g·ln s).
  let g = clamp(b.div(b.scalar(Math.log(target)), b.op('Log', [b.op('Clip', [mean(sample), b.scalar(1e-4), b.scalar(1 - 1e-4)])])));
  for (let i = 0; i < 3; i++) {
    const p = b.op('Pow', [sample, g]);
    const slope = b.op('Min', [mean(b.mul(p, lnSample)), b.scalar(-1e-6)]); // negative: s ≤ 1
    g = clamp(b.sub(g, b.div(b.sub(mean(p), t), slope)));
  }
  return b.op('Pow', [yc, g]);
}

/**
 * The exposure control's first half: the curve strength (one per frame) whose output mean is
 * closest to the target, found by trying every strength in EXPOSURE_STRENGTHS at once on a
 * ≤ 1/8-size copy of the frame and its curves (one batched run of the 8 iterations, 33× a
 * thumbnail). Scaling the curves, not the output, is what keeps highlights: an over-brightening
 * model is turned down (fewer clipped pixels) instead of gamma-darkened after clipping.
 * Returns [N,1,1,1].
 */
export function addExposureStrength(b: GraphBuilder, xSmall: string, curvesSmall: string, downscale: number, target: number): string {
  const m = Math.max(1, Math.ceil(8 / downscale));
  const xs = addDownscale(b, xSmall, m);
  const rs = addDownscale(b, curvesSmall, m);
  const n = EXPOSURE_STRENGTHS.length;
  const grid = b.constant(f32([n, 1, 1, 1, 1], EXPOSURE_STRENGTHS), 'strengths');
  const rest = (x: string): string => b.op('Slice', [b.op('Shape', [x]), b.ints([1]), b.ints([4])]); // [C,h,w]
  // [S,N,C,h,w] → [S·N,C,h,w], C,h,w taken from the 4-D `like`.
  const flat = (x: string, like: string): string => b.op('Reshape', [x, b.concat([b.ints([-1]), rest(like)], 0)]);
  const unsq = (x: string): string => b.op('Unsqueeze', [x, b.ints([0])]);
  // [S,N,24,h,w] → [S·N,24,h,w]; the frames repeated alongside.
  const rAll = b.op('Clip', [b.mul(unsq(rs), grid), b.scalar(-1), b.scalar(1)]);
  const xAll = b.op('Expand', [unsq(xs), b.ints([n, 1, 1, 1, 1])]);
  const ys = addCurveIterations(b, flat(xAll, xs), flat(rAll, rs)).at(-1)!;
  const means = b.op('Reshape', [b.op('ReduceMean', [ys, b.ints([1, 2, 3])], { keepdims: 0 }), b.ints([n, -1])]); // [S,N]
  const best = b.op('ArgMin', [b.op('Abs', [b.sub(means, b.scalar(target))])], { axis: 0, keepdims: 0 }); // [N]
  return b.op('Reshape', [b.op('Gather', [b.constant(f32([n], EXPOSURE_STRENGTHS), 'strengths'), best], { axis: 0 }), b.ints([-1, 1, 1, 1])]);
}

export function validateDownscale(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > 64) {
    throw new RangeError(`curve downscale must be an integer from 1 to 64, got ${k}`);
  }
}

export function buildEnhancerGraph(w: DceNetWeights, o: EnhancerGraphOptions): Uint8Array {
  validateDownscale(o.downscale);
  const b = new GraphBuilder('pie_enhancer');
  addDceNetWeights(b, w);
  const frames = b.input(FRAMES_INPUT, 'uint8', ['N', 'H', 'W', 3]);
  const x = addFramesToFloat(b, frames);
  const strength = o.strength ?? 1;
  if (!(strength >= 0 && strength <= MAX_STRENGTH)) throw new RangeError(`strength must be from 0 to ${MAX_STRENGTH}, got ${strength}`);
  if (o.exposure !== undefined && !(o.exposure > 0 && o.exposure < 1)) throw new RangeError(`exposure must be between 0 and 1, got ${o.exposure}`);
  const xSmall = addDownscale(b, x, o.downscale);
  const raw = addDceNet(b, xSmall);
  let curvesSmall = strength === 1 ? raw : b.op('Clip', [b.mul(raw, b.scalar(strength)), b.scalar(-1), b.scalar(1)]);
  if (o.exposure !== undefined) {
    curvesSmall = b.op('Clip', [b.mul(curvesSmall, addExposureStrength(b, xSmall, curvesSmall, o.downscale, o.exposure)), b.scalar(-1), b.scalar(1)]);
  }
  // 'only': the curves alone, for the region cache (ORT does not prune nodes an unfetched output needs).
  if (o.curvesOutput !== 'only') b.output(addApplyCurves(b, x, curvesSmall, o.downscale, o.exposure), 'uint8', ['N', 'H', 'W', 3], ENHANCED_OUTPUT);
  if (o.curvesOutput) b.output(curvesSmall, 'float32', ['N', CURVE_CHANNELS, 'h', 'w'], CURVES_OUTPUT);
  return b.toBytes({ doc: `PIE enhancer, curves at 1/${o.downscale}` });
}
