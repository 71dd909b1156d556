// The live pipeline's two inference pools from a config (src/app.ts starts them): how many workers
// and threads each gets (workers:, else the machine's cores and the camera count: defaultPoolSizes),
// at what CPU priority, or the in-process stand-in for comparisons.
import os from 'node:os';
import type { PieConfig } from '../config/schema.js';
import { defaultPoolSizes, InferencePool, InProcessInference, type Inference } from './pool.js';

export interface StartPoolsOptions {
  /** The worker entry of each pool; default src/workers/inference-worker (tests pass a faulty stand-in). */
  readonly workerEntry?: { readonly enhance?: URL; readonly detect?: URL };
}

/** The two worker pools of a config: sizes from workers:, else from the machine's cores. */
export async function startPools(config: PieConfig, o: StartPoolsOptions, log: (line: string) => void): Promise<{ enhance: Inference; detect: Inference | undefined }> {
  // This node's cameras, or as many as a cluster may give it.
  const cameras = config.cluster ? config.cluster.capacity : config.cameras.length;
  const w = config.workers, auto = defaultPoolSizes(os.availableParallelism(), cameras);
  if (w.inProcess) {
    log('workers.inProcess: inference runs on the main thread and blocks camera ingest while it runs (for comparison only)');
    const threads = w.threads ?? os.availableParallelism();
    return { enhance: new InProcessInference({ name: 'enhance', size: 1, threads }), detect: config.detect.enabled ? new InProcessInference({ name: 'detect', size: 1, threads }) : undefined };
  }
  const common = { queue: w.queue, timeoutMs: w.timeoutMs, log };
  // Ingest and IO first, then enhancement, then detection, when the CPU is short (handler.ts).
  // On a GPU one worker feeds the device (each worker would hold its own copy of the sessions there);
  // on CPU the workers share the cores.
  const size = w.enhance ?? (config.enhance.provider === 'cpu' ? auto.enhance.size : 1);
  const enhance = await InferencePool.start({
    name: 'enhance', size, nice: 5, threads: w.threads ?? (w.enhance ? Math.max(1, Math.floor(os.availableParallelism() / size)) : auto.enhance.threads), ...common,
    ...(o.workerEntry?.enhance ? { entry: o.workerEntry.enhance } : {}),
  });
  if (!config.detect.enabled) return { enhance, detect: undefined };
  try {
    const detect = await InferencePool.start({
      // The lowest priority: on a full CPU the video comes first and detection skips (counted 'busy').
      // 640×360 ×4 with the temporal denoiser, nice 10 → 19, back to back: 10.1–10.9 → 13.7–13.8 fps
      // a camera for 35% fewer detection runs; 1280×720 ×1: 12.6 → 13.5 fps, 15 → 12 runs
      // (bench/results/s9-nice*.json) — within that config's run-to-run spread (8.7–13.8 fps over
      // ten runs), so kept for the principle more than the figure. With CPU to spare it changes nothing.
      name: 'detect', nice: 19, size: w.detect ?? auto.detect.size, threads: w.threads ?? auto.detect.threads, ...common,
      ...(o.workerEntry?.detect ? { entry: o.workerEntry.detect } : {}),
    });
    return { enhance, detect };
  } catch (e) {
    await enhance.close();
    throw e;
  }
}
