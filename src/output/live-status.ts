// What the API and /metrics report of the live path: /api/cameras, /health, /api/stats and the
// Prometheus gauges, read from the cameras' runtime records, the enhancement and detection stages,
// the drop counts and the worker pools. Reading only: nothing here steers the pipeline.
import fs from 'node:fs';
import type { LiveDetection } from '../detect/live-detection.js';
import type { LiveEnhancers } from '../enhance/live-enhancers.js';
import type { CameraRuntime } from '../ingest/camera-runtime.js';
import type { DropCounter } from '../pipeline/dropCounter.js';
import type { Inference } from '../workers/pool.js';
import type { CameraNoiseReport } from '../denoise/denoiser.js';
import { sensorFigures } from '../denoise/noise-model.js';
import type { CameraInfo, CamerasResponse, Health, NoiseInfo, StatsResponse } from './api.js';
import { cameraFlow, stallAfterMs, type Flow } from './flow.js';
import { PieMetrics } from './metrics.js';
import type { MqttFacePublisher } from './mqtt.js';
import type { LatencyWindow } from './rate.js';

export const nowMs = (): number => performance.timeOrigin + performance.now();
const VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The live path as the status reads it. */
export interface LiveView {
  readonly cameras: ReadonlyMap<string, CameraRuntime>;
  readonly enhancers: LiveEnhancers;
  readonly detection: LiveDetection | undefined;
  readonly mqtt: MqttFacePublisher | undefined;
  readonly drops: DropCounter;
  readonly pools: { readonly enhance: Inference; readonly detect: Inference | undefined };
  readonly startedAt: number;
}

/** Whether the camera's pictures reach its outputs, and why not. */
export function flowOf(v: LiveView, c: CameraRuntime, t = nowMs()): Flow {
  const s = c.source.status();
  const f = c.flow;
  return cameraFlow({
    nowMs: t, online: s.state === 'online', onlineSinceMs: f.onlineSince, lastDecodedAtMs: s.lastFrameAtMs,
    lastProcessedAtMs: f.processedAt, lastAcceptedAtMs: f.acceptedAt, lastBusyDropAtMs: f.busyDropAt, lastEncoderDropAtMs: f.encoderDropAt,
    busyDrops: v.drops.count(c.config.name, 'busy'), encoderDrops: v.drops.count(c.config.name, 'encoder'),
    hasOutputs: c.hls.size + c.live.size > 0,
  }, stallAfterMs(c.config.fps));
}

/** A denoiser's report as the API shows it: σ rather than σ², and the sensor it stands for. */
export function noiseInfo(r: CameraNoiseReport): NoiseInfo {
  const p = r.noise;
  const sensor = p && p.gain > 0 ? sensorFigures(p) : undefined;
  return {
    gain: p?.gain ?? 0, read: p ? Math.sqrt(p.read2) : 0,
    fullWell: sensor ? sensor.fullWell : null, readNoise: sensor ? sensor.readNoise : null,
    from: r.noiseFrom, frames: r.frames, sceneCuts: r.sceneCuts, globalMoves: r.globalMoves,
  };
}

export function camerasStatus(v: LiveView): CamerasResponse {
  const dropped = v.drops.snapshot();
  const t = nowMs();
  return {
    cameras: [...v.cameras.values()].map((c): CameraInfo => {
      const s = c.source.status();
      const e = v.enhancers.entryOf(c);
      return {
        camera: s.camera, input: s.input, state: s.state, fpsIn: s.fpsIn, framesTotal: s.framesTotal, restarts: s.restarts,
        lastError: s.lastError, lastFrameAtMs: s.lastFrameAtMs, nextRetryAtMs: s.nextRetryAtMs,
        framesProcessed: c.processed,
        latencyMs: Math.round(c.lastLatencyMs),
        dropped: dropped[c.config.name] ?? {},
        width: c.config.width, height: c.config.height, fps: c.config.fps,
        streams: { websocket: [...c.live.keys()], hls: [...c.hls.keys()] },
        provider: e.session.provider,
        model: e.info,
        mode: c.tone.mono ? 'ir' : 'colour',
        exposure: c.tone.next().exposureState ?? null,
        denoise: v.enhancers.denoiseOf(c),
        noise: c.noise ? noiseInfo(c.noise) : null,
        flow: flowOf(v, c, t),
      };
    }),
    enhancer: v.enhancers.describe(),
  };
}

export function health(v: LiveView): Health {
  const t = nowMs();
  return { status: 'ok', cameras: [...v.cameras.values()].map((c) => ({ name: c.config.name, state: c.source.status().state, flow: flowOf(v, c, t) })) };
}

const round = (x: number): number => Math.round(x * 100) / 100;
const ms = (l: LatencyWindow): StatsResponse['enhancers'][number]['inference_ms'] => {
  const s = l.summary();
  return { last: round(s.last), p50: round(s.p50), p95: round(s.p95) };
};

/** GET /api/stats: Frigate's per-camera figures over the last 5 s. */
export function stats(v: LiveView): StatsResponse {
  const t = nowMs();
  const d = v.detection;
  const dropped = v.drops.snapshot();
  const cameras: StatsResponse['cameras'] = {};
  const detectDropped = d?.drops.snapshot() ?? {};
  let detection = 0;
  for (const c of v.cameras.values()) {
    const s = c.source.status();
    const e = v.enhancers.entryOf(c);
    const detectionFps = round(c.detectionRate.rate(t));
    detection += detectionFps;
    cameras[c.config.name] = {
      camera_fps: round(s.fpsIn), process_fps: round(c.processRate.rate(t)), skipped_fps: round(c.skipRate.rate(t)), detection_fps: detectionFps,
      latency_ms: ms(c.latency), state: s.state, restarts: s.restarts, dropped: dropped[c.config.name] ?? {},
      detection_dropped: detectDropped[c.config.name] ?? {},
      provider: e.session.provider, model: e.info.name,
    };
  }
  return {
    cameras,
    detection_fps: round(detection),
    enhancers: v.enhancers.all().map((e) => ({
      model: e.info.path, provider: e.session.provider, batches: e.batches, inference_ms: ms(e.inference),
      cameras: [...v.cameras.values()].filter((c) => c.modelKey === e.key).map((c) => c.config.name),
    })),
    detector: d ? { model: d.config.model, on: d.config.on, provider: d.session.provider, runs: d.runs, inference_ms: ms(d.inference) } : null,
    workers: { enhance: v.pools.enhance.stats(), detect: v.pools.detect?.stats() ?? null },
    mqtt: v.mqtt ? v.mqtt.status() : null,
    service: { version: VERSION, uptime_s: Math.round((Date.now() - v.startedAt) / 1000), started_at: new Date(v.startedAt).toISOString() },
  };
}

/** The Prometheus registry over the cameras' figures. */
export function liveMetrics(cameras: ReadonlyMap<string, CameraRuntime>): PieMetrics {
  return new PieMetrics({
    cameras: () => [...cameras.values()].map((c) => {
      const s = c.source.status();
      const t = nowMs();
      return { camera: c.config.name, online: s.state === 'online', cameraFps: s.fpsIn, processFps: c.processRate.rate(t), skippedFps: c.skipRate.rate(t),
        detectionFps: c.detectionRate.rate(t), framesIn: s.framesTotal, restarts: s.restarts, ...(c.noise ? { noise: noiseInfo(c.noise) } : {}) };
    }),
    liveClients: () => [...cameras.values()].flatMap((c) => [...c.live].map(([variant, s]) => ({ camera: c.config.name, variant, clients: s.stats?.().clients ?? 0 }))),
  });
}
