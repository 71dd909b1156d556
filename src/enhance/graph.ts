// The enhancer graph the pipeline runs: a batch of 8-bit RGB frames as decoded (NHWC) in,
// 8-bit frames out, every conversion inside ONNX Runtime. The curve maps are estimated on a
// frame shrunk by an integer factor (box filter), upsampled bilinearly, and the 8 curve
// iterations run at full resolution (Zero-DCE++'s trick), so the 79k-MAC/pixel network runs on
// 1/k² of the pixels. How the curves are applied (colour, exposure, highlights, IR) is tone.ts.
import { GraphBuilder } from '../onnx/builder.js';
import { u8 } from '../onnx/tensor.js';
import { addDceNet, addDceNetWeights, CURVE_CHANNELS, type DceNetWeights } from './dcenet.js';
import { addDownscale, addTone, TONE_IO, type CurveForm, type ExposureSetting, type FitState, type ToneGraph, type ToneOptions } from './tone.js';
import type { CurveApply } from './curve-fit.js';

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
   * With an exposure target the strength is chosen per frame on top of this (tone.ts).
   */
  readonly strength?: number;
  /** 'auto' (default): a scene-adaptive target; a number: a fixed target mean luma; 'model': none (tone.ts). */
  readonly exposure?: ExposureSetting;
  /** 'value' (default): colour-preserving; 'rgb': PIE's per-channel curves (tone.ts). */
  readonly form?: CurveForm;
  /** Limit the gain by the local SNR (tone.ts). Default true. */
  readonly noiseAwareGain?: boolean;
  /** Chroma gain exponent of the value form (tone.ts). */
  readonly saturation?: number;
  /** Value form: exact 8 iterations at full resolution, or the fitted curve (curve-fit.ts). */
  readonly curveApply?: CurveApply;
  /** Exposure 'auto': expose frames without highlights to the right (tone.ts EXPOSE_RIGHT). Default true. */
  readonly exposeRight?: boolean;
  /** Value form: chroma of near-black pixels not lifted (tone.ts DARK_CHROMA). Default true. */
  readonly darkChroma?: boolean;
}

/** The one strength range, for the CLI, the config and the graph: 0 = off, 1 = the model as trained. */
export const MAX_STRENGTH = 4;

/** uint8 NHWC [0,255] → float NCHW [0,1] (the network's input layout). */
export function addFramesToFloat(b: GraphBuilder, frames: string): string {
  // Transpose the bytes before the cast: a quarter of the memory traffic of a float transpose.
  // (DequantizeLinear, cast and scale in one op, made ORT's QDQ passes copy it for each of its
  // eight consumers and move the transpose after them: 3× slower, profiled.)
  return b.mul(b.cast(b.transpose(frames, [0, 3, 1, 2]), 'float32'), b.scalar(1 / 255));
}

/** float [0,1] → uint8, rounded half to even and saturated: QuantizeLinear, one pass instead of scale, clip, round, cast. */
export function addFloatToBytes(b: GraphBuilder, y: string): string {
  return b.op('QuantizeLinear', [y, b.scalar(1 / 255), b.constant(u8([], [0]), 'zero')]);
}

/** The tone stage's per-frame inputs ([N] float32: TONE_IO.mono, exposureState, strengthState, gammaState). */
export function addToneInputs(b: GraphBuilder): { mono: string; state: string; fit: FitState } {
  const mono = b.input(TONE_IO.mono, 'float32', ['N']);
  const state = b.input(TONE_IO.exposureState, 'float32', ['N']);
  return { mono, state, fit: { strength: b.input(TONE_IO.strengthState, 'float32', ['N']), gamma: b.input(TONE_IO.gammaState, 'float32', ['N']) } };
}

/** The tone stage's per-frame outputs ([N] float32), whichever graph decided them. */
export function addToneOutputs(b: GraphBuilder, t: Pick<ToneGraph, 'exposure' | 'strength' | 'gamma' | 'chroma' | 'luma'>): void {
  b.output(t.exposure, 'float32', ['N'], TONE_IO.exposureOut);
  b.output(t.strength, 'float32', ['N'], TONE_IO.strengthOut);
  b.output(t.gamma, 'float32', ['N'], TONE_IO.gammaOut);
  b.output(t.chroma, 'float32', ['N'], TONE_IO.chromaOut);
  b.output(t.luma, 'float32', ['N'], TONE_IO.lumaOut);
}

/** The network's curve maps scaled by the strength (graph options), clipped to r ∈ [−1, 1]. */
export function addCurveStrength(b: GraphBuilder, raw: string, strength: number): string {
  return strength === 1 ? raw : b.op('Clip', [b.mul(raw, b.scalar(strength)), b.scalar(-1), b.scalar(1)]);
}

/**
 * The tone stage with its per-frame inputs and outputs, shared by the enhancer and the curve
 * applier, which then only differ in where the curves come from.
 */
export function addToneIo(b: GraphBuilder, x: string, xSmall: string, curvesSmall: string, o: ToneOptions): string {
  const { mono, state, fit } = addToneInputs(b);
  const t = addTone(b, x, xSmall, curvesSmall, mono, state, fit, o);
  addToneOutputs(b, t);
  // Back to NHWC after the cast to bytes: a quarter of the traffic of a float transpose.
  return b.transpose(addFloatToBytes(b, t.y), [0, 2, 3, 1]);
}

export function validateToneOptions(o: { exposure?: ExposureSetting; strength?: number; saturation?: number }): void {
  if (o.saturation !== undefined && !(o.saturation >= 0 && o.saturation <= 1)) throw new RangeError(`saturation must be from 0 to 1, got ${o.saturation}`);
  const e = o.exposure;
  if (typeof e === 'number' && !(e > 0 && e < 1)) throw new RangeError(`exposure must be between 0 and 1, got ${e}`);
  const s = o.strength ?? 1;
  if (!(s >= 0 && s <= MAX_STRENGTH)) throw new RangeError(`strength must be from 0 to ${MAX_STRENGTH}, got ${s}`);
}

export function validateDownscale(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > 64) {
    throw new RangeError(`curve downscale must be an integer from 1 to 64, got ${k}`);
  }
}

export function buildEnhancerGraph(w: DceNetWeights, o: EnhancerGraphOptions): Uint8Array {
  validateDownscale(o.downscale);
  validateToneOptions(o);
  const b = new GraphBuilder('pie_enhancer');
  addDceNetWeights(b, w);
  const frames = b.input(FRAMES_INPUT, 'uint8', ['N', 'H', 'W', 3]);
  const x = addFramesToFloat(b, frames);
  const xSmall = addDownscale(b, x, o.downscale);
  const curvesSmall = addCurveStrength(b, addDceNet(b, xSmall), o.strength ?? 1);
  // 'only': the curves alone, for the region cache (ORT does not prune nodes an unfetched output needs).
  if (o.curvesOutput !== 'only') {
    const tone: ToneOptions = {
      form: o.form ?? 'value', exposure: o.exposure ?? 'auto', downscale: o.downscale,
      ...(o.noiseAwareGain !== undefined ? { noiseAwareGain: o.noiseAwareGain } : {}), ...(o.saturation !== undefined ? { saturation: o.saturation } : {}),
      ...(o.curveApply ? { curveApply: o.curveApply } : {}), ...(o.exposeRight !== undefined ? { exposeRight: o.exposeRight } : {}),
      ...(o.darkChroma !== undefined ? { darkChroma: o.darkChroma } : {}),
    };
    b.output(addToneIo(b, x, xSmall, curvesSmall, tone), 'uint8', ['N', 'H', 'W', 3], ENHANCED_OUTPUT);
  }
  if (o.curvesOutput) b.output(curvesSmall, 'float32', ['N', CURVE_CHANNELS, 'h', 'w'], CURVES_OUTPUT);
  return b.toBytes({ doc: `PIE enhancer, curves at 1/${o.downscale}` });
}
