// One camera: one supervised ffmpeg decoding its input to raw RGB frames at the processing size
// and fps (Frigate's model), and a watchdog that owns restarts (go2rtc's backoff).
//
// Frames leave as an RxJS Observable (`frames$`), hot and shared: a camera runs whether or not
// anyone watches, and raw output, enhancement and detection all subscribe to the same decoder.
// The lifecycle is explicit (start()/stop()) rather than tied to subscriptions, because stopping
// must be awaitable (the ffmpeg process is gone when stop() resolves) and an unsubscribe cannot be.
// The stream never errors: a camera that fails is expected and retried, and an RxJS error would
// end the stream for good; failures go to `status()` / `status$` instead. It completes on stop().
//
// Memory is bounded here by construction: a frame is handed to subscribers as soon as it is read
// (Subject.next is synchronous), nothing is queued, and the splitter holds at most one partial
// frame. What a slow consumer does with frames (keep the newest, count drops) is the pipeline's
// operator's job, so the policy is visible where it applies.
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { isPieError, messageOf, PieError, type ErrorKind } from '../errors.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { decodeToRawArgs, inputScript, type DecodeOptions } from './ffmpeg-args.js';
import type { ResolveOptions } from './ffmpeg-bin.js';
import { FfmpegProcess, lastLine, type Exit } from './ffmpeg-process.js';
import { frameStore, releaseFrame } from './frame-store.js';
import type { Frame } from './frame.js';
import { canonicalCredentials, redact, secretsOfUrl } from './redact.js';
import { syntheticSceneGraph } from './synthetic.js';
import { rgbBytes } from '../image/types.js';

export type CameraInput =
  | { readonly kind: 'rtsp'; readonly url: string; readonly transport?: 'tcp' | 'udp' }
  /** A video file played as a camera: looped, in real time. */
  | { readonly kind: 'file'; readonly path: string }
  /** The project's dark moving lavfi scene (src/ingest/synthetic.ts). */
  | { readonly kind: 'synthetic'; readonly exposure?: number; readonly noise?: number };

export interface CameraSourceOptions {
  readonly name: string;
  readonly input: CameraInput;
  /** Processing size and rate: ffmpeg scales and samples to these. */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Watchdog: no frame for this long while streaming → kill and restart. Default 10 s. */
  readonly stallTimeoutMs?: number;
  /** Watchdog: no first frame this long after ffmpeg started (connect + probe) → kill and restart. Default 20 s. */
  readonly firstFrameTimeoutMs?: number;
  /** Restart pacing; tests scale it down. Default 1 s ×5, 5 s, then 10 s for ever (RESTART_DELAYS_MS). */
  readonly backoff?: BackoffOptions;
  /** Sliding window for fps in. Default 5 s. */
  readonly fpsWindowMs?: number;
  readonly ffmpeg?: ResolveOptions;
  /** Status lines for people (credentials already masked). A throwing logger is ignored. */
  readonly log?: (line: string) => void;
  /**
   * Gives each frame's slot back to the frame store once every subscriber's next() has returned
   * (frame-store.ts): only for subscribers that retainFrame() whatever pixels they keep past their
   * next() (the live app's stages do). Default false: the collector returns the slot, and
   * subscribers may keep frames as they like.
   */
  readonly releaseDelivered?: boolean;
}

/**
 * online: frames are arriving. restarting: an ffmpeg is running (the first start included) and has
 * not delivered a frame yet. offline: the source failed and the next start waits out the backoff.
 * stopped: before start() and after stop().
 */
export type CameraState = 'online' | 'offline' | 'restarting' | 'stopped';

export interface CameraError {
  readonly kind: ErrorKind;
  /** Names the camera and what went wrong; credentials masked. */
  readonly message: string;
  readonly fix: string;
  readonly atMs: number;
}

/** Plain data (JSON-ready) for the HTTP API and /metrics; never holds a credential. */
export interface CameraStatus {
  readonly camera: string;
  /** The input for people: URL credentials masked. */
  readonly input: string;
  readonly state: CameraState;
  /**
   * Frames per second read from ffmpeg over the sliding window; 0 unless online. At most the
   * processing fps: the burst of frames ffmpeg buffered while probing a (re)connect is not a rate.
   */
  readonly fpsIn: number;
  readonly framesTotal: number;
  /** ffmpeg starts after a failure (the first start is not a restart). */
  readonly restarts: number;
  readonly lastError: CameraError | null;
  readonly lastFrameAtMs: number | null;
  /** When offline: when the next start is due. */
  readonly nextRetryAtMs: number | null;
}

const DEFAULT_STALL_MS = 10_000;
const DEFAULT_FIRST_FRAME_MS = 20_000;
const DEFAULT_FPS_WINDOW_MS = 5_000;
/** Hard cap on remembered arrival times, whatever fps and window say. */
const MAX_ARRIVALS = 4096;

// Monotonic, yet in epoch ms so it reads as a time and compares across cameras.
const now = (): number => performance.timeOrigin + performance.now();
const secs = (ms: number): string => `${+(ms / 1000).toFixed(1)} s`;

/** Per-run bookkeeping: one ffmpeg process from start to exit. */
interface Run {
  readonly startedAt: number;
  frames: number;
  lastFrameAt: number;
  /** Set when the watchdog killed it, so the exit is reported as the stall it was. */
  stall: CameraError | undefined;
  /** The watchdog's check for this run. */
  check: () => void;
}

export class CameraSource {
  /** Hot: every subscriber sees frames from the moment it subscribes. Completes on stop(). */
  readonly frames$: Observable<Frame>;
  /** The current status at once, then each state change. Completes on stop(). */
  readonly status$: Observable<CameraStatus>;

  private readonly o: CameraSourceOptions;
  private readonly args: readonly string[];
  /** The input script on ffmpeg's stdin (RTSP: the URL and its password stay off the command line). */
  private readonly script: string | undefined;
  private readonly frameBytes: number;
  private readonly stallMs: number;
  private readonly firstFrameMs: number;
  private readonly fpsWindowMs: number;
  private readonly secrets: readonly string[];
  private readonly inputLabel: string;
  private readonly backoff: Backoff;
  private readonly frameSubject = new Subject<Frame>();
  private readonly statusSubject: BehaviorSubject<CameraStatus>;

  private state: CameraState = 'stopped';
  private started = false;
  private stopping: Promise<void> | undefined;
  private proc: FfmpegProcess | undefined;
  private runDone: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private seq = 0;
  private framesTotal = 0;
  private restarts = 0;
  private lastError: CameraError | null = null;
  private lastFrameAt: number | null = null;
  private nextRetryAt: number | null = null;
  private runFirstFrameAt: number | null = null;
  private arrivals: number[] = [];

  constructor(o: CameraSourceOptions) {
    this.o = o;
    this.secrets = secretsOf(o.input);
    this.inputLabel = this.mask(describeInput(o.input));
    validate(o, this.inputLabel);
    const decode = decodeOptions(o);
    this.args = decodeToRawArgs(decode);
    this.script = decode.inputOnStdin ? inputScript(decode) : undefined;
    this.frameBytes = rgbBytes(o.width, o.height);
    this.stallMs = o.stallTimeoutMs ?? DEFAULT_STALL_MS;
    this.firstFrameMs = o.firstFrameTimeoutMs ?? DEFAULT_FIRST_FRAME_MS;
    this.fpsWindowMs = o.fpsWindowMs ?? DEFAULT_FPS_WINDOW_MS;
    this.backoff = new Backoff(o.backoff);
    this.statusSubject = new BehaviorSubject(this.status());
    this.frames$ = this.frameSubject.asObservable();
    this.status$ = this.statusSubject.asObservable();
  }

  get name(): string { return this.o.name; }
  private get prefix(): string { return `camera "${this.o.name}": `; }
  /** The running ffmpeg's pid, if one runs (for diagnostics and tests). */
  get pid(): number | undefined { return this.proc?.pid; }

  /** Starts the camera; safe to call twice. A stopped source stays stopped: make a new one. */
  start(): void {
    if (this.stopping) throw new Error(`camera "${this.o.name}" was stopped; create a new CameraSource to run it again`);
    if (this.started) return;
    this.started = true;
    this.launch();
  }

  /** Stops the camera and waits until its ffmpeg has exited. Idempotent; completes frames$ and status$. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      await this.proc?.close();
      await this.runDone; // the read loop has seen the end: nothing is emitted after this
      clearTimeout(this.watchdog);
      this.nextRetryAt = null;
      this.arrivals = [];
      this.setState('stopped');
      this.frameSubject.complete();
      this.statusSubject.complete();
    })();
    return this.stopping;
  }

  status(): CameraStatus {
    return {
      camera: this.o.name,
      input: this.inputLabel,
      state: this.state,
      fpsIn: this.fpsIn(),
      framesTotal: this.framesTotal,
      restarts: this.restarts,
      lastError: this.lastError,
      lastFrameAtMs: this.lastFrameAt,
      nextRetryAtMs: this.nextRetryAt,
    };
  }

  private launch(): void {
    this.retryTimer = undefined;
    this.nextRetryAt = null;
    this.setState('restarting');
    // runOnce reports its own failures; this catch is for a bug in it, which must not go unhandled.
    this.runDone = this.runOnce().catch((e: unknown) => {
      if (!this.stopping) this.failed(this.error('ffmpeg-failed', `internal error: ${messageOf(e)}`, 'report this as a bug'));
    });
  }

  private async runOnce(): Promise<void> {
    const run: Run = { startedAt: now(), frames: 0, lastFrameAt: 0, stall: undefined, check: () => {} };
    let proc: FfmpegProcess;
    try {
      // Frames land in reused shared slots (frame-store.ts): no garbage per frame on this thread.
      const store = frameStore(this.frameBytes);
      proc = await FfmpegProcess.start(this.args, { ...this.o.ffmpeg, stdinText: this.script, frames: { bytes: this.frameBytes, take: () => store.take() } });
    } catch (e) {
      if (!this.stopping) {
        this.failed(this.error(isPieError(e) ? e.kind : 'ffmpeg-missing', `ffmpeg could not start: ${messageOf(e).split('\n')[0]}`,
          isPieError(e) && e.fix ? e.fix : 'check the ffmpeg installation (see PIE_FFMPEG)'));
      }
      return;
    }
    if (this.stopping) {
      await proc.close();
      return;
    }
    this.proc = proc;
    this.armWatchdog(run, proc);
    this.runFirstFrameAt = null;
    this.arrivals = [];
    try {
      for await (const data of proc.frames()) {
        if (this.stopping) break;
        this.deliver(data, run);
      }
    } catch {
      // A broken stdout ends the run like an exit does; the exit below says why.
    }
    // stdout ends just before the exit; its last stderr line says why. Should ffmpeg linger
    // instead, the watchdog (still armed) kills it.
    const exit = await proc.exited;
    clearTimeout(this.watchdog);
    this.proc = undefined;
    if (this.stopping) return;
    this.failed(run.stall ?? this.exitError(exit, run));
  }

  private deliver(data: Uint8Array, run: Run): void {
    const t = now();
    run.frames++;
    run.lastFrameAt = t;
    this.lastFrameAt = t;
    this.runFirstFrameAt ??= t;
    this.framesTotal++;
    this.arrivals.push(t);
    if (this.arrivals.length > MAX_ARRIVALS) this.arrivals.shift();
    this.backoff.delivering(t);
    if (run.frames === 1) {
      // From now on the stall limit applies: do not wait out the (longer) first-frame timer.
      clearTimeout(this.watchdog);
      this.watchdog = setTimeout(run.check, this.stallMs);
    }
    if (this.state !== 'online') {
      this.setState('online');
      this.log(`online (${this.o.width}x${this.o.height} at ${this.o.fps} fps)`);
    }
    try {
      this.frameSubject.next({ camera: this.o.name, seq: this.seq++, ptsMs: t, width: this.o.width, height: this.o.height, data });
    } finally {
      if (this.o.releaseDelivered) releaseFrame(data);
    }
  }

  /** One timer per run, re-armed lazily for the time left, rather than a reset on every frame. */
  private armWatchdog(run: Run, proc: FfmpegProcess): void {
    run.check = (): void => {
      const waiting = run.frames === 0;
      const limit = waiting ? this.firstFrameMs : this.stallMs;
      const left = (waiting ? run.startedAt : run.lastFrameAt) + limit - now();
      if (left > 0) {
        this.watchdog = setTimeout(run.check, left);
        return;
      }
      run.stall = waiting
        ? this.error('input', `no frame within ${secs(limit)} of starting ffmpeg (${this.inputLabel})`, this.fixFor('connect'))
        : this.error('input', `no frame for ${secs(limit)} (${this.inputLabel})`, this.fixFor('stall'));
      void proc.close();
    };
    this.watchdog = setTimeout(run.check, this.firstFrameMs);
  }

  private failed(err: CameraError): void {
    const delay = this.backoff.failed(now());
    this.lastError = err;
    this.arrivals = [];
    this.nextRetryAt = now() + delay;
    this.setState('offline');
    this.log(`offline, restart in ${secs(delay)}: ${err.message.replace(this.prefix, '')}`);
    this.retryTimer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      this.log(`restarting (restart ${this.restarts})`);
      this.launch();
    }, delay);
  }

  private exitError(exit: Exit, run: Run): CameraError {
    let why = exit.stderrTail ? lastLine(exit.stderrTail) : exit.code === 0 ? 'the stream ended' : '(no output)';
    // ffmpeg names the input by where it read it; say which camera URL that was (masked).
    if (this.script && this.o.input.kind === 'rtsp') why = why.replace(/^pipe:0(?=:)/, redact(this.o.input.url));
    const how = exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal ?? '?'}`;
    const after = run.frames > 0 ? ` after ${run.frames} frames` : '';
    const kind: ErrorKind = this.o.input.kind === 'synthetic' ? 'ffmpeg-failed' : 'input';
    return this.error(kind, `ffmpeg stopped (${how})${after}: ${why}`, this.fixFor(run.frames > 0 ? 'stall' : 'connect'));
  }

  private fixFor(phase: 'connect' | 'stall'): string {
    switch (this.o.input.kind) {
      case 'rtsp':
        return phase === 'connect'
          ? 'check the camera is reachable, and its URL, credentials and RTSP transport (tcp/udp); pie-stream keeps retrying'
          : 'check the camera and the network; pie-stream keeps retrying';
      case 'file':
        return 'check the file plays (ffprobe FILE) and is a video; pie-stream keeps retrying';
      case 'synthetic':
        return 'check the synthetic scene options (exposure, noise) and the ffmpeg build (lavfi)';
    }
  }

  private error(kind: ErrorKind, what: string, fix: string): CameraError {
    return { kind, message: this.mask(`${this.prefix}${what}`), fix: this.mask(fix), atMs: now() };
  }

  private fpsIn(): number {
    if (this.state !== 'online' || this.runFirstFrameAt === null) return 0;
    const t = now();
    const from = t - this.fpsWindowMs;
    while (this.arrivals.length > 0 && this.arrivals[0]! <= from) this.arrivals.shift();
    const n = this.arrivals.length;
    const span = t - this.runFirstFrameAt;
    // A full window counts frames per window; a young run counts intervals since its first frame.
    const rate = span >= this.fpsWindowMs ? (n * 1000) / this.fpsWindowMs : n >= 2 ? ((n - 1) * 1000) / span : 0;
    // ffmpeg's fps filter outputs at most o.fps over time: more is the probe backlog of a (re)connect
    // arriving at once (39.8 read at 5 fps), not the camera's rate.
    return Math.min(rate, this.o.fps);
  }

  private setState(s: CameraState): void {
    this.state = s;
    if (!this.statusSubject.closed) this.statusSubject.next(this.status());
  }

  private log(line: string): void {
    try {
      this.o.log?.(this.mask(`${this.prefix}${line}`));
    } catch {
      // A logger's failure must not stop the camera.
    }
  }

  /** URL credentials masked (redact), and the password itself wherever else it might show. */
  private mask(text: string): string {
    let out = redact(text);
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }
}

function describeInput(i: CameraInput): string {
  switch (i.kind) {
    case 'rtsp': return `${i.url} (${i.transport ?? 'tcp'})`;
    case 'file': return `file ${i.path} (looped)`;
    case 'synthetic': return 'synthetic scene';
  }
}

/** The password of an RTSP URL, as written and decoded; short ones only through URL masking (see README). */
function secretsOf(i: CameraInput): string[] {
  return i.kind === 'rtsp' ? secretsOfUrl(i.url) : [];
}

function validate(o: CameraSourceOptions, label: string): void {
  const bad = (what: string): never => {
    throw new PieError('config', `camera "${o.name}" (${label}): ${what}`, 'fix the camera entry in the configuration');
  };
  if (!o.name) bad('the camera needs a name');
  if (!(Number.isInteger(o.width) && o.width > 0 && Number.isInteger(o.height) && o.height > 0)) bad(`size must be positive integers, got ${o.width}x${o.height}`);
  if (!(o.fps > 0 && Number.isFinite(o.fps))) bad(`fps must be > 0, got ${o.fps}`);
  if (o.input.kind === 'rtsp' && !/^rtsps?:\/\//i.test(o.input.url)) bad('an RTSP input must start with rtsp:// or rtsps://');
  for (const [k, v] of [['stallTimeoutMs', o.stallTimeoutMs], ['firstFrameTimeoutMs', o.firstFrameTimeoutMs], ['fpsWindowMs', o.fpsWindowMs]] as const) {
    if (v !== undefined && !(v > 0)) bad(`${k} must be > 0, got ${v}`);
  }
}

function decodeOptions(o: CameraSourceOptions): DecodeOptions {
  const common = { size: { width: o.width, height: o.height }, fps: o.fps };
  const i = o.input;
  switch (i.kind) {
    case 'rtsp':
      // A camera's stream is known H.264/H.265: half a second of probing is enough, and it cuts the
      // first frame from ~2.9 s to ~0.9 s and the burst of stale frames ffmpeg then hands over.
      return { ...common, input: canonicalCredentials(i.url), rtspTransport: i.transport ?? 'tcp', analyzeDurationUs: 500_000, inputOnStdin: true };
    case 'file':
      // -re paces a file like a camera; -stream_loop makes it endless.
      return { ...common, input: i.path, loop: true, realtime: true };
    case 'synthetic':
      return { ...common, lavfi: true, realtime: true,
        input: syntheticSceneGraph({ width: o.width, height: o.height, fps: o.fps, exposure: i.exposure, noise: i.noise }) };
  }
}
