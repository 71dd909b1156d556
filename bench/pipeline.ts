// npm run bench -- pipeline [--seconds 10] [--warmup 3] [--sizes 640x360,1280x720] [--cameras 1,2,4]
//                           [--fps 15] [--scenes moving,static] [--model FILE] [--flicker-stride S]
//                           [--modes base,batch-off,cache,detect,denoise-off,…] [--out NAME]
// Modes: base = batching on, cache off, detection off (the baseline); batch-off; cache = region cache
// on; detect = the baseline with face detection on (tiled, 5 fps, fused, as config/example.yaml);
// in-process(-detect) = the same with the sessions on the main thread (workers.inProcess), as
// before the workers: the same-run comparison for the event-loop delay and ingest; denoise-off =
// the baseline without the temporal denoiser (every other mode runs enhance.denoise's default,
// temporal, as a config without the key does); detect-denoise-off = detection on, denoiser off;
// spatial = the spatial denoiser instead; two-workers = the baseline with two enhancement workers
// of one thread each (workers: { enhance: 2, threads: 1 }) instead of the 2-core default, one of two.
// grid = the enhancer's curve grid (enhance.curveApply: grid). Modes combine with '+' (detect+denoise-off+two-workers).
// Inference runs in worker threads (src/workers/): the event-loop delay is the main thread's.
// The whole live pipeline (PieApp: ffmpeg cameras → cross-camera batching → enhancement → sinks)
// under a sustained load, issue 5's figures: processed fps per camera and in total, the dropped
// fraction, latency from frame decoded to frame at the sink (p50, p95), CPU (this process and its
// ffmpeg children) and RSS, for 1, 2 and 4 cameras at 360p and 720p, 15 fps, curves at 1/8.
// Each (scene, size, cameras) runs three ways, one after another so the comparisons share the
// machine's state: batching on (maxSize 4, maxWaitMs 40; the baseline), batching off (maxSize 1;
// the batching ratio is on ÷ off) and the region cache on (batching on; its cost is its fps ÷ the
// baseline's, and its flicker is set against the baseline's).
//
// Cameras: "moving" is the product's synthetic camera (synthetic:exposure=0.08,noise=4: testsrc2
// darkened, with temporal noise, generated live by ffmpeg's lavfi); "static" is a generated file
// (one testsrc2 frame, darkened the same way, with temporal noise, H.264 4:4:4 CRF 12, 10 s) that
// the camera loops in real time: the static night camera flicker is defined on, and a fixed camera's
// cost (the denoiser's global-motion check finds no move there; on testsrc2 it finds one most frames).
// Static runs take --cameras too and no batching-off run.
//
// Sinks are null sinks: each counts, takes the latency of enhanced frames, and for the first camera
// keeps only the previous frame (1 in --flicker-stride rows and columns, default width/160) to add up
// the frame-to-frame differences flicker is made of (src/enhance/flicker.ts's meanAbsFrameDiff), so
// memory stays flat and the measurement costs little (the cost is printed at the start).
// Latency is sink time − Frame.ptsMs, and ptsMs is stamped when the frame is read from ffmpeg's pipe:
// time a frame spends in ffmpeg or in the pipe before node reads it is not in it. "lost" is
// 1 − processed ÷ (fps × cameras): everything that did not come out, whether the app dropped and
// counted it ("drop") or never read it (ffmpeg waits on a full pipe while node's event loop is busy,
// and onnxruntime-node runs a session on the event loop: see "loop delay", perf_hooks'
// monitorEventLoopDelay). Before the runs, where a frame's time goes: each stage timed alone.
// Writes bench/results/pipeline.json (pipeline-quick.json when any flag shrinks or changes the set).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { PieApp, type FrameSink, type LiveSink, type SinkFactory } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import type { Variant } from '../src/config/schema.js';
import { CurveApplier } from '../src/enhance/apply-graph.js';
import { DEFAULT_MODEL_PATH, Enhancer } from '../src/enhance/enhancer.js';
import { meanAbsFrameDiff } from '../src/enhance/flicker.js';
import type { RgbImage } from '../src/image/types.js';
import { decodeToRawArgs } from '../src/ingest/ffmpeg-args.js';
import { runTool } from '../src/ingest/ffmpeg-process.js';
import { syntheticSceneGraph } from '../src/ingest/synthetic.js';
import { RegionCache } from '../src/pipeline/regionCache.js';
import type { Frame } from '../src/ingest/frame.js';
import { frameStores } from '../src/ingest/frame-store.js';
import { DROP_REASONS, type DropReason } from '../src/pipeline/dropCounter.js';
import { describeMachine, machine, timeIt } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const usage = (why: string): never => {
  console.error(`${why}\nusage: npm run bench -- pipeline [--seconds 10] [--warmup 3] [--sizes 640x360,1280x720] [--cameras 1,2,4] [--fps 15] [--scenes moving,static] [--model FILE] [--flicker-stride S]`);
  process.exit(2);
};
const positive = (name: string, def: string): number => {
  const v = Number(arg(name, def));
  if (!(v > 0 && Number.isFinite(v))) usage(`--${name} must be a positive number`);
  return v;
};
const seconds = positive('seconds', '10');
const warmup = positive('warmup', '3');
const fps = positive('fps', '15');
/** Flicker sampling step: every s-th pixel and row, about 160 samples across by default. */
const strideArg = arg('flicker-stride');
if (strideArg !== undefined) positive('flicker-stride', '1');
const strideFor = (width: number): number => (strideArg !== undefined ? Math.round(Number(strideArg)) : Math.max(1, Math.round(width / 160)));
const modelPath = path.resolve(arg('model', DEFAULT_MODEL_PATH)!);
const SIZES = arg('sizes', '640x360,1280x720')!.split(',').map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m || Number(m[1]) % 2 || Number(m[2]) % 2) usage(`--sizes: ${s} is not WxH with even numbers`);
  return [Number(m![1]), Number(m![2])] as const;
});
const CAMERAS = arg('cameras', '1,2,4')!.split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 16) usage(`--cameras: ${s} is not a camera count from 1 to 16`);
  return n;
});
type Scene = 'moving' | 'static';
const SCENES = arg('scenes', 'moving,static')!.split(',').map((s) => {
  if (s !== 'moving' && s !== 'static') usage(`--scenes: ${s} is not moving or static`);
  return s as Scene;
});
// A mode is a '+'-joined set of flags (detect+denoise-off+two-workers); 'base' is none. The older
// compound names stay accepted.
const FLAGS = ['batch-off', 'cache', 'detect', 'in-process', 'denoise-off', 'spatial', 'two-workers', 'grid'] as const;
type Flag = (typeof FLAGS)[number];
const ALIASES: Readonly<Record<string, string>> = { 'in-process-detect': 'in-process+detect', 'detect-denoise-off': 'detect+denoise-off' };
const MODES: ReadonlySet<Flag>[] = arg('modes', 'base,batch-off,cache,detect,in-process,in-process-detect,denoise-off')!.split(',').map((s) => {
  const flags = (ALIASES[s] ?? s).split('+').filter((f) => f !== 'base');
  for (const f of flags) if (!(FLAGS as readonly string[]).includes(f)) usage(`--modes: ${f} (in ${s}) is not base or one of ${FLAGS.join(', ')}, joined by +`);
  if (flags.includes('denoise-off') && flags.includes('spatial')) usage(`--modes: ${s} asks for the denoiser off and spatial`);
  return new Set(flags as Flag[]);
});
const outName = arg('out');
if (outName !== undefined && !/^[a-z0-9-]+$/.test(outName)) usage('--out: a name of a-z, 0-9 and -');
const full = ['seconds', 'warmup', 'sizes', 'cameras', 'fps', 'scenes', 'flicker-stride', 'modes'].every((f) => !process.argv.includes(`--${f}`));

const EXPOSURE = 0.08, NOISE = 4;
const BATCH_ON = { maxSize: 4, maxWaitMs: 40 }, BATCH_OFF = { maxSize: 1, maxWaitMs: 0 };

// ---------------------------------------------------------------------------------------------
// CPU and memory, from /proc where there is one (Linux); null elsewhere.

const HAS_PROC = fs.existsSync('/proc/self/stat');
const CLK_TCK = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

/** Fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime (clock ticks). */
function procStat(pid: number): string[] | undefined {
  return procStatOf(`/proc/${pid}/stat`);
}

/** CPU ticks (user + system) of this process's direct children (the cameras' ffmpeg), by pid. */
function childTicks(): Map<number, number> {
  const out = new Map<number, number>();
  if (!HAS_PROC) return out;
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const f = procStat(Number(e));
    if (f && Number(f[1]) === process.pid) out.set(Number(e), Number(f[11]) + Number(f[12]));
  }
  return out;
}

/** CPU ticks of this process's main thread alone (its task has the process's id): the rest is workers and libuv. */
function mainThreadTicks(): number | null {
  const f = HAS_PROC ? procStatOf(`/proc/${process.pid}/task/${process.pid}/stat`) : undefined;
  return f ? Number(f[11]) + Number(f[12]) : null;
}

/** The main thread's scheduler counters (ns on a CPU, ns runnable but waiting for one), or null off Linux. */
function mainThreadSchedNs(): { run: number; wait: number } | null {
  if (!HAS_PROC) return null;
  try {
    const [run, wait] = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return run !== undefined && wait !== undefined ? { run, wait } : null;
  } catch { return null; }
}

/**
 * Every thread's scheduler counters (ns on a CPU, ns runnable but waiting for one) by tid, keyed
 * `node nice N` for this process's threads (main and libuv at 0, enhancement workers and their ONNX
 * Runtime threads at +5, detection at +19) and `ffmpeg` for the cameras' children: whether a stage
 * ran slower (more run time) or waited for a core (more wait time).
 */
function threadSchedNs(kids: Iterable<number>): Map<string, { run: number; wait: number }> {
  const out = new Map<string, { run: number; wait: number }>();
  if (!HAS_PROC) return out;
  const read = (pid: number, group: (stat: string[]) => string): void => {
    let tids: string[];
    try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { return; }
    for (const tid of tids) {
      try {
        const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
        const f = procStatOf(`/proc/${pid}/task/${tid}/stat`);
        if (run === undefined || wait === undefined || !f) continue;
        out.set(`${group(f)}\t${pid}/${tid}`, { run, wait });
      } catch { /* exited */ }
    }
  };
  read(process.pid, (f) => `node nice ${f[16]}${f[38] === '5' ? ' idle' : ''}`); // [16]: nice (field 19 of stat); [38]: policy, 5 = SCHED_IDLE
  for (const k of kids) read(k, () => 'ffmpeg');
  return out;
}

/** Per group, what its threads ran and waited between two snapshots (a thread new in the window counts from 0), ms. */
function threadSchedDelta(a: Map<string, { run: number; wait: number }>, b: Map<string, { run: number; wait: number }>): Record<string, { runMs: number; waitMs: number; threads: number }> {
  const out: Record<string, { runMs: number; waitMs: number; threads: number }> = {};
  for (const [key, v] of b) {
    const group = key.split('\t')[0]!, was = a.get(key) ?? { run: 0, wait: 0 };
    const g = (out[group] ??= { runMs: 0, waitMs: 0, threads: 0 });
    g.runMs += (v.run - was.run) / 1e6; g.waitMs += (v.wait - was.wait) / 1e6;
    if (v.run > was.run) g.threads++;
  }
  for (const g of Object.values(out)) { g.runMs = Math.round(g.runMs); g.waitMs = Math.round(g.waitMs); }
  return out;
}

/**
 * Why the event loop was late: a 10-ms timer on the main thread, and for each firing later than
 * LATE_TICK_MS past its due time, how much of the interval the thread spent runnable but waiting for
 * a core (schedstat's wait) and how much running (its own callbacks, the collector). Waiting
 * ≈ lateness: the cores were taken (workers, ffmpeg); running ≈ lateness: the main thread's own work.
 */
const LATE_TICK_MS = 20;
function lateTickWatch(): { stop: () => { ticks: number; late: number; lateMs: number; waitMs: number; runMs: number } | null } {
  if (!mainThreadSchedNs()) return { stop: () => null };
  const period = 10;
  let due = performance.now() + period, last = mainThreadSchedNs()!, ticks = 0, late = 0, lateMs = 0, waitMs = 0, runMs = 0;
  const t = setInterval(() => {
    const now = performance.now(), sched = mainThreadSchedNs()!;
    const over = now - due;
    ticks++;
    if (over > LATE_TICK_MS) { late++; lateMs += over; waitMs += (sched.wait - last.wait) / 1e6; runMs += (sched.run - last.run) / 1e6; }
    last = sched;
    due = now + period;
  }, period);
  return { stop: () => { clearInterval(t); return { ticks, late, lateMs: r1(lateMs), waitMs: r1(waitMs), runMs: r1(runMs) }; } };
}

function procStatOf(file: string): string[] | undefined {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch { return undefined; }
}

function childRssBytes(pids: Iterable<number>): number {
  let kb = 0;
  for (const pid of pids) {
    try { kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { /* exited */ }
  }
  return kb * 1024;
}

/** The whole machine's busy and total ticks (all cores), from /proc/stat's first line. */
function systemTicks(): { busy: number; total: number } | undefined {
  if (!HAS_PROC) return undefined;
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3]! - v[4]!, total }; // idle and iowait are not busy
}

// ---------------------------------------------------------------------------------------------
// Measuring sinks

const nowMs = (): number => performance.timeOrigin + performance.now();

/** Every `stride`-th pixel of every `stride`-th row: an unbiased sample of a frame's mean |Δ|. */
function subsample(f: RgbImage, s: number): RgbImage {
  if (s === 1) return { width: f.width, height: f.height, data: f.data.slice() }; // a copy: the camera reuses its buffer once written
  const w = Math.ceil(f.width / s), h = Math.ceil(f.height / s), d = new Uint8Array(w * h * 3);
  let o = 0;
  for (let y = 0; y < f.height; y += s) {
    for (let x = 0; x < f.width; x += s) {
      const i = (y * f.width + x) * 3;
      d[o++] = f.data[i]!; d[o++] = f.data[i + 1]!; d[o++] = f.data[i + 2]!;
    }
  }
  return { width: w, height: h, data: d };
}

const MAX_LATENCIES = 100_000;

/** One camera's figures during the measured window. */
class CameraMeter {
  framesIn = 0;
  framesOut = 0;
  readonly latencies: number[] = [];
  // Flicker (first camera only): raw Δ per seq, and sums over pairs of consecutive enhanced seqs.
  private prevRaw: { seq: number; img: RgbImage } | undefined;
  private prevOut: { seq: number; img: RgbImage } | undefined;
  private readonly rawDiff = new Map<number, number>();
  rawSum = 0;
  outSum = 0;
  pairs = 0;

  constructor(readonly flicker: boolean, private readonly stride: number) {}

  raw(f: Frame): void {
    this.framesIn++;
    if (!this.flicker) return;
    const img = subsample(f, this.stride);
    if (this.prevRaw && this.prevRaw.seq === f.seq - 1) this.rawDiff.set(f.seq, meanAbsFrameDiff([this.prevRaw.img, img]));
    this.prevRaw = { seq: f.seq, img };
  }

  enhanced(f: Frame): void {
    this.framesOut++;
    if (this.latencies.length < MAX_LATENCIES) this.latencies.push(nowMs() - f.ptsMs);
    if (!this.flicker) return;
    const img = subsample(f, this.stride);
    const r = this.rawDiff.get(f.seq);
    if (this.prevOut && this.prevOut.seq === f.seq - 1 && r !== undefined) {
      this.outSum += meanAbsFrameDiff([this.prevOut.img, img]);
      this.rawSum += r;
      this.pairs++;
    }
    this.prevOut = { seq: f.seq, img };
    for (const s of this.rawDiff.keys()) if (s <= f.seq) this.rawDiff.delete(s); // raw frames lead enhanced ones
  }
}

class NullSink implements LiveSink {
  constructor(private readonly onFrame: (f: Frame) => void) {}
  write(f: Frame): void { this.onFrame(f); }
  attach(): void {}
  async close(): Promise<void> {}
}

// ---------------------------------------------------------------------------------------------
// One run

interface RunSpec { scene: Scene; width: number; height: number; cameras: number; batch: boolean; cache: boolean; detect: boolean; inProcess: boolean; denoise: 'temporal' | 'spatial' | 'off'; twoWorkers?: boolean; grid?: boolean }

interface RunResult extends RunSpec {
  label: string;
  seconds: number;
  loadAvg1mAtStart: number;
  fpsInPerCamera: number;
  processedFpsPerCamera: number;
  processedFpsMinCamera: number;
  processedFpsTotal: number;
  perCamera: Array<{ camera: string; fpsIn: number; processedFps: number; dropped: number }>;
  /** Drops the app counted (latestWins 'busy' etc.) ÷ frames read from the cameras. */
  droppedFraction: number;
  /** 1 − processed ÷ (fps × cameras × seconds): everything lost, counted or not (frames ffmpeg could not hand over while the event loop was blocked are never read, so never counted). */
  lostFraction: number;
  drops: Record<DropReason, number>;
  /** Node's event loop delay during the window (perf_hooks.monitorEventLoopDelay, less its sampling period): how long camera pipes, HTTP and sinks waited. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Share of the window the main thread's event loop was running callbacks (performance.eventLoopUtilization): low with a high delay = waiting for a CPU, not blocked. */
  mainThreadBusy: number;
  /**
   * The main thread's time on a CPU and runnable-but-waiting for one over the window (Linux schedstat),
   * and its 10-ms timer's late firings (> 20 ms late): their lateness, and the waiting and running in those intervals.
   */
  mainThreadSched: { runMs: number; waitMs: number; lateTicks: { ticks: number; late: number; lateMs: number; waitMs: number; runMs: number } | null } | null;
  /** Per thread group (`node nice N`, `ffmpeg`): ms on a CPU and ms runnable but waiting for one over the window, and how many threads ran. */
  threadSched: Record<string, { runMs: number; waitMs: number; threads: number }>;
  /** The frame store (src/ingest/frame-store.ts) over the window: buffers taken, of them counted ones (the store was dry), slots at the end. */
  frameStore: { taken: number; fallbacks: number; released: number; slots: number };
  /** The main thread's garbage collections in the window (perf_hooks 'gc' entries): full (mark-compact) ones pause the event loop longest. */
  mainThreadGc: { major: number; majorMs: number; majorMaxMs: number; minor: number; minorMs: number };
  latencyMs: { p50: number; p95: number; max: number; frames: number };
  /** app.stats() at the end of the window (last 200 frames per camera, nearest rank), the worst camera. */
  appLatencyMs: { p50: number; p95: number };
  framesPerBatch: number;
  /** app.stats()'s inference_ms: one batch through the enhancer (and cache + applier when on), last 200 batches. */
  inferenceMsPerBatch: { p50: number; p95: number };
  cpu: {
    nodePctOfCore: number;
    /** The main thread alone (IO: pipes, sinks, HTTP); node's figure includes the inference workers. */
    mainThreadPctOfCore: number | null;
    ffmpegPctOfCore: number | null;
    totalPctOfCore: number | null;
    totalPctOfAllCores: number | null;
    /** Cores busy machine-wide minus ours during the window: other processes' load. */
    otherCores: number | null;
  };
  rssMiB: { nodePeak: number; nodeEnd: number; ffmpegPeak: number | null };
  flicker: { ratio: number; outputDiff: number; inputDiff: number; pairs: number } | null;
  restarts: number;
  /** With detection on: its calls, ms per call, and the frames it skipped by reason (not stream drops). */
  detection: { runs: number; callMs: { p50: number; p95: number }; skipped: Record<string, number> } | null;
  /** The worker pools at the end: replacements and failed requests by kind. */
  workers: { enhance: { restarts: number; failed: Record<string, number> }; detect: { restarts: number; failed: Record<string, number> } | null };
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;
/** Every frame store's counters, summed. */
const storeStats = (): { taken: number; fallbacks: number; released: number; slots: number } => {
  const out = { taken: 0, fallbacks: 0, released: 0, slots: 0 };
  for (const s of frameStores().values()) { const x = s.stats(); out.taken += x.taken; out.fallbacks += x.fallbacks; out.released += x.released; out.slots += x.slots; }
  return out;
};
const frameStoreFigures = (before: ReturnType<typeof storeStats>): ReturnType<typeof storeStats> => {
  const now = storeStats();
  return { taken: now.taken - before.taken, fallbacks: now.fallbacks - before.fallbacks, released: now.released - before.released, slots: now.slots };
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function configYaml(spec: RunSpec, input: string): string {
  const cams = Array.from({ length: spec.cameras }, (_, i) => `
  - name: cam${i}
    input: ${JSON.stringify(input)}
    width: ${spec.width}
    height: ${spec.height}
    fps: ${fps}
    outputs: { hls: [raw, enhanced], websocket: [] }`).join('');
  const b = spec.batch ? BATCH_ON : BATCH_OFF;
  return `cameras:${cams}
enhance:
  model: ${JSON.stringify(modelPath)}
  scale: 1/8
  provider: cpu
  batch: { maxSize: ${b.maxSize}, maxWaitMs: ${b.maxWaitMs} }
  regionCache: { enabled: ${spec.cache} }
  denoise: ${spec.denoise}${spec.grid ? '\n  curveApply: grid' : ''}
detect: { enabled: ${spec.detect}, fps: 5, tiling: true, on: fused }
workers: { inProcess: ${spec.inProcess}${spec.twoWorkers ? ', enhance: 2, threads: 1' : ''} }
server: { host: 127.0.0.1, port: 0 }
`;
}

/**
 * The event-loop delay sampler's period. Its histogram records the time between its timer's ticks,
 * period included (an idle process reads p50 10.1 ms at a 10 ms resolution, 1.1 ms at 1 ms), so
 * the delay is a reading less the period. Results before 2026-12-05 report the raw readings:
 * their delays are ~10 ms too high.
 */
const LOOP_RESOLUTION_MS = 10;
const loopDelay = (ns: number): number => +Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS).toFixed(1);

let enhancerLine = '';

async function runOne(spec: RunSpec, input: string): Promise<RunResult> {
  const label = `${spec.scene} ${spec.width}x${spec.height} ×${spec.cameras} batch ${spec.batch ? 'on' : 'off'} cache ${spec.cache ? 'on' : 'off'} detect ${spec.detect ? 'on' : 'off'}${spec.inProcess ? ' in-process' : ''}${spec.denoise === 'temporal' ? '' : ` denoise ${spec.denoise}`}${spec.twoWorkers ? ' two workers' : ''}${spec.grid ? ' grid' : ''}`;
  const config = parseConfig(configYaml(spec, input), { source: label });
  const meters = new Map<string, CameraMeter>();
  config.cameras.forEach((c, i) => meters.set(c.name, new CameraMeter(i === 0, strideFor(spec.width))));
  let measuring = false;
  const seen = new Set<string>();
  const sinkFor = (camera: string, v: Variant): NullSink => new NullSink((f) => {
    if (v === 'enhanced') seen.add(camera);
    if (!measuring) return;
    const m = meters.get(camera)!;
    if (v === 'raw') m.raw(f); else m.enhanced(f);
  });
  const sinks: SinkFactory = {
    hls: async (c, v) => sinkFor(c.name, v) as FrameSink,
    live: async (c, v) => sinkFor(c.name, v),
  };
  const log: string[] = [];
  const app = await PieApp.start(config, { sinks, log: (l) => log.push(l) });
  try {
    enhancerLine ||= log[0] ?? '';
    // Until every camera has had a frame enhanced (ffmpeg up, the session's slow first run done).
    const t0 = Date.now();
    while (seen.size < spec.cameras) {
      if (Date.now() - t0 > 60_000) throw new Error(`${label}: no enhanced frame from ${spec.cameras - seen.size} camera(s) after 60 s:\n${log.join('\n')}`);
      await sleep(50);
    }
    await sleep(warmup * 1000);

    const load1 = os.loadavg()[0]!;
    const drops0 = app.drops.snapshot();
    const stats0 = app.stats();
    const stores0 = storeStats();
    const batches0 = app.stats().enhancers.reduce((a, e) => a + e.batches, 0);
    const cpu0 = process.cpuUsage(), sys0 = systemTicks(), kids0 = childTicks(), main0 = mainThreadTicks();
    const w0 = performance.now();
    measuring = true;
    let rssPeak = 0, rssEnd = 0, kidsRssPeak = 0;
    const sample = (): void => {
      rssEnd = process.memoryUsage.rss();
      rssPeak = Math.max(rssPeak, rssEnd);
      if (HAS_PROC) kidsRssPeak = Math.max(kidsRssPeak, childRssBytes(kids0.keys()));
    };
    sample();
    const timer = setInterval(sample, 500);
    // Read outside the event-loop window: a walk over /proc blocks the loop for milliseconds.
    const threads0 = threadSchedNs(kids0.keys());
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    const gc = { major: 0, majorMs: 0, majorMaxMs: 0, minor: 0, minorMs: 0 };
    const gcWatch = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
        if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) { gc.major++; gc.majorMs += e.duration; gc.majorMaxMs = Math.max(gc.majorMaxMs, e.duration); }
        else if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) { gc.minor++; gc.minorMs += e.duration; }
      }
    });
    gcWatch.observe({ entryTypes: ['gc'] });
    const elu0 = performance.eventLoopUtilization(), sched0 = mainThreadSchedNs(), lateTicks = lateTickWatch();
    await sleep(seconds * 1000);
    measuring = false;
    const elu = performance.eventLoopUtilization(elu0), sched1 = mainThreadSchedNs(), late = lateTicks.stop();
    loop.disable();
    gcWatch.disconnect();
    clearInterval(timer);
    sample();
    const elapsed = (performance.now() - w0) / 1000;
    const cpu = process.cpuUsage(cpu0), sys1 = systemTicks(), kids1 = childTicks(), main1 = mainThreadTicks();
    const threadSched = threadSchedDelta(threads0, threadSchedNs(kids1.keys()));
    const stats = app.stats();
    const drops1 = app.drops.snapshot();
    const batches = stats.enhancers.reduce((a, e) => a + e.batches, 0) - batches0;
    const restarts = app.status().cameras.reduce((a, c) => a + c.restarts, 0);

    const nodeCores = (cpu.user + cpu.system) / 1e6 / elapsed;
    let kidsTicks = 0;
    for (const [pid, t] of kids1) kidsTicks += t - (kids0.get(pid) ?? 0);
    const kidsCores = HAS_PROC ? kidsTicks / CLK_TCK / elapsed : null;
    const cores = os.availableParallelism();
    const machineCores = sys0 && sys1 ? ((sys1.busy - sys0.busy) / Math.max(1, sys1.total - sys0.total)) * cores : null;
    const oursCores = kidsCores === null ? null : nodeCores + kidsCores;

    const drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
    const perCamera = [...meters].map(([camera, m]) => {
      let d = 0;
      for (const r of DROP_REASONS) {
        const n = (drops1[camera]?.[r] ?? 0) - (drops0[camera]?.[r] ?? 0);
        drops[r] += n;
        d += n;
      }
      return { camera, fpsIn: r1(m.framesIn / elapsed), processedFps: r1(m.framesOut / elapsed), dropped: d };
    });
    const all = [...meters.values()];
    const framesIn = all.reduce((a, m) => a + m.framesIn, 0), framesOut = all.reduce((a, m) => a + m.framesOut, 0);
    const lat = all.flatMap((m) => m.latencies);
    const f0 = all[0]!;
    const appCams = Object.values(stats.cameras);
    const infer = stats.enhancers[0]?.inference_ms ?? { p50: 0, p95: 0 };
    return {
      ...spec, label, seconds: r1(elapsed), loadAvg1mAtStart: +load1.toFixed(2),
      fpsInPerCamera: r1(framesIn / elapsed / spec.cameras),
      processedFpsPerCamera: r1(framesOut / elapsed / spec.cameras),
      processedFpsMinCamera: Math.min(...perCamera.map((c) => c.processedFps)),
      processedFpsTotal: r1(framesOut / elapsed),
      perCamera,
      droppedFraction: r3(perCamera.reduce((a, c) => a + c.dropped, 0) / Math.max(1, framesIn)),
      lostFraction: r3(Math.max(0, 1 - framesOut / (fps * spec.cameras * elapsed))),
      drops,
      eventLoopDelayMs: { p50: loopDelay(loop.percentile(50)), p99: loopDelay(loop.percentile(99)), max: loopDelay(loop.max) },
      mainThreadBusy: r3(elu.utilization),
      mainThreadSched: sched0 && sched1 ? { runMs: r1((sched1.run - sched0.run) / 1e6), waitMs: r1((sched1.wait - sched0.wait) / 1e6), lateTicks: late } : null,
      threadSched,
      frameStore: frameStoreFigures(stores0),
      mainThreadGc: { major: gc.major, majorMs: r1(gc.majorMs), majorMaxMs: r1(gc.majorMaxMs), minor: gc.minor, minorMs: r1(gc.minorMs) },
      latencyMs: { p50: r1(pct(lat, 0.5)), p95: r1(pct(lat, 0.95)), max: r1(pct(lat, 1)), frames: lat.length },
      appLatencyMs: { p50: Math.max(...appCams.map((c) => c.latency_ms.p50)), p95: Math.max(...appCams.map((c) => c.latency_ms.p95)) },
      framesPerBatch: batches > 0 ? +(framesOut / batches).toFixed(2) : 0,
      inferenceMsPerBatch: { p50: r1(infer.p50), p95: r1(infer.p95) },
      cpu: {
        nodePctOfCore: r1(100 * nodeCores),
        mainThreadPctOfCore: main0 === null || main1 === null ? null : r1((100 * (main1 - main0)) / CLK_TCK / elapsed),
        ffmpegPctOfCore: kidsCores === null ? null : r1(100 * kidsCores),
        totalPctOfCore: oursCores === null ? null : r1(100 * oursCores),
        totalPctOfAllCores: oursCores === null ? null : r1((100 * oursCores) / cores),
        otherCores: machineCores === null || oursCores === null ? null : +Math.max(0, machineCores - oursCores).toFixed(2),
      },
      rssMiB: { nodePeak: Math.round(rssPeak / 2 ** 20), nodeEnd: Math.round(rssEnd / 2 ** 20), ffmpegPeak: HAS_PROC ? Math.round(kidsRssPeak / 2 ** 20) : null },
      flicker: f0.pairs > 0 ? { ratio: r3(f0.outSum / f0.rawSum), outputDiff: r3(f0.outSum / f0.pairs), inputDiff: r3(f0.rawSum / f0.pairs), pairs: f0.pairs } : null,
      restarts,
      detection: stats.detector ? {
        runs: stats.detector.runs - (stats0.detector?.runs ?? 0),
        callMs: { p50: r1(stats.detector.inference_ms.p50), p95: r1(stats.detector.inference_ms.p95) },
        skipped: Object.fromEntries(['fps', 'busy', 'failed'].map((r) => [r, Object.entries(stats.cameras).reduce((a, [name, c]) => a + (c.detection_dropped[r] ?? 0) - (stats0.cameras[name]?.detection_dropped[r] ?? 0), 0)])),
      } : null,
      workers: {
        enhance: { restarts: stats.workers.enhance.restarts, failed: stats.workers.enhance.failed },
        detect: stats.workers.detect ? { restarts: stats.workers.detect.restarts, failed: stats.workers.detect.failed } : null,
      },
    };
  } finally {
    await app.close();
  }
}

/** One testsrc2 frame, darkened and with temporal noise as the synthetic camera, as a 10 s clip. */
async function makeStaticClip(dir: string, w: number, h: number): Promise<string> {
  const still = path.join(dir, `still-${w}x${h}.png`), clip = path.join(dir, `static-${w}x${h}.mkv`);
  const q = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  await runTool([...q, '-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${fps}`, '-frames:v', '1', still]);
  await runTool([...q, '-loop', '1', '-framerate', String(fps), '-i', still, '-t', '10',
    '-vf', `lutrgb=r=val*${EXPOSURE}:g=val*${EXPOSURE}:b=val*${EXPOSURE},noise=alls=${NOISE}:allf=t+u`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '12', '-pix_fmt', 'yuv444p', clip]);
  return clip;
}

/**
 * Where a frame's time goes, outside the pipeline (median ms a frame, frames of the moving scene):
 * the enhancer alone at batch 1 and 4; the region-cache path's three steps each alone — curves only
 * (the enhancer session), RegionCache.update (JavaScript on the event loop; keyframes apart), the
 * curve applier (a second session) — and the three in a row as the app runs them.
 */
interface StageCosts { width: number; height: number; enhanceB1: number; enhanceB4PerFrame: number; curves: number; cacheUpdate: number; cacheKeyframe: number; apply: number; cachePath: number }

async function stageCosts(w: number, h: number): Promise<StageCosts> {
  const raw = await runTool(decodeToRawArgs({ lavfi: true, size: { width: w, height: h },
    input: syntheticSceneGraph({ width: w, height: h, fps, duration: 1, exposure: EXPOSURE, noise: NOISE }) }));
  const n = Math.floor(raw.length / (w * h * 3));
  const frames: RgbImage[] = Array.from({ length: n }, (_, i) => ({ width: w, height: h, data: new Uint8Array(raw.subarray(i * w * h * 3, (i + 1) * w * h * 3)) }));
  let i = 0;
  const next = (): RgbImage => frames[i++ % n]!;
  const ms = (t: { medianMs: number }, per = 1): number => +(t.medianMs / per).toFixed(2);
  const enhancer = await Enhancer.open({ modelPath, downscale: 8, provider: 'cpu' });
  const enhanceB1 = ms(await timeIt(() => enhancer.enhance([next()]), 10, 1));
  const enhanceB4PerFrame = ms(await timeIt(() => enhancer.enhance([next(), next(), next(), next()]), 5, 1), 4);
  await enhancer.close();
  const curver = await Enhancer.open({ modelPath, downscale: 8, provider: 'cpu', curvesOutput: 'only' });
  const curvesMs = ms(await timeIt(() => curver.estimateCurves([next()]), 10, 1));
  const all = await curver.estimateCurves(frames);
  const [, c, ch, cw] = all.dims;
  const per = c * ch * cw;
  const curvesOf = (k: number): { dims: [number, number, number]; data: Float32Array } => ({ dims: [c, ch, cw], data: all.data.subarray((k % n) * per, (k % n + 1) * per) });
  const cache = new RegionCache({ downscale: 8 });
  cache.update(frames[0]!, curvesOf(0));
  let j = 1;
  const cacheUpdate = ms(await timeIt(async () => { cache.update(frames[j % n]!, curvesOf(j)); j++; }, 10, 1));
  const cacheKeyframe = ms(await timeIt(async () => { new RegionCache({ downscale: 8 }).update(frames[j % n]!, curvesOf(j)); j++; }, 5, 1));
  const applier = await CurveApplier.open({ downscale: 8, provider: 'cpu' });
  const apply = ms(await timeIt(() => { const k = j++; return applier.apply([frames[k % n]!], { dims: [1, c, ch, cw], data: curvesOf(k).data }); }, 10, 1));
  // The three in a row, as the app runs them: two sessions taking turns on the same cores.
  const cachePath = ms(await timeIt(async () => {
    const f = frames[j++ % n]!;
    const cv = await curver.estimateCurves([f]);
    const sm = cache.update(f, { dims: [c, ch, cw], data: cv.data });
    await applier.apply([f], { dims: [1, c, ch, cw], data: sm.data });
  }, 10, 1));
  await curver.close();
  await applier.close();
  return { width: w, height: h, enhanceB1, enhanceB4PerFrame, curves: curvesMs, cacheUpdate, cacheKeyframe, apply, cachePath };
}

// ---------------------------------------------------------------------------------------------

const m = machine();
const load = os.loadavg();
console.log(`machine: ${describeMachine(m)}`);
console.log(`load average at start: ${load.map((x) => x.toFixed(2)).join(' ')} (1, 5, 15 min)${load[0]! >= 1 ? ' — other work is running: these figures are not the machine\'s own' : ''}`);
console.log(`model: ${path.relative(process.cwd(), modelPath) || modelPath}; curves at 1/8; ${fps} fps cameras; warm-up ${warmup} s, measured ${seconds} s per run`);
console.log(`batching on = maxSize ${BATCH_ON.maxSize}, maxWaitMs ${BATCH_ON.maxWaitMs} (baseline); off = maxSize 1. Flicker: first camera, consecutive frames only`);

// What the flicker bookkeeping costs the pipeline it measures: per first-camera frame, one subsample
// and one meanAbsFrameDiff for the raw frame and the same for the enhanced one.
for (const [w, h] of SIZES) {
  const mk = (): RgbImage => ({ width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, () => (Math.random() * 40) | 0) });
  const a = mk(), b = mk();
  const t = performance.now();
  for (let i = 0; i < 50; i++) meanAbsFrameDiff([subsample(a, strideFor(w)), subsample(b, strideFor(w))]);
  const ms = (performance.now() - t) / 50;
  console.log(`flicker bookkeeping at ${w}x${h} (1 in ${strideFor(w)} rows and columns): ${ms.toFixed(2)} ms a frame pair, at most ${((100 * 2 * ms * fps) / 1000).toFixed(1)}% of a core at ${fps} fps`);
}

console.log('\nwhere a frame\'s time goes, outside the pipeline (median ms a frame; the cache path is curves → update → apply in a row):');
const stages: StageCosts[] = [];
for (const [w, h] of SIZES) {
  const st = await stageCosts(w, h);
  stages.push(st);
  console.log(`  ${`${w}x${h}`.padEnd(10)} enhance ${st.enhanceB1.toFixed(1)} (batch 4: ${st.enhanceB4PerFrame.toFixed(1)} a frame) | cache path ${st.cachePath.toFixed(1)}; alone: curves ${st.curves.toFixed(1)}, RegionCache.update ${st.cacheUpdate.toFixed(1)} (keyframe ${st.cacheKeyframe.toFixed(1)}), apply ${st.apply.toFixed(1)}`);
}

const specs: RunSpec[] = [];
for (const scene of SCENES) {
  for (const [width, height] of SIZES) {
    for (const cameras of CAMERAS) {
      const base = { scene, width, height, cameras, batch: true, cache: false, detect: false, inProcess: false, denoise: 'temporal' as RunSpec['denoise'] };
      for (const m of MODES) {
        // Batching off, detection and the in-process path are measured on the moving scene only.
        if (scene !== 'moving' && (m.has('batch-off') || m.has('detect') || m.has('in-process'))) continue;
        specs.push({
          ...base, batch: !m.has('batch-off'), cache: m.has('cache'), detect: m.has('detect'), inProcess: m.has('in-process'),
          denoise: m.has('denoise-off') ? 'off' : m.has('spatial') ? 'spatial' : 'temporal', ...(m.has('two-workers') ? { twoWorkers: true } : {}), ...(m.has('grid') ? { grid: true } : {}),
        });
      }
    }
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-bench-pipeline-'));
const results: RunResult[] = [];
const header = 'scene   size       cams batch cache det thread | in/cam | out/cam (min) | total | lost % | drop % | latency p50/p95 ms | loop p99/max (busy) | fr/batch | batch ms | CPU node (main)/ffmpeg %core | all cores % | other cores | RSS MiB node/ffmpeg | flicker';
try {
  const clips = new Map<string, string>();
  if (SCENES.includes('static')) {
    for (const [w, h] of SIZES) clips.set(`${w}x${h}`, await makeStaticClip(tmp, w, h));
  }
  console.log(`\n${header}`);
  for (const spec of specs) {
    const input = spec.scene === 'moving' ? `synthetic:exposure=${EXPOSURE},noise=${NOISE}` : clips.get(`${spec.width}x${spec.height}`)!;
    const r = await runOne(spec, input);
    results.push(r);
    if (results.length === 1) console.log(`(${enhancerLine})`);
    const f = (x: number | null, d = 0): string => (x === null ? '–' : x.toFixed(d));
    console.log([
      `${r.scene.padEnd(7)} ${`${r.width}x${r.height}`.padEnd(10)} ${String(r.cameras).padStart(4)} ${(r.batch ? 'on' : 'off').padStart(5)} ${(r.cache ? 'on' : 'off').padStart(5)} ${(r.detect ? 'on' : 'off').padStart(3)}${r.inProcess ? ' main' : '     '}${r.denoise === 'temporal' ? '' : r.denoise === 'off' ? ' dn-off' : ' dn-spatial'}${r.twoWorkers ? ' 2w' : ''}${r.grid ? ' grid' : ''}`,
      f(r.fpsInPerCamera, 1).padStart(6),
      `${f(r.processedFpsPerCamera, 1).padStart(6)} (${f(r.processedFpsMinCamera, 1).padStart(4)})`,
      f(r.processedFpsTotal, 1).padStart(5),
      f(100 * r.lostFraction, 1).padStart(6),
      f(100 * r.droppedFraction, 1).padStart(6),
      `${f(r.latencyMs.p50)} / ${f(r.latencyMs.p95)}`.padStart(18),
      `${f(r.eventLoopDelayMs.p99)} / ${f(r.eventLoopDelayMs.max)} (${f(100 * r.mainThreadBusy)}%)`.padStart(18),
      f(r.framesPerBatch, 2).padStart(8),
      f(r.inferenceMsPerBatch.p50, 0).padStart(8),
      `${f(r.cpu.nodePctOfCore)} (main ${f(r.cpu.mainThreadPctOfCore)}) / ${f(r.cpu.ffmpegPctOfCore)}`.padStart(21),
      f(r.cpu.totalPctOfAllCores).padStart(11),
      f(r.cpu.otherCores, 2).padStart(11),
      `${r.rssMiB.nodePeak} / ${f(r.rssMiB.ffmpegPeak)}`.padStart(19),
      r.flicker ? r.flicker.ratio.toFixed(3) : '–',
    ].join(' | ') + (r.restarts ? `  (${r.restarts} camera restarts)` : '')
      + `  gc: ${r.mainThreadGc.major} full (${r.mainThreadGc.majorMs} ms, max ${r.mainThreadGc.majorMaxMs}), ${r.mainThreadGc.minor} young (${r.mainThreadGc.minorMs} ms); store: ${r.frameStore.fallbacks} of ${r.frameStore.taken} counted, ${r.frameStore.slots} slots`
      + (r.mainThreadSched ? `  main thread: ${r.mainThreadSched.runMs} ms running, ${r.mainThreadSched.waitMs} ms waiting for a core${r.mainThreadSched.lateTicks ? `; ${r.mainThreadSched.lateTicks.late} of ${r.mainThreadSched.lateTicks.ticks} ticks > ${LATE_TICK_MS} ms late (${r.mainThreadSched.lateTicks.lateMs} ms late: ${r.mainThreadSched.lateTicks.waitMs} waiting, ${r.mainThreadSched.lateTicks.runMs} running)` : ''}` : '')
      + (Object.keys(r.threadSched).length ? `  threads run/wait ms: ${Object.entries(r.threadSched).map(([g, v]) => `${g} ${v.runMs}/${v.waitMs}`).join(', ')}` : '')
      + (r.detection ? `  detect: ${r.detection.runs} calls, ${r.detection.callMs.p50} ms p50, skipped ${JSON.stringify(r.detection.skipped)}` : ''));
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

// Ratios against each baseline (batching on, cache off) of the same scene, size and camera count.
const key = (r: RunSpec): string => `${r.scene} ${r.width}x${r.height} ×${r.cameras}`;
const find = (k: string, batch: boolean, cache: boolean, detect = false, inProcess = false): RunResult | undefined => results.find((r) => key(r) === k && r.batch === batch && r.cache === cache && r.detect === detect && r.inProcess === inProcess);
const batching: Array<{ run: string; onFps: number; offFps: number; ratio: number; onLatencyP50: number; offLatencyP50: number; onMinCameraFps: number; offMinCameraFps: number }> = [];
const cache: Array<{ run: string; offFps: number; onFps: number; fpsRatio: number; flickerOff: number | null; flickerOn: number | null; flickerRatio: number | null; batchMsOff: number; batchMsOn: number }> = [];
for (const k of [...new Set(results.map(key))]) {
  const base = find(k, true, false);
  if (!base) continue;
  const off = find(k, false, false), on = find(k, true, true);
  if (off) {
    batching.push({ run: k, onFps: base.processedFpsTotal, offFps: off.processedFpsTotal, ratio: r3(base.processedFpsTotal / Math.max(1e-9, off.processedFpsTotal)),
      onLatencyP50: base.latencyMs.p50, offLatencyP50: off.latencyMs.p50, onMinCameraFps: base.processedFpsMinCamera, offMinCameraFps: off.processedFpsMinCamera });
  }
  if (on) {
    cache.push({ run: k, offFps: base.processedFpsTotal, onFps: on.processedFpsTotal, fpsRatio: r3(on.processedFpsTotal / Math.max(1e-9, base.processedFpsTotal)),
      flickerOff: base.flicker?.ratio ?? null, flickerOn: on.flicker?.ratio ?? null,
      flickerRatio: base.flicker && on.flicker ? r3(on.flicker.ratio / base.flicker.ratio) : null,
      batchMsOff: base.inferenceMsPerBatch.p50, batchMsOn: on.inferenceMsPerBatch.p50 });
  }
}
// Detection on vs off: ingest (frames read per camera) and processed fps must not fall when the detector runs.
const detection: Array<{ run: string; fpsInOff: number; fpsInOn: number; outOff: number; outOn: number; loopP99Off: number; loopP99On: number; dropOn: number }> = [];
for (const k of [...new Set(results.map(key))]) {
  const off = find(k, true, false), on = find(k, true, false, true);
  if (off && on) detection.push({ run: k, fpsInOff: off.fpsInPerCamera, fpsInOn: on.fpsInPerCamera, outOff: off.processedFpsPerCamera, outOn: on.processedFpsPerCamera, loopP99Off: off.eventLoopDelayMs.p99, loopP99On: on.eventLoopDelayMs.p99, dropOn: on.droppedFraction });
}
// Workers vs in-process (the old path), same run: ingest, processed fps, main-thread event-loop p99.
const threads: Array<{ run: string; detect: boolean; fpsInMain: number; fpsInWorkers: number; outMain: number; outWorkers: number; loopP99Main: number; loopP99Workers: number; lostMain: number; lostWorkers: number }> = [];
for (const k of [...new Set(results.map(key))]) {
  for (const det of [false, true]) {
    const w = find(k, true, false, det), mt = find(k, true, false, det, true);
    if (w && mt) threads.push({ run: k, detect: det, fpsInMain: mt.fpsInPerCamera, fpsInWorkers: w.fpsInPerCamera, outMain: mt.processedFpsPerCamera, outWorkers: w.processedFpsPerCamera,
      loopP99Main: mt.eventLoopDelayMs.p99, loopP99Workers: w.eventLoopDelayMs.p99, lostMain: mt.lostFraction, lostWorkers: w.lostFraction });
  }
}
if (threads.length) {
  console.log('\nin-process (main thread, before) → workers, same run: ingest fps per camera, processed fps per camera, event-loop p99 ms');
  for (const t of threads) console.log(`  ${t.run.padEnd(24)} detect ${t.detect ? 'on ' : 'off'}  in ${t.fpsInMain.toFixed(1)} → ${t.fpsInWorkers.toFixed(1)}   out ${t.outMain.toFixed(1)} → ${t.outWorkers.toFixed(1)}   loop p99 ${t.loopP99Main.toFixed(1)} → ${t.loopP99Workers.toFixed(1)}`);
}
if (detection.length) {
  console.log('\ndetection off → on (tiled, 5 fps): ingest fps per camera, processed fps per camera, event-loop p99 ms, stream drop % with detection on');
  for (const d of detection) console.log(`  ${d.run.padEnd(24)} in ${d.fpsInOff.toFixed(1)} → ${d.fpsInOn.toFixed(1)}   out ${d.outOff.toFixed(1)} → ${d.outOn.toFixed(1)}   loop p99 ${d.loopP99Off.toFixed(1)} → ${d.loopP99On.toFixed(1)}   drops ${(100 * d.dropOn).toFixed(1)}%`);
}
if (batching.length) {
  console.log('\nbatching on ÷ off (baseline: off = maxSize 1), processed fps in total; latency p50; slowest camera');
  for (const b of batching) console.log(`  ${b.run.padEnd(24)} ${b.onFps.toFixed(1).padStart(6)} ÷ ${b.offFps.toFixed(1).padStart(6)} = ${b.ratio.toFixed(2)}×   p50 ${b.onLatencyP50.toFixed(0)} vs ${b.offLatencyP50.toFixed(0)} ms   min camera ${b.onMinCameraFps.toFixed(1)} vs ${b.offMinCameraFps.toFixed(1)} fps`);
}
if (cache.length) {
  console.log('\nregion cache on vs off (baseline: off; batching on): processed fps in total, flicker (output Δ ÷ input Δ, first camera), batch ms p50');
  for (const c of cache) {
    const fl = c.flickerOff !== null && c.flickerOn !== null ? `flicker ${c.flickerOff.toFixed(3)} → ${c.flickerOn.toFixed(3)} (×${c.flickerRatio!.toFixed(3)})` : 'flicker –';
    console.log(`  ${c.run.padEnd(24)} fps ${c.offFps.toFixed(1).padStart(6)} → ${c.onFps.toFixed(1).padStart(6)} (×${c.fpsRatio.toFixed(2)})   ${fl}   batch ${c.batchMsOff.toFixed(0)} → ${c.batchMsOn.toFixed(0)} ms`);
  }
  if (SCENES.includes('moving')) console.log('  (moving scene: its input Δ is mostly motion, so flicker there is diluted; the static scene is the flicker figure)');
}

const out = path.join(here, 'results', `${outName ?? (full ? 'pipeline' : 'pipeline-quick')}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({
  date: new Date().toISOString(), machine: m, loadAverageAtStart: load.map((x) => +x.toFixed(2)), enhancer: enhancerLine,
  model: path.relative(path.resolve(here, '..'), modelPath),
  settings: { fps, scale: '1/8', warmupS: warmup, measuredS: seconds, batchOn: BATCH_ON, batchOff: BATCH_OFF, flickerStride: strideArg ?? 'width/160',
    moving: `synthetic:exposure=${EXPOSURE},noise=${NOISE}`, static: `one testsrc2 frame ×${EXPOSURE} with noise=${NOISE} (temporal), H.264 4:4:4 CRF 12, 10 s, looped` },
  baseline: 'batching on (maxSize 4, maxWaitMs 40), region cache off, same scene, size and camera count',
  stageCostsMs: stages, runs: results, batching, regionCache: cache, detection, workersVsInProcess: threads,
}, null, 1));
console.log(`\nwrote ${out}`);
