// The enhancer: DCE-Net weights + a curve scale + an execution provider → a session that turns
// batches of same-sized RGB frames into enhanced frames (and, optionally, low-res curve maps).
import { fileURLToPath } from 'node:url';
import { PieError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { packFrames, unpackFrames, type PackedFrames } from './frame-batch.js';
import { CURVE_CHANNELS, type DceNetWeights } from './dcenet.js';
import { buildEnhancerGraph, CURVES_OUTPUT, ENHANCED_OUTPUT, FRAMES_INPUT } from './graph.js';
import { loadDceNetModel, shownModelPath } from './model-file.js';
import type { CurveForm, ExposureSetting } from './tone.js';
import type { CurveApply } from './curve-fit.js';
import { toneFeeds, toneResults, type FrameTone, type ToneResult } from './tone-feeds.js';
import { applyGrid, gridConstants, gridLevels, measureFrame, sampleSize, smallSize, type GridConstants } from './grid-kernel.js';
import { buildGridEnhancerGraph, GRID_IO, GRID_LEVELS } from './tone-grid.js';
import { GridWasm } from './grid-wasm.js';
import { DARK_CHROMA, DEFAULT_SATURATION, HIGHLIGHT_KEEP, MAX_GAIN } from './tone.js';
import { EPS_V } from './dcenet.js';
import { rgbBytes } from '../image/types.js';
import { describeSession, openSession, ort, type Fallback, type Provider, type ProviderChoice } from './session.js';

/** The model shipped in models/ (resolves from src/ and from dist/ alike). */
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../../models/pie-base.onnx', import.meta.url));

export interface EnhancerOptions {
  /** A DCE-Net .onnx file; default: the shipped model. Ignored when `weights` is given. */
  readonly modelPath?: string;
  readonly weights?: DceNetWeights;
  /** Curve maps estimated at 1/downscale resolution. Default 1 (full resolution). */
  readonly downscale?: number;
  readonly provider?: ProviderChoice;
  readonly curvesOutput?: boolean | 'only';
  readonly threads?: number;
  /** Idle ORT threads spin-wait (default true); the live pipeline turns it off (session.ts). */
  readonly spin?: boolean;
  /** Peak working memory of one run; larger batches are split into runs that fit. Default 2048. */
  readonly memoryBudgetMiB?: number;
  /** Curve strength (graph.ts): 0 = off, 1 = as trained. Default 1. */
  readonly strength?: number;
  /** 'auto' (default): scene-adaptive; a number in (0,1): a fixed target mean luma; 'model': as trained (tone.ts). */
  readonly exposure?: ExposureSetting;
  /** 'value' (default): colour-preserving curves; 'rgb': PIE's per-channel form (tone.ts). */
  readonly form?: CurveForm;
  /** Limit the gain where the local signal is within the noise (tone.ts). Default true. */
  readonly noiseAwareGain?: boolean;
  /** Chroma gain exponent of the value form, 0–1 (tone.ts DEFAULT_SATURATION). */
  readonly saturation?: number;
  /** Value form: 'exact' 8 iterations at full resolution, the 'fitted' curve (curve-fit.ts) or the 'grid' (tone-grid.ts). */
  readonly curveApply?: CurveApply;
  /** Exposure 'auto': expose frames without highlights to the right (tone.ts EXPOSE_RIGHT). Default true. */
  readonly exposeRight?: boolean;
  /** Value form: chroma of near-black pixels not lifted (tone.ts DARK_CHROMA). Default true. */
  readonly darkChroma?: boolean;
  /**
   * The grid's full-resolution passes: 'wasm' (default; native/grid-kernel.c, SIMD) or 'js'
   * (grid-kernel.ts, the reference). 'wasm' falls back to 'js' where the module cannot load or
   * has no closed form for the saturation.
   */
  readonly gridKernel?: 'wasm' | 'js';
}

export const DEFAULT_MEMORY_BUDGET_MIB = 2048;

/**
 * Peak bytes ONNX Runtime's CPU arena takes per frame: ~64 B per pixel for the full-resolution
 * curve application plus ~800 B per pixel the network sees (32-channel activations kept for the
 * skips). Fitted to peak RSS measured at 720p and 1080p, scales 1, 1/2 and 1/8 (within 10%).
 */
export function bytesPerFrame(width: number, height: number, downscale: number): number {
  return 72 * width * height + 880 * Math.ceil(width / downscale) * Math.ceil(height / downscale);
}

export interface CurveMaps {
  /** [N,24,h,w] float32, r values in [-1,1]. */
  readonly data: Float32Array;
  readonly dims: readonly [number, number, number, number];
}

export interface EnhancedBatch {
  /** One image per input frame, views into one output buffer. */
  readonly frames: readonly RgbImage[];
  readonly curves?: CurveMaps;
  /** Per frame: the exposure used, the input's chroma and luma (tone-feeds.ts). */
  readonly tone: readonly ToneResult[];
}

export class Enhancer {
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: Provider,
    readonly fallbacks: readonly Fallback[],
    readonly threads: number,
    readonly downscale: number,
    readonly modelPath: string,
    readonly curvesOutput: boolean | 'only',
    readonly memoryBudgetMiB: number,
    readonly tone: { readonly form: CurveForm; readonly exposure: ExposureSetting },
    /** Set for the grid application: the per-byte constants, the colour rule's exponent, the wasm passes if used. */
    private readonly grid?: { readonly constants: GridConstants; readonly saturation: number; readonly wasm: GridWasm | undefined },
  ) {}

  /**
   * Refuses a frame that alone needs more than the memory budget (a 16000² image asked for ~18 GB
   * before this): `what` names it in the message (the file, for the CLI).
   */
  checkFits(width: number, height: number, what: string): void {
    const need = bytesPerFrame(width, height, this.downscale);
    const budget = this.memoryBudgetMiB * 2 ** 20;
    if (need <= budget) return;
    const shrink = Math.sqrt(budget / need);
    throw new PieError('input', `${what}: ${width}x${height} needs about ${(need / 2 ** 30).toFixed(1)} GiB to enhance with curves at 1/${this.downscale}, ` +
      `over the ${this.memoryBudgetMiB} MiB memory budget`,
      `downscale it to at most ${Math.floor(width * shrink)}x${Math.floor(height * shrink)} first, or estimate curves at a coarser scale (e.g. --scale 1/${this.downscale * 4})`);
  }

  /** How many frames of this size one run may take within the memory budget (at least 1). */
  framesPerRun(width: number, height: number): number {
    return Math.max(1, Math.floor((this.memoryBudgetMiB * 2 ** 20) / bytesPerFrame(width, height, this.downscale)));
  }

  static async open(o: EnhancerOptions = {}): Promise<Enhancer> {
    const modelPath = o.weights ? '(in memory)' : o.modelPath ?? DEFAULT_MODEL_PATH;
    const weights = o.weights ?? (await loadDceNetModel(modelPath)).weights;
    const downscale = o.downscale ?? 1;
    let graph: Uint8Array;
    const grid = o.curveApply === 'grid';
    try {
      const go = {
        downscale, curvesOutput: o.curvesOutput ?? false, strength: o.strength ?? 1, exposure: o.exposure ?? 'auto', form: o.form ?? 'value',
        ...(o.noiseAwareGain !== undefined ? { noiseAwareGain: o.noiseAwareGain } : {}), ...(o.saturation !== undefined ? { saturation: o.saturation } : {}),
        ...(o.curveApply ? { curveApply: o.curveApply } : {}), ...(o.exposeRight !== undefined ? { exposeRight: o.exposeRight } : {}),
        ...(o.darkChroma !== undefined ? { darkChroma: o.darkChroma } : {}),
      } as const;
      if (grid && o.curvesOutput) throw new RangeError('the grid curve application gives no curve maps (the region cache needs curveApply exact)');
      graph = grid ? buildGridEnhancerGraph(weights, go) : buildEnhancerGraph(weights, go);
    } catch (e) {
      throw new PieError('usage', e instanceof Error ? e.message : String(e), 'use --scale 1, 1/2, 1/4, 1/8 … (1/k with an integer k) --strength from 0 to 4 and --exposure between 0 and 1 (e.g. 0.45)');
    }
    const s = await openSession(graph, o.provider ?? 'cpu', { ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(o.spin !== undefined ? { spin: o.spin } : {}) });
    const saturation = o.saturation ?? DEFAULT_SATURATION;
    const gridSetup = grid ? {
      constants: gridConstants(gridLevels(GRID_LEVELS), { highlightKeep: HIGHLIGHT_KEEP, epsV: EPS_V, darkChroma: (o.darkChroma ?? true) ? DARK_CHROMA : undefined }),
      saturation,
      wasm: (o.gridKernel ?? 'wasm') === 'wasm' && GridWasm.handles(saturation) ? GridWasm.create() : undefined,
    } : undefined;
    return new Enhancer(s.session, s.provider, s.fallbacks, s.threads, downscale, modelPath, o.curvesOutput ?? false, o.memoryBudgetMiB ?? DEFAULT_MEMORY_BUDGET_MIB, { form: o.form ?? 'value', exposure: o.exposure ?? 'auto' }, gridSetup);
  }

  /** Which code runs the grid's full-resolution passes; undefined without the grid. */
  get gridKernel(): 'wasm' | 'js' | undefined {
    return this.grid && (this.grid.wasm ? 'wasm' : 'js');
  }

  describe(): string {
    const e = this.tone.exposure;
    const grid = this.gridKernel ? `; curves applied by a ${GRID_LEVELS}-level grid (${this.gridKernel === 'wasm' ? 'WebAssembly SIMD' : 'JavaScript'})` : '';
    return `${describeSession(this)}; curves at 1/${this.downscale}${grid}; ${this.tone.form === 'value' ? 'colour-preserving' : 'per-channel'} curves; exposure ${e === 'auto' ? 'auto (scene-adaptive)' : e === 'model' ? "the model's own" : e}; model ${shownModelPath(this.modelPath)}`;
  }

  /**
   * Enhances same-sized frames: one run, or several when the batch would exceed the memory budget.
   * `tones` (one per frame) carries each frame's camera state: its IR flag and exposure (tone-feeds.ts).
   */
  async enhance(frames: readonly RgbImage[], tones?: readonly FrameTone[]): Promise<EnhancedBatch> {
    if (this.closed) throw new Error('Enhancer is closed');
    if (frames.length === 0) return { frames: [], tone: [] };
    if (this.curvesOutput === 'only') throw new Error("this Enhancer was opened with curvesOutput: 'only': use estimateCurves");
    const packed = packFrames(frames); // validates one size before any work
    this.checkFits(packed.width, packed.height, 'a frame');
    const per = this.framesPerRun(packed.width, packed.height);
    if (frames.length <= per) return this.run(packed, tones);
    const parts: EnhancedBatch[] = [];
    for (let i = 0; i < frames.length; i += per) parts.push(await this.run(packFrames(frames.slice(i, i + per)), tones?.slice(i, i + per)));
    return { frames: parts.flatMap((p) => p.frames), tone: parts.flatMap((p) => p.tone), ...(this.curvesOutput ? { curves: concatCurves(parts.map((p) => p.curves!)) } : {}) };
  }

  /**
   * The curve maps alone, for the region cache, which edits the maps and applies them itself
   * (CurveApplier). Open with curvesOutput: 'only' so the graph has no full-resolution curve
   * application at all: ORT still runs nodes an unfetched output needs (measured: 35.9 vs 36.1 ms
   * at 720p with both outputs in the graph).
   */
  async estimateCurves(frames: readonly RgbImage[]): Promise<CurveMaps> {
    if (this.closed) throw new Error('Enhancer is closed');
    if (!this.curvesOutput) throw new Error("estimateCurves needs an Enhancer opened with curvesOutput ('only' for the region cache)");
    const p = packFrames(frames);
    const out = await this.session.run({ [FRAMES_INPUT]: new ort.Tensor('uint8', p.data, [p.count, p.height, p.width, 3]) }, [CURVES_OUTPUT]);
    const c = out[CURVES_OUTPUT]!;
    const d = c.dims;
    return { data: c.data as Float32Array, dims: [d[0]!, CURVE_CHANNELS, d[2]!, d[3]!] };
  }

  private async run(p: PackedFrames, tones: readonly FrameTone[] | undefined): Promise<EnhancedBatch> {
    if (this.grid) return this.runGrid(p, tones, this.grid);
    const feeds = { [FRAMES_INPUT]: new ort.Tensor('uint8', p.data, [p.count, p.height, p.width, 3]), ...toneFeeds(p.count, tones) };
    const out = await this.session.run(feeds);
    const result = unpackFrames(out[ENHANCED_OUTPUT]!.data as Uint8Array, p.count, p.width, p.height);
    const tone = toneResults(out, p.count);
    const c = out[CURVES_OUTPUT];
    if (!c) return { frames: result, tone };
    const d = c.dims;
    return { frames: result, tone, curves: { data: c.data as Float32Array, dims: [d[0]!, CURVE_CHANNELS, d[2]!, d[3]!] } };
  }

  /** The grid application: measure each frame, run the 1/k graph, apply each frame's table (tone-grid.ts). */
  private async runGrid(p: PackedFrames, tones: readonly FrameTone[] | undefined, g: NonNullable<Enhancer['grid']>): Promise<EnhancedBatch> {
    const { count: n, width, height } = p, k = this.downscale, size = rgbBytes(width, height);
    const h = smallSize(height, k), w = smallSize(width, k), cells = h * w, samples = sampleSize(height) * sampleSize(width);
    const small = new Float32Array(n * 3 * cells), sample = new Float32Array(n * 3 * samples), sigma = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const frame = p.data.subarray(i * size, (i + 1) * size);
      const m = g.wasm ? g.wasm.measure(frame, width, height, k) : measureFrame(frame, width, height, k);
      small.set(m.small, i * 3 * cells); sample.set(m.sample, i * 3 * samples); sigma[i] = m.sigma;
    }
    const out = await this.session.run({
      [GRID_IO.small]: new ort.Tensor('float32', small, [n, 3, h, w]),
      [GRID_IO.sample]: new ort.Tensor('float32', sample, [n, 3, sampleSize(height), sampleSize(width)]),
      [GRID_IO.sigma]: new ort.Tensor('float32', sigma, [n]),
      ...toneFeeds(n, tones),
    });
    const table = out[GRID_IO.table]!.data as Float32Array, signal = out[GRID_IO.signal]!.data as Float32Array;
    const K = g.constants.levels;
    const result = new Uint8Array(n * size);
    const apply = g.wasm ? g.wasm.apply.bind(g.wasm) : applyGrid;
    for (let i = 0; i < n; i++) {
      apply(p.data.subarray(i * size, (i + 1) * size), result.subarray(i * size, (i + 1) * size), width, height, {
        table: table.subarray(i * cells * K, (i + 1) * cells * K), signal: signal.subarray(i * cells, (i + 1) * cells),
        h, w, mono: tones?.[i]?.mono ?? false,
      }, g.constants, MAX_GAIN, g.saturation);
    }
    return { frames: unpackFrames(result, n, width, height), tone: toneResults(out, n) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

function concatCurves(parts: readonly CurveMaps[]): CurveMaps {
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) { data.set(p.data, at); at += p.data.length; }
  const [, c, h, w] = parts[0]!.dims;
  return { data, dims: [parts.reduce((n, p) => n + p.dims[0], 0), c, h, w] };
}
