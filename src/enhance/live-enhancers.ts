// The enhancement stage of the live path: one enhancer session per distinct model, opened in every
// enhancement worker (src/workers/pool.ts) and shared by the cameras that use it; model switches;
// and a batch of frames of several cameras in, their enhanced frames out. A batch the workers
// cannot take, or that a dying worker loses, costs counted drops ('busy', 'failed'), never the
// pipeline. Per-camera state (the denoiser's running estimate and noise model, the region cache)
// lives in the worker that serves the camera (workerOf); the frames are denoised there, before the
// curves, in the same request, by the denoiser session of the camera's mode and strength (one per
// distinct setting, like the models); a camera with denoise off skips it.
import fs from 'node:fs';
import path from 'node:path';
import { cameraDenoise, type CameraConfig, type CameraDenoise, type PieConfig } from '../config/schema.js';
import { messageOf } from '../errors.js';
import type { CameraRuntime } from '../ingest/camera-runtime.js';
import type { Frame } from '../ingest/frame.js';
import { releaseFrame } from '../ingest/frame-store.js';
import { ApiError, resolveModelPath, type ModelInfo, type ModelSwitchResponse } from '../output/api.js';
import type { PieMetrics } from '../output/metrics.js';
import { readModelInfo } from '../output/model-info.js';
import { LatencyWindow } from '../output/rate.js';
import type { DropSink } from '../pipeline/dropCounter.js';
import type { Inference, LiveRequest } from '../workers/pool.js';
import { isWorkerError, type LiveBatch, type SessionInfo } from '../workers/protocol.js';
import type { CameraNoiseReport, DenoiserOptions } from '../denoise/denoiser.js';
import { DEFAULT_MODEL_PATH, type EnhancerOptions } from './enhancer.js';
import { shownModelPath } from './model-file.js';
import type { FrameTone, ToneResult } from './tone-feeds.js';
import type { RgbImage } from '../image/types.js';
import type { CurveForm, ExposureSetting } from './tone.js';

/**
 * An enhanced frame with the raw bytes it was made from, for fused detection: the camera's frame,
 * or with enhance.denoise on, the denoised frame the curves lifted (the detector then looks at the
 * cleaner signal, at the cost of one transfer from the worker). The raw bytes are a reference to
 * the camera's own frame buffer (never reused by ingest) or the worker's result, not a copy, and it travels
 * only on the way to the detector, where sampling and newest-wins keep a few frames at most: the
 * outputs get plain Frames. Carrying it beats pairing by camera+seq, which would need a buffer of
 * raw frames waiting for their enhanced twins, and rules for when to give up on one.
 */
export interface EnhancedFrame extends Frame {
  /**
   * What the detector sees as the raw frame: the camera's pixels, or its denoised frame. Held for the
   * detection path, which gives it back (frame-store.ts); without detection it is not read, and the
   * camera may already be reusing its buffer (app.ts).
   */
  readonly raw: Uint8Array;
}

/** Plain frame fields: what outputs get of an EnhancedFrame, so no sink holds on to raw bytes. */
export const plainFrame = (f: Frame): Frame => ({ camera: f.camera, seq: f.seq, ptsMs: f.ptsMs, width: f.width, height: f.height, data: f.data });

/** One open model, shared by the cameras whose modelKey is its key. */
export interface EnhancerEntry {
  readonly key: string;
  readonly session: SessionInfo;
  readonly info: ModelInfo;
  /** Batches running on it now: a retired model's session is closed when this reaches 0. */
  running: number;
  retired: boolean;
  batches: number;
  readonly inference: LatencyWindow;
}

/** A model path as a key: absolute, links resolved, so one file is one enhancer whatever the spelling. */
export function modelKeyOf(p: string): string {
  const abs = path.resolve(p);
  try { return fs.realpathSync(abs); } catch { return abs; }
}

/** The enhancer settings of a config, for one model: the same at start and on a model switch. */
export function enhancerOptions(config: PieConfig, modelPath: string): EnhancerOptions {
  const e = config.enhance;
  const common = { modelPath, downscale: e.downscale, provider: e.provider, strength: e.strength, spin: false, curveApply: e.curveApply, ...toneOptions(config) };
  // With the region cache the enhancer only estimates curves; the applier runs the tone stage.
  return e.regionCache.enabled ? { ...common, curvesOutput: 'only' } : common;
}

/** The tone stage's settings (enhance/tone.ts), shared by the enhancer and the curve applier. */
function toneOptions(config: PieConfig): { exposure: ExposureSetting; form: CurveForm; noiseAwareGain: boolean; saturation: number } {
  const e = config.enhance;
  return { exposure: e.exposure, form: e.color, noiseAwareGain: e.noiseAwareGain, saturation: e.saturation };
}

/** A model switch that has not loaded and warmed up its model by then answers 504 and changes nothing. */
export const MODEL_SWITCH_TIMEOUT_MS = 30_000;

const APPLIER_KEY = 'applier';
/** One denoiser session per mode and strength: its graph bakes both in. */
const denoiserKey = (d: CameraDenoise): string => `denoiser:${d.mode}:${d.strength}`;

/**
 * The live denoiser's settings for a camera (cameraDenoise: its own denoise and denoiseStrength,
 * else enhance.*; no camera: enhance.* alone); undefined when off.
 */
export function denoiserOptions(config: PieConfig, camera: Pick<CameraConfig, 'denoise' | 'denoiseStrength'> = {}): DenoiserOptions | undefined {
  const e = config.enhance, d = cameraDenoise(e, camera);
  return d.mode === 'off' ? undefined : { mode: d.mode, strength: d.strength ?? e.denoiseStrength, globalMotion: e.denoiseGlobalMotion, provider: e.provider, spin: false };
}
const sessionKey = (modelKey: string): string => `enhancer:${modelKey}`;

export class LiveEnhancers {
  private readonly entries = new Map<string, EnhancerEntry>();
  /** The newest failure logged, so a failing worker is not logged once per batch. */
  private lastFailure = '';

  private constructor(
    private readonly pool: Inference,
    private readonly config: PieConfig,
    private readonly cameras: ReadonlyMap<string, CameraRuntime>,
    private readonly drops: DropSink,
    private readonly metrics: PieMetrics,
    private readonly log: (line: string) => void,
    /** Folders a model named through the API may come from. */
    readonly modelRoots: readonly string[],
    private readonly cached: boolean,
    /** Each denoised camera's denoiser session; a camera with denoise off has none (its frames go straight to the enhancer). */
    private readonly denoiserOf: ReadonlyMap<string, string>,
    /** Each camera's effective denoising, for the API. */
    private readonly denoiseSettings: ReadonlyMap<string, CameraDenoise>,
  ) {}

  /** Whether the camera holds state in the workers that a reset must drop. */
  private stateful(camera: string): boolean { return this.cached || this.denoiserOf.has(camera); }

  /** The camera's effective denoising (its own, else enhance.*), as it runs. */
  denoiseOf(c: CameraRuntime): CameraDenoise {
    return this.denoiseSettings.get(c.config.name) ?? cameraDenoise(this.config.enhance, c.config);
  }

  /** The model a camera starts with: its own, else enhance.model, else the shipped one. */
  static modelOf(config: PieConfig, c: CameraConfig): string {
    return c.model ?? config.enhance.model ?? DEFAULT_MODEL_PATH;
  }

  /** Opens every camera's model (one session per distinct file) and, with the region cache, the curve applier. */
  static async open(pool: Inference, config: PieConfig, cameras: ReadonlyMap<string, CameraRuntime>, drops: DropSink, metrics: PieMetrics, log: (line: string) => void): Promise<LiveEnhancers> {
    const keys = config.cameras.map((c) => modelKeyOf(LiveEnhancers.modelOf(config, c)));
    const modelRoots = [...new Set([path.dirname(DEFAULT_MODEL_PATH), path.resolve('models'), ...keys.map((k) => path.dirname(k))])];
    const rc = config.enhance.regionCache;
    const settings = new Map(config.cameras.map((c) => [c.name, cameraDenoise(config.enhance, c)] as const));
    const denoiserOf = new Map<string, string>();
    // One session per distinct mode and strength that some camera uses (at most one per camera): opened before the first frame, so a bad setting refuses the start.
    const open = new Set<string>();
    for (const c of config.cameras) {
      const dn = denoiserOptions(config, c);
      if (!dn) continue;
      const d = settings.get(c.name)!, key = denoiserKey(d);
      denoiserOf.set(c.name, key);
      if (open.has(key)) continue;
      open.add(key);
      const s = await pool.open(key, { kind: 'denoiser', options: dn });
      const served = config.cameras.filter((o) => denoiserKey(settings.get(o.name)!) === key).map((o) => o.name);
      log(`${s.description} (strength ${d.strength}; camera${served.length > 1 ? 's' : ''} ${served.join(', ')}; state per camera in its worker)`);
    }
    const off = config.cameras.filter((c) => !denoiserOf.has(c.name)).map((c) => c.name);
    if (off.length && denoiserOf.size) log(`denoise off for camera${off.length > 1 ? 's' : ''} ${off.join(', ')}`);
    const live = new LiveEnhancers(pool, config, cameras, drops, metrics, log, modelRoots, rc.enabled, denoiserOf, settings);
    for (const c of config.cameras) {
      const key = modelKeyOf(LiveEnhancers.modelOf(config, c));
      if (live.entries.has(key)) continue;
      // Every camera on this model is checked against its memory budget: refused at start, not on its first frame.
      const fits = config.cameras.filter((o) => modelKeyOf(LiveEnhancers.modelOf(config, o)) === key).map((o) => ({ width: o.width, height: o.height, what: `camera "${o.name}"` }));
      const session = await pool.open(sessionKey(key), { kind: 'enhancer', options: enhancerOptions(config, key), fits });
      live.entries.set(key, newEntry(key, session, await readModelInfo(key, c.model ?? config.enhance.model ?? shownModelPath(key))));
      log(`${session.description} (${pool.o.size} ${pool.o.name} worker${pool.o.size > 1 ? 's' : ''})`);
    }
    if (rc.enabled) {
      const e = config.enhance;
      const applier = await pool.open(APPLIER_KEY, { kind: 'applier', options: { downscale: e.downscale, provider: e.provider, spin: false, ...toneOptions(config) } });
      log(`region cache on: alpha ${rc.alpha}, mix ${rc.mix}, re-segment every ${rc.refreshEvery} frames; ${applier.description}`);
    }
    return live;
  }

  entryOf(c: CameraRuntime): EnhancerEntry {
    return this.entries.get(c.modelKey)!;
  }

  all(): EnhancerEntry[] { return [...this.entries.values()]; }

  /** One line per open model: provider, threads, curve scale, model. */
  describe(): string { return this.all().map((e) => e.session.description).join(' | '); }

  /**
   * Moves a camera to another model without touching its streams: the model is checked (inside the
   * model folders, a DCE-Net), opened and warmed up in the workers while the old one keeps working,
   * then the camera's model reference is swapped; the old session is closed once no camera and no
   * running batch uses it. A camera's switches run one after another.
   */
  switchModel(c: CameraRuntime, requested: string, closing: () => boolean): Promise<ModelSwitchResponse> {
    // A load that hangs (a slow disk, a huge graph) must not hold this camera's switch queue for ever.
    const run = c.switching.then(async () => {
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new ApiError(504, `loading ${JSON.stringify(requested)} took over ${MODEL_SWITCH_TIMEOUT_MS / 1000} s; camera ${c.config.name} keeps its model`, 'check the model file and the disk; try again'));
        }, MODEL_SWITCH_TIMEOUT_MS);
      });
      try {
        return await Promise.race([this.doSwitch(c, requested, closing, abort.signal), late]);
      } finally {
        clearTimeout(timer);
      }
    });
    c.switching = run.catch(() => {});
    return run;
  }

  private async doSwitch(c: CameraRuntime, requested: string, closing: () => boolean, signal: AbortSignal): Promise<ModelSwitchResponse> {
    const t0 = performance.now();
    if (closing()) throw new ApiError(503, 'pie-stream is shutting down');
    const file = await resolveModelPath(requested, this.modelRoots);
    const info = await readModelInfo(file, requested);
    const previous = this.entryOf(c);
    let entry = this.entries.get(file);
    if (!entry) {
      const session = await this.pool.open(sessionKey(file), { kind: 'enhancer', options: enhancerOptions(this.config, file) });
      // Warm-up: the first run of a session is slow; let it happen here, not on a live frame.
      const blank = [{ width: c.config.width, height: c.config.height, data: new Uint8Array(c.config.width * c.config.height * 3) }];
      await (this.cached ? this.pool.curves(sessionKey(file), blank) : this.pool.enhance(sessionKey(file), blank));
      if (closing()) throw new ApiError(503, 'pie-stream is shutting down');
      if (signal.aborted) { await this.pool.closeSession(sessionKey(file)); throw new ApiError(504, 'model load timed out'); }
      entry = newEntry(file, session, info);
      this.entries.set(file, entry);
    }
    if (signal.aborted) throw new ApiError(504, 'model load timed out');
    c.modelKey = entry.key;
    // The old model's smoothed curves must not leak into the new one's; the denoiser starts afresh with it.
    if (this.stateful(c.config.name)) await this.pool.forget([c.config.name]);
    c.noise = undefined;
    c.tone.reset();
    this.retireUnused();
    this.metrics.modelSwitched(c.config.name);
    return { camera: c.config.name, model: entry.info, previous: previous.info, provider: entry.session.provider, switchMs: Math.round(performance.now() - t0) };
  }

  private retireUnused(): void {
    const used = new Set([...this.cameras.values()].map((c) => c.modelKey));
    for (const [key, e] of this.entries) {
      if (used.has(key)) continue;
      this.entries.delete(key);
      e.retired = true;
      if (e.running === 0) void this.pool.closeSession(sessionKey(key));
    }
  }

  /**
   * Runs a batch on each frame's camera's current model (a switch may land between batching and
   * running). Frames the workers could not enhance are dropped and counted, and left out.
   */
  async enhance(frames: readonly Frame[]): Promise<EnhancedFrame[]> {
    const groups = new Map<EnhancerEntry, Frame[]>();
    for (const f of frames) {
      const e = this.entryOf(this.cameras.get(f.camera)!);
      const g = groups.get(e);
      if (g) g.push(f); else groups.set(e, [f]);
    }
    // Marked running before any await, so a switch meanwhile cannot close a session this batch still needs.
    for (const e of groups.keys()) e.running++;
    const out = new Map<Frame, EnhancedFrame>();
    try {
      for (const [e, fs] of groups) {
        const t0 = performance.now();
        // Each frame goes with its camera's tone state (IR flag, exposure) and brings back the next.
        const cams = fs.map((f) => this.cameras.get(f.camera)!);
        const tones = cams.map((c) => c.tone.next());
        let r: LiveBatch;
        try {
          r = await this.run(e, fs, tones);
        } catch (err) {
          this.failed(fs, err);
          continue;
        }
        const ms = performance.now() - t0;
        for (const n of r.noise ?? []) { const c = this.cameras.get(n.camera); if (c) c.noise = n; }
        r.tone.forEach((t, i) => this.toneObserved(cams[i]!, t));
        e.batches++;
        e.inference.add(ms);
        this.metrics.batch(e.info.name, fs.length, ms);
        // A camera with denoise off gets its own frame as raw: the worker's copy of it is the same bytes.
        fs.forEach((f, i) => {
          const denoised = r.denoised?.[i]?.data;
          const raw = (this.denoiserOf.has(f.camera) ? denoised : undefined) ?? f.data;
          if (denoised && denoised !== raw) releaseFrame(denoised); // a camera the denoiser left alone: its copy is not needed
          out.set(f, { ...plainFrame(f), data: r.frames[i]!.data, raw });
        });
      }
    } finally {
      for (const e of groups.keys()) {
        e.running--;
        if (e.retired && e.running === 0) void this.pool.closeSession(sessionKey(e.key));
      }
    }
    // In the batch's order, without the dropped ones.
    return frames.flatMap((f) => out.get(f) ?? []);
  }

  /**
   * A camera's ffmpeg restarted (a reconnect, a stall, a file played again): what its workers hold
   * (temporal estimate, noise model, region cache) may belong to another picture, so it starts afresh.
   */
  restarted(c: CameraRuntime): void {
    c.noise = undefined;
    if (this.stateful(c.config.name)) void this.pool.forget([c.config.name]);
  }

  /** A camera's frame came back: carry its exposure; an IR switch invalidates its temporal state. */
  private toneObserved(c: CameraRuntime, t: ToneResult): void {
    const change = c.tone.observe(t);
    if (!change) return;
    // Found monochrome from the first frame on: the same picture, so its temporal state stands.
    if (this.stateful(c.config.name) && change !== 'mono-found') void this.pool.forget([c.config.name]);
    this.log(`${c.config.name}: ${change === 'mono-off' ? 'colour frames again: colour enhancement' : `monochrome (IR) frames${change === 'mono-found' ? ' from the start' : ''}: luminance-only enhancement`}`);
  }

  private failed(frames: readonly Frame[], err: unknown): void {
    const reason = isWorkerError(err, 'busy') ? 'busy' : 'failed';
    for (const f of frames) this.drops.drop(f.camera, reason);
    const line = `enhancement of ${frames.length} frame(s) dropped (${reason}): ${messageOf(err)}`;
    if (reason === 'failed' && line !== this.lastFailure) this.log(line);
    this.lastFailure = line;
  }

  /**
   * One model's frames through the workers: denoised (with the camera's state), enhanced directly or
   * through the region cache. Stateful requests go to the worker that holds their cameras' state,
   * one request per worker, and the results come back in the frames' order.
   */
  private async run(e: EnhancerEntry, frames: readonly Frame[], tones: readonly FrameTone[]): Promise<LiveBatch> {
    const rc = this.config.enhance.regionCache;
    const denoising = frames.some((f) => this.denoiserOf.has(f.camera));
    const base = {
      // The detector looks at the denoised frame where it looked at the camera's: only then do they come back.
      key: sessionKey(e.key), ...(denoising ? { denoised: this.config.detect.enabled } : {}),
      ...(this.cached ? { cache: { applier: APPLIER_KEY, options: { downscale: this.config.enhance.downscale, alpha: rc.alpha, mix: rc.mix, refreshEvery: rc.refreshEvery } } } : {}),
    };
    const request = (idx: readonly number[]): LiveRequest => ({
      ...base, frames: idx.map((i) => frames[i]!), cameras: idx.map((i) => frames[i]!.camera), tones: idx.map((i) => tones[i]!),
      ...(denoising ? { denoiser: idx.map((i) => this.denoiserOf.get(frames[i]!.camera) ?? null) } : {}),
    });
    const byWorker = new Map<number, number[]>();
    frames.forEach((f, i) => {
      const w = this.pool.workerOf(f.camera);
      const g = byWorker.get(w);
      if (g) g.push(i); else byWorker.set(w, [i]);
    });
    // Whether this node's cameras cover every worker (the node's, not this batch's: a camera must not
    // switch between routings from one batch to the next, or its frames would finish out of order).
    const spread = new Set([...this.cameras.keys()].map((c) => this.pool.workerOf(c))).size >= this.pool.o.size;
    if (!this.cached && !denoising) {
      // Frames of cameras that keep no state (denoise off, no region cache): when the cameras cover
      // every worker, each camera's frames go to its own, so they finish in order (from any worker,
      // 2 × 720p lost 10% of frames as 'late'); fewer cameras than workers use any worker.
      if (!spread) return this.pool.live(request(frames.map((_, i) => i)));
      return this.merge(await Promise.all([...byWorker.values()].map(async (idx) => ({ idx, r: await this.pool.live({ ...request(idx), affinity: true }) }))));
    }
    // Fewer cameras' workers than workers (one camera on two): denoise in the cameras' worker and
    // enhance in whichever is free, so that worker denoises the next frames meanwhile. Otherwise
    // every worker already has its own cameras' frames to denoise and enhance.
    if (!this.cached && !spread) return this.pipelined(base.key, frames, tones, byWorker);
    return this.merge(await Promise.all([...byWorker.values()].map(async (idx) => ({ idx, r: await this.pool.live(request(idx)) }))));
  }

  /** Per-worker parts of one batch back into the batch's order. */
  private merge(parts: readonly { readonly idx: readonly number[]; readonly r: LiveBatch }[]): LiveBatch {
    if (parts.length === 1) return parts[0]!.r;
    const out: { frames: LiveBatch['frames'][number][]; tone: LiveBatch['tone'][number][]; denoised: RgbImage[]; noise: CameraNoiseReport[] } = { frames: [], tone: [], denoised: [], noise: [] };
    for (const { idx, r } of parts) {
      idx.forEach((i, k) => { out.frames[i] = r.frames[k]!; out.tone[i] = r.tone[k]!; if (r.denoised) out.denoised[i] = r.denoised[k]!; });
      out.noise.push(...(r.noise ?? []));
    }
    return out.denoised.length ? out : { frames: out.frames, tone: out.tone, noise: out.noise };
  }

  /** run()'s denoising and enhancement as two requests, the second to any worker. */
  private async pipelined(key: string, frames: readonly Frame[], tones: readonly FrameTone[], byWorker: ReadonlyMap<number, readonly number[]>): Promise<LiveBatch> {
    const clean: RgbImage[] = new Array<RgbImage>(frames.length), noise: CameraNoiseReport[] = [];
    await Promise.all([...byWorker.values()].map(async (idx) => {
      const r = await this.pool.denoise({ frames: idx.map((i) => frames[i]!), cameras: idx.map((i) => frames[i]!.camera), denoiser: idx.map((i) => this.denoiserOf.get(frames[i]!.camera) ?? null) });
      idx.forEach((i, k) => { clean[i] = r.frames[k]!; });
      noise.push(...r.noise);
    }));
    const r = await this.pool.live({ key, frames: clean, cameras: frames.map((f) => f.camera), tones });
    if (this.config.detect.enabled) return { frames: r.frames, tone: r.tone, noise, denoised: clean };
    for (const f of clean) releaseFrame(f.data); // copied into the request above; nobody else holds them
    return { frames: r.frames, tone: r.tone, noise };
  }
}

function newEntry(key: string, session: SessionInfo, info: ModelInfo): EnhancerEntry {
  return { key, session, info, running: 0, retired: false, batches: 0, inference: new LatencyWindow() };
}
