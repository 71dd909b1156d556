// The JSON API's contract: request and response schemas (zod), the types the app fills in, the
// errors the server turns into 4xx, and the model-path policy. The README's "HTTP API" section
// documents these shapes; tests parse every response with them.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PieError } from '../errors.js';
import { DENOISE_SETTINGS } from '../config/schema.js';
import { MAX_MODEL_BYTES } from '../enhance/model-file.js';
import { faceSchema } from './events.js';
import { STALL_REASONS } from './flow.js';

// ---------------------------------------------------------------------------------------------
// Shared pieces

export const variantSchema = z.enum(['raw', 'enhanced']);
export const cameraStateSchema = z.enum(['online', 'offline', 'restarting', 'stopped']);
export const providerSchema = z.enum(['cpu', 'webgpu', 'cuda']);

export const latencySchema = z.strictObject({
  /** Milliseconds from frame decoded to enhanced frame handed to the outputs. */
  last: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p95: z.number().nonnegative(),
});

export const modelInfoSchema = z.strictObject({
  /** As configured or requested (relative paths stay relative to the working folder). */
  path: z.string(),
  /** The file name, for people. */
  name: z.string(),
  /** ISO 8601: the model's `date`/`created` metadata, else the file's modification time; null for the in-memory model. */
  date: z.string().nullable(),
  dateSource: z.enum(['metadata', 'file']).nullable(),
  /** The trainer's description (`trained` metadata) when present. */
  trained: z.string().nullable(),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

export const errorSchema = z.strictObject({
  error: z.string(),
  fix: z.string().optional(),
  issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  see: z.array(z.string()).optional(),
});
export type ErrorBody = z.infer<typeof errorSchema>;

/**
 * Whether the camera's pictures reach its outputs (src/output/flow.ts): the same object, and so the
 * same words, in /health, /api/cameras and the viewer. An online camera can still be stalled.
 */
export const flowSchema = z.strictObject({
  stalled: z.boolean(),
  reason: z.enum(STALL_REASONS).nullable(),
  message: z.string().nullable(),
  sinceMs: z.number().nullable(),
});

// ---------------------------------------------------------------------------------------------
// GET /health (no token)

export const healthSchema = z.strictObject({
  status: z.literal('ok'),
  cameras: z.array(z.strictObject({ name: z.string(), state: cameraStateSchema, flow: flowSchema })),
});
export type Health = z.infer<typeof healthSchema>;

// ---------------------------------------------------------------------------------------------
// GET /api/cameras

export const noiseSchema = z.strictObject({
  /** Shot-noise slope: variance per unit of linear signal (1 / full well). */
  gain: z.number().nonnegative(),
  /** Read-noise σ in linear light. */
  read: z.number().nonnegative(),
  /** The same as a sensor: full well and read noise in electrons (null when no shot noise was measured). */
  fullWell: z.number().positive().nullable(),
  readNoise: z.number().nonnegative().nullable(),
  /** Where the figures come from: frame pairs (the photon-transfer fit), the first frame alone, or nothing yet (a fallback model is used). */
  from: z.enum(['frames', 'still', 'none']),
  /** Frames denoised since the camera's state was last reset (restart, IR switch, model switch). */
  frames: z.number().int().nonnegative(),
  /** Scene cuts seen since then (the denoiser's own: most pixels moved; or the region cache's). */
  sceneCuts: z.number().int().nonnegative(),
  /** Frames since then on which the view itself moved (pan, tilt, zoom) and the denoiser's state followed it (enhance.denoiseGlobalMotion). */
  globalMoves: z.number().int().nonnegative(),
});
export type NoiseInfo = z.infer<typeof noiseSchema>;

export const cameraInfoSchema = z.strictObject({
  camera: z.string(),
  /** The input with URL credentials masked (rtsp://***:***@host/…). */
  input: z.string(),
  state: cameraStateSchema,
  fpsIn: z.number().nonnegative(),
  framesTotal: z.number().int().nonnegative(),
  restarts: z.number().int().nonnegative(),
  lastError: z.strictObject({ kind: z.string(), message: z.string(), fix: z.string(), atMs: z.number() }).nullable(),
  lastFrameAtMs: z.number().nullable(),
  nextRetryAtMs: z.number().nullable(),
  framesProcessed: z.number().int().nonnegative(),
  /** The last frame's latency, ms (see /api/stats for percentiles). */
  latencyMs: z.number().nonnegative(),
  /** Frames dropped so far, by reason (fps, batch-replaced, busy, failed, late, encoder, slow-client). */
  dropped: z.record(z.string(), z.number().int().nonnegative()),
  /** Processing size and rate: detection boxes are in these pixels. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().positive(),
  /** Which variants are served, and how. */
  streams: z.strictObject({ websocket: z.array(variantSchema), hls: z.array(variantSchema) }),
  provider: providerSchema,
  model: modelInfoSchema,
  /** The enhancer's picture mode for this camera: colour, or monochrome (IR, detected or configured). */
  mode: z.enum(['colour', 'ir']),
  /** The exposure target (mean output luma) used on its latest frame; null before the first or with exposure: model. */
  exposure: z.number().nullable(),
  /** How this camera is denoised: its own denoise and denoiseStrength, else enhance.*; strength null when off. */
  denoise: z.strictObject({ mode: z.enum(DENOISE_SETTINGS), strength: z.number().nonnegative().nullable() }),
  /** The camera's noise model (photon transfer σ² = gain·μ + read², linear light), as its denoiser last reported it; null with denoise off or right after a reset. */
  noise: noiseSchema.nullable(),
  flow: flowSchema,
});
export type CameraInfo = z.infer<typeof cameraInfoSchema>;

export const camerasResponseSchema = z.strictObject({
  cameras: z.array(cameraInfoSchema),
  /** One line per open enhancer: provider, threads, curve scale, model. */
  enhancer: z.string(),
});
export type CamerasResponse = z.infer<typeof camerasResponseSchema>;

// ---------------------------------------------------------------------------------------------
// GET /api/stats (Frigate's /api/stats, for what pie-stream has)

const poolStatsSchema = z.strictObject({
  workers: z.number().int().nonnegative(),
  /** Workers taking work now (the others are starting or being replaced). */
  ready: z.number().int().nonnegative(),
  inFlight: z.number().int().nonnegative(),
  /** Workers replaced after dying or getting stuck. */
  restarts: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  /** Requests that failed, by kind (busy, died, timeout, closed, no-session, failed). */
  failed: z.record(z.string(), z.number().int().nonnegative()),
});

export const cameraStatsSchema = z.strictObject({
  /** Frames per second decoded from the camera. */
  camera_fps: z.number().nonnegative(),
  /** Enhanced frames per second handed to the outputs. */
  process_fps: z.number().nonnegative(),
  /** Frames per second dropped anywhere (every reason). */
  skipped_fps: z.number().nonnegative(),
  /** Detection events per second published for this camera (0 while detection is off). */
  detection_fps: z.number().nonnegative(),
  latency_ms: latencySchema,
  state: cameraStateSchema,
  restarts: z.number().int().nonnegative(),
  dropped: z.record(z.string(), z.number().int().nonnegative()),
  /** Frames the face detector did not look at, by reason: fps (above detect.fps), busy (it was still on older frames). Not part of `dropped`: the streams had them. */
  detection_dropped: z.record(z.string(), z.number().int().nonnegative()),
  provider: providerSchema,
  model: z.string(),
});
export type CameraStats = z.infer<typeof cameraStatsSchema>;

export const statsResponseSchema = z.strictObject({
  cameras: z.record(z.string(), cameraStatsSchema),
  /** Sum over cameras. */
  detection_fps: z.number().nonnegative(),
  enhancers: z.array(z.strictObject({
    model: z.string(),
    provider: providerSchema,
    cameras: z.array(z.string()),
    batches: z.number().int().nonnegative(),
    /** Milliseconds per batch run (one session.run or several under the memory budget). */
    inference_ms: latencySchema,
  })),
  /** The face detector (detect.enabled); null while detection is off. */
  detector: z.strictObject({
    /** BlazeFace back or front. */
    model: z.string(),
    /** raw, enhanced or fused. */
    on: z.string(),
    provider: providerSchema,
    /** Detector calls so far (a call takes every camera's sampled frame of a batch). */
    runs: z.number().int().nonnegative(),
    /** Milliseconds per detector call, smoothing and fusion included. */
    inference_ms: latencySchema,
  }).nullable(),
  /** The inference worker pools (src/workers/pool.ts); detect is null while detection is off. */
  workers: z.strictObject({
    enhance: poolStatsSchema,
    detect: poolStatsSchema.nullable(),
  }),
  /** The MQTT publisher (mqtt: in the config, with detection on); null without one. */
  mqtt: z.strictObject({
    connected: z.boolean(),
    queued: z.number().int().nonnegative(),
    published: z.number().int().nonnegative(),
    /** Events dropped because the queue was full (the broker was away or slow). */
    dropped: z.number().int().nonnegative(),
    reconnects: z.number().int().nonnegative(),
    lastError: z.string().optional(),
  }).nullable(),
  service: z.strictObject({
    version: z.string(),
    uptime_s: z.number().nonnegative(),
    started_at: z.string(),
  }),
});
export type StatsResponse = z.infer<typeof statsResponseSchema>;

// ---------------------------------------------------------------------------------------------
// GET /api/cameras/<camera>/faces/latest and MQTT payloads: src/detect/event.ts's wire form of a detection

/** A face event as MQTT payloads carry it (faces may be empty: they left the view). */
export const faceEventJsonSchema = z.strictObject({
  camera: z.string(),
  /** The frame's seq and capture time (ms since the Unix epoch). */
  seq: z.number().int().nonnegative(),
  ts: z.number(),
  /** The frame's size: boxes are in these pixels. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  faces: z.array(faceSchema),
});

/** faces/latest: always at least one face. */
export const faceEventResponseSchema = faceEventJsonSchema.extend({ faces: z.array(faceSchema).min(1) });
export type FaceEventResponse = z.infer<typeof faceEventResponseSchema>;

// ---------------------------------------------------------------------------------------------
// POST /api/cameras/<camera>/model

export const MAX_BODY_BYTES = 4096;

export const modelSwitchRequestSchema = z.strictObject({
  path: z.string({ error: 'path must be a string: the model file, e.g. models/site.onnx' })
    .min(1, { error: 'path is empty: name a .onnx model file, e.g. models/site.onnx' })
    .max(1024, { error: 'path is longer than 1024 characters' })
    .refine((p) => !p.includes('\0'), { error: 'path contains a NUL byte' }),
});
export type ModelSwitchRequest = z.infer<typeof modelSwitchRequestSchema>;

export const modelSwitchResponseSchema = z.strictObject({
  camera: z.string(),
  model: modelInfoSchema,
  previous: modelInfoSchema,
  provider: providerSchema,
  /** How long validating, loading and warming the new model took. */
  switchMs: z.number().nonnegative(),
});
export type ModelSwitchResponse = z.infer<typeof modelSwitchResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Errors the server answers with a status of their own (anything else thrown is a 500)

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly fix?: string) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { error: this.message, ...(this.fix ? { fix: this.fix } : {}) };
  }
}

/** Where a PieError goes: a model that is not a DCE-Net is unprocessable, a bad value is a bad request. */
export function statusOfPieError(e: PieError): number {
  switch (e.kind) {
    case 'model': return 422;
    case 'usage': case 'config': case 'input': return 400;
    default: return 500;
  }
}

/** zod issues as {path, message}, for a 400 that says every problem at once. */
export function issuesOf(e: z.ZodError): Array<{ path: string; message: string }> {
  return e.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

// ---------------------------------------------------------------------------------------------
// Model paths a client may name

/**
 * A requested model path is resolved against the working folder and must be a `.onnx` file inside
 * one of `roots` (the shipped models folder and the folders of configured models), symlinks
 * resolved: the API is not a way to make the server open arbitrary files.
 */
export async function resolveModelPath(requested: string, roots: readonly string[]): Promise<string> {
  // Folders as the client may name them (relative to the working folder): the API does not disclose the server's absolute paths.
  const shown = roots.map((r) => path.relative(process.cwd(), r) || '.');
  const fix = `put the model in one of: ${shown.join(', ')}`;
  if (path.extname(requested).toLowerCase() !== '.onnx') {
    throw new ApiError(400, `${JSON.stringify(requested)} is not a .onnx file`, 'name a DCE-Net .onnx model, e.g. models/site.onnx');
  }
  const abs = path.resolve(requested);
  const realRoots = await Promise.all(roots.map((r) => fs.realpath(r).catch(() => path.resolve(r))));
  const inside = (p: string): boolean => realRoots.some((r) => p === r || p.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
  // Checked on the path as written first, so a missing file outside the roots is still a 403, not a 404 that reveals it.
  if (!inside(abs)) throw new ApiError(403, `${JSON.stringify(requested)} is outside the model folders`, fix);
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch {
    throw new ApiError(404, `no model file ${JSON.stringify(requested)}`, 'check the path; models are looked up from the working folder of pie-stream');
  }
  if (!inside(real)) throw new ApiError(403, `${JSON.stringify(requested)} leads outside the model folders (a link)`, fix);
  // stat never opens the file, so a FIFO cannot block here.
  const st = await fs.stat(real);
  if (!st.isFile()) throw new ApiError(400, `${JSON.stringify(requested)} is not a regular file`, 'name a .onnx model file, not a FIFO, device or folder');
  if (st.size > MAX_MODEL_BYTES) {
    throw new ApiError(413, `${JSON.stringify(requested)} is ${st.size} bytes, over the ${MAX_MODEL_BYTES}-byte model limit`, 'name a DCE-Net model written by pie-stream train or adapt');
  }
  return real;
}
