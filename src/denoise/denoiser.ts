// The denoiser as a session: owns each camera's temporal state (running estimate, frame count)
// and noise model, feeds them into the graph (graph.ts) with the camera's frame and keeps what
// comes back. Frames of several cameras of one size run as one batch; a camera that appears twice
// in a call runs in order (its second frame needs the first one's state). State is bounded: at
// most maxCameras cameras, the least recently seen dropped first.
import { PieError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { packFrames, unpackFrames } from '../enhance/frame-batch.js';
import { describeSession, openSession, ort, type Provider, type ProviderChoice } from '../enhance/session.js';
import {
  buildDenoiseGraph, COUNT_INPUT, DENOISE_FRAMES_INPUT, DENOISED_OUTPUT, ESTIMATE_INPUT, MOVING_OUTPUT,
  NEXT_COUNT_OUTPUT, NEXT_ESTIMATE_OUTPUT, NEXT_SHOWN_OUTPUT, NOISE_INPUT, SHOWN_INPUT, type DenoiseMode, type TemporalDenoiseOptions,
} from './graph.js';
import { estimateGlobalMotion, jsMotionLoops, lumaOfPlanar, lumaOfRgb, remapBilinear, remapPlanes, wholePixels, zoomShift, type GlobalMotion, type GlobalMotionMode } from './global-motion.js';
import { atLeast, estimateStillNoise, NoiseEstimator, quantisationNoise, type NoiseParams } from './noise-model.js';
import { DenoiseWasm } from './denoise-wasm.js';

/** Coding noise assumed in every camera's frames, in 8-bit codes (see quantisationNoise). */
export const QUANTISATION_CODES = 2;

export interface DenoiserOptions extends TemporalDenoiseOptions {
  readonly mode: DenoiseMode;
  readonly provider?: ProviderChoice;
  readonly threads?: number;
  readonly spin?: boolean;
  /** Cameras whose state is kept (each holds 4 floats and 3 bytes a pixel). Default 64. */
  readonly maxCameras?: number;
  /** The noise model measures a pair of consecutive frames in this many. Default 8. */
  readonly noiseEvery?: number;
  /** Share of moving pixels above which a frame is a scene cut: the camera's noise model restarts. */
  readonly sceneCut?: number;
  /** The noise the graph is told is at least this many 8-bit codes of coding noise (quantisationNoise). Default QUANTISATION_CODES. */
  readonly quantisation?: number;
  /** What a temporal denoiser does when the view itself moves (GlobalMotionMode); default 'shift'. */
  readonly globalMotion?: GlobalMotionMode;
  /**
   * On the CPU: 'wasm' (default; native/denoise-kernel.c, the graph as three fused passes, ~2.8×
   * ONNX Runtime's speed a thread) or 'onnx' (the graph, graph.ts: the reference). Other
   * providers, and a runtime where the module cannot load, run the graph.
   */
  readonly kernel?: 'wasm' | 'onnx';
}

/** The view moved when the fitted map displaces some pixel by at least this many pixels: the state follows. */
const MOVE_PIXELS = 0.5;
/** Below MOVE_PIXELS but at least this: the frame still pairs with nothing in the noise model. */
const PAIR_PIXELS = 0.25;

export interface CameraFrame {
  readonly camera: string;
  readonly image: RgbImage;
}

/**
 * When nothing is known of a camera (a flat black first frame): a small sensor at low light,
 * full well 300 e⁻ and read noise 3 e⁻, between the eval's noise levels.
 */
export const FALLBACK_NOISE: NoiseParams = { gain: 1 / 300, read2: (3 / 300) ** 2 };

interface CameraState {
  width: number;
  height: number;
  /** Linear light, NCHW of one frame; views into a run's output. */
  estimate: Float32Array;
  count: Float32Array;
  /** The codes the last frame showed, NCHW (the output's rounding hysteresis). */
  shown: Uint8Array;
  readonly noise: NoiseEstimator;
  /** Noise of the camera's first frame, until the pair estimate exists. */
  still?: NoiseParams;
  frames: number;
  cuts: number;
  /** Frames on which the view moved and the state followed it (shifted, or reset in mode 'reset'). */
  moves: number;
  /** What the state was before its last move: the next move writes here (a panning camera allocates nothing a frame). */
  spare?: { estimate: Float32Array; count: Float32Array; shown: Uint8Array };
}

export interface CameraNoiseReport {
  readonly camera: string;
  readonly noise: NoiseParams | undefined;
  readonly noiseFrom: 'frames' | 'still' | 'none';
  readonly frames: number;
  readonly sceneCuts: number;
  /** Frames on which the view moved (pan, tilt, zoom) and the state followed it. */
  readonly globalMoves: number;
}

export class Denoiser {
  private readonly cameras = new Map<string, CameraState>();
  private closed = false;
  private readonly quantFloor: NoiseParams;

  private constructor(
    /** The ONNX graph's session, or the WebAssembly kernel that replaces it on the CPU. */
    private readonly runner: { readonly session: ort.InferenceSession } | { readonly wasm: DenoiseWasm },
    readonly provider: Provider,
    readonly mode: DenoiseMode,
    private readonly described: string,
    private readonly o: DenoiserOptions,
  ) {
    this.quantFloor = quantisationNoise(o.quantisation ?? QUANTISATION_CODES);
  }

  static async open(o: DenoiserOptions): Promise<Denoiser> {
    let graph: Uint8Array;
    try {
      graph = buildDenoiseGraph(o.mode, o);
    } catch (e) {
      throw new PieError('usage', e instanceof Error ? e.message : String(e), 'check the denoise options (strength ≥ 0, radius ≥ 1, maxFrames ≥ 1)');
    }
    const choice = o.provider ?? 'cpu', kernel = (o.kernel ?? 'wasm') === 'wasm';
    const wasm = kernel && choice === 'cpu' ? DenoiseWasm.create(o.mode, o) : undefined;
    if (wasm) return new Denoiser({ wasm }, 'cpu', o.mode, 'WebAssembly on the CPU (1 thread)', o);
    const s = await openSession(graph, choice, { ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(o.spin !== undefined ? { spin: o.spin } : {}) });
    // provider auto that found no GPU: the CPU after all, where the kernel is the faster way.
    const late = kernel && s.provider === 'cpu' ? DenoiseWasm.create(o.mode, o) : undefined;
    if (late) {
      await s.session.release();
      return new Denoiser({ wasm: late }, 'cpu', o.mode, `WebAssembly on the CPU (1 thread; ${describeSession(s)})`, o);
    }
    return new Denoiser({ session: s.session }, s.provider, o.mode, describeSession(s), o);
  }

  describe(): string {
    return `denoise ${this.mode}: ${this.described}`;
  }

  /** Forgets a camera's state and noise model (restart, model switch, IR switch); all when none named. */
  reset(camera?: string): void {
    if (camera === undefined) this.cameras.clear();
    else this.cameras.delete(camera);
  }

  /**
   * A scene change seen elsewhere (the region cache's detector): the camera's noise model restarts,
   * so it does not pair frames across the change. Its pixels need nothing: those that changed
   * restarted in the graph already.
   */
  sceneCut(camera: string): void {
    const s = this.cameras.get(camera);
    if (!s) return;
    s.noise.reset();
    s.cuts++;
  }

  /** What the noise model knows of each camera, for /api/cameras and /metrics. */
  report(): CameraNoiseReport[] {
    return [...this.cameras.keys()].map((camera) => this.reportOf(camera)!);
  }

  /** One camera's noise report; undefined when it has no state (never seen, or reset). */
  reportOf(camera: string): CameraNoiseReport | undefined {
    const s = this.cameras.get(camera);
    if (!s) return undefined;
    const fromFrames = s.noise.params;
    return { camera, noise: fromFrames ?? s.still, noiseFrom: fromFrames ? 'frames' : s.still ? 'still' : 'none', frames: s.frames, sceneCuts: s.cuts, globalMoves: s.moves };
  }

  /** Denoised frames in the order given. */
  async denoise(frames: readonly CameraFrame[]): Promise<RgbImage[]> {
    if (this.closed) throw new Error('Denoiser is closed');
    const out = new Array<RgbImage>(frames.length);
    // Waves: each camera at most once per wave, so its state follows frame order.
    let rest = frames.map((f, i) => ({ ...f, i }));
    while (rest.length) {
      const seen = new Set<string>(), wave: typeof rest = [], later: typeof rest = [];
      for (const f of rest) (seen.has(f.camera) ? later : wave).push(f), seen.add(f.camera);
      const bySize = new Map<string, typeof rest>();
      for (const f of wave) {
        const k = `${f.image.width}x${f.image.height}`;
        bySize.set(k, [...(bySize.get(k) ?? []), f]);
      }
      for (const group of bySize.values()) {
        const res = await this.run(group);
        group.forEach((f, j) => { out[f.i] = res[j]!; });
      }
      rest = later;
    }
    return out;
  }

  private stateOf(camera: string, img: RgbImage): CameraState {
    let s = this.cameras.get(camera);
    if (s && (s.width !== img.width || s.height !== img.height)) s = undefined; // a resolution change restarts it
    if (!s) {
      const px = img.width * img.height;
      s = { width: img.width, height: img.height, estimate: new Float32Array(3 * px), count: new Float32Array(px), shown: new Uint8Array(3 * px), noise: new NoiseEstimator(), frames: 0, cuts: 0, moves: 0 };
    }
    // Most recently used last; the oldest goes when over the bound.
    this.cameras.delete(camera);
    this.cameras.set(camera, s);
    const max = this.o.maxCameras ?? 64;
    while (this.cameras.size > max) this.cameras.delete(this.cameras.keys().next().value!);
    return s;
  }

  /**
   * The view's motion since the state's last frame (global-motion.ts), and the state moved with it
   * (or restarted, mode 'reset'). Returns whether the frame should pair with nothing in the noise model.
   */
  private followView(s: CameraState, img: RgbImage): boolean {
    const mode = this.o.globalMotion ?? 'shift';
    if (mode === 'off' || this.mode !== 'temporal' || s.frames === 0) return false;
    const k = 'wasm' in this.runner ? this.runner.wasm : undefined;
    const ref = k ? k.lumaOfPlanar(s.shown, s.width, s.height) : lumaOfPlanar(s.shown, s.width, s.height);
    const cur = k ? k.lumaOfRgb(img.data, img.width, img.height) : lumaOfRgb(img.data, img.width, img.height);
    const m: GlobalMotion = estimateGlobalMotion(ref, cur, k ? k.motionLoops : jsMotionLoops, { minShift: PAIR_PIXELS });
    if (!m.significant || m.maxShift < PAIR_PIXELS) return false;
    if (m.maxShift < MOVE_PIXELS) return true;
    s.moves++;
    if (mode === 'reset') {
      s.count = new Float32Array(s.count.length);
      return true;
    }
    const { width: w, height: h } = s;
    // A pan moves the state by whole pixels (exact; what is left is measured again next frame), a zoom resamples it.
    const zoom = zoomShift(m, w, h) >= MOVE_PIXELS, map = zoom ? m : wholePixels(m);
    const old = { estimate: s.estimate, count: s.count, shown: s.shown }, into = s.spare;
    s.estimate = zoom ? remapBilinear(old.estimate, 3, w, h, map, into?.estimate) : remapPlanes(old.estimate, 3, w, h, map, 0, into?.estimate);
    s.count = remapPlanes(old.count, 1, w, h, map, 0, into?.count);
    s.shown = remapPlanes(old.shown, 3, w, h, map, 0, into?.shown);
    // The ONNX path's state is a view into a run's output: kept as a spare, it would hold that output alive.
    s.spare = 'wasm' in this.runner ? old : undefined;
    return true;
  }

  private noiseFor(s: CameraState, img: RgbImage, viewMoved: boolean): NoiseParams {
    const every = this.o.noiseEvery ?? 8;
    // Two consecutive frames in each `every`: pairs a frame apart, where less has moved (the first
    // of the two pairs with nothing: it is `every` − 1 frames after the last pushed one).
    if (viewMoved || (every > 1 && s.frames % every === 0)) s.noise.skipPair();
    if (s.frames % every <= 1 || every === 1) s.noise.push(img);
    if (!s.noise.params && !s.still) s.still = estimateStillNoise(img);
    s.frames++;
    return atLeast(s.noise.params ?? s.still ?? FALLBACK_NOISE, this.quantFloor);
  }

  private async run(group: ReadonlyArray<CameraFrame>): Promise<RgbImage[]> {
    const n = group.length;
    const states = group.map((f) => this.stateOf(f.camera, f.image));
    const noise = new Float32Array(2 * n);
    group.forEach((f, j) => {
      const p = this.noiseFor(states[j]!, f.image, this.followView(states[j]!, f.image));
      noise[2 * j] = p.gain; noise[2 * j + 1] = p.read2;
    });
    if ('wasm' in this.runner) return this.runWasm(this.runner.wasm, group, states, noise);
    const session = this.runner.session;
    const packed = packFrames(group.map((f) => f.image));
    const { width: w, height: h } = packed;
    const feeds: Record<string, ort.Tensor> = {
      [DENOISE_FRAMES_INPUT]: new ort.Tensor('uint8', packed.data, [n, h, w, 3]),
      [NOISE_INPUT]: new ort.Tensor('float32', noise, [n, 2]),
    };
    if (this.mode === 'temporal') {
      const px = w * h;
      // One frame: its state goes in as it is (no 20 MB of copies a 720p frame); a batch is packed.
      const one = n === 1 ? states[0] : undefined;
      const est = one?.estimate ?? new Float32Array(3 * px * n), cnt = one?.count ?? new Float32Array(px * n), shown = one?.shown ?? new Uint8Array(3 * px * n);
      if (!one) states.forEach((s, j) => { est.set(s.estimate, 3 * px * j); cnt.set(s.count, px * j); shown.set(s.shown, 3 * px * j); });
      feeds[ESTIMATE_INPUT] = new ort.Tensor('float32', est, [n, 3, h, w]);
      feeds[COUNT_INPUT] = new ort.Tensor('float32', cnt, [n, 1, h, w]);
      feeds[SHOWN_INPUT] = new ort.Tensor('uint8', shown, [n, 3, h, w]);
    }
    const out = await session.run(feeds);
    if (this.mode === 'temporal') {
      const px = w * h;
      const est = out[NEXT_ESTIMATE_OUTPUT]!.data as Float32Array, cnt = out[NEXT_COUNT_OUTPUT]!.data as Float32Array;
      const moving = out[MOVING_OUTPUT]!.data as Float32Array, shown = out[NEXT_SHOWN_OUTPUT]!.data as Uint8Array;
      states.forEach((s, j) => {
        s.estimate = est.subarray(3 * px * j, 3 * px * (j + 1));
        s.count = cnt.subarray(px * j, px * (j + 1));
        s.shown = shown.subarray(3 * px * j, 3 * px * (j + 1));
        this.afterFrame(s, moving[j]!);
      });
    }
    return unpackFrames(out[DENOISED_OUTPUT]!.data as Uint8Array, n, w, h);
  }

  /** The kernel takes one frame at a time; each camera's state is updated in place. */
  private runWasm(k: DenoiseWasm, group: ReadonlyArray<CameraFrame>, states: readonly CameraState[], noise: Float32Array): RgbImage[] {
    return group.map((f, j) => {
      const { width, height } = f.image, s = states[j]!;
      const r = k.denoise(f.image.data, width, height, { gain: noise[2 * j]!, read2: noise[2 * j + 1]! }, this.mode === 'temporal' ? s : undefined);
      if (this.mode === 'temporal') this.afterFrame(s, r.moving);
      return { width, height, data: r.codes };
    });
  }

  private afterFrame(s: CameraState, moving: number): void {
    // The graph restarted the pixels itself; the noise model must not pair across the cut.
    // (A camera's first frame has no history: all of it differs, and that is no cut.)
    if (s.frames > 1 && moving > (this.o.sceneCut ?? 0.6)) { s.noise.reset(); s.cuts++; }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cameras.clear();
    if ('session' in this.runner) await this.runner.session.release();
  }
}
