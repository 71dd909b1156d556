// The configuration's schema: strict (an unknown key is an error, not a silent no-op), defaults
// filled in, cross-field checks, and typed sub-configs out. Every problem message says what is
// wrong and how to fix it ("… — fix: …"); load.ts adds the key path and the line. Pure: no IO.
//
// Secrets: a camera's input and the server token may hold credentials, so their messages never
// echo the value (only a URL's scheme); any other echoed string has URL credentials masked.
import { z } from 'zod';
import { CURVE_APPLY, type CurveApply } from '../enhance/curve-fit.js';
import { FACE_MODELS, type FaceModel } from '../detect/anchors.js';
import type { DetectOn } from '../detect/path.js';
import type { MaskRect } from '../detect/face-mask.js';
import { FACE_POSES, type FacePose } from '../detect/pose.js';
import { CONFIRM_DEFAULTS } from '../pipeline/confirmFaces.js';
import type { MonoMode } from '../enhance/camera-tone.js';
import type { ProviderChoice } from '../enhance/session.js';
import { MAX_STRENGTH } from '../enhance/graph.js';
import { DEFAULT_SATURATION, type CurveForm, type ExposureSetting } from '../enhance/tone.js';
import { redact } from '../ingest/redact.js';
import { GLOBAL_MOTION_MODES, type GlobalMotionMode } from '../denoise/global-motion.js';

export type Transport = 'tcp' | 'udp';
export type Variant = 'raw' | 'enhanced';

/** Shaped like ingest's CameraInput (src/ingest/camera-source.ts), with the transport filled in. */
export type CameraInput =
  | { readonly kind: 'rtsp'; readonly url: string; readonly transport: Transport }
  /** A video file played as a camera: looped, in real time. */
  | { readonly kind: 'file'; readonly path: string }
  /** The project's dark moving lavfi scene; unset options take src/ingest/synthetic.ts's defaults. */
  | { readonly kind: 'synthetic'; readonly exposure?: number; readonly noise?: number };

export interface OutputsConfig {
  /** Which variants get an HLS stream; empty = none. */
  readonly hls: readonly Variant[];
  /** Which variants get a WebSocket live stream; empty = none. */
  readonly websocket: readonly Variant[];
}

export interface CameraConfig {
  /** [a-z0-9_-]: it names URLs, files and metrics. */
  readonly name: string;
  readonly input: CameraInput;
  /** Processing size and rate: ffmpeg scales and samples to these. */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** This camera's model: its own, else enhance.model; undefined = the shipped model. */
  readonly model?: string;
  /**
   * This camera's denoising and strength, present only when the camera sets them: the effective
   * values (cameraDenoise) fall back to enhance.* of the config that runs it. Not filled in here,
   * because a cluster's cameras are validated apart from the enhance section of the node that runs them.
   */
  readonly denoise?: DenoiseSetting;
  readonly denoiseStrength?: number;
  /** Where this camera's faces are never reported (src/detect/face-mask.ts); absent = nowhere. */
  readonly faceMask?: readonly MaskRect[];
  readonly outputs: OutputsConfig;
}

export interface BatchConfig {
  readonly maxSize: number;
  readonly maxWaitMs: number;
  /** Enhancement batches kept waiting while every worker is busy, the newest first (latestWins' queue). */
  readonly queue: number;
}

export interface EnhanceConfig {
  /** The shared model; undefined = the shipped model (models/pie-base.onnx). */
  readonly model?: string;
  /** As written, normalised: "1", "1/2", "1/8"… */
  readonly scale: string;
  /** k of scale 1/k: curve maps are estimated at 1/k of the frame size (Enhancer's `downscale`). */
  readonly downscale: number;
  /** Multiplies the curve maps: 0 = off, 1 = the model as trained. */
  readonly strength: number;
  /** 'auto' (scene-adaptive, smoothed per camera), a fixed target mean luma (0–1), or 'model' (as trained): enhance/tone.ts. */
  readonly exposure: ExposureSetting;
  /** 'value': one curve on max(R,G,B), colour kept (default); 'rgb': PIE's per-channel curves. */
  readonly color: CurveForm;
  /** Limit the curves' gain where the local signal is within the frame's noise. */
  readonly noiseAwareGain: boolean;
  /** Chroma gain exponent of the value form, 0–1 (enhance/tone.ts). */
  readonly saturation: number;
  /** Monochrome (IR) mode: 'auto' detects it per camera with hysteresis; 'on' / 'off' force it. */
  readonly mono: MonoMode;
  readonly provider: ProviderChoice;
  readonly batch: BatchConfig;
  readonly regionCache: RegionCacheConfig;
  /** Spatial strength of the denoiser: the guided filter's ε in units of the noise variance (0 = temporal only). */
  readonly denoiseStrength: number;
  /** Denoising before the curves (src/denoise): off, spatial (each frame alone) or temporal (state per camera). */
  readonly denoise: DenoiseSetting;
  /** What the temporal denoiser does when a camera's view moves (pan, tilt, zoom): shift its state with it, reset it, or off. */
  readonly denoiseGlobalMotion: GlobalMotionMode;
  /** How the value curve reaches full resolution: 'exact', 'fitted' or 'grid' (enhance/curve-fit.ts, tone-grid.ts); the config's auto resolved. */
  readonly curveApply: CurveApply;
}

export type DenoiseSetting = 'off' | 'spatial' | 'temporal';
export const DENOISE_SETTINGS = ['off', 'spatial', 'temporal'] as const satisfies readonly DenoiseSetting[];
/** The default, set by `eval --synthetic-video` (docs/quality.md, "Night video"). */
export const DEFAULT_DENOISE: DenoiseSetting = 'temporal';
export const DEFAULT_DENOISE_STRENGTH = 2;

/** A camera's effective denoising: its own mode and strength, else the enhance section's; strength null when off. */
export interface CameraDenoise {
  readonly mode: DenoiseSetting;
  readonly strength: number | null;
}

export function cameraDenoise(enhance: Pick<EnhanceConfig, 'denoise' | 'denoiseStrength'>, camera: Pick<CameraConfig, 'denoise' | 'denoiseStrength'>): CameraDenoise {
  const mode = camera.denoise ?? enhance.denoise;
  return { mode, strength: mode === 'off' ? null : camera.denoiseStrength ?? enhance.denoiseStrength };
}

/** The temporal region cache (src/pipeline/regionCache.ts) in the live path. */
export interface RegionCacheConfig {
  readonly enabled: boolean;
  /** EMA weight of the newest frame per region. */
  readonly alpha: number;
  /** Share of each curve pixel's own deviation from its region kept (0 = one curve per region). */
  readonly mix: number;
  /** Re-segment at least every this many frames. */
  readonly refreshEvery: number;
}

export interface DetectConfig {
  readonly enabled: boolean;
  /** Detections per second per camera. */
  readonly fps: number;
  /** 'full-range' (MediaPipe's 192² detector for distant faces; the default), BlazeFace 'back' (256²) or 'front' (128², selfie range). */
  readonly model: FaceModel;
  /** Tiles at native resolution plus a whole-frame pass (small faces); false: the whole frame only. */
  readonly tiling: boolean;
  /** Tiles of input/upscale frame pixels scaled up to the input (2: faces under ~20 px; 4× the passes). 1 = native. */
  readonly upscale: number;
  /** Lowest face score kept, in (0, 1). */
  readonly threshold: number;
  /** 'frontal': only faces whose keypoints sit as a face's seen from the front (src/detect/pose.ts); 'any': every detection. */
  readonly pose: FacePose;
  /** Faces narrower than this many pixels of the camera frame are not reported; 0 = every size. */
  readonly minFace: number;
  /** Which frame the detector looks at: the camera's, the enhanced one, or both fused (src/detect/path.ts). */
  readonly on: DetectOn;
  /** Draw the newest detection's boxes onto the enhanced output streams. */
  readonly drawBoxes: boolean;
  /**
   * Temporal confirmation (src/pipeline/confirmFaces.ts): a face must be seen in `hits` of the last
   * `frames` detections (frames 0 = off); one that sits still for `fixtureAfter` detections is a
   * fixture and no longer reported there (0 = off); one on a part of the view that has not changed
   * for `staticAfter` seconds is background, not a face (0 = off; src/detect/static-scene.ts).
   */
  readonly confirm: { readonly frames: number; readonly hits: number; readonly fixtureAfter: number; readonly staticAfter: number };
}

/** Face events to an MQTT broker (src/output/mqtt.ts); present only when the config has `mqtt:`. */
export interface MqttConfig {
  /** mqtt://[user:password@]host[:port] (or mqtts://, ws://, wss://); may hold credentials. */
  readonly url: string;
  readonly topicPrefix: string;
  readonly qos: 0 | 1;
  readonly maxQueue: number;
}

export interface ServerConfig {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** Required unless host is loopback. */
  readonly token?: string;
}

/** Inference worker threads (src/workers/pool.ts); undefined sizes follow the machine's cores. */
export interface WorkersConfig {
  /** Enhancement workers; undefined = cores / 4 (at least 1; doubled, at most one a core, with 2+ cameras on the temporal denoiser) on CPU, 1 on a GPU provider. */
  readonly enhance?: number;
  /** Face-detection workers; undefined = 1. */
  readonly detect?: number;
  /** ONNX Runtime threads per session; undefined = cores / workers of its pool. */
  readonly threads?: number;
  /** Batches a worker may hold beyond the one it runs; more wait as newest-wins (counted drops). */
  readonly queue: number;
  /** A run longer than this has its worker replaced. */
  readonly timeoutMs: number;
  /** Sessions on the main thread, as before the workers (benchmarks and debugging only: it blocks ingest). */
  readonly inProcess: boolean;
}

/** TLS to the NATS servers; paths to PEM files. */
export interface ClusterTlsConfig {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** Cluster mode (src/cluster/); present only when the config has `cluster:`. */
export interface ClusterConfig {
  /** nats://host:port URLs; credentials never in them (user/password/token keys, from the environment). */
  readonly servers: readonly string[];
  /** Unique in the cluster: it names this node's leases. */
  readonly node: string;
  /** The most cameras this node processes at once. */
  readonly capacity: number;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  readonly tls?: ClusterTlsConfig;
  /** How long a lease holds without renewal: the failover time is about this plus one scan. */
  readonly leaseMs: number;
  /** The URL other nodes use to reach this node's HTTP server (redirects of viewers); default: none. */
  readonly url?: string;
  /** Copies JetStream keeps of the buckets, streams and models; default one per listed server, at most 3. */
  readonly replicas?: number;
  /** Face-event stream bounds. */
  readonly events: { readonly maxAgeS: number; readonly maxBytes: number };
}

export interface PieConfig {
  /** Empty in cluster mode when the cameras live in the cluster. */
  readonly cameras: readonly CameraConfig[];
  readonly cluster?: ClusterConfig;
  readonly enhance: EnhanceConfig;
  readonly detect: DetectConfig;
  readonly workers: WorkersConfig;
  readonly mqtt?: MqttConfig;
  readonly server: ServerConfig;
}

export const PROVIDERS = ['auto', 'cpu', 'webgpu', 'cuda'] as const satisfies readonly ProviderChoice[];
export const VARIANTS = ['raw', 'enhanced'] as const satisfies readonly Variant[];
export { FACE_MODELS };
export const DETECT_ON = ['raw', 'enhanced', 'fused'] as const satisfies readonly DetectOn[];
const MQTT_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss', 'tcp'];
export const MAX_DOWNSCALE = 64;
/** 1/4: PSNR ≥ 36 dB against full resolution at ~7× its speed (README); scale 1 cannot keep up with a live camera on CPU. */
export const DEFAULT_SCALE = '1/4';

// ---------------------------------------------------------------------------------------------
// Messages

/** A value as a message may show it: short, and with URL credentials masked. */
export function show(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') {
    const s = redact(v);
    return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
  }
  return String(v);
}

type Issue = { readonly input?: unknown };

/** The error of a field: "missing" or "expected …, got …", then the fix. */
const expected = (what: string, fix: string) => ({
  error: (iss: Issue): string => `${iss.input === undefined ? 'missing' : `expected ${what}, got ${show(iss.input)}`} — fix: ${fix}`,
});

/** As `expected`, for values that may be secret: says only the value's type. */
const expectedSecret = (what: string, fix: string) => ({
  error: (iss: Issue): string => `${iss.input === undefined ? 'missing' : `expected ${what}, got ${typeof iss.input === 'string' ? 'a string' : show(iss.input)}`} — fix: ${fix}`,
});

const number = (what: string, min: number, max: number, fix: string): z.ZodNumber => {
  const e = expected(`${what} from ${min} to ${max}`, fix);
  return z.number(e).min(min, e).max(max, e);
};

const int = (what: string, min: number, max: number, fix: string): z.ZodNumber => {
  const e = expected(`${what} from ${min} to ${max}`, fix);
  return z.int(e).min(min, e).max(max, e);
};

// ---------------------------------------------------------------------------------------------
// Field parsers (return a value, or the message of what is wrong)

const NAME = /^[a-z0-9_-]{1,64}$/;
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const INPUT_FORMS = 'expected rtsp://…, a file path or synthetic:…';
const INPUT_FIX = 'e.g. input: rtsp://user:${CAM_PASSWORD}@192.168.1.20:554/stream1, input: clips/night.mp4, input: synthetic or input: synthetic:exposure=0.1';

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

const SYNTHETIC_KEYS = { exposure: [0.001, 1], noise: [0, 100] } as const;

/** "synthetic:" or "synthetic:exposure=0.1,noise=8". */
function parseSynthetic(spec: string): Parsed<CameraInput> {
  const out: { exposure?: number; noise?: number } = {};
  const fix = 'write synthetic or synthetic:exposure=0.1,noise=6 (exposure: fraction of light kept, 0.001–1; noise: 0–100)';
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(.+)$/.exec(part);
    const key = m?.[1];
    if (!m || (key !== 'exposure' && key !== 'noise')) return fail(`synthetic option ${show(part)} is not exposure=… or noise=… — fix: ${fix}`);
    const v = Number(m[2]);
    const [lo, hi] = SYNTHETIC_KEYS[key];
    if (!Number.isFinite(v) || v < lo || v > hi) return fail(`synthetic ${key} must be a number from ${lo} to ${hi}, got ${show(m[2])} — fix: ${fix}`);
    out[key] = v;
  }
  return ok({ kind: 'synthetic', ...out });
}

/** rtsp://…, synthetic:…, else a file path. The transport is filled in by the camera. */
export function parseInput(s: string): Parsed<CameraInput> {
  const t = s.trim();
  if (t === '') return fail(`${INPUT_FORMS}, got an empty string — fix: ${INPUT_FIX}`);
  // Bare "synthetic" too: `input: synthetic:` unquoted is a YAML mapping, not a string.
  if (/^synthetic(:|$)/i.test(t)) return parseSynthetic(t.slice('synthetic:'.length));
  const scheme = URL_SCHEME.exec(t)?.[1]?.toLowerCase();
  if (scheme === undefined) return ok({ kind: 'file', path: t });
  if (scheme !== 'rtsp' && scheme !== 'rtsps') {
    const hint = ['rstp', 'rtps', 'rstps', 'rtp', 'rsp'].includes(scheme) ? ' (did you mean rtsp://?)' : '';
    return fail(`${INPUT_FORMS}, got a ${scheme}:// URL${hint} — fix: ${INPUT_FIX}`);
  }
  let host = '';
  try {
    host = new URL(t).hostname;
  } catch { /* reported below */ }
  if (host === '') {
    return fail(`not a valid ${scheme}:// URL (no host, or characters that break it) — fix: write ${scheme}://[user:password@]host[:port]/path; ` +
      'percent-encode @ : / # ? in a user or password written literally (a ${VAR} there is encoded for you)');
  }
  return ok({ kind: 'rtsp', url: t, transport: 'tcp' });
}

/** "1", "1/8", 1, 0.125 → 8. */
export function parseScale(v: unknown): Parsed<number> {
  const fix = 'scale: 1, 1/2, 1/4 or 1/8 (curve maps estimated at that fraction of the frame size; 1/8 is fastest)';
  let k = Number.NaN;
  if (typeof v === 'number') k = 1 / v;
  else if (typeof v === 'string') {
    const m = /^\s*1\s*\/\s*(\d+)\s*$/.exec(v);
    k = m ? Number(m[1]) : /^\s*[\d.]+\s*$/.test(v) ? 1 / Number(v) : Number.NaN;
  } else if (v === undefined) return fail(`missing — fix: ${fix}`);
  const rounded = Math.round(k);
  if (Number.isFinite(k) && Math.abs(k - rounded) < 1e-6 && rounded >= 1 && rounded <= MAX_DOWNSCALE) return ok(rounded);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  const hint = Number.isInteger(n) && n > 1 && n <= MAX_DOWNSCALE ? `did you mean 1/${n}? ` : '';
  return fail(`${show(v)} is not 1/k for a whole k from 1 to ${MAX_DOWNSCALE} — fix: ${hint}${fix}`);
}

// ---------------------------------------------------------------------------------------------
// Shapes. Kept as named objects: load.ts lists a shape's keys when it meets an unknown one.

const variants = (which: string) => {
  const e = expected(`a list of raw and/or enhanced`, `e.g. ${which}: [enhanced] or ${which}: [raw, enhanced], or [] for none`);
  // A single variant may be written without brackets.
  return z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.enum(VARIANTS, e), e))
    .refine((vs) => new Set(vs).size === vs.length, { error: `lists a variant twice — fix: name raw and enhanced at most once each` });
};

const outputsShape = {
  hls: variants('hls').optional(),
  websocket: variants('websocket').optional(),
};

/** H.264 needs even frame sizes. */
const even = (key: string) => (v: number, ctx: z.RefinementCtx): void => {
  if (v % 2 !== 0) ctx.addIssue({ code: 'custom', message: `${v} is odd — fix: use an even ${key} (H.264 needs even sizes), e.g. ${v + 1}` });
};

const DENOISE_FIX = 'temporal (fixed cameras: averages static pixels over frames; the default), spatial (each frame alone) or off';
const denoiseField = (tail: string) => z.enum(DENOISE_SETTINGS, expected('off, spatial or temporal', `denoise: ${DENOISE_FIX}; ${tail}`));
const denoiseStrengthField = (what: string) => number('a strength', 0, 16, `e.g. denoiseStrength: 2 (0 = no spatial smoothing, higher = smoother moving pixels${what})`);

const MASK_FIX = 'e.g. faceMask: [{ x: 0, y: 0, width: 0.4, height: 0.06 }] (the top-left clock: fractions of the frame, where faces are never reported)';
const round3 = (v: number): number => Math.round(v * 1000) / 1000;
const maskRectShape = {
  x: number('a fraction of the frame width', 0, 1, MASK_FIX),
  y: number('a fraction of the frame height', 0, 1, MASK_FIX),
  width: number('a fraction of the frame width', 0.001, 1, MASK_FIX),
  height: number('a fraction of the frame height', 0.001, 1, MASK_FIX),
};

const cameraShape = {
  name: z.string(expected('a camera name', 'e.g. name: front_door'))
    .regex(NAME, { error: (iss: Issue) => `${show(iss.input)} is not a valid camera name — fix: use 1–64 lowercase letters, digits, _ and - (it names URLs and files), e.g. front_door` }),
  // Classified here rather than in the camera's transform, so its problems come with the others.
  input: z.string(expectedSecret(INPUT_FORMS, INPUT_FIX)).transform((s, ctx): CameraInput => {
    const r = parseInput(s);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }),
  transport: z.enum(['tcp', 'udp'], expected('tcp or udp', 'transport: tcp (the default, works through NAT and firewalls) or transport: udp')).optional(),
  // Evenness checked with the field, not after the whole config parses: every problem at once.
  width: int('a width in pixels', 16, 7680, 'e.g. width: 1280 (must be even: H.264 needs even sizes)').superRefine(even('width')).default(640),
  height: int('a height in pixels', 16, 4320, 'e.g. height: 720 (must be even: H.264 needs even sizes)').superRefine(even('height')).default(360),
  fps: number('frames per second', 0.1, 120, 'e.g. fps: 10 (frames are processed at this rate; more are dropped and counted)').default(10),
  model: z.string(expected('a path to a DCE-Net .onnx file', 'e.g. model: models/pie-base.onnx')).min(1, expected('a path to a DCE-Net .onnx file', 'e.g. model: models/pie-base.onnx')).optional(),
  // Unset: enhance.denoise and enhance.denoiseStrength of the config that runs the camera (cameraDenoise).
  denoise: denoiseField('leave it out to follow enhance.denoise').optional(),
  denoiseStrength: denoiseStrengthField('; leave it out to follow enhance.denoiseStrength').optional(),
  outputs: z.strictObject(outputsShape, expected('a mapping with hls and/or websocket', 'e.g. outputs: { hls: [enhanced], websocket: [raw, enhanced] }')).optional(),
  faceMask: z.array(z.strictObject(maskRectShape, expected('a rectangle { x, y, width, height } in fractions of the frame', MASK_FIX)).superRefine((r, ctx) => {
    if (r.x + r.width > 1 || r.y + r.height > 1) ctx.addIssue({ code: 'custom', message: `reaches past the frame (x + width ${round3(r.x + r.width)}, y + height ${round3(r.y + r.height)}) — fix: keep x + width and y + height at most 1, ${MASK_FIX}` });
  }), expected('a list of rectangles', MASK_FIX)).max(32, { error: `has more than 32 rectangles — fix: merge neighbouring ones, ${MASK_FIX}` }).optional(),
};

const batchShape = {
  maxSize: int('frames per batch', 1, 64, 'e.g. maxSize: 4 (batches help on a GPU; on CPU use 1–4)').default(4),
  maxWaitMs: number('milliseconds', 0, 1000, 'e.g. maxWaitMs: 40 (the longest a frame waits for its batch to fill)').default(40),
  // Two: with one batch waiting, 4 × 360p with detection on lost a median 1.5% of its frames (a stall
  // of the workers longer than a batch); with two, a median 0% (10 of 11 runs under 1%) at the same
  // latency (README, Pipeline performance).
  queue: int('batches', 1, 8, 'e.g. queue: 2 (batches waiting while every enhancement worker is busy; the oldest is dropped when another comes)').default(2),
};

const enhanceShape = {
  model: cameraShape.model,
  // "1/8" arrives as a string and 1 as a number: one parser takes both, with its own messages.
  scale: z.unknown().optional().transform((v, ctx): number => {
    const r = parseScale(v ?? DEFAULT_SCALE);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }),
  strength: number('a strength', 0, MAX_STRENGTH, `e.g. strength: 1 (0 = no enhancement, 1 = the model as trained, up to ${MAX_STRENGTH})`).default(1),
  exposure: z.union([z.enum(['auto', 'model']), number('a mean brightness', 0.05, 0.95, '')], expected('auto, model, or a mean brightness from 0.05 to 0.95', 'e.g. exposure: auto (scene-adaptive, the default), exposure: 0.45 (a fixed mean output brightness) or exposure: model (the model\'s own)')).default('auto'),
  color: z.enum(['value', 'rgb'], expected('value or rgb', 'color: value (one curve on max(R,G,B): colour kept, grey stays grey; the default) or color: rgb (per channel, as PIE)')).default('value'),
  noiseAwareGain: z.boolean(expected('true or false', 'noiseAwareGain: true (do not lift regions that hold only noise; the default) or false')).default(true),
  saturation: number('a chroma gain exponent', 0, 1, `e.g. saturation: ${DEFAULT_SATURATION} (1 = colours lifted with the light, 0 = chroma kept as it was; measured in docs/quality.md)`).default(DEFAULT_SATURATION),
  mono: z.enum(['auto', 'on', 'off'], expected('auto, on or off', 'mono: auto (detect infrared/monochrome frames per camera; the default), on (always luminance-only) or off')).default('auto'),
  provider: z.enum(PROVIDERS, expected(`one of ${PROVIDERS.join(', ')}`, 'e.g. provider: cpu (auto picks the best one present and says why)')).default('cpu'),
  batch: z.strictObject(batchShape, expected('a mapping with maxSize, maxWaitMs and queue', 'e.g. batch: { maxSize: 4, maxWaitMs: 40, queue: 2 }')).prefault({}),
  denoise: denoiseField('a camera may set its own').default(DEFAULT_DENOISE),
  denoiseStrength: denoiseStrengthField('').default(DEFAULT_DENOISE_STRENGTH),
  denoiseGlobalMotion: z.enum(GLOBAL_MOTION_MODES, expected(GLOBAL_MOTION_MODES.join(', '), 'denoiseGlobalMotion: shift (a pan or zoom moves the denoiser\'s state with the view; the default), reset (restart it: spatial denoising while the view moves) or off')).default('shift'),
  curveApply: z.enum(['auto', ...CURVE_APPLY], expected(`auto, ${CURVE_APPLY.join(', ')}`, 'curveApply: auto (grid on the CPU where it can, else exact; the default), exact (the 8 curve iterations at full resolution), fitted (a fitted polynomial) or grid (each cell\'s curve as a table, applied by one fused pass in the worker)')).default('auto'),
  regionCache: z.strictObject({
    enabled: z.boolean(expected('true or false', 'enabled: true or enabled: false')).default(false),
    alpha: number('an EMA weight', 0.01, 1, 'e.g. alpha: 0.2 (1 = no temporal smoothing)').default(0.2),
    mix: number('a share', 0, 1, 'e.g. mix: 0 (one curve per region) to 1 (per-pixel curves)').default(0),
    refreshEvery: int('frames', 1, 100000, 'e.g. refreshEvery: 150').default(150),
  }, expected('a mapping with enabled, alpha, mix, refreshEvery', 'e.g. regionCache: { enabled: true, alpha: 0.2 }')).prefault({}),
};

/** staticAfter spans at least this many detections. */
const MIN_STILL_DETECTIONS = 10;

const confirmShape = {
  frames: int('detections', 0, 100, 'e.g. frames: 3 (the window, in detections at detect.fps; 0 turns confirmation off)').default(CONFIRM_DEFAULTS.frames),
  hits: int('detections', 1, 100, 'e.g. hits: 2 (a face must show in this many detections of the window, near the same place)').default(CONFIRM_DEFAULTS.hits),
  fixtureAfter: int('detections', 0, 100000, 'e.g. fixtureAfter: 50 (a face still at one place for 50 detections, 10 s at 5 fps, is a sign or a lamp: no longer reported; 0 = off)').default(CONFIRM_DEFAULTS.fixtureAfter),
  staticAfter: number('seconds', 0, 3600, `e.g. staticAfter: ${CONFIRM_DEFAULTS.staticAfter} (a face on a part of the view that has not changed for ${CONFIRM_DEFAULTS.staticAfter} s is background — a caption, a shape in the trees — and is not reported; 0 = off)`).default(CONFIRM_DEFAULTS.staticAfter),
};

const detectShape = {
  enabled: z.boolean(expected('true or false', 'enabled: true or enabled: false')).default(false),
  fps: number('detections per second', 0.1, 60, 'e.g. fps: 5').default(5),
  model: z.enum(FACE_MODELS, expected('back, front or full-range', 'model: full-range (MediaPipe\'s 192² detector for distant faces, converted from @mediapipe/face_detection at first use; the default), model: back (BlazeFace 256²: faces that fill much of the frame) or model: front (128², faces close up)')).default('full-range'),
  tiling: z.boolean(expected('true or false', 'tiling: true (native-resolution tiles find small faces; the default) or tiling: false (whole frame only, faster)')).default(true),
  upscale: int('a tile upscale factor', 1, 2, 'upscale: 1 (native tiles; the default) or upscale: 2 (2× upscaled tiles for faces under ~20 px; 4× the model runs)').default(1),
  threshold: number('a face score', 0.01, 0.99, 'e.g. threshold: 0.5 (MediaPipe\'s default; lower finds more faces and more false ones)').default(0.5),
  pose: z.enum(FACE_POSES, expected('frontal or any', 'pose: frontal (only faces whose keypoints sit as a face\'s seen from the front: far fewer false faces in foliage and IR glare; the default) or pose: any (every detection, faces in profile too)')).default('frontal'),
  minFace: int('a face width in pixels', 0, 4096, 'minFace: 12 (faces narrower than 12 px of the camera frame are not reported: most false faces in foliage and IR glare are 9–11 px; the default) or minFace: 0 (every size)').default(12),
  on: z.enum(DETECT_ON, expected('raw, enhanced or fused', 'on: raw (the camera\'s frame, denoised when the denoiser is on; the default: the enhanced pass added no face on any set measured), on: fused (raw and enhanced merged, twice the detector\'s work) or on: enhanced')).default('raw'),
  drawBoxes: z.boolean(expected('true or false', 'drawBoxes: true draws face boxes onto the enhanced streams')).default(false),
  confirm: z.strictObject(confirmShape, expected('a mapping with frames, hits, fixtureAfter and staticAfter', `e.g. confirm: { frames: 3, hits: 2, fixtureAfter: 50, staticAfter: ${CONFIRM_DEFAULTS.staticAfter} } (a face must show in 2 of the last 3 detections; one still for 50 is a fixture; one on a view unchanged for ${CONFIRM_DEFAULTS.staticAfter} s is background)`)).prefault({})
    .superRefine((c, ctx) => {
      if (c.frames > 0 && c.hits > c.frames) ctx.addIssue({ code: 'custom', path: ['hits'], message: `${c.hits} is more than frames (${c.frames}): no face could ever be confirmed — fix: use hits from 1 to ${c.frames}, e.g. confirm: { frames: ${Math.max(c.frames, 3)}, hits: 2 }` });
    }),
};

const workersShape = {
  enhance: int('enhancement workers', 1, 64, 'e.g. enhance: 2 (leave it out to follow the cores: cores / 4, at least 1)').optional(),
  detect: int('detection workers', 1, 64, 'e.g. detect: 1').optional(),
  threads: int('threads per session', 1, 256, 'e.g. threads: 2 (leave it out to share the cores among the workers)').optional(),
  queue: int('batches', 0, 16, 'e.g. queue: 1 (a worker holds its next batch; more only adds latency)').default(1),
  timeoutMs: int('milliseconds', 100, 600_000, 'e.g. timeoutMs: 30000 (a run longer than this has its worker replaced)').default(30_000),
  inProcess: z.boolean(expected('true or false', 'inProcess: false (the default; true runs inference on the main thread, for comparison only)')).default(false),
};

const MQTT_FIX = 'e.g. url: mqtt://127.0.0.1:1883, or mqtt://pie:${MQTT_PASSWORD}@broker.local:1883 with the password from the environment';

const mqttShape = {
  // May hold a password: messages name the scheme at most, never the value.
  url: z.string(expectedSecret('an mqtt:// URL', MQTT_FIX)).superRefine((s, ctx) => {
    const scheme = URL_SCHEME.exec(s)?.[1]?.toLowerCase();
    let host = '';
    try { host = new URL(s).hostname; } catch { /* reported below */ }
    if (scheme === undefined || !MQTT_SCHEMES.includes(scheme)) {
      ctx.addIssue({ code: 'custom', message: `expected an mqtt://, mqtts://, ws:// or wss:// URL, got ${scheme === undefined ? 'no URL scheme' : `a ${scheme}:// URL`} — fix: ${MQTT_FIX}` });
    } else if (host === '') {
      ctx.addIssue({ code: 'custom', message: `not a valid ${scheme}:// URL (no host, or characters that break it) — fix: write ${scheme}://[user:password@]host[:port]; percent-encode @ : / # ? in a user or password written literally (a \${VAR} there is encoded for you)` });
    }
  }),
  topicPrefix: z.string(expected('a topic prefix', 'e.g. topicPrefix: pie-stream (events go to <prefix>/<camera>/faces)'))
    .regex(/^[^+#\u0000]+$/, { error: (iss: Issue) => `${show(iss.input)} cannot start an MQTT topic — fix: leave out the wildcards + and #, e.g. topicPrefix: pie-stream or site/a` })
    .refine((p) => !p.startsWith('/') && !p.endsWith('/'), { error: 'starts or ends with / — fix: write the levels without outer slashes, e.g. topicPrefix: site/a' })
    .default('pie-stream'),
  qos: z.union([z.literal(0), z.literal(1)], expected('0 or 1', 'qos: 0 (at most once, as Frigate\'s events; the default) or qos: 1 (the broker acknowledges each event)')).default(0),
  maxQueue: int('events', 1, 100000, 'e.g. maxQueue: 100 (events held while the broker is away; the oldest go first)').default(100),
};

const serverShape = {
  host: z.string(expected('a host name or IP address', 'e.g. host: 127.0.0.1 (this machine only) or host: 0.0.0.0 (all interfaces, needs a token)'))
    .regex(/^[^\s/:]+$|^\[?[0-9a-f:]+\]?$/i, { error: (iss: Issue) => `${show(iss.input)} is not a host name or IP address — fix: write the address alone, without scheme, port or path, e.g. host: 0.0.0.0` })
    .default('127.0.0.1'),
  port: int('a TCP port', 0, 65535, 'e.g. port: 8080 (0 = any free port)').default(8080),
  token: z.string(expectedSecret('a string', 'e.g. token: ${PIE_TOKEN}, from the environment'))
    .min(1, { error: 'is empty — fix: set a long random string, e.g. token: ${PIE_TOKEN}, or remove the key' }).optional(),
};

const NATS_FIX = 'e.g. servers: [nats://127.0.0.1:4222] (credentials go in user/password or token, from the environment)';
const natsUrl = z.string(expected('a nats:// URL', NATS_FIX)).superRefine((s, ctx) => {
  const scheme = URL_SCHEME.exec(s)?.[1]?.toLowerCase();
  let host = '', creds = false;
  try { const u = new URL(s); host = u.hostname; creds = u.username !== '' || u.password !== ''; } catch { /* reported below */ }
  if (scheme === undefined || !['nats', 'tls'].includes(scheme)) ctx.addIssue({ code: 'custom', message: `expected a nats:// or tls:// URL, got ${scheme === undefined ? 'no URL scheme' : `a ${scheme}:// URL`} — fix: ${NATS_FIX}` });
  else if (host === '') ctx.addIssue({ code: 'custom', message: `not a valid ${scheme}:// URL (no host) — fix: ${NATS_FIX}` });
  // A password in a server URL would travel in logs and the API: keep credentials in their own keys.
  else if (creds) ctx.addIssue({ code: 'custom', message: `holds credentials — fix: write the URL without user:password@ and set cluster.user and cluster.password (e.g. password: \${NATS_PASSWORD})` });
});
const secret = (fix: string) => z.string(expectedSecret('a string', fix)).min(1, { error: `is empty — fix: ${fix}, or remove the key` });
const pemPath = (what: string) => z.string(expected(`a path to a PEM ${what}`, `e.g. ${what}: /etc/pie/nats-${what}.pem`)).min(1, expected(`a path to a PEM ${what}`, `e.g. ${what}: /etc/pie/nats-${what}.pem`));

const clusterTlsShape = { ca: pemPath('ca').optional(), cert: pemPath('cert').optional(), key: pemPath('key').optional() };
const clusterEventsShape = {
  maxAgeS: int('seconds', 1, 30 * 24 * 3600, 'e.g. maxAgeS: 86400 (face events are kept this long for replay)').default(24 * 3600),
  maxBytes: int('bytes', 1 << 20, 2 ** 40, 'e.g. maxBytes: 1073741824 (the stream drops its oldest events beyond this)').default(256 * 1024 * 1024),
};
const clusterShape = {
  servers: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(natsUrl, expected('a list of nats:// URLs', NATS_FIX))
    .min(1, { error: `no servers — fix: ${NATS_FIX}` }).max(64, { error: 'more than 64 servers — fix: list a few seeds; the client learns the rest of the cluster' })),
  node: z.string(expected('a node name', 'e.g. node: gpu-1')).regex(NAME, { error: (iss: Issue) => `${show(iss.input)} is not a valid node name — fix: use 1–64 lowercase letters, digits, _ and -, unique in the cluster, e.g. node: gpu-1` }),
  capacity: int('cameras', 0, 1024, 'e.g. capacity: 8 (the most cameras this node processes at once; 0 = none, a viewer-only node)'),
  user: secret('e.g. user: ${NATS_USER}').optional(),
  password: secret('e.g. password: ${NATS_PASSWORD}').optional(),
  token: secret('e.g. token: ${NATS_TOKEN}').optional(),
  tls: z.strictObject(clusterTlsShape, expected('a mapping with ca, cert and/or key', 'e.g. tls: { ca: /etc/pie/ca.pem }')).optional(),
  leaseMs: int('milliseconds', 1000, 120_000, 'e.g. leaseMs: 5000 (a dead node\'s cameras move after about this long; renewals every third of it)').default(5000),
  url: z.string(expected('an http(s):// URL', 'e.g. url: http://10.0.0.5:8080 (how other nodes reach this node)')).regex(/^https?:\/\/[^\s/@?#]+\/?$/i, { error: 'is not an http(s)://host:port URL (no credentials, no path) — fix: e.g. url: http://10.0.0.5:8080' }).transform((u) => u.replace(/\/$/, '')).optional(),
  replicas: int('copies', 1, 5, 'e.g. replicas: 3 (one copy per NATS server of a 3-server cluster; at most the servers\' count)').optional(),
  events: z.strictObject(clusterEventsShape, expected('a mapping with maxAgeS and maxBytes', 'e.g. events: { maxAgeS: 86400, maxBytes: 268435456 }')).prefault({}),
};

const rootShape = {
  cameras: z.array(z.strictObject(cameraShape, expected('a camera (a mapping with name and input)', 'e.g. - { name: front_door, input: rtsp://… }')),
    expected('a list of cameras', 'e.g. cameras: [{ name: front_door, input: synthetic }]'))
    .optional(),
  cluster: z.strictObject(clusterShape, expected('a mapping with servers, node and capacity', 'e.g. cluster: { servers: [nats://127.0.0.1:4222], node: gpu-1, capacity: 8 }')).optional(),
  enhance: z.strictObject(enhanceShape, expected('a mapping', 'e.g. enhance: { scale: 1/4, provider: cpu }')).prefault({}),
  detect: z.strictObject(detectShape, expected('a mapping', 'e.g. detect: { enabled: true, fps: 5 }')).prefault({})
    .superRefine((d, ctx) => {
      // The still-scene model needs a few detections to tell a still part of the view from noise.
      const s = d.confirm.staticAfter, least = Math.ceil((10 * MIN_STILL_DETECTIONS) / d.fps) / 10;
      if (s > 0 && s < least) ctx.addIssue({ code: 'custom', path: ['confirm', 'staticAfter'], message: `${s} s is under ${MIN_STILL_DETECTIONS} detections at fps ${d.fps}: a person pausing for a moment would be dropped — fix: use staticAfter: 0 (off) or at least ${least}, e.g. staticAfter: ${Math.max(least, CONFIRM_DEFAULTS.staticAfter)}` });
    }),
  mqtt: z.strictObject(mqttShape, expected('a mapping with url', 'e.g. mqtt: { url: mqtt://127.0.0.1:1883 }')).optional(),
  workers: z.strictObject(workersShape, expected('a mapping', 'e.g. workers: { enhance: 1, detect: 1 }')).prefault({}),
  outputs: z.strictObject(outputsShape, expected('a mapping with hls and/or websocket', 'e.g. outputs: { hls: [enhanced], websocket: [raw, enhanced] }')).prefault({}),
  server: z.strictObject(serverShape, expected('a mapping', 'e.g. server: { host: 127.0.0.1, port: 8080 }')).prefault({}),
};

/** The keys each mapping allows, by path pattern (`[]` for any list index): for "did you mean". */
export const KEYS_AT: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(rootShape),
  'cameras[]': Object.keys(cameraShape),
  'cameras[].outputs': Object.keys(outputsShape),
  enhance: Object.keys(enhanceShape),
  'enhance.batch': Object.keys(batchShape),
  detect: Object.keys(detectShape),
  'detect.confirm': Object.keys(confirmShape),
  mqtt: Object.keys(mqttShape),
  workers: Object.keys(workersShape),
  outputs: Object.keys(outputsShape),
  server: Object.keys(serverShape),
  cluster: Object.keys(clusterShape),
  'cluster.tls': Object.keys(clusterTlsShape),
  'cluster.events': Object.keys(clusterEventsShape),
};

/** The default when a config names neither: the enhanced stream only (raw costs another encoder). */
export const DEFAULT_OUTPUTS: OutputsConfig = { hls: ['enhanced'], websocket: ['enhanced'] };

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;
export const isLoopback = (host: string): boolean => LOOPBACK.test(host);

export const configSchema = z.strictObject(rootShape, expected('a mapping of cameras, enhance, detect, workers, mqtt, outputs and server', 'start from config/example.yaml'))
  .transform((c, ctx): PieConfig => {
    const issue = (path: (string | number)[], message: string): void => { ctx.addIssue({ code: 'custom', message, path }); };

    // Cluster mode takes its cameras from the cluster's bucket; alone, a node needs its own.
    if (c.cameras === undefined && c.cluster === undefined) issue(['cameras'], 'missing — fix: e.g. cameras: [{ name: front_door, input: synthetic }], or cluster: to take the cameras from a NATS cluster');
    else if (c.cameras?.length === 0 && c.cluster === undefined) issue(['cameras'], 'no cameras — fix: add at least one under cameras:, e.g. - { name: front_door, input: synthetic }');
    const cl = c.cluster;
    if (cl && (cl.user === undefined) !== (cl.password === undefined)) issue(['cluster', cl.user === undefined ? 'user' : 'password'], 'missing — fix: set cluster.user and cluster.password together (e.g. from ${NATS_USER} and ${NATS_PASSWORD})');
    if (cl && cl.token !== undefined && cl.user !== undefined) issue(['cluster', 'token'], 'set together with user — fix: use either token or user and password');
    if (cl?.tls && (cl.tls.cert === undefined) !== (cl.tls.key === undefined)) issue(['cluster', 'tls', cl.tls.cert === undefined ? 'cert' : 'key'], 'missing — fix: a client certificate needs both cert and key');

    const firstWithName = new Map<string, number>();
    const cameras = (c.cameras ?? []).map((cam, i): CameraConfig => {
      const at = (key: string): (string | number)[] => ['cameras', i, key];
      const prev = firstWithName.get(cam.name);
      if (prev !== undefined) issue(at('name'), `${show(cam.name)} is already the name of cameras[${prev}] — fix: give every camera its own name`);
      else firstWithName.set(cam.name, i);
      let input = cam.input;
      if (input.kind === 'rtsp') input = { ...input, transport: cam.transport ?? 'tcp' };
      else if (cam.transport !== undefined) issue(at('transport'), `applies to rtsp:// inputs only, and this input is a ${input.kind} — fix: remove transport from this camera`);
      const model = cam.model ?? c.enhance.model;
      // A strength that nothing would use is a mistake the camera should hear about, not a silent no-op.
      if (cam.denoiseStrength !== undefined && cameraDenoise(c.enhance, cam).mode === 'off') {
        issue(at('denoiseStrength'), `is set but this camera's denoising is off (${cam.denoise === 'off' ? 'its denoise: off' : 'enhance.denoise: off'}) — fix: remove denoiseStrength from this camera, or give it denoise: temporal or denoise: spatial`);
      }
      return {
        name: cam.name,
        input,
        width: cam.width,
        height: cam.height,
        fps: cam.fps,
        ...(model !== undefined ? { model } : {}),
        ...(cam.denoise !== undefined ? { denoise: cam.denoise } : {}),
        ...(cam.denoiseStrength !== undefined ? { denoiseStrength: cam.denoiseStrength } : {}),
        ...(cam.faceMask?.length ? { faceMask: cam.faceMask } : {}),
        outputs: {
          hls: cam.outputs?.hls ?? c.outputs.hls ?? DEFAULT_OUTPUTS.hls,
          websocket: cam.outputs?.websocket ?? c.outputs.websocket ?? DEFAULT_OUTPUTS.websocket,
        },
      };
    });

    const { host, port, token } = c.server;
    if (!isLoopback(host) && token === undefined) {
      issue(['server', 'host'], `${show(host)} lets other machines connect, so a token is required — fix: set server.token (e.g. token: \${PIE_TOKEN}), or use host: 127.0.0.1 for this machine only`);
    }
    // Other nodes relay viewers to this URL: a loopback one reaches only nodes on this machine.
    const advertised = cl?.url === undefined ? undefined : (() => { try { return new URL(cl.url!).hostname; } catch { return undefined; } })();
    if (advertised !== undefined && isLoopback(advertised) && !isLoopback(host) && cl!.servers.some((u) => { try { return !isLoopback(new URL(u).hostname); } catch { return false; } })) {
      issue(['cluster', 'url'], `${show(cl!.url)} is this machine only, but the node listens on ${show(host)} and the cluster reaches beyond it — fix: the address other nodes use, e.g. url: http://10.0.0.5:${port || 8080}, or leave url out to derive it`);
    }

    const k = c.enhance.scale;
    // The grid composes value curves at 1/k and applies them itself: no per-channel form, no scale 1, no curve maps for the region cache.
    // auto: the grid on the CPU (1.45× the exact form's frames a second at 720p in the live pool,
    // worst 51.6 dB from it: README, bench curve-apply) wherever it can run; on a GPU the exact
    // form, whose passes stay on the device.
    const gridFits = c.enhance.color === 'value' && k > 1 && !c.enhance.regionCache.enabled;
    const curveApply = c.enhance.curveApply === 'auto' ? (c.enhance.provider === 'cpu' && gridFits ? 'grid' : 'exact') : c.enhance.curveApply;
    if (c.enhance.curveApply === 'grid') {
      if (c.enhance.color !== 'value') issue(['enhance', 'curveApply'], 'grid needs color: value — fix: use color: value, or curveApply: exact');
      else if (k === 1) issue(['enhance', 'curveApply'], 'grid needs curves at 1/2 or coarser — fix: use scale: 1/2 or finer steps (1/4, 1/8), or curveApply: exact');
      else if (c.enhance.regionCache.enabled) issue(['enhance', 'curveApply'], 'grid gives the region cache no curve maps — fix: use curveApply: exact with regionCache, or turn regionCache off');
    }
    return {
      cameras,
      enhance: {
        ...(c.enhance.model !== undefined ? { model: c.enhance.model } : {}),
        scale: k === 1 ? '1' : `1/${k}`,
        downscale: k,
        strength: c.enhance.strength,
        exposure: c.enhance.exposure, color: c.enhance.color, noiseAwareGain: c.enhance.noiseAwareGain, saturation: c.enhance.saturation, mono: c.enhance.mono,
        provider: c.enhance.provider,
        batch: { maxSize: c.enhance.batch.maxSize, maxWaitMs: c.enhance.batch.maxWaitMs, queue: c.enhance.batch.queue },
        regionCache: { ...c.enhance.regionCache },
        denoise: c.enhance.denoise,
        denoiseStrength: c.enhance.denoiseStrength,
        denoiseGlobalMotion: c.enhance.denoiseGlobalMotion,
        curveApply,
      },
      detect: { ...c.detect, confirm: { ...c.detect.confirm } },
      workers: { ...c.workers },
      ...(c.mqtt !== undefined ? { mqtt: { ...c.mqtt } } : {}),
      ...(cl !== undefined ? { cluster: clusterConfig(cl) } : {}),
      server: { host, port, ...(token !== undefined ? { token } : {}) },
    };
  });

type ClusterInput = z.output<z.ZodObject<typeof clusterShape>>;

/** Optional keys left out rather than set to undefined (exactOptionalPropertyTypes). */
function clusterConfig(c: ClusterInput): ClusterConfig {
  const tls = c.tls && Object.fromEntries(Object.entries(c.tls).filter(([, v]) => v !== undefined));
  return {
    servers: c.servers, node: c.node, capacity: c.capacity, leaseMs: c.leaseMs, events: { ...c.events },
    ...(c.user !== undefined ? { user: c.user } : {}), ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.token !== undefined ? { token: c.token } : {}), ...(tls ? { tls } : {}), ...(c.url !== undefined ? { url: c.url } : {}),
    ...(c.replicas !== undefined ? { replicas: c.replicas } : {}),
  };
}
