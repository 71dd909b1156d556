// A camera at run time, as the live path carries it from stage to stage: its source, its outputs,
// and what each stage recorded of its frames (figures for the API, the newest frames for snapshots,
// the times the status judges stalls by). Stages own their own fields; nothing here runs.
import type { CameraConfig, Variant } from '../config/schema.js';
import type { FaceEventJson } from '../detect/event.js';
import type { CameraNoiseReport } from '../denoise/denoiser.js';
import { CameraTone, type MonoMode } from '../enhance/camera-tone.js';
import type { Face, FaceEvent } from '../detect/types.js';
import type { RgbImage } from '../image/types.js';
import { LatencyWindow, RateMeter } from '../output/rate.js';
import type { FrameSink, LiveSink } from '../output/sinks.js';
import type { CameraSource } from './camera-source.js';
import type { Frame } from './frame.js';
import { releaseFrame, retainFrame } from './frame-store.js';

/** The newest detection of a camera that found faces: GET /api/cameras/<camera>/faces/latest(.jpg). */
export interface FaceSnapshot {
  readonly event: FaceEventJson;
  readonly faces: readonly Face[];
  /** The enhanced frame it was found on, boxes not drawn. */
  readonly frame: RgbImage;
  /** Encoded once, on the first request. */
  jpeg?: Promise<Uint8Array>;
}

/** When things last happened to the camera's frames (ms since the epoch; null = never): src/output/flow.ts reads them. */
export interface FlowTimes {
  processedAt: number | null;
  acceptedAt: number | null;
  busyDropAt: number | null;
  encoderDropAt: number | null;
  onlineSince: number | null;
}

export interface CameraRuntime {
  readonly config: CameraConfig;
  readonly source: CameraSource;
  readonly hls: Map<Variant, FrameSink>;
  readonly live: Map<Variant, LiveSink>;
  /** The model this camera is enhanced with now: a key of LiveEnhancers (a resolved path). */
  modelKey: string;
  /** Model switches of this camera run one after another. */
  switching: Promise<unknown>;
  /** Its exposure state and IR mode, carried from frame to frame (enhance/camera-tone.ts). */
  readonly tone: CameraTone;
  /** Its noise model as the denoiser in its worker last reported it (undefined: denoise off, or reset since). */
  noise?: CameraNoiseReport;
  processed: number;
  lastLatencyMs: number;
  readonly latency: LatencyWindow;
  readonly processRate: RateMeter;
  readonly skipRate: RateMeter;
  readonly detectionRate: RateMeter;
  /** The newest frames, for snapshots; one JPEG kept per variant until a newer frame comes. */
  readonly latest: Partial<Record<Variant, Frame>>;
  readonly jpeg: Partial<Record<Variant, { readonly seq: number; readonly bytes: Promise<Uint8Array> }>>;
  /** Frames detected on, by seq, until their event comes out of detectAt (one batch's worth). */
  readonly detecting: Map<number, Frame>;
  /** The newest detection, faces or none: what detect.drawBoxes draws. */
  lastDetection?: FaceEvent;
  /** The newest detection that found faces. */
  faces?: FaceSnapshot;
  readonly flow: FlowTimes;
}

export function cameraRuntime(config: CameraConfig, source: CameraSource, hls: Map<Variant, FrameSink>, live: Map<Variant, LiveSink>, modelKey: string, mono: MonoMode): CameraRuntime {
  return {
    config, source, hls, live, modelKey, switching: Promise.resolve(), tone: new CameraTone(mono), processed: 0, lastLatencyMs: 0,
    latency: new LatencyWindow(), processRate: new RateMeter(), skipRate: new RateMeter(), detectionRate: new RateMeter(),
    latest: {}, jpeg: {}, detecting: new Map(),
    flow: { processedAt: null, acceptedAt: null, busyDropAt: null, encoderDropAt: null, onlineSince: null },
  };
}

/** Keeps `f` as the camera's newest frame of `variant` (for snapshots), holding its pixels until a newer one replaces it. */
export function keepLatest(c: CameraRuntime, variant: Variant, f: Frame): void {
  retainFrame(f.data);
  const old = c.latest[variant];
  c.latest[variant] = f;
  if (old) releaseFrame(old.data);
}

/** Writes a frame to the camera's outputs of `variant`, noting when one accepted it. */
export function writeOutputs(c: CameraRuntime, variant: Variant, f: Frame, nowMs: number): void {
  let accepted = false;
  for (const s of [c.hls.get(variant), c.live.get(variant)]) if (s && s.write(f) !== false) accepted = true;
  if (accepted) c.flow.acceptedAt = nowMs;
}
