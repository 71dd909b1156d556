// The second half of the enhancer on its own: frames plus curve maps in, enhanced frames out. The
// region cache edits the low-res curve maps between the two halves (pooled per region, smoothed
// over time), so the curves must be applied by a graph that takes them as an input. The arithmetic
// is buildEnhancerGraph's (the same fragments), so unedited curves give the Enhancer's bytes.
import { PieError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { GraphBuilder } from '../onnx/builder.js';
import { CURVE_CHANNELS } from './dcenet.js';
import type { CurveMaps, EnhancedBatch } from './enhancer.js';
import { toneFeeds, toneResults, type FrameTone } from './tone-feeds.js';
import { packFrames, unpackFrames } from './frame-batch.js';
import { addFramesToFloat, addToneIo, ENHANCED_OUTPUT, FRAMES_INPUT, validateDownscale, validateToneOptions } from './graph.js';
import { addDownscale, type CurveForm, type ExposureSetting, type ToneOptions } from './tone.js';
import { describeSession, openSession, ort, type Fallback, type Provider, type ProviderChoice } from './session.js';

export const CURVES_INPUT = 'curves';

/**
 * frames uint8 [N,H,W,3] + curves float32 [N,24,ceil(H/k),ceil(W/k)] → enhanced uint8 [N,H,W,3].
 * `downscale` picks the same path as the enhancer: at 1 the curves are applied as they are (no
 * Resize), above 1 each map is upsampled right before its iteration.
 */
export function buildCurveApplierGraph(downscale: number, tone: Omit<ToneOptions, 'downscale'> = { form: 'value', exposure: 'auto' }): Uint8Array {
  validateDownscale(downscale);
  validateToneOptions(tone);
  const b = new GraphBuilder('pie_curve_applier');
  const frames = b.input(FRAMES_INPUT, 'uint8', ['N', 'H', 'W', 3]);
  const curves = b.input(CURVES_INPUT, 'float32', ['N', CURVE_CHANNELS, 'h', 'w']);
  const x = addFramesToFloat(b, frames);
  b.output(addToneIo(b, x, addDownscale(b, x, downscale), curves, { ...tone, downscale }), 'uint8', ['N', 'H', 'W', 3], ENHANCED_OUTPUT);
  return b.toBytes({ doc: `PIE curve application, curves at 1/${downscale}` });
}

export interface CurveApplierOptions {
  /** The enhancer's curve downscale k (curves are [N,24,ceil(H/k),ceil(W/k)]). Default 1. */
  readonly downscale?: number;
  readonly provider?: ProviderChoice;
  readonly threads?: number;
  /** Idle ORT threads spin-wait (default true); the live pipeline turns it off (session.ts). */
  readonly spin?: boolean;
  /** As the Enhancer's (tone.ts): 'auto' by default. */
  readonly exposure?: ExposureSetting;
  readonly form?: CurveForm;
  readonly noiseAwareGain?: boolean;
  readonly saturation?: number;
}

export class CurveApplier {
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: Provider,
    readonly fallbacks: readonly Fallback[],
    readonly threads: number,
    readonly downscale: number,
  ) {}

  static async open(o: CurveApplierOptions = {}): Promise<CurveApplier> {
    const downscale = o.downscale ?? 1;
    let graph: Uint8Array;
    try {
      graph = buildCurveApplierGraph(downscale, { form: o.form ?? 'value', exposure: o.exposure ?? 'auto', ...(o.noiseAwareGain !== undefined ? { noiseAwareGain: o.noiseAwareGain } : {}), ...(o.saturation !== undefined ? { saturation: o.saturation } : {}) });
    } catch (e) {
      throw new PieError('usage', e instanceof Error ? e.message : String(e), 'use --scale 1, 1/2, 1/4, 1/8 … (1/k with an integer k)');
    }
    const s = await openSession(graph, o.provider ?? 'cpu', { ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(o.spin !== undefined ? { spin: o.spin } : {}) });
    return new CurveApplier(s.session, s.provider, s.fallbacks, s.threads, downscale);
  }

  describe(): string {
    return `${describeSession(this)}; curves at 1/${this.downscale}`;
  }

  /** Applies `curves` (one [24,h,w] block per frame, in order) to same-sized frames in one run. */
  async apply(frames: readonly RgbImage[], curves: CurveMaps, tones?: readonly FrameTone[]): Promise<readonly RgbImage[]> {
    return (await this.applyWithTone(frames, curves, tones)).frames;
  }

  /** apply(), with each frame's tone results (the exposure to carry, the input's chroma and luma). */
  async applyWithTone(frames: readonly RgbImage[], curves: CurveMaps, tones?: readonly FrameTone[]): Promise<EnhancedBatch> {
    if (this.closed) throw new Error('CurveApplier is closed');
    const first = frames[0];
    if (!first) return { frames: [], tone: [] };
    const { width, height } = first;
    const k = this.downscale;
    const [n, c, h, w] = curves.dims;
    // A mismatch would make ORT broadcast or fail deep inside; say what was expected instead.
    if (n !== frames.length || c !== CURVE_CHANNELS || h !== Math.ceil(height / k) || w !== Math.ceil(width / k) || curves.data.length !== n * c * h * w) {
      throw new RangeError(`curve maps [${curves.dims.join(',')}] do not fit ${frames.length} frames of ${width}x${height} at 1/${k}: expected [${frames.length},${CURVE_CHANNELS},${Math.ceil(height / k)},${Math.ceil(width / k)}]`);
    }
    const input = packFrames(frames).data;
    const out = await this.session.run({
      [FRAMES_INPUT]: new ort.Tensor('uint8', input, [frames.length, height, width, 3]),
      [CURVES_INPUT]: new ort.Tensor('float32', curves.data, [n, c, h, w]),
      ...toneFeeds(n, tones),
    });
    return { frames: unpackFrames(out[ENHANCED_OUTPUT]!.data as Uint8Array, frames.length, width, height), tone: toneResults(out, n) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}
