// The one file that owns the inference-worker protocol: the messages between the main thread and a
// worker (src/workers/inference-worker.ts), the sessions a worker can own, and the closed set of
// ways a request can fail. Everything here is structured-cloneable; pixel buffers travel in the
// transfer list, never copied by the clone.
//
// The Enhancer's per-call arguments (everything after the frames) are carried as they are typed in
// src/enhance/enhancer.ts, so a new per-frame input there (a mono/IR flag, exposure state) flows
// through the workers without a change here, as long as it stays structured-cloneable (plain
// objects, numbers, strings, typed arrays; no functions, no class instances).
import type { FaceDetectorOptions } from '../detect/detector.js';
import type { DetectPathOptions, FrameForDetection } from '../detect/path.js';
import type { StillGateOptions } from '../detect/static-scene.js';
import type { Face } from '../detect/types.js';
import type { CurveApplier, CurveApplierOptions } from '../enhance/apply-graph.js';
import type { CameraNoiseReport, DenoiserOptions } from '../denoise/denoiser.js';
import type { CurveMaps, EnhancedBatch, Enhancer, EnhancerOptions } from '../enhance/enhancer.js';
import type { Provider } from '../enhance/session.js';
import type { ErrorKind } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import type { RegionCacheOptions } from '../pipeline/regionCache.js';
import { frameStore } from '../ingest/frame-store.js';

/** The arguments of a method after its first (the frames): what the protocol passes through untouched. */
type RestArgs<F> = F extends (first: never, ...rest: infer R) => unknown ? R : never;
export type EnhanceArgs = RestArgs<Enhancer['enhance']>;
export type CurvesArgs = RestArgs<Enhancer['estimateCurves']>;
export type ApplyArgs = RestArgs<CurveApplier['applyWithTone']> extends [CurveMaps, ...infer R] ? R : never;

/** A session a worker opens and owns; `threads` is filled in by the pool (cores / workers). */
export type SessionSpec =
  /** `fits`: frame sizes the session must take within its memory budget (Enhancer.checkFits), checked at open. */
  | { readonly kind: 'enhancer'; readonly options: EnhancerOptions; readonly fits?: readonly { readonly width: number; readonly height: number; readonly what: string }[] }
  | { readonly kind: 'applier'; readonly options: CurveApplierOptions }
  | { readonly kind: 'detector'; readonly options: FaceDetectorOptions }
  /** The temporal/spatial denoiser (src/denoise): its per-camera state lives with the session, in the worker. */
  | { readonly kind: 'denoiser'; readonly options: DenoiserOptions };

/**
 * Denoise the frames first: frame i, as camera `cameras[i]`, with the denoiser session `keys[i]`,
 * or not at all where that is null (a camera with denoise off goes straight to the enhancer). A
 * camera's temporal state and noise model are kept in the worker (a camera always goes to the same
 * worker, workerOf) and in one session (its mode and strength). The result then carries the
 * denoised frames and each denoised camera's noise model.
 */
export interface DenoiseStep {
  readonly keys: readonly (string | null)[];
  readonly cameras: readonly string[];
  /** Send the denoised frames back too (the face detector's input); otherwise only the noise models. */
  readonly frames?: boolean;
}

/**
 * After detecting, mark faces (`still`) on parts of the view that have been still for `options.afterS`
 * (src/detect/static-scene.ts): frame i is camera `cameras[i]`'s at `ms[i]`, and updates that
 * camera's model, kept in the worker (a camera always goes to the same worker, workerOf).
 */
export interface StillStep {
  readonly cameras: readonly string[];
  readonly ms: readonly number[];
  readonly options: StillGateOptions;
}

/** An enhanced batch of the live path: with a DenoiseStep, the noise models too, and the denoised frames (before the curves) when asked. */
export interface LiveBatch extends EnhancedBatch {
  readonly denoised?: readonly RgbImage[];
  readonly noise?: readonly CameraNoiseReport[];
}

/** Frames through their cameras' denoisers alone (the enhancement runs elsewhere), and the denoised cameras' noise models. */
export interface DenoisedBatch {
  readonly frames: readonly RgbImage[];
  readonly noise: readonly CameraNoiseReport[];
}

/**
 * Shared slots (frame-store.ts) the main thread gives a request for its output frames, one per input
 * frame (null: none, the frame comes back as a buffer of its own): the worker copies result frame i
 * into `frames[i]` (and the denoised frame into `denoised[i]`), so the results need no fresh buffer
 * on the main thread, where every one would be counted garbage. Output frames have their input's size.
 */
export interface OutputSlots {
  readonly frames: readonly (Uint8Array | null)[];
  readonly denoised?: readonly (Uint8Array | null)[];
}

/** What an opened session says about itself (the same in every worker of a pool). */
export interface SessionInfo {
  readonly description: string;
  readonly provider: Provider;
}

/**
 * retire: exit at the next moment no session is running. Never Worker.terminate() a worker that may
 * be inside session.run: the native call returns into a torn-down thread and aborts the whole
 * process (measured: "terminate called after throwing an instance of 'Napi::Error'").
 */
export interface Retire { readonly type: 'retire' }

export type Request =
  | { readonly type: 'open'; readonly id: number; readonly key: string; readonly spec: SessionSpec }
  | { readonly type: 'close'; readonly id: number; readonly key: string }
  | { readonly type: 'enhance'; readonly id: number; readonly key: string; readonly frames: readonly RgbImage[]; readonly args: EnhanceArgs; readonly denoise?: DenoiseStep; readonly into?: OutputSlots }
  | { readonly type: 'curves'; readonly id: number; readonly key: string; readonly frames: readonly RgbImage[]; readonly args: CurvesArgs }
  | { readonly type: 'apply'; readonly id: number; readonly key: string; readonly frames: readonly RgbImage[]; readonly curves: CurveMaps; readonly args: ApplyArgs; readonly into?: OutputSlots }
  | { readonly type: 'detect'; readonly id: number; readonly key: string; readonly frames: readonly FrameForDetection[]; readonly path: DetectPathOptions; readonly still?: StillStep }
  /**
   * The region-cache path in one request: curves from enhancer `key`, each frame's maps pooled and
   * smoothed by its camera's RegionCache (kept in the worker: a camera always goes to the same
   * worker), applied by applier `applier`. `cameras[i]` names frame i's camera.
   */
  | { readonly type: 'cached'; readonly id: number; readonly key: string; readonly applier: string; readonly frames: readonly RgbImage[]; readonly cameras: readonly string[]; readonly cache: RegionCacheOptions; readonly args: ApplyArgs; readonly denoise?: DenoiseStep; readonly into?: OutputSlots }
  /**
   * Only the denoising of an 'enhance' request (DenoiseStep; its `frames` flag is ignored: the
   * frames always come back): one camera's frames can be denoised in its worker while another
   * worker enhances the frames before them.
   */
  | { readonly type: 'denoise'; readonly id: number; readonly frames: readonly RgbImage[]; readonly denoise: DenoiseStep; readonly into?: OutputSlots }
  /**
   * Drops these cameras' region caches, denoiser state and still-scene models (a model switch, an IR
   * switch, a camera restart): the next frame is a keyframe and starts a fresh temporal estimate
   * and noise model.
   */
  | { readonly type: 'forget'; readonly id: number; readonly cameras: readonly string[] };

/** The result type of each request type. */
export interface Results {
  open: SessionInfo;
  close: null;
  enhance: LiveBatch;
  curves: CurveMaps;
  apply: EnhancedBatch;
  detect: Face[][];
  cached: LiveBatch;
  denoise: DenoisedBatch;
  forget: null;
}

/**
 * Why a request failed. The closed set callers decide recovery by:
 * - busy: every worker already holds its bounded queue; nothing was sent (count a drop);
 * - died: the worker exited while holding the request (it is being restarted);
 * - timeout: the request ran past the pool's limit (the worker is killed and restarted);
 * - closed: the pool is closing or closed;
 * - no-session: the worker has no session of that key (opened on another pool, or closed);
 * - failed: the session itself threw (bad input, a model error); `pieKind` keeps a PieError's kind.
 */
export const WORKER_ERROR_KINDS = ['busy', 'died', 'timeout', 'closed', 'no-session', 'failed'] as const;
export type WorkerErrorKind = (typeof WORKER_ERROR_KINDS)[number];

export interface WireError {
  readonly kind: WorkerErrorKind;
  readonly message: string;
  /** When the worker threw a PieError: its kind and fix, so the main thread rethrows the same error. */
  readonly pieKind?: ErrorKind;
  readonly fix?: string;
}

export type Response =
  | { readonly type: 'ready' }
  | { readonly id: number; readonly ok: true; readonly result: Results[keyof Results] }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

export class WorkerError extends Error {
  constructor(readonly kind: WorkerErrorKind, message: string) {
    super(message);
    this.name = `WorkerError(${kind})`;
  }
}

export const isWorkerError = (e: unknown, kind?: WorkerErrorKind): e is WorkerError =>
  e instanceof WorkerError && (kind === undefined || e.kind === kind);

/**
 * The buffers under every typed array in `value` (depth-limited walk over plain objects and
 * arrays), each once: the transfer list of a message. A SharedArrayBuffer is shared, not moved.
 */
export function transferablesOf(value: unknown, depth = 6): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const walk = (v: unknown, d: number): void => {
    if (d < 0 || v === null || typeof v !== 'object') return;
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
      return;
    }
    if (Array.isArray(v)) { for (const x of v) walk(x, d - 1); return; }
    for (const x of Object.values(v)) walk(x, d - 1);
  };
  walk(value, depth);
  return [...out];
}

/**
 * A frame for a request, in a shared slot of the frame store (frame-store.ts), so neither thread
 * allocates counted memory for it: the frame's own slot, held for the request (the store counts
 * holders, and frames are not written after they are made), or a copy in a fresh slot when the
 * frame is in no slot. The pool gives the request's hold back when it settles, so the slot is not
 * reused while the worker reads it. (Copying every frame cost the main thread ~1.5 ms per 720p
 * frame, 12 ms in one go for a detector batch of four raw and enhanced frames.)
 */
export const ownCopy = (f: RgbImage): RgbImage => {
  const store = frameStore(f.data.length);
  if (!store.holds(f.data)) return { width: f.width, height: f.height, data: store.copy(f.data) };
  store.retain(f.data);
  return { width: f.width, height: f.height, data: f.data };
};

/** The pixel buffers of a request's input frames (held or copied by ownCopy, when the pool made it). */
export function inputBuffers(req: Request): Uint8Array[] {
  switch (req.type) {
    case 'enhance': case 'curves': case 'apply': case 'cached': case 'denoise': return req.frames.map((f) => f.data);
    case 'detect': return req.frames.flatMap((f) => (f.enhanced ? [f.raw.data, f.enhanced.data] : [f.raw.data]));
    default: return [];
  }
}

/** Slots for a request's output frames, of its input frames' sizes; `denoised` too when asked. */
export function outputSlots(frames: readonly RgbImage[], denoised: boolean): OutputSlots {
  // A store out of slots gives none: the worker's own buffer then comes back transferred.
  const slots = (): (Uint8Array | null)[] => frames.map((f) => frameStore(f.data.length).takeShared());
  return { frames: slots(), ...(denoised ? { denoised: slots() } : {}) };
}

type FramesOut = { readonly frames?: readonly RgbImage[]; readonly denoised?: readonly RgbImage[] };

/** `result` with each of its frames (and denoised frames) that has a slot replaced by `swap(frame, slot)`. */
function perSlot<T>(result: T, into: OutputSlots | undefined, swap: (f: RgbImage, slot: Uint8Array) => RgbImage): T {
  if (!into || result === null || typeof result !== 'object') return result;
  const r = result as FramesOut;
  const each = (fs: readonly RgbImage[] | undefined, slots: readonly (Uint8Array | null)[] | undefined): RgbImage[] | undefined =>
    fs?.map((f, i) => { const slot = slots?.[i]; return slot && slot.length === f.data.length ? swap(f, slot) : f; });
  const frames = each(r.frames, into.frames), denoised = each(r.denoised, into.denoised);
  return { ...result, ...(frames ? { frames } : {}), ...(denoised ? { denoised } : {}) };
}

/**
 * In the worker: each result frame copied into its output slot, where one of the right size was given
 * (the slot then travels back shared, as the same memory the main thread holds).
 */
export const placeInto = <T>(result: T, into: OutputSlots | undefined): T => perSlot(result, into, (f, slot) => {
  slot.set(f.data);
  return { ...f, data: slot };
});

/**
 * On the main thread: a result's frames that came back in their slots, given the main thread's own
 * views of those slots (the ones its store watches; the views the message brought are dropped).
 */
export const fromSlots = <T>(result: T, into: OutputSlots | undefined): T =>
  perSlot(result, into, (f, slot) => (f.data.buffer instanceof SharedArrayBuffer ? { ...f, data: slot } : f));

/**
 * `value` with every typed array over a SharedArrayBuffer replaced by a copy of its own (depth-limited
 * walk, as transferablesOf; unchanged parts are the same objects). A worker's result must not alias
 * a request's shared frames (a frame passed through, such as a camera the denoiser leaves alone):
 * the main thread reuses those slots once the request settles.
 */
export function unshared<T>(value: T, depth = 6): T {
  const walk = (v: unknown, d: number): unknown => {
    if (d < 0 || v === null || typeof v !== 'object') return v;
    if (ArrayBuffer.isView(v)) return v.buffer instanceof SharedArrayBuffer && 'slice' in v && typeof v.slice === 'function' ? (v.slice as () => unknown).call(v) : v;
    if (Array.isArray(v)) {
      const out = v.map((x) => walk(x, d - 1));
      return out.some((x, i) => x !== v[i]) ? out : v;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) { const y = walk(x, d - 1); out[k] = y; if (y !== x) changed = true; }
    return changed ? out : v;
  };
  return walk(value, depth) as T;
}
