// Prometheus metrics (prom-client) on a registry of this app's own, so several apps in one process
// (tests) never share or collide. Counters and histograms are fed as things happen; gauges and the
// counters that mirror a camera's own totals are read from the app when scraped. Metrics observe:
// nothing here steers the pipeline, and a failing source only leaves a gauge stale.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { frameStores, type FrameStoreStats } from '../ingest/frame-store.js';

export interface CameraMetricsSnapshot {
  readonly camera: string;
  readonly online: boolean;
  readonly cameraFps: number;
  readonly processFps: number;
  readonly skippedFps: number;
  readonly detectionFps: number;
  /** Monotonic totals kept by the camera; mirrored into counters by their increase. */
  readonly framesIn: number;
  readonly restarts: number;
  /** The denoiser's noise model of the camera (absent: denoise off, or not reported since a reset). */
  readonly noise?: { readonly gain: number; readonly read: number; readonly frames: number; readonly sceneCuts: number; readonly globalMoves: number };
}

export interface MetricsSource {
  cameras(): readonly CameraMetricsSnapshot[];
  liveClients(): ReadonlyArray<{ readonly camera: string; readonly variant: string; readonly clients: number }>;
}

/** Seconds; covers a fast GPU batch (ms) to a slow CPU 1080p one (seconds). */
const TIME_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64];

export class PieMetrics {
  readonly registry = new Registry();
  private readonly processed: Counter<'camera'>;
  private readonly dropped: Counter<'camera' | 'reason'>;
  private readonly switches: Counter<'camera'>;
  private readonly latency: Histogram<'camera'>;
  private readonly inference: Histogram<'model'>;
  private readonly batchSize: Histogram<'model'>;
  private readonly events: Counter<'camera'>;

  constructor(source: MetricsSource, o: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // Totals the cameras keep themselves become counters by their increase since the last scrape.
    const seen = new Map<string, number>();
    const mirror = <L extends string>(c: Counter<L>, key: string, labels: Record<L, string>, total: number): void => {
      const k = `${key}|${Object.values(labels).join('|')}`;
      const before = seen.get(k) ?? 0;
      if (total > before) c.inc(labels, total - before);
      else if (total === 0 && before === 0) c.inc(labels, 0); // present from the first scrape
      seen.set(k, Math.max(before, total));
    };
    // One read of the source per scrape, shared by every collector of that scrape.
    let snapshot: { at: number; cams: readonly CameraMetricsSnapshot[] } | undefined;
    const cams = (): readonly CameraMetricsSnapshot[] => {
      const now = Date.now();
      if (!snapshot || now - snapshot.at > 100) snapshot = { at: now, cams: safe(() => source.cameras(), []) };
      return snapshot.cams;
    };
    const gauge = (name: string, help: string, pick: (c: CameraMetricsSnapshot) => number): void => {
      new Gauge({ name, help, labelNames: ['camera'], registers, collect() { this.reset(); for (const c of cams()) this.set({ camera: c.camera }, pick(c)); } });
    };
    gauge('pie_camera_up', '1 while the camera delivers frames, else 0', (c) => (c.online ? 1 : 0));
    gauge('pie_camera_fps', 'Frames per second decoded from the camera (Frigate camera_fps)', (c) => c.cameraFps);
    gauge('pie_process_fps', 'Enhanced frames per second handed to the outputs (Frigate process_fps)', (c) => c.processFps);
    gauge('pie_skipped_fps', 'Frames per second dropped, every reason (Frigate skipped_fps)', (c) => c.skippedFps);
    gauge('pie_detection_fps', 'Detection events per second (Frigate detection_fps)', (c) => c.detectionFps);
    // Noise gauges exist only for cameras with a noise model: a 0 would read as a noiseless sensor.
    const noiseGauge = (name: string, help: string, pick: (n: NonNullable<CameraMetricsSnapshot['noise']>) => number): void => {
      new Gauge({ name, help, labelNames: ['camera'], registers, collect() { this.reset(); for (const c of cams()) if (c.noise) this.set({ camera: c.camera }, pick(c.noise)); } });
    };
    noiseGauge('pie_noise_gain', 'Shot-noise slope of the camera\'s noise model: variance per unit of linear light (1 / full well)', (n) => n.gain);
    noiseGauge('pie_noise_read', 'Read-noise sigma of the camera\'s noise model, in linear light (0-1)', (n) => n.read);
    noiseGauge('pie_denoise_frames', 'Frames the camera\'s denoiser has averaged over since its state was last reset (restart, IR or model switch)', (n) => n.frames);
    noiseGauge('pie_denoise_scene_cuts', 'Scene cuts the camera\'s denoiser has seen since its state was last reset (most pixels moved: its noise model restarted)', (n) => n.sceneCuts);
    noiseGauge('pie_denoise_global_moves', 'Frames since the denoiser\'s last reset on which the camera\'s view moved (pan, tilt, zoom) and its state followed', (n) => n.globalMoves);
    new Counter({ name: 'pie_frames_in_total', help: 'Frames decoded from the camera', labelNames: ['camera'], registers,
      collect() { for (const c of cams()) mirror(this, 'in', { camera: c.camera }, c.framesIn); } });
    new Counter({ name: 'pie_camera_restarts_total', help: 'Decoder restarts after a failure (go2rtc backoff)', labelNames: ['camera'], registers,
      collect() { for (const c of cams()) mirror(this, 'restarts', { camera: c.camera }, c.restarts); } });
    new Gauge({ name: 'pie_ws_clients', help: 'WebSocket viewers connected, per stream', labelNames: ['camera', 'variant'], registers,
      collect() { this.reset(); for (const s of safe(() => source.liveClients(), [])) this.set({ camera: s.camera, variant: s.variant }, s.clients); } });

    // The frame stores (src/ingest/frame-store.ts) are the process's, one per frame size.
    const storeGauge = (name: string, help: string, pick: (x: FrameStoreStats) => number): void => {
      new Gauge({ name, help, labelNames: ['bytes'], registers, collect() { this.reset(); for (const [bytes, st] of frameStores()) this.set({ bytes: String(bytes) }, pick(st.stats())); } });
    };
    storeGauge('pie_frame_store_slots', 'Shared frame slots allocated, per frame size in bytes (bounded: about 256 MiB a size)', (x) => x.slots);
    storeGauge('pie_frame_store_free', 'Shared frame slots free now, per frame size', (x) => x.free);
    new Counter({ name: 'pie_frame_store_fallbacks_total', help: 'Frame buffers handed out as ordinary memory because every slot was in use (each one counts towards the main thread\'s garbage collections)', labelNames: ['bytes'], registers,
      collect() { for (const [bytes, st] of frameStores()) mirror(this, 'fallbacks', { bytes: String(bytes) }, st.stats().fallbacks); } });

    this.processed = new Counter({ name: 'pie_frames_processed_total', help: 'Enhanced frames handed to the outputs', labelNames: ['camera'], registers });
    this.dropped = new Counter({ name: 'pie_frames_dropped_total', help: 'Frames dropped, by camera and reason (fps, batch-replaced, busy, failed, late, encoder, slow-client)', labelNames: ['camera', 'reason'], registers });
    this.switches = new Counter({ name: 'pie_model_switches_total', help: 'Model switches through the API', labelNames: ['camera'], registers });
    this.events = new Counter({ name: 'pie_detection_events_total', help: 'Detection events published', labelNames: ['camera'], registers });
    this.latency = new Histogram({ name: 'pie_latency_seconds', help: 'Frame decoded to enhanced frame handed to the outputs', labelNames: ['camera'], buckets: TIME_BUCKETS, registers });
    this.inference = new Histogram({ name: 'pie_inference_seconds', help: 'Enhancement time per batch', labelNames: ['model'], buckets: TIME_BUCKETS, registers });
    this.batchSize = new Histogram({ name: 'pie_batch_size', help: 'Frames per enhancement batch', labelNames: ['model'], buckets: BATCH_BUCKETS, registers });
    if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string { return this.registry.contentType; }

  frameProcessed(camera: string, latencyMs: number): void {
    this.processed.inc({ camera });
    this.latency.observe({ camera }, Math.max(0, latencyMs) / 1000);
  }

  batch(model: string, size: number, inferenceMs: number): void {
    this.batchSize.observe({ model }, size);
    this.inference.observe({ model }, inferenceMs / 1000);
  }

  drop(camera: string, reason: string, count: number): void {
    this.dropped.inc({ camera, reason }, count);
  }

  modelSwitched(camera: string): void { this.switches.inc({ camera }); }

  detectionEvent(camera: string): void { this.events.inc({ camera }); }

  /** The exposition text. */
  render(): Promise<string> { return this.registry.metrics(); }
}

function safe<T>(f: () => T, fallback: T): T {
  try { return f(); } catch { return fallback; }
}
