// Denoising as ONNX graph fragments, in linear light, driven by the camera's noise model
// (noise-model.ts): a motion-adaptive recursive temporal filter whose state (a running estimate and
// an effective frame count per pixel) is carried per camera from batch to batch as graph inputs
// and outputs, so frames of many cameras batch together; and a noise-driven guided filter, the
// spatial part for moving pixels and the whole of it for stills. Pure: builds graphs, no IO.
//
// The temporal filter per pixel: z² = (x − estimate)² / σ²(μ), pooled over the 3 channels and a
// 3×3 window; a pixel whose z² lies within the noise is static and its count grows
// (n ← n + 1, estimate ← running mean of n frames, up to maxFrames), one outside it is moving
// and restarts (n ← 1, estimate ← the new frame). Residual noise is σ²/n, and the guided filter
// removes what is left at that strength: full on a moving pixel, little on a long-static one.
import { addFloatToBytes, addFramesToFloat } from '../enhance/graph.js';
import { GraphBuilder } from '../onnx/builder.js';

export const DENOISE_FRAMES_INPUT = 'frames';
/** [N,2] float: each frame's noise model (gain, read²) in linear light. */
export const NOISE_INPUT = 'noise';
export const ESTIMATE_INPUT = 'estimate';
export const COUNT_INPUT = 'count';
export const DENOISED_OUTPUT = 'denoised';
export const NEXT_ESTIMATE_OUTPUT = 'next_estimate';
export const NEXT_COUNT_OUTPUT = 'next_count';
/** [N] float: the share of each frame's pixels judged moving (near 1 = a scene cut). */
export const MOVING_OUTPUT = 'moving';

export interface SpatialDenoiseOptions {
  /** ε of the guided filter in units of the noise variance at each pixel's brightness (0 = off). */
  readonly strength?: number;
  /** Guided-filter window radius in pixels (window 2r+1). */
  readonly radius?: number;
}

export interface TemporalDenoiseOptions extends SpatialDenoiseOptions {
  /** The running mean stops growing at this many frames (then it is an EMA of weight 1/maxFrames). */
  readonly maxFrames?: number;
  /** Pooled z² at or below which a pixel is fully static, and at or above which it is fully moving. */
  readonly motionThresholds?: readonly [number, number];
}

export const DENOISE_DEFAULTS = { strength: 2, radius: 2, maxFrames: 32, motionThresholds: [2, 4] as const };

/** Block z² (χ² with 1 degree of freedom when static) from fully static to fully moving: 4.5% and 0.3% of static pixels are past them. */
const BLOCK_THRESHOLDS = [4, 9] as const;

/** A variance floor (about a quarter code near black, squared): a noise-free model divides by nothing. */
const MIN_VARIANCE = 1e-7;

/** sRGB [0,1] → linear light, the exact piecewise EOTF (IEC 61966-2-1). */
export function addSrgbToLinear(b: GraphBuilder, x: string): string {
  const c = b.op('Clip', [x, b.scalar(0), b.scalar(1)]);
  const toe = b.div(c, b.scalar(12.92));
  const power = b.op('Pow', [b.div(b.add(c, b.scalar(0.055)), b.scalar(1.055)), b.scalar(2.4)]);
  return b.op('Where', [b.op('LessOrEqual', [c, b.scalar(0.04045)]), toe, power]);
}

/** Linear light → sRGB [0,1], the exact OETF. */
export function addLinearToSrgb(b: GraphBuilder, l: string): string {
  const c = b.op('Clip', [l, b.scalar(0), b.scalar(1)]);
  const toe = b.mul(c, b.scalar(12.92));
  const power = b.sub(b.mul(b.op('Pow', [c, b.scalar(1 / 2.4)]), b.scalar(1.055)), b.scalar(0.055));
  return b.op('Where', [b.op('LessOrEqual', [c, b.scalar(0.0031308)]), toe, power]);
}

/** [N,2] noise → gain and read² as [N,1,1,1], to broadcast over frames. */
export function addNoiseTerms(b: GraphBuilder, noise: string): { gain: string; read2: string } {
  const col = (i: number): string => b.op('Reshape', [b.op('Slice', [noise, b.ints([i]), b.ints([i + 1]), b.ints([1])]), b.ints([-1, 1, 1, 1])]);
  return { gain: col(0), read2: col(1) };
}

/** σ²(μ) = gain·μ + read², floored. */
function addVariance(b: GraphBuilder, mu: string, n: { gain: string; read2: string }): string {
  return b.op('Max', [b.add(b.mul(n.gain, b.op('Relu', [mu])), n.read2), b.scalar(MIN_VARIANCE)]);
}

/** Mean over a (2r+1)² window; edge windows average what they cover. */
function addBoxMean(b: GraphBuilder, x: string, r: number): string {
  const k = 2 * r + 1;
  return b.op('AveragePool', [x], { kernel_shape: [k, k], pads: [r, r, r, r], count_include_pad: 0 });
}

/**
 * He et al.'s guided filter, each channel guided by itself, with a per-pixel ε (in variance units
 * of the same linear signal): where the local variance is well above ε (an edge, texture) it is
 * kept, where it is within ε (noise on a flat area) the local mean takes over. Four box means.
 */
export function addGuidedFilter(b: GraphBuilder, x: string, eps: string, radius: number): string {
  const mean = addBoxMean(b, x, radius);
  const meanSq = addBoxMean(b, b.mul(x, x), radius);
  const variance = b.op('Relu', [b.sub(meanSq, b.mul(mean, mean))]);
  const a = b.div(variance, b.add(variance, eps));
  const off = b.sub(mean, b.mul(a, mean));
  return b.add(b.mul(addBoxMean(b, a, radius), x), addBoxMean(b, off, radius));
}

/**
 * Spatial denoising of linear light `lin` [N,3,H,W] at `strength` × the noise variance
 * (divided by `frames` [N,1,H,W] when given: the variance left after temporal averaging).
 */
export function addNoiseGuidedFilter(b: GraphBuilder, lin: string, noise: { gain: string; read2: string }, o: SpatialDenoiseOptions, frames?: string): string {
  const strength = o.strength ?? DENOISE_DEFAULTS.strength;
  if (strength === 0) return lin;
  const radius = o.radius ?? DENOISE_DEFAULTS.radius;
  let eps = b.mul(addVariance(b, addBoxMean(b, lin, radius), noise), b.scalar(strength));
  if (frames) eps = b.div(eps, frames);
  return addGuidedFilter(b, lin, eps, radius);
}

/** Stills: the noise-driven guided filter on float NCHW sRGB [0,1] in, the same out. */
export function addSpatialDenoise(b: GraphBuilder, xSrgb: string, noise: string, o: SpatialDenoiseOptions = {}): string {
  return addLinearToSrgb(b, addNoiseGuidedFilter(b, addSrgbToLinear(b, xSrgb), addNoiseTerms(b, noise), o));
}

export interface TemporalDenoiseOutputs {
  /** Float NCHW sRGB [0,1], denoised. */
  readonly y: string;
  /** [N,3,H,W] linear: the state to feed back as `estimate` with the camera's next frame. */
  readonly nextEstimate: string;
  /** [N,1,H,W]: the state to feed back as `count`. */
  readonly nextCount: string;
  /** [N]: share of moving pixels per frame. */
  readonly moving: string;
}

/**
 * The temporal filter on float NCHW sRGB [0,1] `xSrgb`, with each frame's state (`estimate`
 * [N,3,H,W] linear, `count` [N,1,H,W]; count 0 = no history, e.g. a new or reset camera) and
 * noise [N,2]. Insert before the curves; feed nextEstimate/nextCount back per camera.
 */
export function addTemporalDenoise(b: GraphBuilder, xSrgb: string, estimate: string, count: string, noise: string, o: TemporalDenoiseOptions = {}): TemporalDenoiseOutputs {
  const maxFrames = o.maxFrames ?? DENOISE_DEFAULTS.maxFrames;
  const [t0, t1] = o.motionThresholds ?? DENOISE_DEFAULTS.motionThresholds;
  if (!(maxFrames >= 1)) throw new RangeError(`maxFrames must be at least 1, got ${maxFrames}`);
  if (!(t1 > t0 && t0 >= 0)) throw new RangeError(`motion thresholds must rise, got ${t0}, ${t1}`);
  const terms = addNoiseTerms(b, noise);
  const x = addSrgbToLinear(b, xSrgb);
  const one = b.scalar(1);
  const d = b.sub(x, estimate);
  // The difference of a static pixel has the new frame's noise plus the estimate's (σ²/n).
  const variance = addVariance(b, b.mul(b.add(x, estimate), b.scalar(0.5)), terms);
  const spread = b.mul(variance, b.add(one, b.div(one, b.op('Max', [count, one]))));
  const z = b.div(d, b.op('Sqrt', [spread]));
  // Two views of motion. Per pixel: z² pooled over channels and 3×3, for sharp, strong changes.
  const pixel = addBoxMean(b, b.op('ReduceMean', [b.mul(z, z), b.ints([1])], { keepdims: 1 }), 1);
  // Per block: z summed over channels (motion changes them together, noise does not) and averaged
  // over 5×5, rescaled to N(0,1) when static, for faint objects that are lost in one pixel's noise.
  const block = b.mul(addBoxMean(b, b.op('ReduceSum', [z, b.ints([1])], { keepdims: 1 }), 2), b.scalar(5 / Math.sqrt(3)));
  const ramp = (v: string, lo: number, hi: number): string => b.op('Clip', [b.div(b.sub(v, b.scalar(lo)), b.scalar(hi - lo)), b.scalar(0), one]);
  const [bt0, bt1] = BLOCK_THRESHOLDS;
  const moving = b.op('Max', [ramp(pixel, t0, t1), ramp(b.mul(block, block), bt0, bt1)]);
  const nextCount = b.op('Min', [b.add(b.mul(b.sub(one, moving), count), one), b.scalar(maxFrames)]);
  const nextEstimate = b.add(estimate, b.div(d, nextCount));
  const y = addLinearToSrgb(b, addNoiseGuidedFilter(b, nextEstimate, terms, o, nextCount));
  return { y, nextEstimate, nextCount, moving: b.op('ReduceMean', [moving, b.ints([1, 2, 3])], { keepdims: 0 }) };
}

export type DenoiseMode = 'spatial' | 'temporal';

/**
 * The standalone denoiser model (Denoiser, denoiser.ts): uint8 NHWC frames and noise [N,2] in,
 * uint8 NHWC out; 'temporal' adds the state inputs and outputs.
 */
export function buildDenoiseGraph(mode: DenoiseMode, o: TemporalDenoiseOptions = {}): Uint8Array {
  const b = new GraphBuilder(`pie_denoise_${mode}`);
  const frames = b.input(DENOISE_FRAMES_INPUT, 'uint8', ['N', 'H', 'W', 3]);
  const noise = b.input(NOISE_INPUT, 'float32', ['N', 2]);
  const x = addFramesToFloat(b, frames);
  const toFrames = (y: string): string => b.transpose(addFloatToBytes(b, y), [0, 2, 3, 1]);
  if (mode === 'spatial') {
    b.output(toFrames(addSpatialDenoise(b, x, noise, o)), 'uint8', ['N', 'H', 'W', 3], DENOISED_OUTPUT);
    return b.toBytes({ doc: 'pie-stream spatial denoiser (noise-driven guided filter, linear light)' });
  }
  const estimate = b.input(ESTIMATE_INPUT, 'float32', ['N', 3, 'H', 'W']);
  const count = b.input(COUNT_INPUT, 'float32', ['N', 1, 'H', 'W']);
  const t = addTemporalDenoise(b, x, estimate, count, noise, o);
  b.output(toFrames(t.y), 'uint8', ['N', 'H', 'W', 3], DENOISED_OUTPUT);
  b.output(t.nextEstimate, 'float32', ['N', 3, 'H', 'W'], NEXT_ESTIMATE_OUTPUT);
  b.output(t.nextCount, 'float32', ['N', 1, 'H', 'W'], NEXT_COUNT_OUTPUT);
  b.output(t.moving, 'float32', ['N'], MOVING_OUTPUT);
  return b.toBytes({ doc: 'pie-stream motion-adaptive temporal denoiser (linear light, per-camera state)' });
}
