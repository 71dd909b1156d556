// What an inference worker does: a thread that owns ONNX Runtime sessions (enhancers, curve appliers, face
// detectors) and runs the requests of src/workers/protocol.ts one at a time. session.run blocks the
// thread that calls it (onnxruntime-node only defers it with setImmediate), so it happens here and
// the main thread keeps reading cameras and writing encoders. Results go back transferred.
import fs from 'node:fs';
import os from 'node:os';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Denoiser, type CameraNoiseReport } from '../denoise/denoiser.js';
import { FaceDetector } from '../detect/detector.js';
import { detectAlong } from '../detect/path.js';
import { StillGate } from '../detect/static-scene.js';
import { CurveApplier } from '../enhance/apply-graph.js';
import { Enhancer } from '../enhance/enhancer.js';
import { isPieError, messageOf } from '../errors.js';
import { RegionCache } from '../pipeline/regionCache.js';
import type { RgbImage } from '../image/types.js';
import { placeInto, transferablesOf, unshared, type DenoiseStep, type LiveBatch, type Request, type Retire, type Response, type Results, type SessionSpec, type WireError } from './protocol.js';

type Session =
  | { readonly kind: 'enhancer'; readonly s: Enhancer }
  | { readonly kind: 'applier'; readonly s: CurveApplier }
  | { readonly kind: 'detector'; readonly s: FaceDetector }
  | { readonly kind: 'denoiser'; readonly s: Denoiser };

interface Kinds { enhancer: Enhancer; applier: CurveApplier; detector: FaceDetector; denoiser: Denoiser }

class NoSession extends Error {}

/** The request handler: sessions by key, opened and closed on request. Exported for wrappers (tests). */
export function createHandler(): (req: Request) => Promise<Results[keyof Results]> {
  const sessions = new Map<string, Session>();
  /** Region caches by camera: as many as the config has cameras that this worker serves. */
  const caches = new Map<string, RegionCache>();
  /** The still-scene models of the cameras this worker detects for (bounded inside); remade when the options change. */
  let still: StillGate | undefined;
  const get = <K extends keyof Kinds>(key: string, kind: K): Kinds[K] => {
    const s = sessions.get(key);
    if (!s || s.kind !== kind) throw new NoSession(`no ${kind} session ${JSON.stringify(key)} in this worker`);
    return s.s as Kinds[K];
  };
  const open = async (spec: SessionSpec): Promise<Session> => {
    switch (spec.kind) {
      case 'enhancer': {
        const s = await Enhancer.open(spec.options);
        try {
          for (const f of spec.fits ?? []) s.checkFits(f.width, f.height, f.what);
        } catch (e) {
          await s.close();
          throw e;
        }
        return { kind: 'enhancer', s };
      }
      case 'applier': return { kind: 'applier', s: await CurveApplier.open(spec.options) };
      case 'detector': return { kind: 'detector', s: await FaceDetector.open(spec.options) };
      case 'denoiser': return { kind: 'denoiser', s: await Denoiser.open(spec.options) };
    }
  };
  const denoisers = (): Denoiser[] => [...sessions.values()].flatMap((x) => (x.kind === 'denoiser' ? [x.s] : []));
  /**
   * The frames to enhance: each denoised first by its camera's session when the request names one
   * (each camera's state is in this worker, in that session); one denoiser run per session, the
   * frames of the others (denoise off) as they came.
   */
  const denoised = async (frames: readonly RgbImage[], step: DenoiseStep | undefined): Promise<readonly RgbImage[]> => {
    if (!step) return frames;
    const out = [...frames], bySession = new Map<string, number[]>();
    step.keys.forEach((k, i) => { if (k !== null) bySession.set(k, [...(bySession.get(k) ?? []), i]); });
    for (const [key, idx] of bySession) {
      const clean = await get(key, 'denoiser').denoise(idx.map((i) => ({ camera: step.cameras[i]!, image: frames[i]! })));
      idx.forEach((i, j) => { out[i] = clean[j]!; });
    }
    return out;
  };
  /** The denoised cameras' noise models. */
  const noiseOf = (step: DenoiseStep): CameraNoiseReport[] => {
    const sessionOf = new Map(step.cameras.flatMap((c, i) => { const k = step.keys[i]; return k == null ? [] : [[c, k] as const]; }));
    return [...sessionOf].flatMap(([c, k]) => get(k, 'denoiser').reportOf(c) ?? []);
  };
  /** The batch with the denoised frames (the detector's input) and the denoised cameras' noise models. */
  const withNoise = (r: LiveBatch, clean: readonly RgbImage[], step: DenoiseStep | undefined): LiveBatch => {
    if (!step) return r;
    return { ...r, ...(step.frames ? { denoised: clean } : {}), noise: noiseOf(step) };
  };
  return async (req) => {
    switch (req.type) {
      case 'open': {
        const s = await open(req.spec);
        await sessions.get(req.key)?.s.close(); // reopening a key replaces it
        sessions.set(req.key, s);
        return { description: s.s.describe(), provider: s.s.provider };
      }
      case 'close': {
        await sessions.get(req.key)?.s.close();
        sessions.delete(req.key);
        return null;
      }
      case 'enhance': {
        const clean = await denoised(req.frames, req.denoise);
        return withNoise(await get(req.key, 'enhancer').enhance(clean, ...req.args), clean, req.denoise);
      }
      case 'curves': return get(req.key, 'enhancer').estimateCurves(req.frames, ...req.args);
      case 'apply': return get(req.key, 'applier').applyWithTone(req.frames, req.curves, ...req.args);
      case 'detect': {
        const faces = await detectAlong(get(req.key, 'detector'), req.frames, req.path);
        const step = req.still;
        if (!step) return faces;
        if (!still || JSON.stringify(still.o) !== JSON.stringify(step.options)) still = new StillGate(step.options);
        const gate = still;
        // The raw frame (the camera's, or the denoised one): the enhanced frame's curves change with exposure.
        // Marked, not dropped: confirmFaces drops them after its fixture rule has learnt from them.
        return faces.map((f, i) => gate.mark(step.cameras[i]!, req.frames[i]!.raw, step.ms[i]!, f));
      }
      case 'cached': {
        const clean = await denoised(req.frames, req.denoise);
        const curves = await get(req.key, 'enhancer').estimateCurves(clean);
        const [n, ch, h, w] = curves.dims;
        const per = ch * h * w, smoothed = new Float32Array(n * per);
        clean.forEach((f, i) => {
          const camera = req.cameras[i]!;
          let cache = caches.get(camera);
          if (!cache) caches.set(camera, (cache = new RegionCache(req.cache)));
          const r = cache.update(f, { dims: [ch, h, w], data: curves.data.subarray(i * per, (i + 1) * per) });
          // The cache's scene detector saw a new scene: the camera's noise model must not pair across it.
          const dn = req.denoise?.keys[i];
          if (r.keyframe === 'scene-change' && dn != null) get(dn, 'denoiser').sceneCut(camera);
          smoothed.set(r.data, i * per);
        });
        return withNoise(await get(req.applier, 'applier').applyWithTone(clean, { data: smoothed, dims: curves.dims }, ...req.args), clean, req.denoise);
      }
      case 'denoise': return { frames: await denoised(req.frames, req.denoise), noise: noiseOf(req.denoise) };
      case 'forget': {
        for (const c of req.cameras) {
          caches.delete(c);
          for (const d of denoisers()) d.reset(c);
        }
        still?.forget(req.cameras);
        return null;
      }
    }
  };
}

const wireError = (e: unknown): WireError => {
  if (e instanceof NoSession) return { kind: 'no-session', message: e.message };
  if (isPieError(e)) {
    // PieError's message carries "\n  fix: …"; send the parts so the main thread rebuilds the same error.
    const [message = e.message] = e.message.split('\n  fix: ');
    return { kind: 'failed', message, pieKind: e.kind, ...(e.fix !== undefined ? { fix: e.fix } : {}) };
  }
  return { kind: 'failed', message: messageOf(e) };
};

/**
 * Lowers this thread's CPU priority (Linux: nice is per thread, and the threads ONNX Runtime starts
 * from here inherit it), so on a busy machine the main thread and the cameras' ffmpeg get the CPU
 * first and an overloaded worker shows as counted drops, not as a camera that stops being read.
 */
function lowerPriority(nice: number): void {
  if (!(nice > 0) || process.platform !== 'linux') return;
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + nice)); // relative: a niced service stays below its own main thread
  } catch { /* not allowed here: run at normal priority */ }
}

/** Serves requests from the parent, strictly one after another (a session is not re-entered). */
export function serve(handle: (req: Request) => Promise<Results[keyof Results]>): void {
  const port = parentPort;
  if (!port || isMainThread) throw new Error('inference-worker runs as a worker thread (InferencePool starts it)');
  lowerPriority(Number((workerData as { nice?: number } | null)?.nice ?? 0));
  let chain: Promise<unknown> = Promise.resolve();
  port.on('message', (req: Request | Retire) => {
    // Handled between runs (a run blocks this thread, so no message is read during one): what is
    // queued behind is abandoned, and the pool fails it 'died'.
    if (req.type === 'retire') process.exit(0);
    chain = chain.then(async () => {
      let msg: Response;
      try {
        // Nothing aliases the request's shared frames; then the output frames go into the slots given.
        const result = unshared(await handle(req));
        msg = { id: req.id, ok: true, result: 'into' in req ? placeInto(result, req.into) : result };
      } catch (e) {
        msg = { id: req.id, ok: false, error: wireError(e) };
      }
      try {
        port.postMessage(msg, msg.ok ? transferablesOf(msg.result) : []);
      } catch {
        // A buffer that cannot be moved (one ONNX Runtime still owns) goes copied instead.
        port.postMessage(msg);
      }
    });
  });
  port.postMessage({ type: 'ready' } satisfies Response);
}
