// The inference pool with real worker threads and real ONNX Runtime sessions (the shipped model,
// BlazeFace from node_modules): results come back to the frames they belong to, a killed worker is
// replaced, and nothing piles up over many frames.
import fs from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { Denoiser } from '../../src/denoise/denoiser.js';
import { CurveApplier } from '../../src/enhance/apply-graph.js';
import { DEFAULT_MODEL_PATH, Enhancer } from '../../src/enhance/enhancer.js';
import type { RgbImage } from '../../src/image/types.js';
import { FaceDetector } from '../../src/detect/detector.js';
import { detectAlong } from '../../src/detect/path.js';
import { StillGate } from '../../src/detect/static-scene.js';
import { readImage } from '../../src/image/io.js';
import { RegionCache } from '../../src/pipeline/regionCache.js';
import { sharedPath, skipReason } from '../helpers/shared.js';
import { frameStore } from '../../src/ingest/frame-store.js';
import { defaultPoolSizes, InferencePool } from '../../src/workers/pool.js';
import { isWorkerError } from '../../src/workers/protocol.js';

const image = (w: number, h: number, f: (i: number) => number): RgbImage => ({ width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => f(i)) });
const pools: InferencePool[] = [];
const start = async (o: Partial<Parameters<typeof InferencePool.start>[0]> = {}): Promise<InferencePool> => {
  const p = await InferencePool.start({ name: 'enhance', size: 1, threads: 1, queue: 1, timeoutMs: 30_000, ...o });
  pools.push(p);
  return p;
};
afterEach(async () => { await Promise.all(pools.splice(0).map((p) => p.close())); });

const FAULTY = new URL('../helpers/faulty-worker.ts', import.meta.url);
const enhancerSpec = { kind: 'enhancer', options: { modelPath: DEFAULT_MODEL_PATH, downscale: 4, spin: false } } as const;

describe('defaultPoolSizes', () => {
  it('gives two workers of one thread on 2 cores from one camera up (one camera: denoised in one, enhanced in the other), one of all threads with no camera count', () => {
    expect(defaultPoolSizes(2).enhance).toEqual({ size: 1, threads: 2 });
    expect(defaultPoolSizes(2, 1).enhance).toEqual({ size: 2, threads: 1 });
    expect(defaultPoolSizes(16, 1).enhance).toEqual({ size: 4, threads: 4 });
    expect(defaultPoolSizes(2, 2).enhance).toEqual({ size: 2, threads: 1 });
    expect(defaultPoolSizes(16).enhance).toEqual({ size: 4, threads: 4 });
    expect(defaultPoolSizes(16, 8).enhance).toEqual({ size: 8, threads: 2 });
    expect(defaultPoolSizes(1, 4).enhance).toEqual({ size: 1, threads: 1 });
    expect(defaultPoolSizes(2, 4).detect).toEqual({ size: 1, threads: 1 });
  });
});

describe('InferencePool', () => {
  it('returns the frames of two cameras in one batch to their own cameras, byte for byte as in-process', async () => {
    const pool = await start();
    const info = await pool.open('m', enhancerSpec);
    expect(info.provider).toBe('cpu');
    // Two cameras, unlike content: a dark gradient and a brighter checker.
    const a = image(32, 24, (i) => (i * 7) % 40), b = image(32, 24, (i) => ((i >> 4) & 1 ? 90 : 20));
    const local = await Enhancer.open({ ...enhancerSpec.options, threads: 1 });
    try {
      const want = (await local.enhance([a, b])).frames;
      const got = (await pool.enhance('m', [a, b])).frames;
      expect(got).toHaveLength(2);
      expect(Buffer.from(got[0]!.data).equals(Buffer.from(want[0]!.data))).toBe(true);
      expect(Buffer.from(got[1]!.data).equals(Buffer.from(want[1]!.data))).toBe(true);
      expect(Buffer.from(got[0]!.data).equals(Buffer.from(got[1]!.data))).toBe(false);
      // The camera's own buffers stay usable: the pool sent copies.
      expect(a.data.byteLength).toBe(32 * 24 * 3);
    } finally {
      await local.close();
    }
  });

  it('runs the region-cache halves (curves, then apply) in workers', async () => {
    const pool = await start();
    await pool.open('curves', { kind: 'enhancer', options: { ...enhancerSpec.options, curvesOutput: 'only' } });
    await pool.open('apply', { kind: 'applier', options: { downscale: 4, spin: false } });
    const f = image(16, 16, (i) => i % 50);
    const curves = await pool.curves('curves', [f]);
    expect(curves.dims).toEqual([1, 24, 4, 4]);
    const kept = { dims: curves.dims, data: curves.data.slice() };
    const [out] = (await pool.apply('apply', [f], curves)).frames;
    // The curves were moved to the worker, not copied.
    expect(curves.data.length).toBe(0);
    const local = await CurveApplier.open({ downscale: 4, threads: 1 });
    try {
      const [want] = await local.apply([f], kept);
      expect(Buffer.from(out!.data).equals(Buffer.from(want!.data))).toBe(true);
    } finally {
      await local.close();
    }
  });

  it('keeps each camera\'s region cache in its worker: interleaved cameras come out as separate in-process caches would make them', async () => {
    const pool = await start({ size: 2 });
    await pool.open('curves', { kind: 'enhancer', options: { ...enhancerSpec.options, curvesOutput: 'only' } });
    await pool.open('apply', { kind: 'applier', options: { downscale: 4, spin: false } });
    const opts = { downscale: 4, alpha: 0.3, mix: 0, refreshEvery: 100 };
    const frameOf = (cam: number, t: number): RgbImage => image(32, 24, (i) => ((i * (cam + 3) + t * 5) % 60) + cam * 20);
    // In-process reference: one RegionCache per camera.
    const curver = await Enhancer.open({ ...enhancerSpec.options, curvesOutput: 'only', threads: 1 });
    const applier = await CurveApplier.open({ downscale: 4, threads: 1 });
    const refs = [new RegionCache(opts), new RegionCache(opts)];
    try {
      const names = ['cam-a', 'cam-b'];
      for (let t = 0; t < 3; t++) {
        for (const cam of [0, 1]) {
          const f = frameOf(cam, t);
          const cv = await curver.estimateCurves([f]);
          const sm = refs[cam]!.update(f, { dims: [24, 6, 8], data: cv.data });
          const [want] = await applier.apply([f], { dims: [1, 24, 6, 8], data: sm.data });
          const got = await pool.cached('curves', 'apply', [f], [names[cam]!], opts);
          expect(Buffer.from(got.frames[0]!.data).equals(Buffer.from(want!.data)), `camera ${cam} frame ${t}`).toBe(true);
        }
      }
      // After forget, a camera starts afresh: its next output is a fresh cache's.
      await pool.forget(['cam-a']);
      const f = frameOf(0, 3), fresh = new RegionCache(opts);
      const cv = await curver.estimateCurves([f]);
      const [want] = await applier.apply([f], { dims: [1, 24, 6, 8], data: fresh.update(f, { dims: [24, 6, 8], data: cv.data }).data });
      expect(Buffer.from((await pool.cached('curves', 'apply', [f], ['cam-a'], opts)).frames[0]!.data).equals(Buffer.from(want!.data))).toBe(true);
    } finally {
      await curver.close();
      await applier.close();
    }
  });

  it('keeps each camera\'s denoiser state in its worker: denoised and enhanced as an in-process Denoiser makes them, reset by forget', async () => {
    const pool = await start({ size: 2 });
    await pool.open('m', enhancerSpec);
    const dnOptions = { mode: 'temporal', spin: false } as const;
    await pool.open('dn', { kind: 'denoiser', options: dnOptions });
    const names = ['cam-a', 'cam-b']; // on workers 1 and 0
    expect(pool.workerOf(names[0]!)).not.toBe(pool.workerOf(names[1]!));
    const frameOf = (cam: number, t: number): RgbImage => image(32, 24, (i) => ((i * (cam + 3) + ((t * 7919 + i * 104729) % 13)) % 60) + cam * 20);
    const local = await Denoiser.open({ ...dnOptions, threads: 1 });
    const enhancer = await Enhancer.open({ ...enhancerSpec.options, threads: 1 });
    const expectSame = async (cam: number, t: number, fresh = false): Promise<void> => {
      const f = frameOf(cam, t);
      if (fresh) local.reset(names[cam]);
      const [clean] = await local.denoise([{ camera: names[cam]!, image: f }]);
      const want = (await enhancer.enhance([clean!], [{}])).frames[0]!;
      const got = await pool.live({ key: 'm', denoiser: 'dn', denoised: true, frames: [f], cameras: [names[cam]!], tones: [{}] });
      expect(Buffer.from(got.denoised![0]!.data).equals(Buffer.from(clean!.data)), `camera ${cam} frame ${t} denoised`).toBe(true);
      expect(Buffer.from(got.frames[0]!.data).equals(Buffer.from(want.data)), `camera ${cam} frame ${t} enhanced`).toBe(true);
      expect(got.noise?.map((n) => [n.camera, n.frames])).toEqual([[names[cam], local.reportOf(names[cam]!)!.frames]]);
    };
    try {
      for (let t = 0; t < 4; t++) for (const cam of [0, 1]) await expectSame(cam, t);
      // Cameras of two workers in one request would split a camera's state: refused, not misrouted.
      await expect(pool.live({ key: 'm', denoiser: 'dn', frames: [frameOf(0, 4), frameOf(1, 4)], cameras: names, tones: [{}, {}] })).rejects.toThrow(/share a worker/);
      // Without `denoised` only the noise models come back (no frame to transfer for nobody).
      const plain = await pool.live({ key: 'm', denoiser: 'dn', frames: [frameOf(0, 4)], cameras: ['cam-c'], tones: [{}] });
      expect([plain.denoised, plain.noise?.length]).toEqual([undefined, 1]);
      // After forget (restart, IR or model switch) a camera starts afresh; the other keeps its state.
      await pool.forget(['cam-a']);
      await expectSame(0, 4, true);
      await expectSame(1, 4);
      // The denoising alone (the live path's split when a worker would idle) carries the same state on.
      for (const cam of [0, 1]) {
        const f = frameOf(cam, 5);
        const [clean] = await local.denoise([{ camera: names[cam]!, image: f }]);
        const got = await pool.denoise({ frames: [f], cameras: [names[cam]!], denoiser: ['dn'] });
        expect(Buffer.from(got.frames[0]!.data).equals(Buffer.from(clean!.data)), `camera ${cam} frame 5 denoised alone`).toBe(true);
        expect(got.noise.map((n) => [n.camera, n.frames])).toEqual([[names[cam], local.reportOf(names[cam]!)!.frames]]);
      }
      await expectSame(0, 6);
    } finally {
      await local.close();
      await enhancer.close();
    }
  });

  it('denoises each frame of a mixed batch by its own camera\'s session, and a camera with none not at all', async () => {
    const pool = await start();
    await pool.open('m', enhancerSpec);
    const temporal = { mode: 'temporal', strength: 2, spin: false } as const, spatial = { mode: 'spatial', strength: 6, spin: false } as const;
    await pool.open('dn:t', { kind: 'denoiser', options: temporal });
    await pool.open('dn:s', { kind: 'denoiser', options: spatial });
    const frameOf = (cam: number, t: number): RgbImage => image(32, 24, (i) => ((i * (cam + 3) + ((t * 7919 + i * 104729) % 13)) % 60) + cam * 20);
    const cams = ['hall', 'yard', 'gate'], keys = ['dn:t', null, 'dn:s'];
    // Each camera's own in-process twin: a state shared across sessions would make the outputs differ.
    const localT = await Denoiser.open({ ...temporal, threads: 1 }), localS = await Denoiser.open({ ...spatial, threads: 1 });
    const enhancer = await Enhancer.open({ ...enhancerSpec.options, threads: 1 });
    try {
      for (let t = 0; t < 3; t++) {
        const frames = cams.map((_, c) => frameOf(c, t));
        const got = await pool.live({ key: 'm', denoiser: keys, denoised: true, frames, cameras: cams, tones: [{}, {}, {}] });
        const [hall] = await localT.denoise([{ camera: 'hall', image: frames[0]! }]);
        const [gate] = await localS.denoise([{ camera: 'gate', image: frames[2]! }]);
        const want = (await enhancer.enhance([hall!, frames[1]!, gate!], [{}, {}, {}])).frames;
        expect(got.denoised!.map((f) => Buffer.from(f.data))).toEqual([hall!, frames[1]!, gate!].map((f) => Buffer.from(f.data)));
        want.forEach((w, i) => expect(Buffer.from(got.frames[i]!.data).equals(Buffer.from(w.data)), `${cams[i]} frame ${t} enhanced`).toBe(true));
        // Noise models of the denoised cameras only, each from its own session.
        expect(got.noise?.map((n) => [n.camera, n.frames])).toEqual([['hall', localT.reportOf('hall')!.frames], ['gate', localS.reportOf('gate')!.frames]]);
      }
      // Frames travel in shared slots (src/ingest/frame-store.ts): the results come back in the main
      // thread's own slots, the request's copies go back to the store once answered, and a frame the
      // worker passed through (yard: no denoiser) was copied out of its request slot, so reusing that
      // slot for later requests leaves the result as it was.
      const store = frameStore(32 * 24 * 3), before = store.stats();
      const kept = await pool.live({ key: 'm', denoiser: keys, denoised: true, frames: cams.map((_, c) => frameOf(c, 5)), cameras: cams, tones: [{}, {}, {}] });
      expect(store.stats().released - before.released).toBe(3);
      for (const f of [...kept.frames, ...kept.denoised!]) expect(f.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      const snapshot = [...kept.frames, ...kept.denoised!].map((f) => Buffer.from(f.data));
      expect(snapshot[4]!.equals(Buffer.from(frameOf(1, 5).data))).toBe(true);
      for (let t = 6; t < 9; t++) await pool.live({ key: 'm', denoiser: keys, denoised: true, frames: cams.map((_, c) => frameOf(c, t)), cameras: cams, tones: [{}, {}, {}] });
      expect([...kept.frames, ...kept.denoised!].map((f) => Buffer.from(f.data))).toEqual(snapshot);
      // Every frame of a batch undenoised: no denoise step at all, so no noise model comes back.
      const none = await pool.live({ key: 'm', denoiser: [null], frames: [frameOf(1, 3)], cameras: ['yard'], tones: [{}] });
      expect([none.denoised, none.noise]).toEqual([undefined, undefined]);
      await expect(pool.live({ key: 'm', denoiser: ['dn:t'], frames: [frameOf(0, 3), frameOf(1, 3)], cameras: ['hall', 'yard'], tones: [{}, {}] })).rejects.toThrow(/1 denoiser keys for 2 frames/);
    } finally {
      await localT.close();
      await localS.close();
      await enhancer.close();
    }
  });

  const PHOTO = 'data/faces/face-api-js/images/faces.jpg';
  it.skipIf(skipReason(PHOTO) !== undefined)('keeps each camera\'s still-scene model in its detection worker: faces kept and marked still as an in-process StillGate does', async () => {
    const pool = await start({ name: 'detect', size: 2 });
    const options = { model: 'back', tiling: false, spin: false } as const;
    await pool.open('d', { kind: 'detector', options });
    const photo = await readImage(sharedPath(PHOTO));
    // Camera a watches the photo still; camera b too for 0.4 s, then sees it slide 40 px a frame (the view moves).
    const names = ['cam-a', 'cam-b'];
    expect(pool.workerOf(names[0]!)).not.toBe(pool.workerOf(names[1]!));
    const shifted = (dx: number): RgbImage => image(photo.width, photo.height, (i) => {
      const p = (i / 3) | 0, x = p % photo.width, c = i % 3;
      return photo.data[(p - x + Math.max(0, x - dx)) * 3 + c]!;
    });
    const local = await FaceDetector.open({ ...options, threads: 1 });
    const gate = new StillGate({ afterS: 1 });
    try {
      let dropped = 0, droppedB = 0;
      for (let t = 0; t < 12; t++) {
        const frames = [shifted(0), shifted(t < 2 ? 0 : 40 * (t - 1))], ms = t * 200;
        // Both cameras in one request: the pool splits it by worker and puts the answers back in order.
        const got = await pool.detect('d', frames.map((raw) => ({ raw })), { on: 'raw' }, { cameras: names, ms: [ms, ms], options: { afterS: 1 } });
        const found = await detectAlong(local, frames.map((raw) => ({ raw })), { on: 'raw' });
        const want = found.map((f, i) => gate.mark(names[i]!, frames[i]!, ms, f));
        expect(got, `frame ${t}`).toEqual(want);
        dropped += want[0]!.filter((f) => f.still).length;
        if (t >= 2) droppedB += want[1]!.filter((f) => f.still).length;
      }
      // The still camera's faces were marked (its view is still from the start); the moving one's never once it moved.
      expect(dropped).toBeGreaterThan(0);
      expect(droppedB).toBe(0);
    } finally {
      await local.close();
    }
  }, 120_000);

  it('replaces a worker that crashes mid-batch: its request fails "died", the next ones run', async () => {
    const logs: string[] = [];
    const pool = await start({ size: 2, log: (l) => logs.push(l), entry: FAULTY });
    await pool.open('m', enhancerSpec);
    // A first pixel of (255, 0, 255) makes the faulty stand-in crash while this batch runs.
    const poison = image(640, 360, (i) => (i < 3 ? [255, 0, 255][i]! : i % 60));
    const running = pool.enhance('m', [poison, poison, poison, poison]);
    const r = await running.then(() => 'ok', (e: unknown) => e);
    expect(isWorkerError(r, 'died')).toBe(true);
    expect(pool.stats().failed).toEqual({ died: 1 });
    const t0 = Date.now();
    while (pool.stats().ready < 2) {
      if (Date.now() - t0 > 20_000) throw new Error(`worker not replaced: ${JSON.stringify(pool.stats())}; ${logs.join('; ')}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(pool.stats().restarts).toBe(1);
    // Both workers (the replacement reopened the session) serve requests again.
    const small = image(16, 16, (i) => i % 30);
    const outs = await Promise.all([pool.enhance('m', [small]), pool.enhance('m', [small])]);
    expect(outs.map((o) => o.frames[0]!.data.length)).toEqual([768, 768]);
  });

  it('retires a worker between runs on request, and replaces it', async () => {
    const pool = await start();
    await pool.open('m', enhancerSpec);
    const f = image(64, 64, (i) => i % 50);
    const results = await Promise.allSettled([pool.enhance('m', [f]), pool.enhance('m', [f])].map((p, i) => (i === 0 ? (pool.retire(0), p) : p)));
    // What the worker held when it left fails 'died' (or ran first); never anything else.
    for (const r of results) if (r.status === 'rejected') expect(isWorkerError(r.reason, 'died')).toBe(true);
    const t0 = Date.now();
    while (pool.stats().ready < 1 || pool.stats().restarts < 1) {
      if (Date.now() - t0 > 20_000) throw new Error('worker not replaced');
      await new Promise((res) => setTimeout(res, 50));
    }
    expect((await pool.enhance('m', [f])).frames).toHaveLength(1);
  });

  it('fails "busy" at once when every worker holds its queue, and never holds more', async () => {
    const pool = await start({ queue: 0 });
    await pool.open('m', enhancerSpec);
    const f = image(64, 64, (i) => i % 50);
    const store = frameStore(64 * 64 * 3);
    const first = pool.enhance('m', [f]);
    const released = store.stats().released;
    const second = pool.enhance('m', [f]).then(() => 'ok', (e: unknown) => e);
    expect(isWorkerError(await second, 'busy')).toBe(true);
    // The refused request's copy and output slot went straight back to the store.
    expect(store.stats().released - released).toBe(2);
    await first;
    expect(pool.stats()).toMatchObject({ inFlight: 0, failed: { busy: 1 } });
  });

  it('rethrows a session error as the PieError the worker raised', async () => {
    const pool = await start();
    await expect(pool.open('bad', { kind: 'enhancer', options: { modelPath: '/nonexistent/model.onnx' } })).rejects.toMatchObject({ name: 'PieError(model)' });
    await expect(pool.enhance('bad', [image(4, 4, () => 1)])).rejects.toMatchObject({ kind: 'no-session' });
  });

  it.skipIf(process.platform !== 'linux')('runs its threads, ONNX Runtime\'s included, nice steps below the process; the main thread stays', async () => {
    const nices = (): number[] => fs.readdirSync('/proc/self/task').map((t) => {
      try { const st = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8'); return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]); } catch { return NaN; }
    });
    const base = os.getPriority(); // vitest may itself run niced
    const want = Math.min(19, base + 3);
    const before = nices().filter((n) => n === want).length;
    const pool = await start({ nice: 3, threads: 2 });
    await pool.open('m', enhancerSpec);
    await pool.enhance('m', [image(32, 32, (i) => i % 40)]);
    // The worker thread and the session's intra-op thread (threads: 2 = the caller and one more).
    expect(nices().filter((n) => n === want).length - before).toBeGreaterThanOrEqual(2);
    expect(os.getPriority()).toBe(base);
  });

  it('leaks no buffers over 10,000 frames', async () => {
    const pool = await start({ queue: 2 });
    await pool.open('m', enhancerSpec);
    const f = image(16, 16, (i) => (i * 3) % 50);
    const inFlight: Promise<unknown>[] = [];
    // A real collection before each reading, so garbage not yet collected does not pass for a leak.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    let baseline = 0;
    for (let i = 0; i < 10_000; i += 2) {
      // Two frames a request, up to the pool's capacity in flight, as the pipeline does.
      inFlight.push(pool.enhance('m', [f, f]));
      if (inFlight.length >= pool.capacity) await inFlight.shift();
      if (i === 1000) { gc(); baseline = process.memoryUsage().arrayBuffers; }
    }
    await Promise.all(inFlight);
    // completed: the 5,000 requests and the open.
    expect(pool.stats()).toMatchObject({ inFlight: 0, completed: 5001, failed: {} });
    gc();
    // 10,000 frames in and out is 15 MB of pixels each way; what stays must be far below that.
    expect(process.memoryUsage().arrayBuffers - baseline).toBeLessThan(4 * 2 ** 20);
    // The frames went through the shared slots of the frame store, within its bound: each request's
    // copies back at its answer, each result's slot back once collected (all of them now).
    await new Promise((r) => setTimeout(r, 20));
    const slots = frameStore(16 * 16 * 3).stats();
    expect(slots.released).toBeGreaterThanOrEqual(10_000);
    expect(slots.slots).toBeLessThanOrEqual(256);
    expect(slots.free).toBe(slots.slots);
  });
});
