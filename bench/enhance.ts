// npm run bench -- enhance [--model FILE] [--lowlight DIR] [--quick]
// Frames per second of the enhancer at 360p/720p/1080p, batch 1/4/8, curve scale 1, 1/2, 1/4, 1/8
// on this machine's CPU; scale 1 (the official full-resolution network) is the baseline of every
// row. Then the quality cost of each scale: PSNR of its output against the scale-1 output on real
// low-light photos. Writes bench/results/enhance.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_PATH, Enhancer } from '../src/enhance/enhancer.js';
import { loadDceNetModel } from '../src/enhance/model-file.js';
import { LAYER_NAMES, type DceNetWeights } from '../src/enhance/dcenet.js';
import { f32 } from '../src/onnx/tensor.js';
import { readImage, isImagePath } from '../src/image/io.js';
import { darkFrame } from './frames.js';
import { describeMachine, machine, timeIt } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const quick = process.argv.includes('--quick');
const modelPath = arg('model', DEFAULT_MODEL_PATH)!;
const shared = path.resolve(here, '../../shared');
const lowlight = arg('lowlight', path.join(shared, 'data/lowlight'))!;

const SIZES = quick ? [[1280, 720]] : [[640, 360], [1280, 720], [1920, 1080]];
const BATCHES = quick ? [1, 4] : [1, 4, 8];
const SCALES = [1, 2, 4, 8];

const m = machine();
console.log(`machine: ${describeMachine(m)}`);
console.log(`model: ${modelPath}`);

interface SpeedRow { width: number; height: number; batch: number; scale: string; runsPerBatch: number; msPerBatch: number; minMs: number; maxMs: number; fps: number; runs: number; speedup: number }
const speed: SpeedRow[] = [];
{
  const probe = await Enhancer.open({ modelPath, downscale: 8, provider: 'cpu' });
  console.log(`${probe.describe().replace(/; curves.*/, '')}; memory budget ${probe.memoryBudgetMiB} MiB a run`);
  await probe.close();
}
console.log('\nspeed (CPU, median after warm-up; speed-up is over scale 1 at the same size and batch;');
console.log('runs = inference runs per batch: a batch over the memory budget is split)');
console.log('size        batch  scale  runs  ms/batch (min–max)        fps  speed-up');
for (const [w, h] of SIZES) {
  // Fresh sessions per size: ORT's CPU arena keeps its peak, so sizes must not pile up.
  const enhancers = new Map<number, Enhancer>();
  for (const k of SCALES) enhancers.set(k, await Enhancer.open({ modelPath, downscale: k, provider: 'cpu' }));
  for (const batch of BATCHES) {
    const frames = Array.from({ length: batch }, (_, i) => darkFrame(w!, h!, i));
    let base = 0;
    for (const k of SCALES) {
      const e = enhancers.get(k)!;
      // The full-resolution network takes seconds a batch: 3 runs there, more elsewhere.
      const t = await timeIt(() => e.enhance(frames), k === 1 ? 3 : 5, k === 1 ? 0 : 1.5);
      const fps = (1000 * batch) / t.medianMs;
      if (k === 1) base = fps;
      const row = { width: w!, height: h!, batch, scale: `1/${k}`, runsPerBatch: Math.ceil(batch / e.framesPerRun(w!, h!)), msPerBatch: +t.medianMs.toFixed(1), minMs: +t.minMs.toFixed(1), maxMs: +t.maxMs.toFixed(1), fps: +fps.toFixed(2), runs: t.runs, speedup: +(fps / base).toFixed(1) };
      speed.push(row);
      console.log(`${`${w}x${h}`.padEnd(11)} ${String(batch).padStart(5)}  ${row.scale.padStart(5)}  ${String(row.runsPerBatch).padStart(4)}  ${row.msPerBatch.toFixed(1).padStart(8)} ${`(${row.minMs.toFixed(0)}–${row.maxMs.toFixed(0)})`.padStart(15)}  ${row.fps.toFixed(2).padStart(6)}  ${row.speedup.toFixed(1).padStart(7)}x`);
    }
  }
  for (const e of enhancers.values()) await e.close();
}

// Quality cost of estimating curves at low resolution, vs the full-resolution output.
function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) { const d = a[i]! - b[i]!; se += d * d; }
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** The float64 fixture's seeded random weights: a network whose curves vary with texture (a harder case). */
function fixtureWeights(): DceNetWeights | undefined {
  const dir = path.join(shared, 'fixtures/dcenet');
  if (!fs.existsSync(dir)) return undefined;
  const man = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { params: Record<string, { file: string; shape: number[] }> };
  const read = (k: string) => {
    const b = fs.readFileSync(path.join(dir, man.params[k]!.file));
    return f32(man.params[k]!.shape, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  };
  return Object.fromEntries(LAYER_NAMES.map((l) => [l, { weight: read(`${l}.weight`), bias: read(`${l}.bias`) }])) as DceNetWeights;
}

interface QualityRow { model: string; scale: string; images: number; meanPsnr: number; minPsnr: number }
const quality: QualityRow[] = [];
const files = fs.existsSync(lowlight)
  ? fs.readdirSync(lowlight, { recursive: true }).map(String).filter(isImagePath).sort().map((f) => path.join(lowlight, f))
  : [];
if (files.length === 0) {
  console.log(`\nquality: skipped, no images under ${lowlight} (pass --lowlight DIR)`);
} else {
  const images = await Promise.all((quick ? files.slice(0, 12) : files).map(readImage));
  const models: Array<[string, { modelPath: string } | { weights: DceNetWeights }]> = [[path.basename(modelPath), { modelPath }]];
  const fw = fixtureWeights();
  if (fw) models.push(['random-weights DCE-Net (fixtures/dcenet)', { weights: fw }]);
  console.log(`\nquality: PSNR (dB) of each scale's output against the scale-1 output, ${images.length} real low-light photos from ${lowlight}`);
  for (const [name, src] of models) {
    const byScale = new Map<number, Uint8Array[]>();
    for (const k of SCALES) {
      const e = await Enhancer.open({ ...src, downscale: k });
      const outs: Uint8Array[] = [];
      for (const img of images) outs.push(new Uint8Array((await e.enhance([img])).frames[0]!.data));
      byScale.set(k, outs);
      await e.close();
    }
    for (const k of SCALES.slice(1)) {
      const ps = images.map((_, i) => psnr(byScale.get(k)![i]!, byScale.get(1)![i]!)).map((p) => Math.min(p, 99));
      const row = { model: name, scale: `1/${k}`, images: images.length, meanPsnr: +(ps.reduce((a, b) => a + b, 0) / ps.length).toFixed(2), minPsnr: +Math.min(...ps).toFixed(2) };
      quality.push(row);
      console.log(`  ${name.padEnd(42)} ${row.scale.padStart(4)}  mean ${row.meanPsnr.toFixed(2)}  min ${row.minPsnr.toFixed(2)}`);
    }
  }
}
const out = path.join(here, 'results', quick ? 'enhance-quick.json' : 'enhance.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, model: path.relative(path.resolve(here, '..'), modelPath), baseline: 'scale 1 (full-resolution DCE-Net), same size and batch', speed, quality }, null, 1));
console.log(`\nwrote ${out}`);
