// npm run bench -- curve-apply [--model FILE] [--lowlight DIR] [--images N]
// The full-resolution curve application (issue 13): the exact 8 iterations against the fitted
// fitted curve (src/enhance/curve-fit.ts), side by side in one run: whole-enhancer fps at 360p/720p/1080p,
// batch 1, curve scales 1/4 and 1/8 (exact is the baseline of each row), then PSNR of the fitted curve's
// output against the exact output on real low-light photos. Writes bench/results/curve-apply.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CurveApply } from '../src/enhance/curve-fit.js';
import { DEFAULT_MODEL_PATH, Enhancer } from '../src/enhance/enhancer.js';
import { psnr } from '../src/eval/metrics.js';
import { isImagePath, readImage } from '../src/image/io.js';
import { darkFrame } from './frames.js';
import { describeMachine, machine, timeIt } from './machine.js';

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
const APPLY: readonly CurveApply[] = ['exact', 'fitted'];

const m = machine();
console.log(`machine: ${describeMachine(m)}\nmodel: ${modelPath}\n`);
console.log('whole enhancer, batch 1, median after warm-up (exact and fitted timed alternately, same run)');
console.log('size        scale   exact ms  fitted ms   exact fps fitted fps  speed-up');
interface SpeedRow { width: number; height: number; scale: string; exactMs: number; fittedMs: number; exactFps: number; fittedFps: number; speedup: number }
const speed: SpeedRow[] = [];
for (const [w, h] of SIZES) {
  const frame = [darkFrame(w, h)];
  for (const k of SCALES) {
    const es = await Promise.all(APPLY.map((curveApply) => Enhancer.open({ modelPath, downscale: k, curveApply, provider: 'cpu' })));
    const ms: number[] = [];
    for (const e of es) ms.push((await timeIt(() => e.enhance(frame), 5, 2)).medianMs);
    await Promise.all(es.map((e) => e.close()));
    const row = { width: w, height: h, scale: `1/${k}`, exactMs: +ms[0]!.toFixed(1), fittedMs: +ms[1]!.toFixed(1), exactFps: +(1000 / ms[0]!).toFixed(1), fittedFps: +(1000 / ms[1]!).toFixed(1), speedup: +(ms[0]! / ms[1]!).toFixed(2) };
    speed.push(row);
    console.log(`${`${w}x${h}`.padEnd(11)} ${row.scale.padStart(5)} ${row.exactMs.toFixed(1).padStart(10)} ${row.fittedMs.toFixed(1).padStart(10)} ${row.exactFps.toFixed(1).padStart(11)} ${row.fittedFps.toFixed(1).padStart(10)} ${row.speedup.toFixed(2).padStart(8)}x`);
  }
}

interface QualityRow { scale: string; images: number; meanPsnr: number; minPsnr: number }
const quality: QualityRow[] = [];
const files = fs.existsSync(lowlight) ? fs.readdirSync(lowlight, { recursive: true }).map(String).filter(isImagePath).sort() : [];
if (files.length === 0) console.log(`\nquality: skipped, no images under ${lowlight} (pass --lowlight DIR)`);
else {
  // Every k-th photo, so both DICM and LIME are in the sample.
  const step = Math.max(1, Math.floor(files.length / maxImages));
  const picked = files.filter((_, i) => i % step === 0).slice(0, maxImages);
  const images = await Promise.all(picked.map((f) => readImage(path.join(lowlight, f))));
  console.log(`\nquality: PSNR (dB) of the fitted curve's output against the exact output, ${images.length} real low-light photos from ${lowlight}`);
  for (const k of SCALES) {
    const es = await Promise.all(APPLY.map((curveApply) => Enhancer.open({ modelPath, downscale: k, curveApply })));
    const ps: number[] = [];
    for (const img of images) {
      const [a, b] = await Promise.all(es.map(async (e) => (await e.enhance([img])).frames[0]!));
      ps.push(Math.min(99, psnr(b!, a!)));
    }
    await Promise.all(es.map((e) => e.close()));
    const row = { scale: `1/${k}`, images: images.length, meanPsnr: +(ps.reduce((s, p) => s + p, 0) / ps.length).toFixed(2), minPsnr: +Math.min(...ps).toFixed(2) };
    quality.push(row);
    console.log(`  ${row.scale}  mean ${row.meanPsnr.toFixed(2)}  min ${row.minPsnr.toFixed(2)}`);
  }
}
const out = path.join(here, 'results', 'curve-apply.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, model: path.relative(path.resolve(here, '..'), modelPath), baseline: 'exact 8-iteration application, same size and scale, same run', speed, quality }, null, 1));
console.log(`\nwrote ${out}`);
