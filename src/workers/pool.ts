// A pool of inference workers of one role (enhancement, or detection): each worker owns a copy of
// every session opened on the pool, requests go to the least busy worker, and each worker holds at
// most 1 + `queue` requests (beyond that a request fails 'busy' at once: a counted drop upstream,
// never a stalled camera). A worker that dies or runs past the timeout is replaced, its sessions
// reopened, and what it held fails 'died' / 'timeout'; the others go on meanwhile.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DetectPathOptions, FrameForDetection } from '../detect/path.js';
import type { Face } from '../detect/types.js';
import type { CurveMaps, EnhancedBatch } from '../enhance/enhancer.js';
import { PieError } from '../errors.js';
import { frameStore } from '../ingest/frame-store.js';
import { createHandler } from './handler.js';
import type { RgbImage } from '../image/types.js';
import type { RegionCacheOptions } from '../pipeline/regionCache.js';
import type { FrameTone } from '../enhance/tone-feeds.js';
import { fromSlots, inputBuffers, outputSlots, ownCopy, transferablesOf, WorkerError, type ApplyArgs, type CurvesArgs, type DenoisedBatch, type EnhanceArgs, type LiveBatch, type Request, type Response, type Retire, type Results, type SessionInfo, type SessionSpec, type StillStep } from './protocol.js';

export interface PoolOptions {
  /** Names the pool in logs and errors ('enhance', 'detect'). */
  readonly name: string;
  /** Workers, ≥ 1. */
  readonly size: number;
  /** ONNX Runtime intra-op threads of each session in each worker. */
  readonly threads: number;
  /** Requests a worker may hold beyond the one it runs (≥ 0). */
  readonly queue: number;
  /** A request running longer than this kills its worker (it is replaced). */
  readonly timeoutMs: number;
  readonly log?: (line: string) => void;
  /** The worker's entry module; default inference-worker (tests pass a wrapper of handler.ts). */
  readonly entry?: URL;
  /** Nice steps of the workers' threads below the process (Linux): above 0 they yield the CPU to ingest and IO. Default 0. */
  readonly nice?: number;
}

/**
 * Sizes for a machine: enhancement gets the cores, detection one worker beside it. `cameras`: how
 * many cameras this node enhances (a cluster node: as many as it may be given).
 */
export function defaultPoolSizes(cores = os.availableParallelism(), cameras = 0): { enhance: { size: number; threads: number }; detect: { size: number; threads: number } } {
  // One worker per 4 cores, each with ≥ 2 threads for a single camera's frames…
  let size = Math.max(1, Math.floor(cores / 4));
  // …and twice as many, with half the threads, from two cameras up: a session run has serial parts
  // (ORT runs each Resize on one thread, the denoiser's per-frame JavaScript, packing) that leave a
  // worker's other threads idle, and a second worker fills them. Measured on 2 cores, 15 fps
  // cameras, curves 1/8, one worker of 2 threads → two of 1: with the temporal denoiser 640×360 ×2
  // 11.2 → 14.9 fps a camera, ×4 4.6 → 6.1, 1280×720 ×2 2.4 → 3.7 (bench/results/pipeline-s6-*.json);
  // without it 1280×720 ×2 7.5 → 10.7, with detection 5.5 → 7.7, and 640×360 ×4 with detection
  // 11.2–14.2 → 14.6–15.0 (1.0 → 0.2–2.8% drops; bench/results/s8-*.json). One camera: at least two
  // workers too, since its frames are denoised in one while another enhances the frames before
  // (LiveEnhancers' split): 1280×720 with the temporal denoiser 8.8–10.1 → 12.8–13.5 fps, with
  // detection 8.0 → 10.9; without the denoiser 15.0 either way (bench/results/s9-pipelined-720p1.json,
  // s9-2w-720p1-dnoff.json). Before that split one camera gained nothing (720p: 5.7 → 5.4).
  if (cameras >= 2) size = Math.min(cores, 2 * size);
  else if (cameras === 1) size = Math.max(size, Math.min(cores, 2));
  return { enhance: { size, threads: Math.max(1, Math.floor(cores / size)) }, detect: { size: 1, threads: Math.max(1, Math.floor(cores / 2)) } };
}

interface Pending {
  readonly resolve: (r: Results[keyof Results]) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
  /**
   * The request as sent: its frames are shared slots (ownCopy), which the worker reads while this
   * is pending. Holding it keeps the slots from going back to their store (frame-store.ts) before then.
   */
  readonly request: Request;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  /** Accepts work: started, and every session of the pool is open in it. */
  ready: boolean;
  readonly pending: Map<number, Pending>;
  /** Consecutive failed starts, for the restart backoff. */
  failures: number;
}

/**
 * A batch of the live path, frame i of camera `cameras[i]` with tone state `tones[i]`: enhanced by
 * session `key`, denoised first when `denoiser` names a session (one for every frame, or frame i's
 * own, null for a frame not to denoise), through the region cache with applier `cache.applier`
 * when given. With either, the cameras' state lives in a worker, so the cameras of one request
 * must share it (group them by workerOf).
 */
export interface LiveRequest {
  readonly key: string;
  readonly frames: readonly RgbImage[];
  readonly cameras: readonly string[];
  readonly tones: readonly FrameTone[];
  readonly denoiser?: string | readonly (string | null)[];
  /** With a denoiser: bring the denoised frames back (LiveBatch.denoised). */
  readonly denoised?: boolean;
  readonly cache?: { readonly applier: string; readonly options: RegionCacheOptions };
  /**
   * Run in the cameras' worker (workerOf, shared by them) though they keep no state there: a
   * camera's frames then finish in order (any worker may finish them out of order).
   */
  readonly affinity?: boolean;
}

/** Frame i's denoiser session (null: not denoised), or undefined when no frame is denoised. */
function denoiserKeys(r: Pick<LiveRequest, 'denoiser' | 'cameras'>): readonly (string | null)[] | undefined {
  const keys = typeof r.denoiser === 'string' ? r.cameras.map(() => r.denoiser as string) : r.denoiser;
  if (keys !== undefined && keys.length !== r.cameras.length) throw new RangeError(`live(): ${keys.length} denoiser keys for ${r.cameras.length} frames`);
  return keys?.some((k) => k !== null) ? keys : undefined;
}

/** The request a LiveRequest becomes: 'cached' with the region cache, else 'enhance'; denoised first with a denoiser. */
function liveRequest(r: LiveRequest, frames: readonly RgbImage[]): Extract<Request, { type: 'enhance' | 'cached' }> {
  const keys = denoiserKeys(r);
  const denoise = keys !== undefined ? { denoise: { keys, cameras: r.cameras, frames: r.denoised ?? false } } : {};
  return r.cache
    ? { type: 'cached', id: 0, key: r.key, applier: r.cache.applier, frames, cameras: r.cameras, cache: r.cache.options, args: [r.tones], ...denoise }
    : { type: 'enhance', id: 0, key: r.key, frames, args: [r.tones], ...denoise };
}

function denoiseRequest(r: Pick<LiveRequest, 'frames' | 'cameras' | 'denoiser'>, frames: readonly RgbImage[]): Extract<Request, { type: 'denoise' }> {
  const keys = denoiserKeys(r) ?? r.cameras.map(() => null);
  return { type: 'denoise', id: 0, frames, denoise: { keys, cameras: r.cameras } };
}

/**
 * A settled request's own frame copies back to their store at once (ownCopy made them for this
 * request alone); `unsent`: its output slots too (a request refused before it went out). Not on a
 * timeout: the stuck worker may still be reading; the collector returns those.
 */
function giveBack(req: Request, unsent = false): void {
  // Copies that are not slots (a store out of slots) went transferred, and are empty here.
  const own = [...inputBuffers(req), ...(unsent && 'into' in req && req.into ? [...req.into.frames, ...(req.into.denoised ?? [])] : [])];
  for (const b of own) if (b && b.buffer instanceof SharedArrayBuffer) frameStore(b.length).release(b);
}

/** A frame-making request with slots for its outputs: its frames, and the denoised ones when it asks for them back. */
function withSlots<R extends Extract<Request, { type: 'enhance' | 'apply' | 'cached' | 'denoise' }>>(r: R): R {
  return { ...r, into: outputSlots(r.frames, (r.type === 'enhance' || r.type === 'cached') && r.denoise?.frames === true) };
}

/** Whether a live request keeps per-camera state in a worker (then it must go to the cameras' worker). */
const statefulRequest = (r: LiveRequest): boolean => denoiserKeys(r) !== undefined || r.cache !== undefined || r.affinity === true;

/** What the live path needs of inference: InferencePool (worker threads), or InProcessInference for comparison. */
export interface Inference {
  readonly o: Pick<PoolOptions, 'name' | 'size'>;
  open(key: string, spec: SessionSpec): Promise<SessionInfo>;
  closeSession(key: string): Promise<void>;
  enhance(key: string, frames: readonly RgbImage[], ...args: EnhanceArgs): Promise<EnhancedBatch>;
  curves(key: string, frames: readonly RgbImage[], ...args: CurvesArgs): Promise<CurveMaps>;
  apply(key: string, frames: readonly RgbImage[], curves: CurveMaps, ...args: ApplyArgs): Promise<EnhancedBatch>;
  /** Faces per frame; with `still`, each camera's still-scene model (in the worker that holds it) marks faces on still parts of its view `still` (confirmFaces drops them). */
  detect(key: string, frames: readonly FrameForDetection[], path: DetectPathOptions, still?: StillStep): Promise<Face[][]>;
  /** The region-cache path in the worker that holds these cameras' caches (all of one workerOf). */
  cached(key: string, applier: string, frames: readonly RgbImage[], cameras: readonly string[], cache: RegionCacheOptions, ...args: ApplyArgs): Promise<EnhancedBatch>;
  /** A live batch (LiveRequest); stateful ones go to their cameras' worker. */
  live(r: LiveRequest): Promise<LiveBatch>;
  /** A live batch's denoising alone, in its cameras' worker (they must share one): the frames come back for enhancement elsewhere. */
  denoise(r: Pick<LiveRequest, 'frames' | 'cameras' | 'denoiser'>): Promise<DenoisedBatch>;
  /** Drops cameras' region caches and denoiser state wherever they are. */
  forget(cameras: readonly string[]): Promise<void>;
  /** The worker a camera's region cache lives in: a batch for cached() holds cameras of one worker. */
  workerOf(camera: string): number;
  stats(): PoolStats;
  close(): Promise<void>;
}

export interface PoolStats {
  readonly workers: number;
  readonly ready: number;
  readonly inFlight: number;
  readonly restarts: number;
  readonly completed: number;
  readonly failed: Readonly<Record<string, number>>;
}

const DEFAULT_ENTRY = new URL(`./inference-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
const MAX_RESTART_DELAY_MS = 5000;
/** How long close() waits for a worker's run to end before terminating it anyway. */
const CLOSE_WAIT_MS = 30_000;

/** Asks a worker to retire and waits for its exit; terminates it only past `ms` (a run that never ends). */
function exited(w: Worker, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (w.threadId === -1) return resolve(); // already gone
    const timer = setTimeout(() => { void w.terminate().then(() => resolve()); }, ms);
    w.once('exit', () => { clearTimeout(timer); resolve(); });
    w.postMessage({ type: 'retire' } satisfies Retire);
  });
}

export class InferencePool implements Inference {
  private readonly slots: Slot[] = [];
  /** Workers replaced while stuck in a run: their exit, when it comes, is not a new failure. */
  private readonly abandoned = new WeakSet<Worker>();
  /** Every open session, so a replacement worker reopens them. */
  private readonly specs = new Map<string, SessionSpec>();
  private nextId = 1;
  private closed = false;
  /** start() has finished: from now on a worker that exits is replaced. */
  private running = false;
  private restarts = 0;
  private completed = 0;
  private readonly failed: Record<string, number> = {};
  private readonly log: (line: string) => void;
  private readonly entry: URL;

  private constructor(readonly o: PoolOptions) {
    this.log = o.log ?? (() => {});
    this.entry = o.entry ?? DEFAULT_ENTRY;
  }

  /** Starts `size` workers and waits until each has said it is ready. */
  static async start(o: PoolOptions): Promise<InferencePool> {
    for (const [k, min] of [['size', 1], ['threads', 1], ['queue', 0], ['timeoutMs', 1]] as const) {
      if (!(Number.isInteger(o[k]) && o[k] >= min)) throw new PieError('config', `${o.name} workers: ${k} ${o[k]} is not an integer ≥ ${min}`, `set workers.${o.name}.${k} to ${min} or more`);
    }
    const pool = new InferencePool(o);
    try {
      await Promise.all(Array.from({ length: o.size }, (_, i) => pool.spawn(i)));
      pool.running = true;
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Requests the pool takes at once (each worker's running one and its queue). */
  get capacity(): number { return this.o.size * (1 + this.o.queue); }

  stats(): PoolStats {
    return {
      workers: this.slots.length, ready: this.slots.filter((s) => s.ready).length,
      inFlight: this.slots.reduce((n, s) => n + s.pending.size, 0), restarts: this.restarts, completed: this.completed, failed: { ...this.failed },
    };
  }

  /** Opens a session under `key` in every worker (replacing one of that key); the first worker's description. */
  async open(key: string, spec: SessionSpec): Promise<SessionInfo> {
    const full = withThreads(spec, this.o.threads);
    // Recorded first, so a worker that becomes ready meanwhile opens it too.
    const before = this.specs.get(key);
    this.specs.set(key, full);
    try {
      const infos = await Promise.all(this.slots.filter((s) => s.ready).map((s) => this.send(s, { type: 'open', id: 0, key, spec: full }, false)));
      if (infos[0]) return infos[0];
      throw new WorkerError('busy', `no ${this.o.name} worker is ready (restarting)`);
    } catch (e) {
      if (before) this.specs.set(key, before); else this.specs.delete(key);
      throw e;
    }
  }

  async closeSession(key: string): Promise<void> {
    this.specs.delete(key);
    await Promise.allSettled(this.slots.filter((s) => s.ready).map((s) => this.send(s, { type: 'close', id: 0, key }, false)));
  }

  enhance(key: string, frames: readonly RgbImage[], ...args: EnhanceArgs): Promise<EnhancedBatch> {
    return this.submit(withSlots({ type: 'enhance', id: 0, key, frames: frames.map(ownCopy), args }));
  }

  curves(key: string, frames: readonly RgbImage[], ...args: CurvesArgs): Promise<CurveMaps> {
    return this.submit({ type: 'curves', id: 0, key, frames: frames.map(ownCopy), args });
  }

  apply(key: string, frames: readonly RgbImage[], curves: CurveMaps, ...args: ApplyArgs): Promise<EnhancedBatch> {
    // The curves were made for this call (the region cache's smoothed copy): moved, not copied.
    return this.submit(withSlots({ type: 'apply', id: 0, key, frames: frames.map(ownCopy), curves, args }));
  }

  async detect(key: string, frames: readonly FrameForDetection[], path: DetectPathOptions, still?: StillStep): Promise<Face[][]> {
    const copied = frames.map((f) => ({ raw: ownCopy(f.raw), ...(f.enhanced ? { enhanced: ownCopy(f.enhanced) } : {}) }));
    if (!still) return this.submit({ type: 'detect', id: 0, key, frames: copied, path });
    // Each camera's still-scene model lives in one worker: one request per worker its cameras map to.
    const groups = new Map<number, number[]>();
    still.cameras.forEach((c, i) => { const w = this.workerOf(c); groups.set(w, [...(groups.get(w) ?? []), i]); });
    const out: Face[][] = new Array<Face[]>(frames.length);
    await Promise.all([...groups].map(async ([at, idx]) => {
      const part = { cameras: idx.map((i) => still.cameras[i]!), ms: idx.map((i) => still.ms[i]!), options: still.options };
      const faces = await this.submit({ type: 'detect', id: 0, key, frames: idx.map((i) => copied[i]!), path, still: part }, at);
      idx.forEach((i, j) => { out[i] = faces[j]!; });
    }));
    return out;
  }

  cached(key: string, applier: string, frames: readonly RgbImage[], cameras: readonly string[], cache: RegionCacheOptions, ...args: ApplyArgs): Promise<EnhancedBatch> {
    const at = this.workerOf(cameras[0] ?? '');
    if (cameras.some((c) => this.workerOf(c) !== at)) return Promise.reject(new RangeError('cached(): the cameras of one request must share a worker (group them by workerOf)'));
    return this.submit(withSlots({ type: 'cached', id: 0, key, applier, frames: frames.map(ownCopy), cameras, cache, args }), at);
  }

  async live(r: LiveRequest): Promise<LiveBatch> {
    if (!statefulRequest(r)) return this.submit(withSlots(liveRequest(r, r.frames.map(ownCopy))));
    const at = this.workerOf(r.cameras[0] ?? '');
    if (r.cameras.some((c) => this.workerOf(c) !== at)) throw new RangeError('live(): the cameras of a stateful request must share a worker (group them by workerOf)');
    return this.submit(withSlots(liveRequest(r, r.frames.map(ownCopy))), at);
  }

  async denoise(r: Pick<LiveRequest, 'frames' | 'cameras' | 'denoiser'>): Promise<DenoisedBatch> {
    const at = this.workerOf(r.cameras[0] ?? '');
    if (r.cameras.some((c) => this.workerOf(c) !== at)) throw new RangeError('denoise(): the cameras of one request must share a worker (group them by workerOf)');
    return this.submit(withSlots(denoiseRequest(r, r.frames.map(ownCopy))), at);
  }

  async forget(cameras: readonly string[]): Promise<void> {
    await Promise.allSettled(this.slots.filter((s) => s.ready).map((s) => this.send(s, { type: 'forget', id: 0, cameras }, false)));
  }

  workerOf(camera: string): number {
    let h = 0;
    for (let i = 0; i < camera.length; i++) h = (h * 31 + camera.charCodeAt(i)) >>> 0;
    return h % this.o.size;
  }

  /**
   * Makes worker `index` exit at its next moment between runs, dropping what it holds (they fail
   * 'died'); it is replaced as after a crash. For tests and an operator's last resort.
   */
  retire(index: number): void {
    const s = this.slots[index];
    if (!s) throw new RangeError(`${this.o.name} pool has no worker ${index}`);
    s.worker.postMessage({ type: 'retire' } satisfies Retire);
  }

  /** Stops every worker (each after the run it is in); what they held fails 'closed'. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) s.ready = false;
    await Promise.all(this.slots.map((s) => exited(s.worker, CLOSE_WAIT_MS)));
    for (const s of this.slots) this.failAll(s, 'closed', `the ${this.o.name} pool is closed`);
  }

  /** To the least busy worker, or to worker `at` (a camera's region cache lives there). */
  private submit<T extends Request['type']>(req: Extract<Request, { type: T }>, at?: number): Promise<Results[T]> {
    if (this.closed) {
      giveBack(req, true);
      return Promise.reject(new WorkerError('closed', `the ${this.o.name} pool is closed`));
    }
    let best: Slot | undefined;
    for (const s of at === undefined ? this.slots : [this.slots[at]!]) if (s.ready && s.pending.size <= this.o.queue && (!best || s.pending.size < best.pending.size)) best = s;
    if (!best) {
      this.count('busy');
      giveBack(req, true);
      const why = this.slots.some((s) => s.ready) ? `every ${this.o.name} worker holds ${1 + this.o.queue} requests` : `no ${this.o.name} worker is ready (restarting)`;
      return Promise.reject(new WorkerError('busy', why));
    }
    return this.send(best, req, true);
  }

  private send<T extends Request['type']>(s: Slot, req: Extract<Request, { type: T }>, timed: boolean): Promise<Results[T]> {
    const id = this.nextId++;
    const msg = { ...req, id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!timed || !s.pending.has(id)) return;
        this.log(`${this.o.name} worker ${s.index} ran past ${this.o.timeoutMs} ms: replacing it (the stuck one exits when its run ends)`);
        s.pending.delete(id);
        this.count('timeout');
        reject(new WorkerError('timeout', `the ${this.o.name} worker took over ${this.o.timeoutMs} ms`));
        this.replace(s);
      }, timed ? this.o.timeoutMs : 2 ** 31 - 1);
      timer.unref();
      // The worker answers a request of type T with Results[T] (handler.ts); the map erases T.
      s.pending.set(id, { resolve: resolve as (r: Results[keyof Results]) => void, reject, timer, request: msg });
      // Frames and curves made for this request move; a session's spec is kept for reopening, so it is cloned.
      s.worker.postMessage(msg, msg.type === 'open' ? [] : transferablesOf(msg));
    });
  }

  private count(kind: string): void { this.failed[kind] = (this.failed[kind] ?? 0) + 1; }

  private failAll(s: Slot, kind: 'died' | 'closed', message: string): void {
    // An exited worker reads nothing more: its requests' copies go back to the store.
    for (const [, p] of s.pending) { clearTimeout(p.timer); giveBack(p.request); if (kind === 'died') this.count(kind); p.reject(new WorkerError(kind, message)); }
    s.pending.clear();
  }

  private newWorker(): Worker {
    // From sources (vitest, tsx) the entry is TypeScript: a small .mjs registers tsx in the thread first.
    const nice = this.o.nice ?? 0;
    if (this.entry.pathname.endsWith('.ts')) return new Worker(new URL('./ts-boot.mjs', import.meta.url), { workerData: { entry: this.entry.href, nice } });
    return new Worker(this.entry, { workerData: { nice } });
  }

  /** Starts worker `index` (first start or replacement) and opens the pool's sessions in it. */
  private spawn(index: number): Promise<void> {
    const worker = this.newWorker();
    const slot: Slot = this.slots[index] ?? { index, worker, ready: false, pending: new Map(), failures: 0 };
    slot.worker = worker;
    slot.ready = false;
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (m: Response) => {
        if ('type' in m) {
          // Ready: reopen what the pool holds, then take work.
          void this.reopen(slot).then(() => {
            started = true;
            slot.failures = 0;
            slot.ready = !this.closed;
            resolve();
          }, (e: unknown) => { reject(e instanceof Error ? e : new Error(String(e))); void worker.terminate(); });
          return;
        }
        const p = slot.pending.get(m.id);
        if (!p) return; // timed out meanwhile
        slot.pending.delete(m.id);
        clearTimeout(p.timer);
        giveBack(p.request); // answered: the worker no longer reads the request's copies
        if (m.ok) { this.completed++; p.resolve('into' in p.request ? fromSlots(m.result, p.request.into) : m.result); return; }
        this.count(m.error.kind);
        p.reject(m.error.pieKind ? new PieError(m.error.pieKind, m.error.message, m.error.fix) : new WorkerError(m.error.kind, m.error.message));
      });
      worker.on('error', (e) => { this.log(`${this.o.name} worker ${index} failed: ${e.message}`); });
      worker.on('exit', (code) => {
        if (slot.worker !== worker || this.abandoned.has(worker)) return; // replaced already
        slot.ready = false;
        this.failAll(slot, this.closed ? 'closed' : 'died', `the ${this.o.name} worker ${index} exited (code ${code}) while running it; it is being replaced`);
        if (!started) reject(new Error(`the ${this.o.name} worker ${index} exited (code ${code}) before it was ready`));
        // A worker that fails during start() fails the start; only a running pool replaces workers.
        if (this.closed || !this.running) return;
        this.restartLater(slot, `exited (code ${code})`);
      });
    });
  }

  private restartLater(slot: Slot, why: string): void {
    this.restarts++;
    const delay = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** slot.failures);
    slot.failures++;
    this.log(`${this.o.name} worker ${slot.index} ${why}; restarting in ${delay} ms`);
    setTimeout(() => {
      if (!this.closed) this.spawn(slot.index).catch((e: unknown) => this.log(`${this.o.name} worker ${slot.index} did not restart: ${e instanceof Error ? e.message : String(e)}`));
    }, delay).unref();
  }

  /** A worker stuck in a run: abandoned (it exits when the run ends), what it holds fails, a new one takes its place. */
  private replace(slot: Slot): void {
    const stuck = slot.worker;
    this.abandoned.add(stuck);
    slot.ready = false;
    this.failAll(slot, 'died', `the ${this.o.name} worker ${slot.index} is stuck in a run; it is being replaced`);
    stuck.postMessage({ type: 'retire' } satisfies Retire);
    this.restartLater(slot, 'is stuck');
  }

  private async reopen(s: Slot): Promise<void> {
    for (const [key, spec] of this.specs) await this.send(s, { type: 'open', id: 0, key, spec }, false);
  }
}

function withThreads(spec: SessionSpec, threads: number): SessionSpec {
  if (spec.options.threads !== undefined) return spec;
  switch (spec.kind) {
    case 'enhancer': return { ...spec, options: { ...spec.options, threads } };
    case 'applier': return { kind: spec.kind, options: { ...spec.options, threads } };
    case 'detector': return { kind: spec.kind, options: { ...spec.options, threads } };
    case 'denoiser': return { kind: spec.kind, options: { ...spec.options, threads } };
  }
}

/**
 * The same sessions run on the calling thread, as before the workers: session.run then blocks the
 * event loop (cameras unread, HTTP unanswered). Kept for the bench's same-run comparison and for
 * debugging (workers.inProcess); never the default.
 */
export class InProcessInference implements Inference {
  private readonly handle = createHandler();
  private readonly keys = new Set<string>();
  private inFlight = 0;
  private completed = 0;
  private readonly failed: Record<string, number> = {};

  constructor(readonly o: Pick<PoolOptions, 'name' | 'threads'> & { readonly size: 1 }) {}

  private async run<T extends Request['type']>(req: Extract<Request, { type: T }>): Promise<Results[T]> {
    this.inFlight++;
    try {
      const r = (await this.handle(req)) as Results[T]; // the handler answers a T request with Results[T]
      this.completed++;
      return r;
    } catch (e) {
      this.failed.failed = (this.failed.failed ?? 0) + 1;
      throw e;
    } finally {
      this.inFlight--;
    }
  }

  async open(key: string, spec: SessionSpec): Promise<SessionInfo> {
    const info = await this.run({ type: 'open', id: 0, key, spec: withThreads(spec, this.o.threads) });
    this.keys.add(key);
    return info;
  }
  async closeSession(key: string): Promise<void> { this.keys.delete(key); await this.run({ type: 'close', id: 0, key }); }
  enhance(key: string, frames: readonly RgbImage[], ...args: EnhanceArgs): Promise<EnhancedBatch> { return this.run({ type: 'enhance', id: 0, key, frames, args }); }
  curves(key: string, frames: readonly RgbImage[], ...args: CurvesArgs): Promise<CurveMaps> { return this.run({ type: 'curves', id: 0, key, frames, args }); }
  apply(key: string, frames: readonly RgbImage[], curves: CurveMaps, ...args: ApplyArgs): Promise<EnhancedBatch> { return this.run({ type: 'apply', id: 0, key, frames, curves, args }); }
  detect(key: string, frames: readonly FrameForDetection[], path: DetectPathOptions, still?: StillStep): Promise<Face[][]> { return this.run({ type: 'detect', id: 0, key, frames, path, ...(still ? { still } : {}) }); }
  cached(key: string, applier: string, frames: readonly RgbImage[], cameras: readonly string[], cache: RegionCacheOptions, ...args: ApplyArgs): Promise<EnhancedBatch> {
    return this.run({ type: 'cached', id: 0, key, applier, frames, cameras, cache, args });
  }
  async live(r: LiveRequest): Promise<LiveBatch> { return this.run(liveRequest(r, r.frames)); }
  async denoise(r: Pick<LiveRequest, 'frames' | 'cameras' | 'denoiser'>): Promise<DenoisedBatch> { return this.run(denoiseRequest(r, r.frames)); }
  async forget(cameras: readonly string[]): Promise<void> { await this.run({ type: 'forget', id: 0, cameras }); }
  workerOf(): number { return 0; }
  stats(): PoolStats { return { workers: 0, ready: 0, inFlight: this.inFlight, restarts: 0, completed: this.completed, failed: { ...this.failed } }; }
  async close(): Promise<void> { await Promise.all([...this.keys].map((k) => this.closeSession(k))); }
}
