// The enhancer on the lent GPU machine (issue 13): fps at 720p and 1080p, batch 1, 8 and 32, curves
// at 1/8, in-process and through the inference workers (src/workers/pool.ts, what the live path
// uses), cameras per GPU at 1080p 15 fps, which graph nodes ONNX Runtime placed on the CPU, and the
// temporal denoiser (issue 12) on the same provider: ms per batch of cameras, beside the enhancer.
// Prepared on CPU; the lead runs it on the device (/work/shared/GPU.md):
//   here:   npm run build, then carry node (xz), dist/, models/, a minimal node_modules
//           (onnxruntime-node with libonnxruntime.so.1, rxjs, zod, protobufjs and their deps) and
//           the Vulkan loader (libvulkan1) unpacked into a git-ignored folder
//   there:  LD_LIBRARY_PATH=<vulkan>/usr/lib/x86_64-linux-gnu node scripts/device-gpu-bench.mjs 2> $OUT/ort-verbose.log
// Writes $OUT/gpu-bench.json (or bench/results/gpu-bench-<provider>.json without $OUT).
// Environment: GPU_BENCH_PROVIDERS (default webgpu,cpu), GPU_BENCH_SECONDS (per point, default 3),
// GPU_BENCH_SIZES (default 1280x720,1920x1080), GPU_BENCH_BATCHES (default 1,8,32).
// Every figure is printed with the device name; warm-up 3 runs, then the median of at least 10.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Denoiser } from '../dist/denoise/denoiser.js';
import { DEFAULT_MODEL_PATH, Enhancer } from '../dist/enhance/enhancer.js';
import { ort } from '../dist/enhance/session.js';
import { InferencePool } from '../dist/workers/pool.js';

const env = (k, d) => process.env[k] ?? d;
const PROVIDERS = env('GPU_BENCH_PROVIDERS', 'webgpu,cpu').split(',');
const SECONDS = Number(env('GPU_BENCH_SECONDS', '3'));
const SIZES = env('GPU_BENCH_SIZES', '1280x720,1920x1080').split(',').map((s) => s.split('x').map(Number));
const BATCHES = env('GPU_BENCH_BATCHES', '1,8,32').split(',').map(Number);
const DOWNSCALE = 8;

const device = (() => {
  try { return execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8' }).trim(); } catch { return `no nvidia-smi; ${os.cpus()[0]?.model ?? 'cpu'} ×${os.availableParallelism()}`; }
})();
console.log(`device: ${device}; node ${process.version}; onnxruntime-node ${ort.env.versions?.common ?? '?'}`);

const frame = (w, h, seed) => {
  const d = new Uint8Array(w * h * 3);
  let s = seed;
  for (let i = 0; i < d.length; i++) { s = (s * 1103515245 + 12345) >>> 0; d[i] = 10 + ((i % (w * 3)) >> 6) % 40 + (s >>> 28); }
  return { width: w, height: h, data: d };
};
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

/** ms per call of `run`: 3 warm-up calls, then at least 10 and at least SECONDS. */
async function time(run) {
  for (let i = 0; i < 3; i++) await run();
  const times = [];
  const t0 = performance.now();
  while (times.length < 10 || performance.now() - t0 < SECONDS * 1000) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
    if (times.length >= 200) break;
  }
  return { ms: median(times), n: times.length };
}

const results = [];
for (const provider of PROVIDERS) {
  // One verbose session first: ORT logs each node's execution provider (look for "CPUExecutionProvider"
  // among the nodes of a WebGPU session: those are the fallbacks that cost copies).
  ort.env.logLevel = 'verbose';
  try { const e = await Enhancer.open({ downscale: DOWNSCALE, provider }); console.error(`--- placement above: ${provider} ---`); await e.close(); } catch (err) { console.log(`${provider}: cannot open (${err.message.split('\n')[0]})`); continue; }
  ort.env.logLevel = 'warning';
  for (const [w, h] of SIZES) {
    const frames = Array.from({ length: Math.max(...BATCHES) }, (_, i) => frame(w, h, i + 1));
    const e = await Enhancer.open({ downscale: DOWNSCALE, provider, memoryBudgetMiB: 64 * 1024 });
    if (e.provider !== provider) { console.log(`${provider}: fell back to ${e.provider}`); await e.close(); break; }
    for (const batch of BATCHES) {
      const input = frames.slice(0, batch);
      try {
        const t = await time(() => e.enhance(input));
        const r = { provider, device, size: `${w}x${h}`, scale: `1/${DOWNSCALE}`, batch, path: 'in-process', msPerBatch: +t.ms.toFixed(2), fps: +((1000 * batch) / t.ms).toFixed(1), runs: t.n };
        results.push(r);
        console.log(`${provider} ${r.size} 1/${DOWNSCALE} batch ${batch} in-process: ${r.msPerBatch} ms/batch, ${r.fps} fps (${device})`);
      } catch (err) { console.log(`${provider} ${w}x${h} batch ${batch}: failed (${err.message.split('\n')[0]})`); }
    }
    await e.close();
    // Through the workers, as the live path runs it: frames copied in, results transferred back.
    for (const size of [1, 2]) {
      const pool = await InferencePool.start({ name: 'enhance', size, threads: os.availableParallelism(), queue: 1, timeoutMs: 120_000 });
      try {
        await pool.open('m', { kind: 'enhancer', options: { modelPath: DEFAULT_MODEL_PATH, downscale: DOWNSCALE, provider, memoryBudgetMiB: 64 * 1024 } });
        const batch = BATCHES.includes(8) ? 8 : BATCHES[0];
        const input = frames.slice(0, batch);
        // `size` batches in flight at once, one per worker.
        const t = await time(() => Promise.all(Array.from({ length: size }, () => pool.enhance('m', input))));
        const r = { provider, device, size: `${w}x${h}`, scale: `1/${DOWNSCALE}`, batch, path: `workers ×${size}`, msPerBatch: +(t.ms / size).toFixed(2), fps: +((1000 * batch * size) / t.ms).toFixed(1), runs: t.n };
        results.push(r);
        console.log(`${provider} ${r.size} 1/${DOWNSCALE} batch ${batch} ${r.path}: ${r.fps} fps (${device})`);
      } catch (err) { console.log(`${provider} ${w}x${h} workers ×${size}: failed (${err.message.split('\n')[0]})`); } finally { await pool.close(); }
    }
    // The temporal denoiser, one camera per frame of the batch (each keeps its own state), batches
    // up to 8 (its state is ~19 bytes a pixel a camera in JavaScript memory).
    let d;
    try { d = await Denoiser.open({ mode: 'temporal', provider }); } catch (err) { console.log(`${provider} denoiser: cannot open (${err.message.split('\n')[0]})`); continue; }
    if (d.provider !== provider) { console.log(`${provider} denoiser: fell back to ${d.provider}`); await d.close(); continue; }
    for (const batch of BATCHES.filter((b) => b <= 8)) {
      const input = frames.slice(0, batch).map((image, i) => ({ camera: `c${i}`, image }));
      try {
        const t = await time(() => d.denoise(input));
        const r = { provider, device, size: `${w}x${h}`, batch, path: 'denoise temporal', msPerBatch: +t.ms.toFixed(2), fps: +((1000 * batch) / t.ms).toFixed(1), runs: t.n };
        results.push(r);
        console.log(`${provider} ${r.size} batch ${batch} denoise temporal: ${r.msPerBatch} ms/batch, ${r.fps} fps (${device})`);
      } catch (err) { console.log(`${provider} ${w}x${h} batch ${batch} denoise: failed (${err.message.split('\n')[0]})`); }
    }
    await d.close();
  }
}

const at1080 = results.filter((r) => r.size === '1920x1080' && r.path !== 'denoise temporal');
const cameras = {};
for (const p of PROVIDERS) {
  const best = Math.max(0, ...at1080.filter((r) => r.provider === p).map((r) => r.fps));
  if (best > 0) {
    cameras[p] = Math.floor(best / 15);
    console.log(`${p}: cameras per device at 1080p 15 fps (inference only, best path): ${cameras[p]} (${best} fps; ${device})`);
  }
}
const outDir = process.env.OUT ?? path.join('bench', 'results');
const file = path.join(outDir, process.env.OUT ? 'gpu-bench.json' : `gpu-bench-${PROVIDERS.join('-')}.json`);
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), device, node: process.version, scale: `1/${DOWNSCALE}`, results, camerasAt1080p15: cameras }, null, 1));
console.log(`wrote ${file}`);
