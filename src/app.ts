// The live pipeline, wired in the order frames flow:
//   cameras (one supervised ffmpeg each) ─▶ raw outputs
//            └─▶ cross-camera batches ─▶ enhancement (newest batch wins while busy) ─▶ enhanced outputs
//                                                   └─▶ face detection (detect.enabled) ─▶ events: viewers, MQTT, latest snapshot
// plus the HTTP server in front of the outputs (viewer, API, /metrics). Every stage is a tested unit;
// this file only composes, and keeps the per-camera figures the API reports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { merge, retry, Subject, Subscription, from, timer, type Observable } from 'rxjs';
import type { CameraConfig, DetectConfig, MqttConfig, PieConfig, Variant } from './config/schema.js';
import { FaceDetector } from './detect/detector.js';
import { drawFaces } from './detect/draw.js';
import { faceEventJson, type FaceEventJson } from './detect/event.js';
import { detectAlong } from './detect/path.js';
import type { Face, FaceEvent } from './detect/types.js';
import { CurveApplier } from './enhance/apply-graph.js';
import { CameraTone } from './enhance/camera-tone.js';
import { DEFAULT_MODEL_PATH, Enhancer, type EnhancedBatch, type EnhancerOptions } from './enhance/enhancer.js';
import type { FrameTone, ToneResult } from './enhance/tone-feeds.js';
import type { CurveForm, ExposureSetting } from './enhance/tone.js';
import { RegionCache } from './pipeline/regionCache.js';
import { encodeImage } from './image/io.js';
import type { RgbImage } from './image/types.js';
import { CameraSource } from './ingest/camera-source.js';
import type { Frame } from './ingest/frame.js';
import { redact } from './ingest/redact.js';
import { ApiError, resolveModelPath, type CameraInfo, type CamerasResponse, type Health, type ModelInfo, type ModelSwitchResponse, type StatsResponse } from './output/api.js';
import type { DetectionEvent } from './output/events.js';
import { PieHttpServer, type ServerLimits } from './output/http-server.js';
import { PieMetrics } from './output/metrics.js';
import { makeDataDir } from './output/data-dir.js';
import { readModelInfo } from './output/model-info.js';
import { MqttFacePublisher, type MqttPublisherOptions } from './output/mqtt.js';
import { LatencyWindow, RateMeter } from './output/rate.js';
import { batchFrames, type Batch } from './pipeline/batchFrames.js';
import { detectAt } from './pipeline/detect.js';
import { DropCounter, type DropSink } from './pipeline/dropCounter.js';
import { latestWins } from './pipeline/latestWins.js';
import { sampleFps } from './pipeline/sampleFps.js';
import type { WebSocket } from 'ws';

/** Where frames of one camera and variant go (an HLS writer, a live stream). write() never blocks. */
export interface FrameSink {
  write(frame: Frame): void;
  /** Settles when the output has flushed and stopped; its value is not used. */
  close(): Promise<unknown>;
}
export interface LiveSink extends FrameSink {
  attach(ws: WebSocket): void;
  /** Viewers now connected, for /metrics (JsmpegStream has it). */
  stats?(): { readonly clients: number };
}

/** Makes the outputs; injected so the app can be tested with or without encoders. */
export interface SinkFactory {
  hls(camera: CameraConfig, variant: Variant, dir: string, drops: DropSink): Promise<FrameSink>;
  live(camera: CameraConfig, variant: Variant, drops: DropSink): Promise<LiveSink>;
}

export interface AppOptions {
  readonly sinks: SinkFactory;
  /** HLS folders go here (default: a fresh temp folder, removed on close). */
  readonly dataDir?: string;
  readonly log?: (line: string) => void;
  /** The HTTP server's bounds; default DEFAULT_LIMITS (src/output/http-server.ts). */
  readonly limits?: Partial<ServerLimits>;
}

/**
 * An enhanced frame with the raw bytes it was made from, for fused detection. The raw bytes are a
 * reference to the camera's own frame buffer (never reused by ingest), not a copy, and it travels
 * only on the way to the detector, where sampling and newest-wins keep a few frames at most: the
 * outputs get plain Frames. Carrying it beats pairing by camera+seq, which would need a buffer of
 * raw frames waiting for their enhanced twins, and rules for when to give up on one.
 */
interface EnhancedFrame extends Frame {
  readonly raw: Uint8Array;
}

/** The newest detection of a camera that found faces: GET /api/cameras/<camera>/faces/latest(.jpg). */
interface FaceSnapshot {
  readonly event: FaceEventJson;
  readonly faces: readonly Face[];
  /** The enhanced frame it was found on, boxes not drawn. */
  readonly frame: RgbImage;
  /** Encoded once, on the first request. */
  jpeg?: Promise<Uint8Array>;
}

/** Face detection in the live path; present when detect.enabled. */
interface Detection {
  readonly config: DetectConfig;
  readonly detector: FaceDetector;
  readonly mqtt?: MqttFacePublisher;
  /** Frames the detector skipped (fps, busy), apart from the camera drops: the streams did get those frames. */
  readonly drops: DropCounter;
  readonly inference: LatencyWindow;
  runs: number;
  /** Detector calls in flight: close() waits for them before releasing the session. */
  readonly running: Set<Promise<unknown>>;
}

interface CameraRuntime {
  readonly config: CameraConfig;
  readonly source: CameraSource;
  readonly hls: Map<Variant, FrameSink>;
  readonly live: Map<Variant, LiveSink>;
  /** The model this camera is enhanced with now: a key of the app's enhancers (a resolved path). */
  modelKey: string;
  processed: number;
  lastLatencyMs: number;
  readonly latency: LatencyWindow;
  readonly processRate: RateMeter;
  readonly skipRate: RateMeter;
  readonly detectionRate: RateMeter;
  /** The newest frames, for snapshots; one JPEG kept per variant until a newer frame comes. */
  readonly latest: Partial<Record<Variant, Frame>>;
  readonly jpeg: Partial<Record<Variant, { readonly seq: number; readonly bytes: Promise<Uint8Array> }>>;
  /** Model switches of this camera run one after another. */
  switching: Promise<unknown>;
  /** This camera's temporal region cache (enhance.regionCache); made on its first frame, reset on a model switch. */
  cache?: RegionCache;
  /** Its exposure state and IR mode, carried from frame to frame (enhance/camera-tone.ts). */
  readonly tone: CameraTone;
  /** Frames detected on, by seq, until their event comes out of detectAt (one batch's worth). */
  readonly detecting: Map<number, Frame>;
  /** The newest detection, faces or none: what detect.drawBoxes draws. */
  lastDetection?: FaceEvent;
  /** The newest detection that found faces. */
  faces?: FaceSnapshot;
}

/** One open enhancer and the model it runs; shared by the cameras whose modelKey is its key. */
interface EnhancerEntry {
  readonly key: string;
  readonly enhancer: Enhancer;
  readonly info: ModelInfo;
  /** Batches running on it now: a retired enhancer is closed when this reaches 0. */
  running: number;
  retired: boolean;
  batches: number;
  readonly inference: LatencyWindow;
}

/** GET /api/cameras. */
export type AppStatus = CamerasResponse;

const nowMs = (): number => performance.timeOrigin + performance.now();
/** A model switch that has not loaded and warmed up its model by then answers 504 and changes nothing. */
export const MODEL_SWITCH_TIMEOUT_MS = 30_000;
const VERSION = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A model path as a key: absolute, links resolved, so one file is one enhancer whatever the spelling. */
function modelKeyOf(p: string): string {
  const abs = path.resolve(p);
  try { return fs.realpathSync(abs); } catch { return abs; }
}

/** The enhancer settings of a config, for one model: the same at start and on a model switch. */
function enhancerOptions(config: PieConfig, modelPath: string): EnhancerOptions {
  const e = config.enhance;
  const common = { modelPath, downscale: e.downscale, provider: e.provider, strength: e.strength, spin: false, ...toneOptions(config) };
  // With the region cache the enhancer only estimates curves; the applier runs the tone stage.
  return e.regionCache.enabled ? { ...common, curvesOutput: 'only' } : common;
}

/** The tone stage's settings (enhance/tone.ts), shared by the enhancer and the curve applier. */
function toneOptions(config: PieConfig): { exposure: ExposureSetting; form: CurveForm; noiseAwareGain: boolean; saturation: number } {
  const e = config.enhance;
  return { exposure: e.exposure, form: e.color, noiseAwareGain: e.noiseAwareGain, saturation: e.saturation };
}

/** How a model path is shown: relative to the working folder when inside it. */
function shownPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/**
 * The publisher's options from the config. Credentials leave the URL and go as options, decoded
 * (load.ts percent-encodes a ${VAR} inside them), so the URL the client holds and logs has none.
 */
function mqttOptions(m: MqttConfig, log: (line: string) => void): MqttPublisherOptions {
  const url = new URL(m.url); // the config checked it parses
  const decode = (s: string): string => { try { return decodeURIComponent(s); } catch { return s; } };
  const username = decode(url.username), password = decode(url.password);
  url.username = '';
  url.password = '';
  return {
    url: url.toString(), topicPrefix: m.topicPrefix, qos: m.qos, maxQueue: m.maxQueue, log,
    ...(username ? { username } : {}), ...(password ? { password } : {}),
  };
}

/** Plain frame fields: what outputs get of an EnhancedFrame, so no sink holds on to raw bytes. */
const plainFrame = (f: Frame): Frame => ({ camera: f.camera, seq: f.seq, ptsMs: f.ptsMs, width: f.width, height: f.height, data: f.data });

export class PieApp {
  private readonly subs = new Subscription();
  private closed = false;
  private readonly startedAt = Date.now();

  private constructor(
    readonly server: PieHttpServer,
    private readonly cameras: ReadonlyMap<string, CameraRuntime>,
    private readonly enhancers: Map<string, EnhancerEntry>,
    readonly drops: DropCounter,
    readonly metrics: PieMetrics,
    private readonly dataDir: { path: string; owned: boolean },
    private readonly config: PieConfig,
    /** Folders a model named through the API may come from. */
    private readonly modelRoots: readonly string[],
    /** Applies region-cached curves; present when enhance.regionCache is enabled. */
    private readonly applier: CurveApplier | undefined,
    private readonly detection: Detection | undefined,
    private readonly log: (line: string) => void,
  ) {}

  get url(): string { return this.server.url; }

  /** The URLs to open, per camera. */
  urls(): Array<{ camera: string; kind: string; url: string }> {
    const out: Array<{ camera: string; kind: string; url: string }> = [];
    const ws = this.url.replace(/^http/, 'ws');
    for (const [name, c] of this.cameras) {
      for (const v of c.hls.keys()) out.push({ camera: name, kind: `HLS ${v}`, url: `${this.url}/hls/${name}/${v}/index.m3u8` });
      for (const v of c.live.keys()) out.push({ camera: name, kind: `WebSocket ${v} (JSMpeg)`, url: `${ws}/ws/${name}/${v}` });
    }
    return out;
  }

  status(): AppStatus {
    const dropped = this.drops.snapshot();
    return {
      cameras: [...this.cameras.values()].map((c): CameraInfo => {
        const s = c.source.status();
        const e = this.entryOf(c);
        return {
          camera: s.camera, input: s.input, state: s.state, fpsIn: s.fpsIn, framesTotal: s.framesTotal, restarts: s.restarts,
          lastError: s.lastError, lastFrameAtMs: s.lastFrameAtMs, nextRetryAtMs: s.nextRetryAtMs,
          framesProcessed: c.processed,
          latencyMs: Math.round(c.lastLatencyMs),
          dropped: dropped[c.config.name] ?? {},
          width: c.config.width, height: c.config.height, fps: c.config.fps,
          streams: { websocket: [...c.live.keys()], hls: [...c.hls.keys()] },
          provider: e.enhancer.provider,
          model: e.info,
          mode: c.tone.mono ? 'ir' : 'colour',
          exposure: c.tone.next().exposureState ?? null,
        };
      }),
      enhancer: [...this.enhancers.values()].map((e) => e.enhancer.describe()).join(' | '),
    };
  }

  health(): Health {
    return { status: 'ok', cameras: [...this.cameras.values()].map((c) => ({ name: c.config.name, state: c.source.status().state })) };
  }

  /** GET /api/stats: Frigate's per-camera figures over the last 5 s. */
  stats(): StatsResponse {
    const t = nowMs();
    const d = this.detection;
    const dropped = this.drops.snapshot();
    const round = (x: number): number => Math.round(x * 100) / 100;
    const ms = (l: LatencyWindow): StatsResponse['enhancers'][number]['inference_ms'] => {
      const s = l.summary();
      return { last: round(s.last), p50: round(s.p50), p95: round(s.p95) };
    };
    const cameras: StatsResponse['cameras'] = {};
    const detectDropped = d?.drops.snapshot() ?? {};
    let detection = 0;
    for (const c of this.cameras.values()) {
      const s = c.source.status();
      const e = this.entryOf(c);
      const detectionFps = round(c.detectionRate.rate(t));
      detection += detectionFps;
      cameras[c.config.name] = {
        camera_fps: round(s.fpsIn), process_fps: round(c.processRate.rate(t)), skipped_fps: round(c.skipRate.rate(t)), detection_fps: detectionFps,
        latency_ms: ms(c.latency), state: s.state, restarts: s.restarts, dropped: dropped[c.config.name] ?? {},
        detection_dropped: detectDropped[c.config.name] ?? {},
        provider: e.enhancer.provider, model: e.info.name,
      };
    }
    return {
      cameras,
      detection_fps: round(detection),
      enhancers: [...this.enhancers.values()].map((e) => ({
        model: e.info.path, provider: e.enhancer.provider, batches: e.batches, inference_ms: ms(e.inference),
        cameras: [...this.cameras.values()].filter((c) => c.modelKey === e.key).map((c) => c.config.name),
      })),
      detector: d ? { model: d.detector.model, on: d.config.on, provider: d.detector.provider, runs: d.runs, inference_ms: ms(d.inference) } : null,
      mqtt: d?.mqtt ? d.mqtt.status() : null,
      service: { version: VERSION, uptime_s: Math.round((Date.now() - this.startedAt) / 1000), started_at: new Date(this.startedAt).toISOString() },
    };
  }

  /**
   * Sends a detection event to the viewers (/ws/<camera>/events, /ws/events) and counts it for
   * detection_fps. Boxes are in the camera's processing pixels. Throws on an unknown camera or an
   * event that does not fit the schema (src/output/events.ts).
   */
  publishEvent(camera: string, event: Omit<DetectionEvent, 'camera'> & { readonly camera?: string }): void {
    const c = this.cameras.get(camera);
    if (!c) throw new RangeError(`publishEvent: no camera ${JSON.stringify(camera)}`);
    if (event.camera !== undefined && event.camera !== camera) throw new RangeError(`publishEvent: the event names camera ${event.camera}, not ${camera}`);
    this.server.events.publish({ ...event, camera });
    c.detectionRate.add(nowMs());
    this.metrics.detectionEvent(camera);
  }

  /** The newest frame of a camera as JPEG; null before the first one. One encode per frame, however many ask. */
  snapshot(camera: string, variant: Variant): Promise<Uint8Array | null> {
    const c = this.cameras.get(camera);
    const f = c?.latest[variant];
    if (!c || !f) return Promise.resolve(null);
    const cached = c.jpeg[variant];
    if (cached && cached.seq === f.seq) return cached.bytes;
    const bytes = encodeImage({ width: f.width, height: f.height, data: f.data }, 'snapshot.jpg');
    c.jpeg[variant] = { seq: f.seq, bytes };
    return bytes;
  }

  /** GET /api/cameras/<camera>/faces/latest: the newest detection with faces; null before the first. */
  latestFaces(camera: string): FaceEventJson | null {
    if (!this.detection) throw new ApiError(404, 'face detection is off', 'set detect.enabled: true in the config');
    return this.cameras.get(camera)?.faces?.event ?? null;
  }

  /** GET /api/cameras/<camera>/faces/latest.jpg: that detection's enhanced frame with its boxes, encoded once. */
  latestFacesJpeg(camera: string): Promise<Uint8Array | null> {
    const s = this.cameras.get(camera)?.faces;
    if (!s) return Promise.resolve(null);
    s.jpeg ??= encodeImage(drawFaces(s.frame, s.faces), 'faces.jpg');
    return s.jpeg;
  }

  /**
   * Moves a camera to another model without touching its streams: the model is checked (inside the
   * model folders, a DCE-Net), opened and warmed up while the old one keeps working, then the
   * camera's model reference is swapped; the old enhancer is closed once no camera and no running
   * batch uses it.
   */
  switchModel(camera: string, requested: string): Promise<ModelSwitchResponse> {
    const c = this.cameras.get(camera);
    if (!c) return Promise.reject(new ApiError(404, `no camera ${JSON.stringify(camera)}`));
    // A load that hangs (a slow disk, a huge graph) must not hold this camera's switch queue for ever.
    const run = c.switching.then(async () => {
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new ApiError(504, `loading ${JSON.stringify(requested)} took over ${MODEL_SWITCH_TIMEOUT_MS / 1000} s; camera ${camera} keeps its model`, 'check the model file and the disk; try again'));
        }, MODEL_SWITCH_TIMEOUT_MS);
      });
      try {
        return await Promise.race([this.doSwitch(c, requested, abort.signal), late]);
      } finally {
        clearTimeout(timer);
      }
    });
    c.switching = run.catch(() => {});
    return run;
  }

  private async doSwitch(c: CameraRuntime, requested: string, signal: AbortSignal): Promise<ModelSwitchResponse> {
    const t0 = performance.now();
    if (this.closed) throw new ApiError(503, 'pie-stream is shutting down');
    const file = await resolveModelPath(requested, this.modelRoots);
    const info = await readModelInfo(file, requested);
    const previous = this.entryOf(c);
    let entry = this.enhancers.get(file);
    if (!entry) {
      const enhancer = await Enhancer.open(enhancerOptions(this.config, file));
      // Warm-up: the first run of a session is slow; let it happen here, not on a live frame.
      const blank = [{ width: c.config.width, height: c.config.height, data: new Uint8Array(c.config.width * c.config.height * 3) }];
      await (enhancer.curvesOutput === 'only' ? enhancer.estimateCurves(blank) : enhancer.enhance(blank));
      if (this.closed) { await enhancer.close(); throw new ApiError(503, 'pie-stream is shutting down'); }
      if (signal.aborted) { await enhancer.close(); throw new ApiError(504, 'model load timed out'); }
      entry = { key: file, enhancer, info, running: 0, retired: false, batches: 0, inference: new LatencyWindow() };
      this.enhancers.set(file, entry);
    }
    if (signal.aborted) throw new ApiError(504, 'model load timed out');
    c.modelKey = entry.key;
    c.cache = undefined; // the old model's smoothed curves must not leak into the new one's
    c.tone.reset();
    this.retireUnused();
    this.metrics.modelSwitched(c.config.name);
    return { camera: c.config.name, model: entry.info, previous: previous.info, provider: entry.enhancer.provider, switchMs: Math.round(performance.now() - t0) };
  }

  private entryOf(c: CameraRuntime): EnhancerEntry {
    return this.enhancers.get(c.modelKey)!;
  }

  private retireUnused(): void {
    const used = new Set([...this.cameras.values()].map((c) => c.modelKey));
    for (const [key, e] of this.enhancers) {
      if (used.has(key)) continue;
      this.enhancers.delete(key);
      e.retired = true;
      if (e.running === 0) void e.enhancer.close();
    }
  }

  /** Runs a batch on each frame's camera's current enhancer (a switch may land between batching and running). */
  private async enhanceFrames(frames: readonly Frame[]): Promise<EnhancedFrame[]> {
    const groups = new Map<EnhancerEntry, Frame[]>();
    for (const f of frames) {
      const e = this.entryOf(this.cameras.get(f.camera)!);
      const g = groups.get(e);
      if (g) g.push(f); else groups.set(e, [f]);
    }
    // Marked running before any await, so a switch meanwhile cannot close an enhancer this batch still needs.
    for (const e of groups.keys()) e.running++;
    const out = new Map<Frame, EnhancedFrame>();
    try {
      for (const [e, fs] of groups) {
        const t0 = performance.now();
        const cams = fs.map((f) => this.cameras.get(f.camera)!);
        const tones = cams.map((c) => c.tone.next());
        const r = this.applier ? await this.enhanceCached(e.enhancer, this.applier, fs, tones) : await e.enhancer.enhance(fs, tones);
        const ms = performance.now() - t0;
        r.tone.forEach((t, i) => this.toneObserved(cams[i]!, t));
        e.batches++;
        e.inference.add(ms);
        this.metrics.batch(e.info.name, fs.length, ms);
        fs.forEach((f, i) => out.set(f, { ...plainFrame(f), data: r.frames[i]!.data, raw: f.data }));
      }
    } finally {
      for (const e of groups.keys()) {
        e.running--;
        if (e.retired && e.running === 0) void e.enhancer.close();
      }
    }
    return frames.map((f) => out.get(f)!);
  }

  /**
   * The region-cache path: curves only from the enhancer, each frame's maps pooled per region and
   * smoothed over time by its camera's cache (a batch may mix cameras), then applied in one run.
   */
  /** A camera's frame came back: carry its exposure; an IR switch invalidates its temporal state. */
  private toneObserved(c: CameraRuntime, t: ToneResult): void {
    const change = c.tone.observe(t);
    if (!change) return;
    c.cache = undefined;
    this.log(`${c.config.name}: ${change === 'mono-on' ? 'monochrome (IR) frames: luminance-only enhancement' : 'colour frames again: colour enhancement'}`);
  }

  private async enhanceCached(enhancer: Enhancer, applier: CurveApplier, frames: readonly Frame[], tones: readonly FrameTone[]): Promise<EnhancedBatch> {
    const curves = await enhancer.estimateCurves(frames);
    const [n, ch, h, w] = curves.dims;
    const per = ch * h * w, smoothed = new Float32Array(n * per);
    const rc = this.config.enhance.regionCache;
    frames.forEach((f, i) => {
      const cam = this.cameras.get(f.camera)!;
      cam.cache ??= new RegionCache({ downscale: this.config.enhance.downscale, alpha: rc.alpha, mix: rc.mix, refreshEvery: rc.refreshEvery });
      smoothed.set(cam.cache.update(f, { dims: [ch, h, w], data: curves.data.subarray(i * per, (i + 1) * per) }).data, i * per);
    });
    return applier.applyWithTone(frames, { data: smoothed, dims: curves.dims }, tones);
  }

  static async start(config: PieConfig, o: AppOptions): Promise<PieApp> {
    const log = o.log ?? (() => {});
    const owned = !o.dataDir;
    const dataDir = o.dataDir ?? makeDataDir(os.tmpdir(), log);
    const modelOf = (c: CameraConfig): string => c.model ?? config.enhance.model ?? DEFAULT_MODEL_PATH;

    // One enhancer per distinct model, shared by the cameras that use it.
    const enhancers = new Map<string, EnhancerEntry>();
    let applier: CurveApplier | undefined;
    let detector: FaceDetector | undefined;
    const closeEnhancers = (): Promise<unknown> => Promise.all([...[...enhancers.values()].map((x) => x.enhancer.close()), applier?.close(), detector?.close()]);
    try {
      for (const c of config.cameras) {
        const key = modelKeyOf(modelOf(c));
        if (!enhancers.has(key)) {
          const e = await Enhancer.open(enhancerOptions(config, key));
          enhancers.set(key, { key, enhancer: e, info: await readModelInfo(key, c.model ?? config.enhance.model ?? shownPath(key)), running: 0, retired: false, batches: 0, inference: new LatencyWindow() });
          log(e.describe());
        }
        // Refused at start, not on the camera's first frame.
        enhancers.get(key)!.enhancer.checkFits(c.width, c.height, `camera "${c.name}"`);
      }
      const rc = config.enhance.regionCache;
      if (rc.enabled) {
        const e = config.enhance;
        applier = await CurveApplier.open({ downscale: e.downscale, provider: e.provider, spin: false, ...toneOptions(config) });
        log(`region cache on: alpha ${rc.alpha}, mix ${rc.mix}, re-segment every ${rc.refreshEvery} frames; ${applier.describe()}`);
      }
      const d = config.detect;
      if (d.enabled) {
        // One detector for every camera: detectAt batches their frames into shared model runs.
        detector = await FaceDetector.open({ model: d.model, scoreThreshold: d.threshold, provider: config.enhance.provider, ...(d.tiling ? {} : { tiling: false }) });
        log(`face detection on ${d.on} frames at ${d.fps} fps${d.tiling ? ', tiled' : ''}: ${detector.describe()}`);
      }
    } catch (e) {
      await closeEnhancers();
      throw e;
    }
    const modelRoots = [...new Set([path.dirname(DEFAULT_MODEL_PATH), path.resolve('models'), ...[...enhancers.keys()].map((k) => path.dirname(k))])];

    const drops = new DropCounter();
    const cameras = new Map<string, CameraRuntime>();
    const appRef: { app?: PieApp } = {};
    let server: PieHttpServer;
    let mqtt: MqttFacePublisher | undefined;
    const started: FrameSink[] = [];
    const track = <S extends FrameSink>(sink: S): S => { started.push(sink); return sink; };
    try {
      for (const c of config.cameras) {
        const hls = new Map<Variant, FrameSink>();
        const live = new Map<Variant, LiveSink>();
        for (const v of c.outputs.hls) hls.set(v, track(await o.sinks.hls(c, v, path.join(dataDir, c.name, v), drops)));
        for (const v of c.outputs.websocket) live.set(v, track(await o.sinks.live(c, v, drops)));
        const source = new CameraSource({ name: c.name, input: c.input, width: c.width, height: c.height, fps: c.fps, log: (l) => log(`[${c.name}] ${l}`) });
        cameras.set(c.name, {
          config: c, source, hls, live, modelKey: modelKeyOf(modelOf(c)), processed: 0, lastLatencyMs: 0, tone: new CameraTone(config.enhance.mono),
          latency: new LatencyWindow(), processRate: new RateMeter(), skipRate: new RateMeter(), detectionRate: new RateMeter(),
          latest: {}, jpeg: {}, switching: Promise.resolve(), detecting: new Map(),
        });
      }

      // The app exists only once the server has started; until then the API has nothing to say.
      const app = (): PieApp => {
        if (!appRef.app) throw new ApiError(503, 'pie-stream is starting');
        return appRef.app;
      };
      server = await PieHttpServer.start({
        host: config.server.host, port: config.server.port, ...(config.server.token ? { token: config.server.token } : {}),
        hlsRoot: dataDir,
        ...(o.limits ? { limits: o.limits } : {}),
        cameras: () => [...cameras.keys()],
        health: () => app().health(),
        status: () => app().status(),
        stats: () => app().stats(),
        metrics: async () => ({ contentType: app().metrics.contentType, body: await app().metrics.render() }),
        switchModel: (camera, req) => app().switchModel(camera, req.path),
        snapshot: (camera, variant) => app().snapshot(camera, variant),
        latestFaces: (camera) => app().latestFaces(camera),
        latestFacesJpeg: (camera) => app().latestFacesJpeg(camera),
        hasStream: (camera, variant) => Boolean(cameras.get(camera)?.live.has(variant as Variant)),
        attach: (camera, variant, ws) => {
          const s = cameras.get(camera)?.live.get(variant as Variant);
          if (!s) return false;
          s.attach(ws);
          return true;
        },
      });
      if (config.mqtt && detector) {
        // Connects in the background: events wait in its bounded queue until the broker answers.
        mqtt = new MqttFacePublisher(mqttOptions(config.mqtt, log));
        log(`mqtt: face events to ${redact(config.mqtt.url)} on ${config.mqtt.topicPrefix}/<camera>/faces`);
      } else if (config.mqtt) {
        log('mqtt: not connecting: detect.enabled is false, so there are no face events to send');
      }
    } catch (e) {
      // Whatever started before the failure (encoders are ffmpeg processes) must not outlive it.
      await Promise.all(started.map((x) => x.close()));
      await closeEnhancers();
      if (owned) fs.rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
    const metrics = new PieMetrics({
      cameras: () => [...cameras.values()].map((c) => {
        const s = c.source.status();
        const t = nowMs();
        return { camera: c.config.name, online: s.state === 'online', cameraFps: s.fpsIn, processFps: c.processRate.rate(t), skippedFps: c.skipRate.rate(t),
          detectionFps: c.detectionRate.rate(t), framesIn: s.framesTotal, restarts: s.restarts };
      }),
      liveClients: () => [...cameras.values()].flatMap((c) => [...c.live].map(([variant, s]) => ({ camera: c.config.name, variant, clients: s.stats?.().clients ?? 0 }))),
    });
    drops.onDrop((d) => {
      cameras.get(d.camera)?.skipRate.add(nowMs(), d.count);
      metrics.drop(d.camera, d.reason, d.count);
    });
    const detection: Detection | undefined = detector && {
      config: config.detect, detector, ...(mqtt ? { mqtt } : {}), drops: new DropCounter(), inference: new LatencyWindow(), runs: 0, running: new Set(),
    };
    const app = new PieApp(server, cameras, enhancers, drops, metrics, { path: dataDir, owned }, config, modelRoots, applier, detection, log);
    appRef.app = app;
    app.wire(config);
    for (const c of cameras.values()) c.source.start();
    return app;
  }

  /** The RxJS part: raw fan-out, cross-camera batching, enhancement with newest-wins backpressure, detection. */
  private wire(config: PieConfig): void {
    const sources = [...this.cameras.values()];
    for (const c of sources) {
      // Every camera keeps its newest raw frame for snapshots, whether or not a raw output exists.
      this.subs.add(c.source.frames$.subscribe((f) => {
        c.latest.raw = f;
        c.hls.get('raw')?.write(f);
        c.live.get('raw')?.write(f);
      }));
    }
    const d = this.detection;
    const shown = (c: CameraRuntime): boolean => c.hls.has('enhanced') || c.live.has('enhanced');
    // Detection looks at enhanced frames, so with it on every camera is enhanced; one whose enhanced
    // frames nobody watches only at detect.fps (what detectAt would keep of them anyway).
    const feed = (c: CameraRuntime): Observable<Frame> => (d && !shown(c) ? c.source.frames$.pipe(sampleFps(d.config.fps, d.drops)) : c.source.frames$);
    const wantsEnhanced = d ? sources : sources.filter(shown);
    if (wantsEnhanced.length === 0) return;
    const frames$: Observable<Frame> = merge(...wantsEnhanced.map(feed));
    const enhance = (batch: Batch<Frame>): Observable<EnhancedFrame[]> => from(this.enhanceFrames(batch.frames));
    // The detector's own feed: a failing detector restarts its side alone, never the streams.
    const toDetect = new Subject<EnhancedFrame>();
    this.subs.add(frames$.pipe(
      batchFrames<Frame>({ maxSize: config.enhance.batch.maxSize, maxWaitMs: config.enhance.batch.maxWaitMs, groupBy: (f) => this.cameras.get(f.camera)!.modelKey }),
      latestWins(enhance, { drops: this.drops, concurrency: 1, reason: 'busy' }),
    ).subscribe({
      next: (frames) => {
        const now = nowMs();
        for (const f of frames) {
          const c = this.cameras.get(f.camera)!;
          c.processed++;
          c.lastLatencyMs = now - f.ptsMs;
          c.latency.add(c.lastLatencyMs);
          c.processRate.add(now);
          const out = this.withBoxes(c, plainFrame(f));
          c.latest.enhanced = out;
          this.metrics.frameProcessed(f.camera, c.lastLatencyMs);
          c.hls.get('enhanced')?.write(out);
          c.live.get('enhanced')?.write(out);
          if (d) toDetect.next(f); // without boxes: the detector must not see its own drawings
        }
      },
      error: (e: unknown) => { console.error(redact(`pipeline stopped: ${e instanceof Error ? e.message : String(e)}`)); },
    }));
    if (!d) return;
    this.subs.add(toDetect.pipe(
      // The enhancer's batching settings serve here too: sampled frames of several cameras share a detector call.
      detectAt(d.config.fps, (frames: readonly EnhancedFrame[]) => this.detectFrames(d, frames), { drops: d.drops, batch: config.enhance.batch }),
      retry({
        resetOnSuccess: true,
        delay: (e: unknown, n: number) => {
          const waitMs = Math.min(60_000, 1000 * 2 ** (n - 1));
          this.log(redact(`face detection failed (${e instanceof Error ? e.message : String(e)}); again in ${waitMs / 1000} s`));
          return timer(waitMs);
        },
      }),
    ).subscribe((e) => {
      // An event that cannot be sent must not end detection (a throw here would reach RxJS's global handler).
      try { this.onFaces(d, e); } catch (err) { this.log(redact(`face event of ${e.camera} not sent: ${err instanceof Error ? err.message : String(err)}`)); }
    }));
  }

  /** One detector call on frames of several cameras, along the configured path (raw, enhanced or fused). */
  private async detectFrames(d: Detection, frames: readonly EnhancedFrame[]): Promise<Face[][]> {
    const t0 = performance.now();
    const run = detectAlong(d.detector, frames.map((f) => ({ raw: { width: f.width, height: f.height, data: f.raw }, enhanced: f })), { on: d.config.on });
    d.running.add(run);
    try {
      const faces = await run;
      d.runs++;
      d.inference.add(performance.now() - t0);
      // Their events come out of detectAt next; onFaces takes the frame back for the snapshot.
      for (const f of frames) this.cameras.get(f.camera)!.detecting.set(f.seq, plainFrame(f));
      return faces;
    } finally {
      d.running.delete(run);
    }
  }

  /** A detection: to the viewers (and detection_fps), MQTT, and the camera's latest snapshot and boxes. */
  private onFaces(d: Detection, e: FaceEvent): void {
    const c = this.cameras.get(e.camera)!;
    const frame = c.detecting.get(e.seq);
    // Older entries too: a retry between a call and its events would otherwise leave them behind.
    for (const seq of c.detecting.keys()) if (seq <= e.seq) c.detecting.delete(seq);
    const json = faceEventJson(e);
    const hadFaces = (c.lastDetection?.faces.length ?? 0) > 0;
    c.lastDetection = e;
    if (e.faces.length > 0 && frame) c.faces = { event: json, faces: e.faces, frame };
    // MQTT gets frames with faces and the first empty one after them (it clears a consumer's boxes):
    // an empty event for every detected frame would be 5 messages a second per camera of nothing.
    if (d.mqtt && (e.faces.length > 0 || hadFaces)) d.mqtt.publish(e);
    this.publishEvent(e.camera, { seq: json.seq, ts: json.ts, faces: json.faces.map((f) => ({ ...f, keypoints: [...f.keypoints] })) });
  }

  /**
   * With detect.drawBoxes, the camera's newest detection drawn onto a copy of the frame (drawFaces
   * copies: the frame's buffer is shared with the detector and snapshots). Boxes older than a few
   * detection intervals are left off, so a stalled detector leaves no ghosts behind.
   */
  private withBoxes(c: CameraRuntime, f: Frame): Frame {
    const d = this.detection, last = c.lastDetection;
    if (!d?.config.drawBoxes || !last || last.faces.length === 0) return f;
    if (f.ptsMs - last.ts > Math.max(1000, 3000 / d.config.fps)) return f;
    return { ...f, data: drawFaces(f, last.faces).data };
  }

  /** Stops cameras, outputs, server and sessions; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subs.unsubscribe();
    await Promise.all([...this.cameras.values()].map((c) => c.source.stop()));
    await Promise.all([...this.cameras.values()].flatMap((c) => [...c.hls.values(), ...c.live.values()].map((s) => s.close())));
    await this.server.close();
    if (this.detection) {
      // A detector call still running holds the session: let it end (its result is ignored) before releasing it.
      await Promise.allSettled([...this.detection.running]);
      await this.detection.detector.close();
      await this.detection.mqtt?.close();
    }
    await Promise.all([...this.enhancers.values()].map((e) => e.enhancer.close()));
    await this.applier?.close();
    this.metrics.registry.clear();
    if (this.dataDir.owned) fs.rmSync(this.dataDir.path, { recursive: true, force: true });
  }
}
