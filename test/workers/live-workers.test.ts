// The live pipeline with inference in worker threads, against faults: a real ffmpeg camera, real
// ONNX sessions in real workers, and the faulty stand-in worker (test/helpers/faulty-worker.ts)
// where a fault cannot be had otherwise. Nothing here times speed: it checks that the camera's
// ingest is untouched and that every frame a fault costs is counted.
import { afterEach, describe, expect, it } from 'vitest';
import { PieApp, type FrameSink, type LiveSink, type SinkFactory } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { healthSchema, camerasResponseSchema, statsResponseSchema } from '../../src/output/api.js';

const FAULTY = new URL('../helpers/faulty-worker.ts', import.meta.url);

/** Counts frames per output, keeps nothing. */
class Counter implements LiveSink {
  n = 0;
  write(): void { this.n++; }
  attach(): void {}
  async close(): Promise<void> {}
}
const counters = new Map<string, Counter>();
const sinks: SinkFactory = {
  hls: async (c, v) => { const r = new Counter(); counters.set(`${c.name}/${v}`, r); return r as FrameSink; },
  live: async (c, v) => { const r = new Counter(); counters.set(`ws/${c.name}/${v}`, r); return r; },
};

const config = (extra: string): ReturnType<typeof parseConfig> => parseConfig(`
cameras:
  - name: a
    input: "synthetic:exposure=0.08,noise=4"
    width: 96
    height: 64
    fps: 10
    outputs: { hls: [raw, enhanced], websocket: [] }
  - name: b
    input: "synthetic:exposure=0.2,noise=2"
    width: 96
    height: 64
    fps: 10
    outputs: { hls: [raw, enhanced], websocket: [] }
enhance: { scale: 1/4, batch: { maxSize: 2, maxWaitMs: 20 } }
server: { host: 127.0.0.1, port: 0 }
${extra}
`);

let app: PieApp | undefined;
const env = { ...process.env };
afterEach(async () => {
  await app?.close();
  app = undefined;
  counters.clear();
  for (const k of Object.keys(process.env)) if (k.startsWith('PIE_TEST_WORKER_') && !(k in env)) delete process.env[k];
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const until = async (what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
};
const get = async (url: string): Promise<unknown> => (await fetch(url)).json();

describe('the live pipeline with inference workers', () => {
  it('leaves ingest alone when the detector is 5× slower than the frame rate, and counts its drops', async () => {
    process.env.PIE_TEST_WORKER_DELAY_MS = '500';
    process.env.PIE_TEST_WORKER_DELAY_ON = 'detect';
    app = await PieApp.start(config('detect: { enabled: true, fps: 10, tiling: false }'), { sinks, workerEntry: { detect: FAULTY } });
    await until('frames on both cameras', () => (counters.get('a/enhanced')?.n ?? 0) > 5 && (counters.get('b/enhanced')?.n ?? 0) > 5, 20_000);
    const raw0 = { a: counters.get('a/raw')!.n, b: counters.get('b/raw')!.n };
    const t0 = Date.now();
    await sleep(4000);
    const secs = (Date.now() - t0) / 1000;
    const s = statsResponseSchema.parse(await get(`${app.url}/api/stats`));
    for (const cam of ['a', 'b'] as const) {
      // Ingest holds the camera's rate: every decoded frame reaches the raw output (10 fps ± jitter).
      const rawFps = (counters.get(`${cam}/raw`)!.n - raw0[cam]) / secs;
      expect(rawFps, `camera ${cam} raw fps`).toBeGreaterThan(8);
      expect(s.cameras[cam]!.camera_fps).toBeGreaterThan(8);
      // The detector, at most 2 calls a second, skipped most of 10 fps; each skip counted as busy.
      expect(s.cameras[cam]!.detection_dropped.busy ?? 0, `camera ${cam} detection drops`).toBeGreaterThan(5);
      // The streams lose nothing to the detector; a frame or two may go to CPU taken by test files
      // running beside this one (CI: 2 cores), where a detector in the stream's way would cost dozens.
      expect(s.cameras[cam]!.dropped.busy ?? 0, `camera ${cam} stream drops`).toBeLessThanOrEqual(2);
      expect(s.cameras[cam]!.restarts).toBe(0);
    }
    expect(s.detector!.runs).toBeGreaterThan(0);
    expect(s.workers.detect).toMatchObject({ workers: 1, restarts: 0 });
  }, 40_000);

  it('replaces an enhancement worker that crashes mid-batch; the cameras go on and the lost frames are counted', async () => {
    process.env.PIE_TEST_WORKER_CRASH_EVERY = '15';
    const lines: string[] = [];
    app = await PieApp.start(config('workers: { enhance: 1 }'), { sinks, workerEntry: { enhance: FAULTY }, log: (l) => lines.push(l) });
    const stats = async () => statsResponseSchema.parse(await get(`${app!.url}/api/stats`));
    await until('two worker replacements', async () => (await stats()).workers.enhance.restarts >= 2, 30_000);
    const before = { a: counters.get('a/enhanced')!.n, b: counters.get('b/enhanced')!.n };
    await until('enhanced frames after the replacements', () => counters.get('a/enhanced')!.n > before.a + 5 && counters.get('b/enhanced')!.n > before.b + 5, 20_000);
    const s = await stats();
    expect(s.workers.enhance.failed.died ?? 0).toBeGreaterThanOrEqual(2);
    const failed = (s.cameras.a!.dropped.failed ?? 0) + (s.cameras.b!.dropped.failed ?? 0);
    expect(failed).toBeGreaterThanOrEqual(2);
    for (const cam of ['a', 'b']) {
      expect(s.cameras[cam]!.state).toBe('online');
      expect(s.cameras[cam]!.restarts).toBe(0); // the cameras' ffmpeg never noticed
    }
    expect(lines.some((l) => /enhance worker 0 exited .*restarting/.test(l))).toBe(true);
  }, 60_000);

  it('runs the same pipeline with workers.inProcess (the comparison path): frames enhanced, no worker started', async () => {
    app = await PieApp.start(config('workers: { inProcess: true }'), { sinks });
    await until('enhanced frames', () => (counters.get('a/enhanced')?.n ?? 0) > 3 && (counters.get('b/enhanced')?.n ?? 0) > 3, 20_000);
    const s = statsResponseSchema.parse(await get(`${app.url}/api/stats`));
    expect(s.workers.enhance).toMatchObject({ workers: 0, restarts: 0 });
    expect(s.workers.enhance.completed).toBeGreaterThan(3);
  }, 40_000);

  it('refuses at start a camera whose frames exceed the enhancer\'s memory budget, naming it (checked in the worker)', async () => {
    const big = parseConfig(`
cameras:
  - { name: huge, input: synthetic, width: 7680, height: 4320, fps: 1 }
enhance: { scale: 1 }
server: { host: 127.0.0.1, port: 0 }
`);
    await expect(PieApp.start(big, { sinks })).rejects.toThrow(/camera "huge": 7680x4320 needs about [\d.]+ GiB[\s\S]*fix: downscale it/);
  });

  it('says in /health, /api/cameras and the same words why an online camera delivers nothing: dropped as busy', async () => {
    // Each enhancement takes 6 s: frames arrive and are dropped as busy, nothing reaches the enhanced outputs.
    process.env.PIE_TEST_WORKER_DELAY_MS = '6000';
    process.env.PIE_TEST_WORKER_DELAY_ON = 'enhance';
    app = await PieApp.start(parseConfig(`
cameras:
  - { name: a, input: "synthetic:exposure=0.08", width: 96, height: 64, fps: 10, outputs: { hls: [enhanced], websocket: [] } }
enhance: { scale: 1/4, batch: { maxSize: 1, maxWaitMs: 0 } }
server: { host: 127.0.0.1, port: 0 }
`), { sinks, workerEntry: { enhance: FAULTY } });
    const url = app.url;
    await until('a stall in /health', async () => healthSchema.parse(await get(`${url}/health`)).cameras[0]!.flow.stalled, 20_000);
    const h = healthSchema.parse(await get(`${url}/health`)).cameras[0]!;
    const c = camerasResponseSchema.parse(await get(`${url}/api/cameras`)).cameras[0]!;
    expect(h.state).toBe('online');
    expect(h.flow.reason).toBe('dropped-busy');
    expect(h.flow.message).toMatch(/^No frames for \d+ s: dropped as busy \(inference cannot keep up; \d+ dropped so far\)$/);
    expect(c.flow.reason).toBe(h.flow.reason);
    expect(c.flow.message?.replace(/\d+/g, 'N')).toBe(h.flow.message?.replace(/\d+/g, 'N'));
    expect(c.dropped.busy ?? 0).toBeGreaterThan(0);
  }, 40_000);
});
