// npm run bench -- curve-apply [--model FILE] [--lowlight DIR] [--images N] [--held-out] [--apply exact,fitted,grid,grid-js] [--seconds S]
// The full-resolution curve application (issue 13): the exact 8 iterations against the fitted
// curve (src/enhance/curve-fit.ts) and the grid (src/enhance/tone-grid.ts; 'grid' runs its passes
// in WebAssembly, 'grid-js' in the TypeScript reference), side by side in one run: whole-enhancer
// wall time and CPU time a frame at 360p/720p/1080p, batch 1, curve scales 1/4 and 1/8 (exact is
// the baseline of each row); then throughput as the live pipeline gets it on this machine, a pool
// of one single-threaded worker per core with frames kept in flight; then PSNR of each against
// the exact output on real low-light photos. Writes bench/results/curve-apply.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CURVE_APPLY, type CurveApply } from '../src/enhance/curve-fit.js';
import { DEFAULT_MODEL_PATH, Enhancer } from '../src/enhance/enhancer.js';
import { psnr } from '../src/eval/metrics.js';
import { isImagePath, readImage } from '../src/image/io.js';
import { darkFrame } from './frames.js';
import { describeMachine, machine, timeIt } from './machine.js';
import { InferencePool } from '../src/workers/pool.js';
import type { EnhancerOptions } from '../src/enhance/enhancer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const modelPath = arg('model', DEFAULT_MODEL_PATH);
const lowlight = arg('lowlight', path.resolve(here, '../../shared/data/lowlight'));
const maxImages = Number(arg('images', '24'));
const SIZES = [[640, 360], [1280, 720], [1920, 1080]] as const;
const SCALES = [4, 8];
/** The variants: the curveApply values, and 'grid-js' (the grid's passes in TypeScript). */
const VARIANTS = [...CURVE_APPLY, 'grid-js'] as const;
type Variant = (typeof VARIANTS)[number];
const APPLY = arg('apply', 'exact,fitted,grid,grid-js').split(',') as Variant[];
if (APPLY[0] !== 'exact' || APPLY.some((a) => !(VARIANTS as readonly string[]).includes(a))) {
  console.error(`--apply: exact first, then any of ${VARIANTS.join(', ')}`);
  process.exit(2);
}
const SECONDS = Number(arg('seconds', '6'));
const variant = (a: Variant): Pick<EnhancerOptions, 'curveApply' | 'gridKernel'> =>
  a === 'grid-js' ? { curveApply: 'grid', gridKernel: 'js' } : { curveApply: a as CurveApply };

const m = machine();
console.log(`machine: ${describeMachine(m)}\nmodel: ${modelPath}\n`);
console.log(`whole enhancer, batch 1, median after warm-up (${APPLY.join(', ')} timed in turn, same run); ms wall (ms CPU of the process) a frame`);
console.log(`size        scale  ${APPLY.map((a) => a.padStart(18)).join(' ')}   fps ${APPLY.slice(1).map((a) => `${a} ÷ exact`).join(', ')}`);
interface Timing { ms: number; cpuMs: number; fps: number }
interface SpeedRow { width: number; height: number; scale: string; timings: Record<string, Timing>; speedup: Record<string, number> }
const speed: SpeedRow[] = [];
for (const [w, h] of SIZES) {
  const frame = [darkFrame(w, h)];
  for (const k of SCALES) {
    // spin: false as the live pipeline runs them, so CPU time is work, not idle threads spin-waiting.
    const es = await Promise.all(APPLY.map((a) => Enhancer.open({ modelPath, downscale: k, ...variant(a), provider: 'cpu', spin: false })));
    const timings: Record<string, Timing> = {};
    for (const [i, e] of es.entries()) {
      let calls = 0;
      const cpu0 = process.cpuUsage();
      const t = await timeIt(() => { calls++; return e.enhance(frame); }, 7, 2);
      const c = process.cpuUsage(cpu0);
      // CPU over the timed and warm-up runs alike: all of them are the same work.
      timings[APPLY[i]!] = { ms: +t.medianMs.toFixed(1), cpuMs: +((c.user + c.system) / 1000 / calls).toFixed(1), fps: +(1000 / t.medianMs).toFixed(1) };
    }
    await Promise.all(es.map((e) => e.close()));
    const base = timings.exact!.ms;
    const speedup = Object.fromEntries(APPLY.slice(1).map((a) => [a, +(base / timings[a]!.ms).toFixed(2)]));
    speed.push({ width: w, height: h, scale: `1/${k}`, timings, speedup });
    console.log(`${`${w}x${h}`.padEnd(11)} ${`1/${k}`.padStart(5)}  ${APPLY.map((a) => `${timings[a]!.ms.toFixed(1)} (${timings[a]!.cpuMs.toFixed(1)})`.padStart(18)).join(' ')}   ${APPLY.slice(1).map((a) => `${speedup[a]!.toFixed(2)}x`).join(', ')}`);
  }
}

// Throughput as the live pipeline runs the enhancer on CPU from two cameras up: one worker of one
// thread per core (defaultPoolSizes), each kept busy (its running frame and one queued).
const cores = os.availableParallelism();
console.log(`\nthroughput: ${cores} workers of 1 thread (the live pool), curves at 1/8, batch 1, ${SECONDS} s each after warm-up; frames a second`);
console.log(`size        ${APPLY.map((a) => a.padStart(9)).join(' ')}   ${APPLY.slice(1).map((a) => `${a} ÷ exact`).join(', ')}`);
interface ThroughputRow { width: number; height: number; scale: string; workers: number; fps: Record<string, number> }
const throughput: ThroughputRow[] = [];
const pool = await InferencePool.start({ name: 'enhance', size: cores, threads: 1, queue: 1, timeoutMs: 60_000 });
for (const [w, h] of SIZES) {
  const frame = darkFrame(w, h);
  const fps: Record<string, number> = {};
  for (const a of APPLY) {
    const key = `${a}-${w}`;
    await pool.open(key, { kind: 'enhancer', options: { modelPath, downscale: 8, ...variant(a), provider: 'cpu', spin: false } });
    let done = 0, counting = false;
    const feed = async (until: number): Promise<void> => {
      while (performance.now() < until) {
        // A copy per request: the pool transfers the buffer to the worker.
        await pool.enhance(key, [{ width: w, height: h, data: new Uint8Array(frame.data) }]);
        if (counting) done++;
      }
    };
    const lanes = cores * 2;
    await Promise.all(Array.from({ length: lanes }, () => feed(performance.now() + 1000)));
    counting = true;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: lanes }, () => feed(t0 + SECONDS * 1000)));
    fps[a] = +(done / ((performance.now() - t0) / 1000)).toFixed(1);
    await pool.closeSession(key);
  }
  throughput.push({ width: w, height: h, scale: '1/8', workers: cores, fps });
  console.log(`${`${w}x${h}`.padEnd(11)} ${APPLY.map((a) => fps[a]!.toFixed(1).padStart(9)).join(' ')}   ${APPLY.slice(1).map((a) => `${(fps[a]! / fps.exact!).toFixed(2)}x`).join(', ')}`);
}
await pool.close();

interface QualityRow { apply: string; scale: string; images: number; meanPsnr: number; minPsnr: number; worst: string }
const quality: QualityRow[] = [];
const files = fs.existsSync(lowlight) ? fs.readdirSync(lowlight, { recursive: true }).map(String).filter(isImagePath).sort() : [];
if (files.length === 0) console.log(`\nquality: skipped, no images under ${lowlight} (pass --lowlight DIR)`);
else {
  // Every k-th photo, so both DICM and LIME are in the sample.
  const step = Math.max(1, Math.floor(files.length / maxImages));
  // --held-out: every photo the default sample leaves out (the grid's 17 levels were chosen on that sample).
  const picked = process.argv.includes('--held-out') ? files.filter((_, i) => i % step !== 0) : files.filter((_, i) => i % step === 0).slice(0, maxImages);
  const images = await Promise.all(picked.map((f) => readImage(path.join(lowlight, f))));
  console.log(`\nquality: PSNR (dB) against the exact output, ${images.length} real low-light photos from ${lowlight}`);
  for (const k of SCALES) {
    const es = await Promise.all(APPLY.map((a) => Enhancer.open({ modelPath, downscale: k, ...variant(a) })));
    const ps: number[][] = APPLY.map(() => []);
    for (const img of images) {
      const outs = await Promise.all(es.map(async (e) => (await e.enhance([img])).frames[0]!));
      outs.forEach((o, i) => ps[i]!.push(Math.min(99, psnr(o, outs[0]!))));
    }
    await Promise.all(es.map((e) => e.close()));
    for (const [i, a] of APPLY.entries()) {
      if (i === 0) continue;
      const p = ps[i]!, min = Math.min(...p);
      const row = { apply: a, scale: `1/${k}`, images: images.length, meanPsnr: +(p.reduce((s, x) => s + x, 0) / p.length).toFixed(2), minPsnr: +min.toFixed(2), worst: picked[p.indexOf(min)]! };
      quality.push(row);
      console.log(`  ${a.padEnd(7)} ${row.scale}  mean ${row.meanPsnr.toFixed(2)}  min ${row.minPsnr.toFixed(2)} (${row.worst})`);
    }
  }
}
const out = path.join(here, 'results', 'curve-apply.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, loadAverageAtStart: os.loadavg(), model: path.relative(path.resolve(here, '..'), modelPath), baseline: 'exact 8-iteration application, same size and scale, same run', speed, throughput, quality }, null, 1));
console.log(`\nwrote ${out}`);
