// Denoising as ONNX graph fragments, in linear light, driven by the camera's noise model
// (noise-model.ts): a motion-adaptive recursive temporal filter whose state (a running estimate and
// an effective frame count per pixel) is carried per camera from batch to batch as graph inputs
// and outputs, so frames of many cameras batch together; and a noise-driven guided filter, the
// spatial part for moving pixels and the whole of it for stills. Pure: builds graphs, no IO.
//
// The temporal filter per pixel: z = (x − estimate) / σ(μ); a pixel whose z lies within the
// noise is static and its count grows (n ← n + 1, estimate ← running mean of n frames, up to
// maxFrames), one outside it is moving and restarts (n ← 1, estimate ← the new frame). Residual
// noise is σ²/n, and the guided filter removes what is left at that strength: full on a moving
// pixel, little on a long-static one.
//
// Cost: ONNX Runtime's CPU provider runs one pass over memory per op, so the full-resolution ops
// are what count. The sRGB transfer curves are table lookups (a Pow with its Where costs ~3× a
// lookup), the output's black-clip correction and transfer are one per-frame table (addEncode),
// the guided filter's statistics run at half resolution (He & Sun's fast guided filter), and
// motion is tested on one channel-pooled plane.
import { TABLE_SIZE, transferTables, UNCLIP_RANGE, unclipTable } from './transfer.js';
import { GraphBuilder } from '../onnx/builder.js';
import { f32 } from '../onnx/tensor.js';

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
/** [N,3,H,W] uint8: the codes each camera's last frame showed (the rounding hysteresis' state). */
export const SHOWN_INPUT = 'shown';
export const NEXT_SHOWN_OUTPUT = 'next_shown';

export interface SpatialDenoiseOptions {
  /** ε of the guided filter in units of the noise variance at each pixel's brightness (0 = off). */
  readonly strength?: number;
  /** Guided-filter window radius in half-resolution pixels (window 2(2r+1) full-resolution pixels). */
  readonly radius?: number;
  /** Undo the lift that clipping the noise at black gives a dark pixel's average (default true). */
  readonly unclip?: boolean;
}

export interface TemporalDenoiseOptions extends SpatialDenoiseOptions {
  /** The running mean stops growing at this many frames (then it is an EMA of weight 1/maxFrames). */
  readonly maxFrames?: number;
  /** Pooled z² at or below which a pixel is fully static, and at or above which it is fully moving. */
  readonly motionThresholds?: readonly [number, number];
  /**
   * A static pixel keeps the 8-bit code it showed last until its value moves this many codes away
   * (0 = plain rounding). The enhancer gets 8-bit frames: a running mean drifting across a code
   * boundary flips a code, and a night scene's ×20 lift makes that a visible flicker.
   */
  readonly hysteresis?: number;
}

export const DENOISE_DEFAULTS = { strength: 2, radius: 1, maxFrames: 32, motionThresholds: [2, 4] as const, hysteresis: 1 };

/** Block z² (χ² with 1 degree of freedom when static) from fully static to fully moving (3σ and 5σ): 0.3% of static pixels pass the first, and a false alarm resets a whole block, which flickers. */
const BLOCK_THRESHOLDS = [9, 25] as const;

/** A variance floor (about a quarter code near black, squared): a noise-free model divides by nothing. */
const MIN_VARIANCE = 1e-7;

/** Index of a value in [0,1] into a table of `size` entries (rounded, clipped). */
function addTableIndex(b: GraphBuilder, v: string, size: number): string {
  return b.cast(b.op('Round', [b.op('Clip', [b.mul(v, b.scalar(size - 1)), b.scalar(0), b.scalar(size - 1)])]), 'int32');
}

/** uint8 sRGB codes (any layout) → linear light, exactly (one lookup per code). */
export function addBytesToLinear(b: GraphBuilder, bytes: string): string {
  const t = transferTables();
  return b.op('Gather', [b.constant(f32([256], t.byteToLinear), 'byte_to_linear'), b.cast(bytes, 'int32')], { axis: 0 });
}

/**
 * Linear light → sRGB [0,1], looked up on a grid uniform in √linear: the OETF is steep near
 * black, and √ spreads the dark end over the table (code 1 sits at entry ~70 of 4096).
 */
function addLinearToSrgb(b: GraphBuilder, l: string): string {
  const t = transferTables();
  return b.op('Gather', [b.constant(f32([t.sqrtLinearToSrgb.length], t.sqrtLinearToSrgb), 'linear_to_srgb'), addTableIndex(b, b.op('Sqrt', [b.op('Relu', [l])]), t.sqrtLinearToSrgb.length)], { axis: 0 });
}

/** [N,2] noise → gain and read² as [N,1,1,1], to broadcast over frames. */
export function addNoiseTerms(b: GraphBuilder, noise: string): { gain: string; read2: string } {
  const col = (i: number): string => b.op('Reshape', [b.op('Slice', [noise, b.ints([i]), b.ints([i + 1]), b.ints([1])]), b.ints([-1, 1, 1, 1])]);
  return { gain: col(0), read2: col(1) };
}

/** σ²(μ) = gain·μ + read², floored; μ ≥ 0 (linear light) and gain ≥ 0, so flooring read² (per frame, not per pixel) floors it. */
function addVariance(b: GraphBuilder, mu: string, n: { gain: string; read2: string }): string {
  return b.add(b.mul(mu, n.gain), b.op('Max', [n.read2, b.scalar(MIN_VARIANCE)]));
}

/** Mean over a (2r+1)² window; edge windows average what they cover. */
function addBoxMean(b: GraphBuilder, x: string, r: number): string {
  const k = 2 * r + 1;
  return b.op('AveragePool', [x], { kernel_shape: [k, k], pads: [r, r, r, r], count_include_pad: 0 });
}

/** Bilinear resize of `small` to the spatial size of `like`. */
function addResizeLike(b: GraphBuilder, small: string, like: string): string {
  const shape = b.op('Shape', [like]);
  const sizes = b.concat([b.op('Shape', [small], { end: 2 }), b.op('Slice', [shape, b.ints([2]), b.ints([4])])], 0);
  return b.op('Resize', [small, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
}

/**
 * He & Sun's fast guided filter, each channel guided by itself: the local statistics and the
 * linear coefficients are computed at half resolution and upsampled, then applied to the
 * full-resolution `x`. `epsOf(mean)` gives ε per (half-resolution) pixel from its local mean:
 * where the local variance is well above ε (an edge, texture) it is kept, where it is within ε
 * (noise on a flat area) the local mean takes over.
 */
export function addGuidedFilter(b: GraphBuilder, x: string, epsOf: (mean: string) => string, radius: number): string {
  const small = b.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1, count_include_pad: 0 });
  const mean = addBoxMean(b, small, radius);
  const variance = b.op('Relu', [b.sub(addBoxMean(b, b.mul(small, small), radius), b.mul(mean, mean))]);
  const a = b.div(variance, b.add(variance, epsOf(mean)));
  const off = b.sub(mean, b.mul(a, mean));
  return b.add(b.mul(addResizeLike(b, addBoxMean(b, a, radius), x), x), addResizeLike(b, addBoxMean(b, off, radius), x));
}

/**
 * Spatial denoising of linear light `lin` [N,3,H,W] at `strength` × the noise variance
 * (divided by `frames` [N,1,H,W] when given: the variance left after temporal averaging).
 * The black-clip correction is left to the output's encoding (addEncode).
 */
export function addNoiseGuidedFilter(b: GraphBuilder, lin: string, noise: { gain: string; read2: string }, o: SpatialDenoiseOptions, frames?: string): string {
  const strength = o.strength ?? DENOISE_DEFAULTS.strength;
  if (strength === 0) return lin;
  const radius = o.radius ?? DENOISE_DEFAULTS.radius;
  // ε at half resolution: the frame count comes down with the frame (its mean over 2×2).
  const framesSmall = frames ? b.op('AveragePool', [frames], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1, count_include_pad: 0 }) : undefined;
  const epsOf = (mean: string): string => {
    const eps = b.mul(addVariance(b, mean, noise), b.scalar(strength));
    return framesSmall ? b.div(eps, addBoxMean(b, framesSmall, radius)) : eps;
  };
  return addGuidedFilter(b, lin, epsOf, radius);
}

/**
 * Share of the black-clip correction applied. The full correction (1) restored colour on
 * eval --synthetic-video at full well 100 but raised flicker from 0.57 to 3.8× the clean clip's
 * and took SSIM from 0.50 to 0.40: the correction's slope (up to 2) amplifies what noise the
 * average keeps. Half of it gave PSNR +1.3 dB, SSIM 0.54 and flicker 0.91 (3 s, 240 px).
 */
const UNCLIP_SHARE = 0.5;

/**
 * The light of a dark pixel from an average `m` of black-clipped shots (transfer.ts, unclipTable):
 * m − σ·c(m/σ), with σ of one shot at m. Only the output is corrected: the state stays the plain
 * average, comparable with the next clipped frame.
 */
export function addUnclip(b: GraphBuilder, m: string, noise: { gain: string; read2: string }): string {
  const table = unclipTable();
  const sigma = b.op('Sqrt', [addVariance(b, b.op('Relu', [m]), noise)]);
  const u = b.div(m, sigma);
  const idx = b.cast(b.op('Round', [b.op('Clip', [b.mul(u, b.scalar((table.length - 1) / UNCLIP_RANGE)), b.scalar(0), b.scalar(table.length - 1)])]), 'int32');
  return b.sub(m, b.mul(b.mul(sigma, b.scalar(UNCLIP_SHARE)), b.op('Gather', [b.constant(f32([table.length], table), 'unclip'), idx], { axis: 0 })));
}

export interface TemporalDenoiseOutputs {
  /** Float NCHW linear light, denoised (before the black-clip correction: addEncode applies it). */
  readonly y: string;
  /** [N,3,H,W] linear: the state to feed back as `estimate` with the camera's next frame. */
  readonly nextEstimate: string;
  /** [N,1,H,W]: the state to feed back as `count`. */
  readonly nextCount: string;
  /** [N]: share of moving pixels per frame. */
  readonly moving: string;
}

/** Entries of the per-frame encoding tables, on transferTables' grid uniform in √linear. */
const ENCODE_SIZE = TABLE_SIZE;

/**
 * Linear light → `scale`·sRGB, with the black-clip correction (addUnclip) when `noise` is given,
 * by one lookup a pixel. The correction and the transfer curve depend on a pixel only through its
 * value and its frame's noise, so they are composed once per frame on a 4096-entry √-linear grid
 * ([N,4096]: a few thousand values, not millions) and each pixel gathers its frame's entry. In
 * ONNX Runtime every full-resolution op is a pass over memory; this replaces 21 of them with 6.
 * With `bytes` the table is rounded to uint8 and so is the result.
 */
export function addEncode(b: GraphBuilder, lin: string, o: { noise?: { gain: string; read2: string }; scale: number; bytes?: boolean }): string {
  const last = ENCODE_SIZE - 1;
  const grid = Float32Array.from({ length: ENCODE_SIZE }, (_, i) => (i / last) ** 2);
  let table: string;
  let offset: string | undefined;
  if (o.noise) {
    // [N,1,1,4096] through the same unclip and transfer ops a pixel went through before.
    const perFrame = addLinearToSrgb(b, addUnclip(b, b.constant(f32([1, 1, 1, ENCODE_SIZE], grid), 'encode_grid'), o.noise));
    table = b.op('Reshape', [b.mul(perFrame, b.scalar(o.scale)), b.ints([-1])]);
    // Frame j reads entries j·4096 … (added as integers: in float32 the sum would round differently per frame).
    const n = b.op('Squeeze', [b.op('Shape', [lin], { end: 1 })]);
    const frames = b.op('Range', [b.cast(b.scalar(0), 'int64'), n, b.cast(b.scalar(1), 'int64')]);
    offset = b.cast(b.op('Reshape', [b.mul(frames, b.cast(b.scalar(ENCODE_SIZE), 'int64')), b.ints([-1, 1, 1, 1])]), 'int32');
  } else {
    const t = transferTables();
    table = b.constant(f32([ENCODE_SIZE], t.sqrtLinearToSrgb.map((v) => v * o.scale)), 'encode_table');
  }
  if (o.bytes) table = b.cast(b.op('Clip', [b.op('Round', [table]), b.scalar(0), b.scalar(255)]), 'uint8');
  // The + 0.5 rounds before the Cast truncates.
  const idx = b.cast(b.add(b.op('Sqrt', [b.op('Clip', [b.mul(lin, b.scalar(last * last)), b.scalar(0), b.scalar(last * last)])]), b.scalar(0.5)), 'int32');
  return b.op('Gather', [table, offset ? b.add(idx, offset) : idx], { axis: 0 });
}

/** The temporal filter on linear light `x` [N,3,H,W], with each frame's state (`estimate` [N,3,H,W] linear, `count` [N,1,H,W]; count 0 = no history, e.g. a new or reset camera) and noise terms (addNoiseTerms); feed nextEstimate/nextCount back per camera. */
export function addTemporalDenoiseLinear(b: GraphBuilder, x: string, estimate: string, count: string, terms: { gain: string; read2: string }, o: TemporalDenoiseOptions = {}): TemporalDenoiseOutputs {
  const maxFrames = o.maxFrames ?? DENOISE_DEFAULTS.maxFrames;
  const [t0, t1] = o.motionThresholds ?? DENOISE_DEFAULTS.motionThresholds;
  if (!(maxFrames >= 1)) throw new RangeError(`maxFrames must be at least 1, got ${maxFrames}`);
  if (!(t1 > t0 && t0 >= 0)) throw new RangeError(`motion thresholds must rise, got ${t0}, ${t1}`);
  const one = b.scalar(1);
  const d = b.sub(x, estimate);
  // σ² at the mean of the two (gain halved instead of the sum: one op on [N,1,1,1], not on frames),
  // times 1 + 1/n: a static pixel's difference has the new frame's noise plus the estimate's (σ²/n).
  const variance = addVariance(b, b.add(x, estimate), { gain: b.mul(terms.gain, b.scalar(0.5)), read2: terms.read2 });
  const spreadScale = b.add(one, b.op('Reciprocal', [b.op('Max', [count, one])]));
  const z = b.div(d, b.op('Sqrt', [b.mul(variance, spreadScale)]));
  // Two views of motion. Per pixel: z² pooled over channels and 3×3, for sharp, strong changes.
  // Channel sums as a 1×1 convolution: ORT's reductions over the channel axis of NCHW are slow.
  const sumChannels = (v: string): string => {
    const [c0, c1, c2] = b.node('Split', [v], { axis: 1, num_outputs: 3 }, { outputs: 3 }) as [string, string, string];
    return b.add(b.add(c0, c1), c2);
  };
  const pixel = addBoxMean(b, sumChannels(b.mul(z, z)), 1);
  // Per block: z summed over channels (motion changes them together, noise does not) and averaged
  // over 5×5, rescaled to N(0,1) when static, for faint objects lost in one pixel's noise.
  const block = b.mul(addBoxMean(b, sumChannels(z), 2), b.scalar(5 / Math.sqrt(3)));
  const ramp = (v: string, lo: number, hi: number): string => b.op('Clip', [b.div(b.sub(v, b.scalar(lo)), b.scalar(hi - lo)), b.scalar(0), one]);
  const [bt0, bt1] = BLOCK_THRESHOLDS;
  // z² summed over 3 channels: its static mean is 3, hence the thresholds × 3.
  const moving = b.op('Max', [ramp(pixel, 3 * t0, 3 * t1), ramp(b.mul(block, block), bt0, bt1)]);
  const nextCount = b.op('Min', [b.add(b.mul(b.sub(one, moving), count), one), b.scalar(maxFrames)]);
  const nextEstimate = b.add(estimate, b.mul(d, b.op('Reciprocal', [nextCount])));
  const y = addNoiseGuidedFilter(b, nextEstimate, terms, o, nextCount);
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
  const terms = addNoiseTerms(b, noise);
  const unclip = o.unclip === false ? {} : { noise: terms };
  // Bytes straight to linear light (one lookup); out through one per-frame table, transposed as uint8.
  const x = addBytesToLinear(b, b.transpose(frames, [0, 3, 1, 2]));
  if (mode === 'spatial') {
    const bytes = addEncode(b, addNoiseGuidedFilter(b, x, terms, o), { ...unclip, scale: 255, bytes: true });
    b.output(b.transpose(bytes, [0, 2, 3, 1]), 'uint8', ['N', 'H', 'W', 3], DENOISED_OUTPUT);
    return b.toBytes({ doc: 'pie-stream spatial denoiser (noise-driven guided filter, linear light)' });
  }
  const estimate = b.input(ESTIMATE_INPUT, 'float32', ['N', 3, 'H', 'W']);
  const count = b.input(COUNT_INPUT, 'float32', ['N', 1, 'H', 'W']);
  const shown = b.input(SHOWN_INPUT, 'uint8', ['N', 3, 'H', 'W']);
  const t = addTemporalDenoiseLinear(b, x, estimate, count, terms, o);
  const h = o.hysteresis ?? DENOISE_DEFAULTS.hysteresis;
  if (!(h >= 0)) throw new RangeError(`hysteresis must be at least 0 codes, got ${h}`);
  // Codes as floats (in [0,255]: the table is); a pixel with history (count above 1 after this
  // frame: static) keeps the code it showed while within h of it. Moving and new pixels round afresh.
  const v = addEncode(b, t.y, { ...unclip, scale: 255 });
  const prev = b.cast(shown, 'float32');
  const keep = b.op('And', [b.op('Less', [b.op('Abs', [b.sub(v, prev)]), b.scalar(h)]), b.op('Greater', [t.nextCount, b.scalar(1.5)])]);
  // Selected as bytes: a Where on floats costs 4× this one (single-threaded, 4 bytes an element).
  const codes = b.op('Where', [keep, shown, b.cast(b.op('Round', [v]), 'uint8')]);
  b.output(b.transpose(codes, [0, 2, 3, 1]), 'uint8', ['N', 'H', 'W', 3], DENOISED_OUTPUT);
  b.output(codes, 'uint8', ['N', 3, 'H', 'W'], NEXT_SHOWN_OUTPUT);
  b.output(t.nextEstimate, 'float32', ['N', 3, 'H', 'W'], NEXT_ESTIMATE_OUTPUT);
  b.output(t.nextCount, 'float32', ['N', 1, 'H', 'W'], NEXT_COUNT_OUTPUT);
  b.output(t.moving, 'float32', ['N'], MOVING_OUTPUT);
  return b.toBytes({ doc: 'pie-stream motion-adaptive temporal denoiser (linear light, per-camera state)' });
}
