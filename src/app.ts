// The live pipeline, composed in the order a frame travels; each stage lives in its own file:
//   ingest     cameras, one supervised ffmpeg each (src/ingest/camera-source.ts), their runtime
//              records (src/ingest/camera-runtime.ts) ─▶ raw outputs
//   pipeline   cross-camera batches (batchFrames), newest batch wins while the workers are busy (latestWins)
//   enhance    enhancement in worker threads, model switches (src/enhance/live-enhancers.ts) ─▶ enhanced outputs
//   detect     face detection in its own worker (src/detect/live-detection.ts) ─▶ events: viewers, MQTT, snapshot
//   output     HTTP server, snapshots (src/output/snapshots.ts), status and stats (src/output/live-status.ts)
// Inference runs in src/workers/ (InferencePool, sized by start-pools.ts): this thread reads cameras, writes encoders and
// answers HTTP, and a slow or failing worker costs counted drops, never a camera's ingest.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { from, merge, Subject, Subscription, tap, type Observable } from 'rxjs';
import type { MqttConfig, PieConfig, Variant } from './config/schema.js';
import { LiveDetection } from './detect/live-detection.js';
import { LiveEnhancers, modelKeyOf, plainFrame, type EnhancedFrame } from './enhance/live-enhancers.js';
import { cameraRuntime, keepLatest, writeOutputs, type CameraRuntime } from './ingest/camera-runtime.js';
import { CameraSource } from './ingest/camera-source.js';
import type { Frame } from './ingest/frame.js';
import { releaseFrame, retainFrame } from './ingest/frame-store.js';
import { redact } from './ingest/redact.js';
import { ApiError, type CamerasResponse, type Health, type ModelSwitchResponse, type StatsResponse } from './output/api.js';
import type { FaceEventJson } from './detect/event.js';
import type { DetectionEvent } from './output/events.js';
import { makeDataDir } from './output/data-dir.js';
import { PieHttpServer, type ServerLimits } from './output/http-server.js';
import { camerasStatus, health, liveMetrics, nowMs, stats, type LiveView } from './output/live-status.js';
import type { PieMetrics } from './output/metrics.js';
import { MqttFacePublisher, type MqttPublisherOptions } from './output/mqtt.js';
import type { FaceEventSink, FrameSink, LiveSink, SinkFactory } from './output/sinks.js';
import { facesJpeg, snapshotJpeg } from './output/snapshots.js';
import { batchFrames, type Batch } from './pipeline/batchFrames.js';
import { DropCounter } from './pipeline/dropCounter.js';
import { latestWins } from './pipeline/latestWins.js';
import { inOrder } from './pipeline/inOrder.js';
import { sampleFps } from './pipeline/sampleFps.js';
import { startPools, type StartPoolsOptions } from './workers/start-pools.js';

export type { FaceEventSink, FrameSink, LiveSink, SinkFactory } from './output/sinks.js';
export { MODEL_SWITCH_TIMEOUT_MS } from './enhance/live-enhancers.js';

export interface AppOptions extends StartPoolsOptions {
  readonly sinks: SinkFactory;
  /** HLS folders go here (default: a fresh temp folder, removed on close). */
  readonly dataDir?: string;
  readonly log?: (line: string) => void;
  /** The HTTP server's bounds; default DEFAULT_LIMITS (src/output/http-server.ts). */
  readonly limits?: Partial<ServerLimits>;
  /** Face events to a bus too (cluster mode); they go out under the same rule as MQTT's. */
  readonly faceEvents?: FaceEventSink;
}

/** GET /api/cameras. */
export type AppStatus = CamerasResponse;

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

export class PieApp {
  private readonly subs = new Subscription();
  private closed = false;

  private constructor(
    readonly server: PieHttpServer,
    private readonly view: LiveView,
    readonly metrics: PieMetrics,
    private readonly dataDir: { path: string; owned: boolean },
    private readonly config: PieConfig,
  ) {}

  get url(): string { return this.server.url; }
  get drops(): DropCounter { return this.view.drops; }
  private get cameras(): ReadonlyMap<string, CameraRuntime> { return this.view.cameras; }

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

  status(): AppStatus { return camerasStatus(this.view); }
  health(): Health { return health(this.view); }
  stats(): StatsResponse { return stats(this.view); }

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

  snapshot(camera: string, variant: Variant): Promise<Uint8Array | null> {
    const c = this.cameras.get(camera);
    return c ? snapshotJpeg(c, variant) : Promise.resolve(null);
  }

  /** GET /api/cameras/<camera>/faces/latest: the newest detection with faces; null before the first. */
  latestFaces(camera: string): FaceEventJson | null {
    if (!this.view.detection) throw new ApiError(404, 'face detection is off', 'set detect.enabled: true in the config');
    return this.cameras.get(camera)?.faces?.event ?? null;
  }

  latestFacesJpeg(camera: string): Promise<Uint8Array | null> {
    const c = this.cameras.get(camera);
    return c ? facesJpeg(c) : Promise.resolve(null);
  }

  switchModel(camera: string, requested: string): Promise<ModelSwitchResponse> {
    const c = this.cameras.get(camera);
    if (!c) return Promise.reject(new ApiError(404, `no camera ${JSON.stringify(camera)}`));
    return this.view.enhancers.switchModel(c, requested, () => this.closed);
  }

  static async start(config: PieConfig, o: AppOptions): Promise<PieApp> {
    const log = o.log ?? (() => {});
    const owned = !o.dataDir;
    const dataDir = o.dataDir ?? makeDataDir(os.tmpdir(), log);
    const startedAt = Date.now();
    const drops = new DropCounter();
    const cameras = new Map<string, CameraRuntime>();
    const metrics = liveMetrics(cameras);

    // Inference first: a bad model fails the start before any encoder runs.
    const pools = await startPools(config, o, log);
    let enhancers: LiveEnhancers;
    let detection: LiveDetection | undefined;
    try {
      enhancers = await LiveEnhancers.open(pools.enhance, config, cameras, drops, metrics, log);
      if (pools.detect) detection = await LiveDetection.open(pools.detect, config.detect, config.enhance.provider, cameras, log);
    } catch (e) {
      await Promise.all([pools.enhance.close(), pools.detect?.close()]);
      throw e;
    }

    const appRef: { app?: PieApp } = {};
    let server: PieHttpServer;
    const started: FrameSink[] = [];
    const track = <S extends FrameSink>(sink: S): S => { started.push(sink); return sink; };
    try {
      for (const c of config.cameras) {
        const hls = new Map<Variant, FrameSink>();
        const live = new Map<Variant, LiveSink>();
        for (const v of c.outputs.hls) hls.set(v, track(await o.sinks.hls(c, v, path.join(dataDir, c.name, v), drops)));
        for (const v of c.outputs.websocket) live.set(v, track(await o.sinks.live(c, v, drops)));
        // releaseDelivered: every stage below retains the pixels it keeps (wire()), so frame slots come back without the collector.
        const source = new CameraSource({ name: c.name, input: c.input, width: c.width, height: c.height, fps: c.fps, releaseDelivered: true, log: (l) => log(`[${c.name}] ${l}`) });
        cameras.set(c.name, cameraRuntime(c, source, hls, live, modelKeyOf(LiveEnhancers.modelOf(config, c)), config.enhance.mono));
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
      if (detection && o.faceEvents) detection.bus = o.faceEvents;
      if (config.mqtt && detection) {
        // Connects in the background: events wait in its bounded queue until the broker answers.
        detection.mqtt = new MqttFacePublisher(mqttOptions(config.mqtt, log));
        log(`mqtt: face events to ${redact(config.mqtt.url)} on ${config.mqtt.topicPrefix}/<camera>/faces`);
      } else if (config.mqtt) {
        log('mqtt: not connecting: detect.enabled is false, so there are no face events to send');
      }
    } catch (e) {
      // Whatever started before the failure (encoders are ffmpeg processes) must not outlive it.
      await Promise.all(started.map((x) => x.close()));
      await Promise.all([pools.enhance.close(), pools.detect?.close()]);
      if (owned) fs.rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
    const view: LiveView = { cameras, enhancers, detection, get mqtt() { return detection?.mqtt; }, drops, pools, startedAt };
    const app = new PieApp(server, view, metrics, { path: dataDir, owned }, config);
    appRef.app = app;
    app.wire();
    for (const c of cameras.values()) c.source.start();
    return app;
  }

  /** The RxJS part, in frame order: raw fan-out, batches, enhancement (newest wins while busy), enhanced fan-out, detection. */
  private wire(): void {
    const { enhancers, detection: d, drops } = this.view;
    const config = this.config;
    const sources = [...this.cameras.values()];
    const shown = (c: CameraRuntime): boolean => c.hls.has('enhanced') || c.live.has('enhanced');
    // Detection looks at enhanced frames, so with it on every camera is enhanced.
    const enhanced = new Set(d ? sources : sources.filter(shown));

    // Drops feed the figures and the stall judgement (busy: inference behind; encoder: an output behind).
    this.subs.add(drops.onDrop((e) => {
      const c = this.cameras.get(e.camera);
      const t = nowMs();
      c?.skipRate.add(t, e.count);
      if (c && e.reason === 'busy') c.flow.busyDropAt = t;
      if (c && e.reason === 'encoder') c.flow.encoderDropAt = t;
      this.metrics.drop(e.camera, e.reason, e.count);
    }));

    // 1. Ingest: every camera keeps its newest raw frame for snapshots, whether or not a raw output exists.
    for (const c of sources) {
      let wasOnline = false;
      this.subs.add(c.source.status$.subscribe((s) => {
        // Online again after a restart: the per-camera state in the workers (denoiser, region cache) starts afresh.
        if (s.state === 'online' && c.flow.onlineSince === null && wasOnline) enhancers.restarted(c);
        if (s.state === 'online') wasOnline = true;
        c.flow.onlineSince = s.state === 'online' ? (c.flow.onlineSince ?? nowMs()) : null;
      }));
      this.subs.add(c.source.frames$.subscribe((f) => {
        const t = nowMs();
        keepLatest(c, 'raw', f);
        if (!enhanced.has(c)) c.flow.processedAt = t; // nothing to process: a raw frame is the delivery
        writeOutputs(c, 'raw', f, t);
      }));
    }
    if (enhanced.size === 0) return;

    // 2. Batches across cameras; one whose enhanced frames nobody watches only at detect.fps
    //    (what detection would keep of them anyway).
    //    A frame taken into a batch is held (retainFrame) until it is dropped or its batch is done.
    const feed = (c: CameraRuntime): Observable<Frame> => (d && !shown(c) ? c.source.frames$.pipe(sampleFps(d.config.fps, d.drops)) : c.source.frames$);
    const frames$: Observable<Frame> = merge(...[...enhanced].map(feed)).pipe(tap((f) => retainFrame(f.data)));
    const giveBack = (batch: Batch<Frame>): void => { for (const f of batch.frames) releaseFrame(f.data); };
    // 3. Enhancement in the workers: one batch in flight per worker, the newest `queue` waiting ones kept.
    //    An enhanced frame's `raw` (the camera's pixels, or its denoised frame) is the detector's: with
    //    detection on, the detection path holds it from here and gives it back (LiveDetection.events);
    //    without, nothing reads it and the camera's frame is given back now.
    const enhance = (batch: Batch<Frame>): Observable<EnhancedFrame[]> => from(enhancers.enhance(batch.frames).then((out) => {
      const carried = new Set(d ? out.map((e) => e.raw) : []);
      for (const f of batch.frames) if (!carried.has(f.data)) releaseFrame(f.data);
      return out;
    }, (e: unknown) => { giveBack(batch); throw e; }));
    // An enhanced frame's own pixels are given back after its fan-out (4.); whoever keeps them there holds them.
    const late = (e: EnhancedFrame): void => { releaseFrame(e.data); if (d) releaseFrame(e.raw); };
    // The detector's own feed: a failing detector restarts its side alone, never the streams.
    const toDetect = new Subject<EnhancedFrame>();
    this.subs.add(frames$.pipe(
      batchFrames<Frame>({ maxSize: config.enhance.batch.maxSize, maxWaitMs: config.enhance.batch.maxWaitMs, groupBy: (f) => this.cameras.get(f.camera)!.modelKey }),
      latestWins(enhance, { drops, concurrency: this.view.pools.enhance.o.size, reason: 'busy', queue: config.enhance.batch.queue, discard: giveBack }),
      // Two workers can finish a camera's frames out of order: a stale one is dropped, never shown.
      inOrder(drops, late),
    ).subscribe({
      // 4. Enhanced fan-out: figures, boxes, outputs, and the detector's feed.
      next: (frames) => {
        const now = nowMs();
        for (const f of frames) {
          const c = this.cameras.get(f.camera)!;
          c.processed++;
          c.lastLatencyMs = now - f.ptsMs;
          c.latency.add(c.lastLatencyMs);
          c.processRate.add(now);
          c.flow.processedAt = now;
          const out = d ? d.withBoxes(c, plainFrame(f)) : plainFrame(f);
          keepLatest(c, 'enhanced', out);
          this.metrics.frameProcessed(f.camera, c.lastLatencyMs);
          writeOutputs(c, 'enhanced', out, now);
          if (d) {
            retainFrame(f.data); // the detection path's, given back when it is done with the frame
            toDetect.next(f); // without boxes: the detector must not see its own drawings
          }
          releaseFrame(f.data);
        }
      },
      error: (e: unknown) => { console.error(redact(`pipeline stopped: ${e instanceof Error ? e.message : String(e)}`)); },
    }));
    if (!d) return;
    // 5. Detection in its own worker: a slow detector drops detection frames (counted), never stream frames.
    this.subs.add(toDetect.pipe(d.events(config.enhance.batch)).subscribe((e) => {
      // An event that cannot be sent must not end detection (a throw here would reach RxJS's global handler).
      try { d.onFaces(e, (camera, ev) => this.publishEvent(camera, ev)); } catch (err) { d.logFailure(`face event of ${e.camera} not sent: ${err instanceof Error ? err.message : String(err)}`); }
    }));
  }

  /** Stops cameras, outputs, server and workers; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subs.unsubscribe();
    await Promise.all([...this.cameras.values()].map((c) => c.source.stop()));
    await Promise.all([...this.cameras.values()].flatMap((c) => [...c.hls.values(), ...c.live.values()].map((s) => s.close())));
    await this.server.close();
    await this.view.detection?.close();
    // Each worker leaves after the run it is in (a run's result is then ignored).
    await Promise.all([this.view.pools.enhance.close(), this.view.pools.detect?.close()]);
    this.metrics.registry.clear();
    if (this.dataDir.owned) fs.rmSync(this.dataDir.path, { recursive: true, force: true });
  }
}
