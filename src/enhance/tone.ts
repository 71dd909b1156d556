// The second half of the enhancer: how the curve maps become the picture. The network proposes
// curves; this file decides how strongly and in what form they are applied, per frame, so that
//   - colour stays true: one curve on V = max(R,G,B) and RGB scaled by V'/V (grey in, grey out);
//   - exposure follows the scene: a dark frame is lifted, a readable one passes nearly unchanged,
//     and a camera's exposure does not jump from frame to frame (a smoothed target carried as state);
//   - highlights do not bloom: headroom above each pixel is at least HIGHLIGHT_KEEP of its input's;
//   - an IR (monochrome) frame comes out exactly grey;
//   - where the frame's noise says a region holds no signal, it is not lifted into pure noise.
// Pure graph building (no IO): used by the enhancer (graph.ts) and the curve applier (apply-graph.ts).
import type { GraphBuilder } from '../onnx/builder.js';
import { f32 } from '../onnx/tensor.js';
import { addFittedCurve, type CurveApply } from './curve-fit.js';
import { addCurveIterations, addValue, addValueMaps, EPS_V, ITERATIONS } from './dcenet.js';

/** How the curves are applied: 'value' keeps colour (the default); 'rgb' is PIE's per-channel form. */
export type CurveForm = 'value' | 'rgb';

/**
 * Exposure: 'auto' derives a target from the scene (AUTO_EXPOSURE) and smooths it over time;
 * a number is a fixed target mean luma of the output; 'model' applies the curves as trained.
 */
export type ExposureSetting = 'auto' | 'model' | number;

export interface ToneOptions {
  readonly form: CurveForm;
  readonly exposure: ExposureSetting;
  /** Curves estimated at 1/downscale of the frame. */
  readonly downscale: number;
  /** Limit the gain where the local signal is within the frame's noise (SNR_KNEE). Default true. */
  readonly noiseAwareGain?: boolean;
  /**
   * Value form: chroma (RGB − luma) is scaled by gain^saturation while luma is scaled by the gain.
   * 1 keeps every pixel's chromaticity (a tinted dark wall gets more tinted in CIELAB as it
   * brightens), 0 keeps its absolute chroma (neutral areas stay put, colours pale). Default
   * DEFAULT_SATURATION.
   */
  readonly saturation?: number;
  /** Value form: how the curve reaches full resolution (curve-fit.ts). Default 'exact'. */
  readonly curveApply?: CurveApply;
  /** Exposure 'auto': expose frames without highlights to the right (EXPOSE_RIGHT). Default true. */
  readonly exposeRight?: boolean;
  /** Value form: the chroma gain fades to none (chroma kept as it was) as V falls below DARK_CHROMA. Default true. */
  readonly darkChroma?: boolean;
}

/** See ToneOptions.saturation: chosen by measurement (docs/quality.md). */
export const DEFAULT_SATURATION = 0.25;

/**
 * Below this input V = max(R,G,B) the chroma gain fades linearly to none (ToneOptions.darkChroma).
 * Near black, CIELAB chroma is small whatever the hue (an 8-bit (20,12,1), 95 % saturated in HSV,
 * has C*ab ≈ 5) and the hue is a few code values of noise, JPEG chroma and clipping at 0: lifted
 * 5× with its chromaticity, or even with its sRGB chroma kept, a black wall turns brown and a
 * black sky magenta (the neutral-cast figure on DICM). Chosen on a tuning split (docs/quality.md,
 * "Near-black chroma").
 */
export const DARK_CHROMA = 0.2;

/** Per-frame inputs ([N] float32) and outputs of a graph with a tone stage. */
export const TONE_IO = {
  /** 1 = the camera is in monochrome (IR) mode: luminance only, exactly grey out. */
  mono: 'mono',
  /** The camera's smoothed exposure target after its previous frame; ≤ 0 = none (a still, a new scene). */
  exposureState: 'exposure_state',
  /** The exposure target used for this frame (the next frame's exposure_state). */
  exposureOut: 'exposure',
  /** Mean max−min of RGB on a thumbnail of the input: what the monochrome detector watches. */
  chromaOut: 'chroma',
  /** Mean luma of the input (thumbnail). */
  lumaOut: 'luma',
  /** The curve strength and gamma the camera's previous frame was exposed with (≤ 0 = none): reused while its target holds. */
  strengthState: 'strength_state',
  gammaState: 'gamma_state',
  /** The curve strength and gamma used for this frame (−1 with exposure 'model'): the next frame's states. */
  strengthOut: 'exposure_strength',
  gammaOut: 'exposure_gamma',
} as const;

/**
 * The scene-adaptive target, as a camera's auto-exposure would meter: m = mean luma with pixels
 * capped at `meterCap` (a lamp counts as mid-grey, not as the whole frame); frames darker than
 * `dark` go to `target`, frames at `readable` or brighter keep their own mean (never darkened),
 * linear in between. `smoothing` is the share of the new frame's target in the camera's EMA.
 * A night scene with lights in view (at least `litFraction` of the pixels at `litLevel` or above:
 * lamps, windows, headlights) is exposed for `litTarget` instead of `target`, linearly between:
 * its dark parts are dark next to the lights, and lifting its mean to a daytime 0.5 squeezes the
 * whole range into washed-out, over-exposed lit areas. An under-exposed scene without lights (no
 * pixel near white) still goes to `target`. A carried target is held while the new frame's is
 * within `hold` of it: metering moves a few 1e-4 with noise and codec changes, every output pixel
 * moved with it (on a static IR camera, a third of the output's change a frame: docs/quality.md,
 * "IR flicker"); 0.005 is ~1 level of output mean.
 */
export const AUTO_EXPOSURE = {
  target: 0.5, dark: 0.1, readable: 0.35, meterCap: 0.6, smoothing: 0.25,
  litTarget: 0.3, litFraction: 0.01, litLevel: 0.95, hold: 0.005,
} as const;

/**
 * Exposing to the right. A frame with (almost) nothing above mid-grey — under `brightFraction` of
 * its pixels with V ≥ `brightLevel`, linearly from none — is under-exposed whatever its mean: it
 * has no lights and no highlights to protect. Its target is then at least the mean luma it would
 * have if its brightest `topFraction` of V were taken to `topLevel` by one gain in linear light
 * (what a longer exposure does), and at most `maxTarget`, so a flat, featureless frame is not
 * pushed to white. Metering the mean alone sends a dim white wall and a dim grey one to the same
 * 0.5; their tops tell them apart (the synthetic-night loss at full well 1000, docs/quality.md).
 */
export const EXPOSE_RIGHT = {
  brightLevel: 0.5, brightFraction: 0.01, topFraction: 0.01, topLevel: 0.9, maxTarget: 0.75,
} as const;

/**
 * No pixel's value is multiplied by more than MAX_GAIN (3 stops): beyond it an 8-bit input's
 * steps and its compression blocks become the picture (black walls turned into a patchwork of
 * lifted and kept 8×8 blocks).
 */
export const MAX_GAIN = 8;

/**
 * Headroom kept on V: 1 − out ≥ HIGHLIGHT_KEEP·√(1 − in). At in = 254/255 that leaves out below
 * 254.5, so no pixel that was not clipped in the input clips in the output (lamps and headlights
 * do not bloom), while a dark pixel may still go up to 0.965. The square root makes the bound bite
 * only near white; a linear bound (1 − out ≥ k(1 − in)) capped mid-tones too.
 */
export const HIGHLIGHT_KEEP = 0.035;

/** Local SNR below SNR_FLOOR: no lift at all; above SNR_FULL: the full gain; linear in between. */
export const SNR_FLOOR = 1;
export const SNR_FULL = 4;
/** Width in full-resolution pixels of the window the local signal is averaged over. */
const SIGNAL_WINDOW = 5;

/** Curve strengths the exposure control tries: 0 (no enhancement) to 4 in steps of 1/8. */
export const EXPOSURE_STRENGTHS: readonly number[] = Array.from({ length: 33 }, (_, i) => i / 8);

/** Gamma bounds of the exposure control's final fit: far enough for a 10× brightness change, no further. */
export const EXPOSURE_GAMMA_RANGE = [0.25, 4] as const;

/** Rec. 601 luma weights (what the eval's brightness and the detectors' grey conversion use). */
export const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;

const AXES_CHW = [1, 2, 3];
const BIG = 2 ** 31 - 1;

/**
 * Luma of float NCHW RGB, [N,1,H,W]: the weights [1,3] times the frame as [N,3,H·W], one MatMul
 * (one pass over the frame; split, weigh and add took five and a copy). A 1×1 convolution does
 * the same but makes ONNX Runtime's CPU provider reorder the frame to and from its blocked layout,
 * which cost more than the convolution itself (a quarter of the enhancer's time at 720p, profiled).
 */
export function addLuma(b: GraphBuilder, x: string): string {
  const shape = b.op('Shape', [x]);
  const flat = b.op('Reshape', [x, b.ints([0, 3, -1])]);
  const y = b.op('MatMul', [b.constant(f32([1, 3], LUMA_WEIGHTS), 'luma_weights'), flat]);
  return b.op('Reshape', [y, b.concat([b.op('Slice', [shape, b.ints([0]), b.ints([1])]), b.ints([1]), b.op('Slice', [shape, b.ints([2]), b.ints([4])])], 0)]);
}

/** x^p for a constant p ≥ 0: square roots for ½ and ¼ (a Pow per pixel costs several times a Sqrt). */
function powConst(b: GraphBuilder, x: string, p: number): string {
  if (p === 0.5) return b.op('Sqrt', [x]);
  if (p === 0.25) return b.op('Sqrt', [b.op('Sqrt', [x])]);
  return b.op('Pow', [x, b.scalar(p)]);
}

/** Box downscale by an integer factor; edge windows that run past the frame average what they cover. */
export function addDownscale(b: GraphBuilder, x: string, k: number): string {
  if (k === 1) return x;
  return b.op('AveragePool', [x], { kernel_shape: [k, k], strides: [k, k], ceil_mode: 1, count_include_pad: 0 });
}

const meanPerFrame = (b: GraphBuilder, x: string): string => b.op('ReduceMean', [x, b.ints(AXES_CHW)], { keepdims: 1 });
const clip = (b: GraphBuilder, x: string, lo: number, hi: number): string => b.op('Clip', [x, b.scalar(lo), b.scalar(hi)]);
const perFrame = (b: GraphBuilder, x: string): string => b.op('Reshape', [x, b.ints([-1, 1, 1, 1])]);
const unsq0 = (b: GraphBuilder, x: string): string => b.op('Unsqueeze', [x, b.ints([0])]);

/** `y ← y + r·y(y−1)` for each single-channel map of `maps` [*,8,h,w], `v` [*,1,h,w] the same size. */
function valueIterations(b: GraphBuilder, v: string, maps: string): string {
  return iterate(b, v, b.node('Split', [maps], { axis: 1, num_outputs: ITERATIONS }, { outputs: ITERATIONS }));
}

/** `y ← y + r·y(y−1)` for each map of `rs` in turn. */
function iterate(b: GraphBuilder, y0: string, rs: readonly string[]): string {
  const one = b.scalar(1);
  return rs.reduce((y, r) => b.add(y, b.mul(r, b.mul(y, b.sub(y, one)))), y0);
}

/**
 * `y` [N,C,H,W] through the 8 curves given at 1/k ([N,8·C,h,w]: C = 1 for the value form, 3 for
 * RGB), the maps split while small and each upsampled right before its iteration.
 */
export function curvesFullRes(b: GraphBuilder, y0: string, maps: string, downscale: number, channels: 1 | 3): string {
  if (downscale === 1) return channels === 1 ? valueIterations(b, y0, maps) : addCurveIterations(b, y0, maps).at(-1)!;
  const sizes = sizesLike(b, y0, channels);
  const rs = b.node('Split', [maps], { axis: 1, num_outputs: ITERATIONS }, { outputs: ITERATIONS });
  const one = b.scalar(1);
  // half_pixel = PyTorch's align_corners=False, what Zero-DCE++ upsamples with.
  return rs.reduce((y, small) => {
    const r = b.op('Resize', [small, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
    return b.add(y, b.mul(r, b.mul(y, b.sub(y, one))));
  }, y0);
}

/** [N, channels, H, W] of `like` [N,C,H,W], as Resize sizes. */
function sizesLike(b: GraphBuilder, like: string, channels: number): string {
  const shape = b.op('Shape', [like]);
  return b.concat([b.op('Slice', [shape, b.ints([0]), b.ints([1])]), b.ints([channels]), b.op('Slice', [shape, b.ints([2]), b.ints([4])])], 0);
}

/** Maps [N,C,h,w] bilinearly upsampled to the height and width of `like` (C taken from the maps). */
function upsampleLike(b: GraphBuilder, small: string, like: string): string {
  const nc = b.op('Slice', [b.op('Shape', [small]), b.ints([0]), b.ints([2])]);
  const hw = b.op('Slice', [b.op('Shape', [like]), b.ints([2]), b.ints([4])]);
  return b.op('Resize', [small, '', '', b.concat([nc, hw], 0)], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
}

/**
 * The scene's exposure target [N,1,1,1] from a thumbnail (RGB and its luma) and a strided sample of
 * V (for the lights in view), smoothed with the camera's state ([N]).
 */
function addSceneTarget(b: GraphBuilder, xThumb: string, yThumb: string, vSample: string, state: string, exposeRight: boolean): string {
  const a = AUTO_EXPOSURE;
  const above = (level: number): string => meanPerFrame(b, b.op('Cast', [b.op('GreaterOrEqual', [vSample, b.scalar(level)])], { to: 1 }));
  const m = meanPerFrame(b, b.op('Min', [yThumb, b.scalar(a.meterCap)]));
  const w = clip(b, b.div(b.sub(b.scalar(a.readable), m), b.scalar(a.readable - a.dark)), 0, 1);
  const lit = above(a.litLevel);
  const dark = b.sub(b.scalar(a.target), b.mul(clip(b, b.div(lit, b.scalar(a.litFraction)), 0, 1), b.scalar(a.target - a.litTarget)));
  // Never below the frame's own mean: metering with highlights capped must not darken a bright frame.
  let t = b.op('Max', [b.add(m, b.mul(b.sub(dark, m), w)), meanPerFrame(b, yThumb)]);
  if (exposeRight) {
    const r = EXPOSE_RIGHT;
    const unlit = clip(b, b.sub(b.scalar(1), b.div(above(r.brightLevel), b.scalar(r.brightFraction))), 0, 1);
    t = b.op('Max', [t, b.mul(unlit, addRightTarget(b, xThumb, yThumb))]);
  }
  return smoothTarget(b, t, state);
}

/** sRGB ↔ linear light by the power segment of the sRGB curve (its linear toe below 0.04 is left out: a mean barely moves). */
const toLinear = (b: GraphBuilder, x: string): string => b.op('Pow', [b.div(b.add(clip(b, x, 0, 1), b.scalar(0.055)), b.scalar(1.055)), b.scalar(2.4)]);
const fromLinear = (b: GraphBuilder, x: string): string => b.sub(b.mul(b.op('Pow', [clip(b, x, 0, 1), b.scalar(1 / 2.4)]), b.scalar(1.055)), b.scalar(0.055));
const LINEAR_TOP = ((EXPOSE_RIGHT.topLevel + 0.055) / 1.055) ** 2.4;

/**
 * EXPOSE_RIGHT's target [N,1,1,1]: the thumbnail's mean luma after the one linear-light gain that
 * takes the smallest of its top `topFraction` of V (TopK) to `topLevel`, capped at `maxTarget`.
 */
function addRightTarget(b: GraphBuilder, xThumb: string, yThumb: string): string {
  const r = EXPOSE_RIGHT;
  const v = b.op('Flatten', [addValue(b, xThumb)], { axis: 1 }); // [N, h·w]
  const count = b.op('Cast', [b.op('Slice', [b.op('Shape', [v]), b.ints([1]), b.ints([2])])], { to: 1 });
  const k = b.op('Max', [b.op('Cast', [b.op('Floor', [b.mul(count, b.scalar(r.topFraction))])], { to: 7 }), b.ints([1])]); // int64 [1]
  const [top] = b.node('TopK', [v, k], { axis: 1, largest: 1, sorted: 0 }, { outputs: 2 }) as [string, string];
  const hi = perFrame(b, b.op('ReduceMin', [top, b.ints([1])], { keepdims: 0 }));
  const gain = b.div(b.scalar(LINEAR_TOP), b.op('Max', [toLinear(b, hi), b.scalar(1e-4)]));
  return b.op('Min', [meanPerFrame(b, fromLinear(b, b.mul(toLinear(b, yThumb), gain))), b.scalar(r.maxTarget)]);
}

/** EMA with the previous target where there is one (state > 0), else this frame's; held while within AUTO_EXPOSURE.hold. */
function smoothTarget(b: GraphBuilder, t: string, state: string): string {
  const s = perFrame(b, state);
  const d = b.sub(t, s);
  const blended = b.add(s, b.mul(d, b.scalar(AUTO_EXPOSURE.smoothing)));
  const moved = b.op('Where', [b.op('Greater', [b.op('Abs', [d]), b.scalar(AUTO_EXPOSURE.hold)]), blended, s]);
  return b.op('Where', [b.op('Greater', [s, b.scalar(0)]), moved, t]);
}

/**
 * The curve strength per frame ([N,1,1,1]) whose output mean luma on the thumbnail is nearest the
 * target: every strength in EXPOSURE_STRENGTHS at once (one batched run of the 8 iterations, 33× a
 * thumbnail). Scaling the curves, not the output, is what keeps highlights: an over-brightening
 * model is turned down instead of gamma-darkened after clipping.
 */
function addStrength(b: GraphBuilder, form: CurveForm, xThumb: string, mapsThumb: string, target: string): string {
  const n = EXPOSURE_STRENGTHS.length;
  const grid = b.constant(f32([n, 1, 1, 1, 1], EXPOSURE_STRENGTHS), 'strengths');
  const rest = (x: string): string => b.op('Slice', [b.op('Shape', [x]), b.ints([1]), b.ints([4])]); // [C,h,w]
  // [S,N,C,h,w] → [S·N,C,h,w], C,h,w taken from the 4-D `like`.
  const flat = (x: string, like: string): string => b.op('Reshape', [x, b.concat([b.ints([-1]), rest(like)], 0)]);
  const repeat = (x: string): string => flat(b.op('Expand', [unsq0(b, x), b.ints([n, 1, 1, 1, 1])]), x);
  const scaled = (maps: string): string => flat(clip(b, b.mul(unsq0(b, maps), grid), -1, 1), maps);
  let lumaOut: string;
  if (form === 'value') {
    const v = addValue(b, xThumb);
    // Each iteration's map split off while small and scaled on its own: the same products as
    // scaling all 8 and splitting the 33× result, without copying it (measured ~2 ms at 720p, 1/8).
    const rs = b.node('Split', [mapsThumb], { axis: 1, num_outputs: ITERATIONS }, { outputs: ITERATIONS }).map(scaled);
    // Output luma = input luma · V'/V, since every channel is scaled by V'/V.
    lumaOut = b.mul(repeat(b.div(addLuma(b, xThumb), b.op('Max', [v, b.scalar(EPS_V)]))), iterate(b, repeat(v), rs));
  } else {
    lumaOut = addLuma(b, addCurveIterations(b, repeat(xThumb), scaled(mapsThumb)).at(-1)!);
  }
  const means = b.op('Reshape', [b.op('ReduceMean', [lumaOut, b.ints(AXES_CHW)], { keepdims: 0 }), b.ints([n, -1])]); // [S,N]
  const best = b.op('ArgMin', [b.op('Abs', [b.sub(means, b.op('Reshape', [target, b.ints([1, -1])]))])], { axis: 0, keepdims: 0 }); // [N]
  return perFrame(b, b.op('Gather', [b.constant(f32([n], EXPOSURE_STRENGTHS), 'strengths'), best], { axis: 0 }));
}

/** Every 4th pixel in each direction: the gamma is fitted on an unaveraged sample of the frame. */
const SAMPLE_STEP = 4;
const strided = (b: GraphBuilder, x: string): string =>
  b.op('Slice', [x, b.ints([0, 0]), b.ints([BIG, BIG]), b.ints([2, 3]), b.ints([SAMPLE_STEP, SAMPLE_STEP])]);

/**
 * The gamma g per frame ([N,1,1,1]) with mean(w·s^g) = target on a strided sample: `s` the
 * values the gamma acts on, `w` what turns them into output luma (1 for luma itself). Three Newton
 * steps from the mean alone. Fitting g to the mean only (m^g = t) undershoots on noisy frames, since
 * a concave power pulls a spread-out distribution's mean down (Jensen); a strided sample keeps the
 * noise a box-downscaled frame would have averaged away, at 1/16 of the pixels.
 */
function fitGamma(b: GraphBuilder, s: string, w: string | undefined, target: string): string {
  const [lo, hi] = EXPOSURE_GAMMA_RANGE;
  const sample = clip(b, s, 1e-4, 1);
  const lnS = b.op('Log', [sample]);
  const weigh = (x: string): string => (w ? b.mul(w, x) : x);
  const clamp = (g: string): string => clip(b, g, lo, hi);
  let g = clamp(b.div(b.op('Log', [target]), b.op('Log', [clip(b, meanPerFrame(b, weigh(sample)), 1e-4, 1 - 1e-4)])));
  for (let i = 0; i < 3; i++) {
    const p = weigh(b.op('Pow', [sample, g]));
    const slope = b.op('Min', [meanPerFrame(b, b.mul(p, lnS)), b.scalar(-1e-6)]); // negative: s ≤ 1
    g = clamp(b.sub(g, b.div(b.sub(meanPerFrame(b, p), target), slope)));
  }
  return g;
}

/** V averaged over about SIGNAL_WINDOW full-resolution pixels a side, at the resolution of `xSmall` (1/k). */
function addLocalSignal(b: GraphBuilder, xSmall: string, k: number): string {
  const v = addValue(b, xSmall);
  const kernel = 2 * Math.floor(SIGNAL_WINDOW / (2 * k)) + 1; // odd, in xSmall pixels; 1 from k = 3 up
  if (kernel === 1) return v;
  const pad = (kernel - 1) / 2;
  return b.op('AveragePool', [v], { kernel_shape: [kernel, kernel], strides: [1, 1], pads: [pad, pad, pad, pad], count_include_pad: 0 });
}

/**
 * Immerkær's noise estimate of a single-channel image [N,1,H,W] → σ [N,1,1,1]: the mean absolute
 * response to a Laplacian-difference kernel that cancels smooth signal, × √(π/2)/6.
 */
export function addNoiseSigma(b: GraphBuilder, y: string): string {
  const k = b.constant(f32([1, 1, 3, 3], [1, -2, 1, -2, 4, -2, 1, -2, 1]), 'immerkaer');
  // Every other pixel each way: the kernel still sees true neighbours, at a quarter of the work.
  return b.mul(meanPerFrame(b, b.op('Abs', [b.op('Conv', [y, k], { strides: [2, 2] })])), b.scalar(Math.sqrt(Math.PI / 2) / 6));
}

const isMono = (b: GraphBuilder, mono: string): string => b.op('Greater', [perFrame(b, mono), b.scalar(0.5)]);

/**
 * The value form's output: luma·g + (x − luma)·g^s (in gamut for g ≥ 0: the max channel gets at
 * most V·g, the min at least min·g), written x·A + luma·B with A = g^s, B = g − A. On a
 * monochrome (IR) frame A = 0 and B = g, so every channel is exactly luma·g (x·0 = 0): the IR
 * select is a per-frame factor on A, not a Where over the whole frame (which cost more than any
 * other node at 720p, profiled).
 */
function addChromaGain(b: GraphBuilder, x: string, gain: string, sat: number, mono: string, fade?: string): string {
  const colour = b.op('Cast', [b.op('Not', [isMono(b, mono)])], { to: 1 }); // [N,1,1,1]: 1 colour, 0 IR
  let c = sat === 1 ? gain : powConst(b, gain, sat);
  // c = 1 + (g^s − 1)·fade lies between 1 and g^s: still in gamut.
  if (fade) c = b.add(b.scalar(1), b.mul(b.sub(c, b.scalar(1)), fade));
  const a = b.mul(c, colour);
  return b.add(b.mul(x, a), b.mul(addLuma(b, x), b.sub(gain, a)));
}

export interface ToneGraph {
  /** The output, float NCHW in [0,1]. */
  readonly y: string;
  readonly exposure: string;
  /** [N]: the curve strength and gamma used (−1 without a target). */
  readonly strength: string;
  readonly gamma: string;
  readonly chroma: string;
  readonly luma: string;
}

/** A camera's previous exposure fit ([N] graph inputs, TONE_IO.strengthState and gammaState; ≤ 0 = none). */
export interface FitState {
  readonly strength: string;
  readonly gamma: string;
}

/**
 * The fit a frame is exposed with: the camera's previous one while `held` ([N,1,1,1]: its target
 * held and it has a fit), else this frame's. Re-fitting every frame moved every output pixel with
 * the noise of the others (docs/quality.md, "IR flicker").
 */
const heldOr = (b: GraphBuilder, held: string, prev: string, fresh: string): string => b.op('Where', [held, prev, fresh]);

/** What the tone control reads of the full-resolution frame, however it was measured. */
export interface FrameMeter {
  /** Immerkær's noise σ of the luma, [N,1,1,1] (built only when the gain is noise-aware). */
  readonly sigma: () => string;
  /** The frame at every SAMPLE_STEP-th pixel each way, float NCHW [0,1]. */
  readonly xSample: string;
}

/** The tone stage's decisions for a frame, before anything is applied at full resolution. */
export interface ToneControl {
  /** [N,8,h,w] value maps (or [N,24,h,w] per-channel), scaled by the exposure's strength. */
  readonly maps: string;
  /** [N,1,h,w] at 1/k: the local-SNR weight of the gain, 0–1; undefined without noiseAwareGain. */
  readonly signal: string | undefined;
  /** [N,1,1,1] exposure target; undefined with exposure 'model'. */
  readonly target: string | undefined;
  /** [N,1,1,1] bool: the camera's previous fit is kept (defined with `target`). */
  readonly held: string | undefined;
  readonly strength: string | undefined;
  /** The gamma for the target on a sample `s` of the curved V with weights `w` (output luma per unit of it). */
  readonly gammaFor: (s: string, w: string | undefined, target: string, held: string) => string;
  readonly chroma: string;
  readonly luma: string;
}

/**
 * Metering, strength search, the mono detector's statistics and the local SNR: everything the tone
 * stage decides per frame from the 1/k frame, a strided sample and the noise σ. Shared by the exact
 * full-resolution application (addTone) and the grid one (tone-grid.ts).
 */
export function addToneControl(b: GraphBuilder, xSmall: string, curvesSmall: string, mono: string, exposureState: string, fit: FitState, o: ToneOptions, meter: FrameMeter): ToneControl {
  // Metering, strength search and the mono detector's chroma: a ≤ 1/8 thumbnail.
  const m = Math.max(1, Math.ceil(8 / o.downscale));
  const xThumb = addDownscale(b, xSmall, m);
  const yThumb = addLuma(b, xThumb);
  const chroma = b.op('ReduceMean', [b.sub(b.op('ReduceMax', [xThumb, b.ints([1])], { keepdims: 1 }), b.op('ReduceMin', [xThumb, b.ints([1])], { keepdims: 1 })), b.ints(AXES_CHW)], { keepdims: 0 });
  const luma = b.op('ReduceMean', [yThumb, b.ints(AXES_CHW)], { keepdims: 0 });

  // Local SNR: the local signal (V averaged over ~5×5 full-resolution pixels) over the frame's
  // noise σ (Immerkær, on the full-resolution luma): 0 where the signal is within the noise, 1
  // from SNR_FULL up. The gain is pulled towards 1 by it at the end, so a black sky stays black
  // instead of becoming lifted noise, whatever the exposure search asks of the rest. A window this
  // small keeps a bright edge from lending its signal to the dark pixels beside it (the 1/8
  // thumbnail did: a halo of lifted noise); 25 pixels still average the noise to σ/5.
  // (Weighting the exposure's metering by this signal was measured too: it cost 0.7 dB on
  // synthetic night at full well 300 and changed nothing the lit-scene target had not fixed.)
  let signal: string | undefined;
  if (o.noiseAwareGain ?? true) {
    const sigma = b.op('Max', [meter.sigma(), b.scalar(1e-4)]);
    const snr = b.div(addLocalSignal(b, xSmall, o.downscale), sigma);
    signal = clip(b, b.div(b.sub(snr, b.scalar(SNR_FLOOR)), b.scalar(SNR_FULL - SNR_FLOOR)), 0, 1);
  }
  const exposure = o.exposure;
  const target = exposure === 'model' ? undefined
    : exposure === 'auto' ? addSceneTarget(b, xThumb, yThumb, addValue(b, meter.xSample), exposureState, o.exposeRight ?? true)
      : smoothTarget(b, b.op('Expand', [b.scalar(exposure), b.op('Shape', [perFrame(b, exposureState)])]), exposureState);

  let maps = o.form === 'value' ? addValueMaps(b, curvesSmall) : curvesSmall;
  // The target held (the carried one came back unchanged) and a fit is carried: expose as last frame.
  const prevStrength = perFrame(b, fit.strength), prevGamma = perFrame(b, fit.gamma);
  const held = target ? b.op('And', [b.op('Equal', [target, perFrame(b, exposureState)]), b.op('Greater', [prevGamma, b.scalar(0)])]) : undefined;
  let strength: string | undefined;
  if (target && held) {
    strength = heldOr(b, held, prevStrength, addStrength(b, o.form, xThumb, addDownscale(b, maps, m), target));
    maps = clip(b, b.mul(maps, strength), -1, 1);
  }
  // The gamma for `target` on a sample `s` (weights `w`): the previous one while held and its mean still within the hold.
  const gammaFor = (s: string, w: string | undefined, t: string, heldNow: string): string => {
    const sample = clip(b, s, 1e-4, 1);
    const lifted = b.op('Pow', [sample, prevGamma]);
    const kept = meanPerFrame(b, w ? b.mul(w, lifted) : lifted);
    const close = b.op('LessOrEqual', [b.op('Abs', [b.sub(kept, t)]), b.scalar(AUTO_EXPOSURE.hold)]);
    return heldOr(b, b.op('And', [heldNow, close]), prevGamma, fitGamma(b, s, w, t));
  };
  return { maps, signal, target, held, strength, gammaFor, chroma, luma };
}

/** V'^g as exp(g·ln V'): ORT's Pow with a per-frame exponent takes its scalar path per pixel, at several times the cost (ln 0 = −∞ still gives 0). */
export const addGammaPow = (b: GraphBuilder, v: string, g: string): string => b.op('Exp', [b.mul(b.op('Log', [clip(b, v, 0, 1)]), g)]);

/** [N] per frame of an [N,1,1,1] decision, or −1 for each frame where there is none. */
export function perFrameOutput(b: GraphBuilder, mono: string, v: string | undefined): string {
  return v ? b.op('Reshape', [v, b.ints([-1])]) : b.op('Reshape', [b.op('Expand', [b.scalar(-1), b.op('Shape', [mono])]), b.ints([-1])]);
}

/**
 * Curves (at 1/k, [N,24,h,w]) applied to `x` (float NCHW [0,1]) with `xSmall` its 1/k copy;
 * `mono` and `exposureState` are [N] graph inputs (TONE_IO), `fit` the camera's previous fit.
 */
export function addTone(b: GraphBuilder, x: string, xSmall: string, curvesSmall: string, mono: string, exposureState: string, fit: FitState, o: ToneOptions): ToneGraph {
  const c = addToneControl(b, xSmall, curvesSmall, mono, exposureState, fit, o, { sigma: () => addNoiseSigma(b, addLuma(b, x)), xSample: strided(b, x) });
  const { maps, target, held } = c;
  const signalFull = c.signal ? upsampleLike(b, c.signal, x) : undefined;
  let gamma: string | undefined;
  let gain: string | undefined;
  let y: string;
  if (o.form === 'value') {
    const v = addValue(b, x);
    let v2 = o.curveApply === 'fitted' && o.downscale > 1
      ? addFittedCurve(b, v, maps, (y0, m) => valueIterations(b, y0, m), (coef) => upsampleLike(b, coef, v))
      : curvesFullRes(b, v, maps, o.downscale, 1);
    if (target) {
      const vs = strided(b, v);
      gamma = c.gammaFor(strided(b, v2), b.div(strided(b, addLuma(b, x)), b.op('Max', [vs, b.scalar(EPS_V)])), target, held!);
      v2 = addGammaPow(b, v2, gamma);
    }
    // Headroom kept: a pixel that was not clipped does not clip (lamps and headlights do not bloom).
    v2 = b.op('Min', [v2, b.sub(b.scalar(1), b.mul(b.op('Sqrt', [b.sub(b.scalar(1), v)]), b.scalar(HIGHLIGHT_KEEP)))]);
    gain = b.op('Min', [b.div(v2, b.op('Max', [v, b.scalar(EPS_V)])), b.scalar(MAX_GAIN)]);
    if (signalFull) gain = b.add(b.scalar(1), b.mul(b.sub(gain, b.scalar(1)), signalFull));
    // Near black the chroma gain fades to 1 (DARK_CHROMA): a lifted near-black pixel keeps its
    // colour in sRGB units instead of showing a hue its few levels only hinted at.
    const fade = (o.darkChroma ?? true) ? clip(b, b.div(v, b.scalar(DARK_CHROMA)), 0, 1) : undefined;
    y = addChromaGain(b, x, gain, o.saturation ?? DEFAULT_SATURATION, mono, fade);
  } else {
    y = curvesFullRes(b, x, maps, o.downscale, 3);
    if (target) {
      const yc = clip(b, y, 0, 1);
      y = b.op('Pow', [yc, (gamma = c.gammaFor(strided(b, addLuma(b, yc)), undefined, target, held!))]);
    }
    if (signalFull) y = b.add(x, b.mul(b.sub(y, x), signalFull));
  }
  if (!gain) {
    // Monochrome (IR) frames: luminance only, the same value in every channel. Where, not a
    // blend: y + 1·(grey − y) is not exactly grey in floating point.
    y = b.op('Where', [isMono(b, mono), addLuma(b, clip(b, y, 0, 1)), y]);
  }
  const flat = (v: string | undefined): string => perFrameOutput(b, mono, v);
  return { y, exposure: flat(target), strength: flat(c.strength), gamma: flat(gamma), chroma: c.chroma, luma: c.luma };
}
