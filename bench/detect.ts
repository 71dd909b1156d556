// npm run bench -- detect [--quick] [--model back|front|full-range] [--upscale 2] [--sizes 1280x720,1920x1080] [--batches 1,4] [--photo FILE]
// Faces per second and frames per second of the face detector (BlazeFace on ONNX Runtime, CPU) at
// 640×360, 1280×720 and 1920×1080, whole frame only and tiled (native-resolution tiles with 25%
// overlap plus the whole-frame pass), 1, 4 and 8 frames per detect() call. The baseline of every
// row is the whole-frame pass at batch 1 on the same size. Frames are a real photo with faces
// (../shared face-api.js faces.jpg, six faces) repeated across the frame at native size, so the
// bigger frames hold more (and as small) faces, as a wider camera view would. Then what the
// detection path adds per frame: the noise-adaptive smoothing and the second (enhanced) pass of
// the fused default. Writes bench/results/detect.json (back), detect-<model>[-up2].json otherwise.
// --upscale 2 adds a third row per size and batch: 2× upscaled tiles.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFaceModel } from '../src/detect/anchors.js';
import { FaceDetector } from '../src/detect/detector.js';
import { detectAlong } from '../src/detect/path.js';
import { adaptiveSmooth, boxBlur } from '../src/detect/smooth.js';
import { darken } from '../src/eval/synthetic-night.js';
import { readImage } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';
import { syntheticFrame, tiledFrame } from './frames.js';
import { describeMachine, machine, timeIt } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const quick = process.argv.includes('--quick');
const model = arg('model', 'back')!;
if (!isFaceModel(model)) throw new Error(`--model ${model}: use back, front or full-range`);
const upscale = Number(arg('upscale', '1'));
const photoPath = arg('photo', path.resolve(here, '../../shared/data/faces/face-api-js/images/faces.jpg'))!;

const sizesArg = arg('sizes'), batchesArg = arg('batches');
const SIZES: ReadonlyArray<readonly [number, number]> = sizesArg
  ? sizesArg.split(',').map((s) => s.split('x').map(Number) as [number, number])
  : quick ? [[1280, 720]] : [[640, 360], [1280, 720], [1920, 1080]];
const BATCHES = batchesArg ? batchesArg.split(',').map(Number) : quick ? [1, 4] : [1, 4, 8];
/** Tiling modes: whole frame (the baseline), native tiles, and with --upscale 2 upscaled tiles. */
type Mode = 'whole' | 'tiled' | 'up2';
const MODES: readonly Mode[] = upscale === 2 ? ['whole', 'tiled', 'up2'] : ['whole', 'tiled'];

const m = machine();
console.log(`machine: ${describeMachine(m)}`);
const photo = fs.existsSync(photoPath) ? await readImage(photoPath) : undefined;
console.log(photo ? `frames: ${photoPath} (${photo.width}×${photo.height}) repeated across each frame` : `frames: synthetic (no faces: ${photoPath} not found, pass --photo FILE)`);
const frameOf = (w: number, h: number): RgbImage => (photo ? tiledFrame(photo, w, h) : syntheticFrame(w, h));

interface SpeedRow {
  width: number; height: number; tiling: boolean; upscale: number; batch: number; passesPerFrame: number; facesPerFrame: number;
  msPerBatch: number; minMs: number; maxMs: number; fps: number; facesPerSecond: number; runs: number; speedup: number;
}
const speed: SpeedRow[] = [];
const detectors = new Map<Mode, FaceDetector>();
for (const mode of MODES) {
  detectors.set(mode, await FaceDetector.open({ model, provider: 'cpu', ...(mode === 'whole' ? { tiling: false } : mode === 'up2' ? { tiling: { upscale: 2 } } : {}) }));
}
console.log(`${detectors.get('tiled')!.describe()}; up to ${detectors.get('tiled')!.maxBatch} tiles a model run`);
console.log('\nspeed (median after warm-up; speed-up over the whole-frame pass at batch 1, same size)');
console.log('size        tiling  batch  passes/frame  faces/frame  ms/batch (min–max)       fps   faces/s  speed-up');
for (const [w, h] of SIZES) {
  let base = 0;
  for (const mode of MODES) {
    const tiling = mode !== 'whole';
    const d = detectors.get(mode)!;
    for (const batch of BATCHES) {
      const frames = Array.from({ length: batch }, () => frameOf(w, h));
      const faces = (await d.detect(frames.slice(0, 1)))[0]!.length;
      const t = await timeIt(() => d.detect(frames), 3, 1.5);
      const fps = (1000 * batch) / t.medianMs;
      if (!tiling && batch === 1) base = fps;
      const row: SpeedRow = {
        width: w, height: h, tiling, upscale: mode === 'up2' ? 2 : 1, batch, passesPerFrame: d.plan(w, h).length, facesPerFrame: faces,
        msPerBatch: +t.medianMs.toFixed(1), minMs: +t.minMs.toFixed(1), maxMs: +t.maxMs.toFixed(1),
        fps: +fps.toFixed(2), facesPerSecond: +(fps * faces).toFixed(1), runs: t.runs, speedup: +(fps / base).toFixed(2),
      };
      speed.push(row);
      console.log(`${`${w}x${h}`.padEnd(11)} ${(mode === 'whole' ? 'no' : mode === 'up2' ? '2x' : 'yes').padStart(6)}  ${String(batch).padStart(5)}  ${String(row.passesPerFrame).padStart(12)}  ${String(faces).padStart(11)}  ${row.msPerBatch.toFixed(1).padStart(8)} ${`(${row.minMs.toFixed(0)}–${row.maxMs.toFixed(0)})`.padStart(15)}  ${row.fps.toFixed(2).padStart(6)}  ${row.facesPerSecond.toFixed(1).padStart(8)}  ${row.speedup.toFixed(2).padStart(7)}x`);
    }
  }
}

// What the detection path adds: smoothing a frame (the radius a 300 e⁻ night frame gets, and the
// largest), and the fused default's second pass over the enhanced twin.
interface PathRow { width: number; height: number; smoothR2Ms: number; smoothR3Ms: number; adaptiveOnNightMs: number; rawMs: number; fusedMs: number }
const pathRows: PathRow[] = [];
console.log('\ndetection path per frame (tiled, batch 1): smoothing, and raw-only vs the fused default (raw + enhanced twin)');
console.log('size        box r=2 ms  box r=3 ms  adaptive on a night frame ms  raw ms  fused ms');
const d = detectors.get('tiled')!;
for (const [w, h] of SIZES) {
  const clean = frameOf(w, h);
  const night = darken(clean, { exposure: 0.06, fullWell: 300, seed: 1 });
  const r2 = await timeIt(async () => boxBlur(night, 2), 3, 1);
  const r3 = await timeIt(async () => boxBlur(night, 3), 3, 1);
  const ad = await timeIt(async () => adaptiveSmooth(night), 3, 1);
  const raw = await timeIt(() => detectAlong(d, [{ raw: night }], { on: 'raw' }), 3, 1.5);
  // The twin here is the clean frame: a stand-in for an enhanced frame (the enhancer's cost is in bench enhance).
  const fused = await timeIt(() => detectAlong(d, [{ raw: night, enhanced: clean }], { on: 'fused' }), 3, 1.5);
  const row = { width: w, height: h, smoothR2Ms: +r2.medianMs.toFixed(1), smoothR3Ms: +r3.medianMs.toFixed(1), adaptiveOnNightMs: +ad.medianMs.toFixed(1), rawMs: +raw.medianMs.toFixed(1), fusedMs: +fused.medianMs.toFixed(1) };
  pathRows.push(row);
  console.log(`${`${w}x${h}`.padEnd(11)} ${row.smoothR2Ms.toFixed(1).padStart(10)}  ${row.smoothR3Ms.toFixed(1).padStart(10)}  ${row.adaptiveOnNightMs.toFixed(1).padStart(28)}  ${row.rawMs.toFixed(1).padStart(6)}  ${row.fusedMs.toFixed(1).padStart(8)}`);
}
for (const x of detectors.values()) await x.close();

const out = path.join(here, 'results', `detect${model === 'back' ? '' : `-${model}`}${upscale === 2 ? '-up2' : ''}${quick ? '-quick' : ''}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({
  date: new Date().toISOString(), machine: m, model, frames: photo ? path.basename(photoPath) : 'synthetic',
  baseline: 'whole-frame pass (tiling off), batch 1, same size', speed, path: pathRows,
}, null, 1));
console.log(`\nwrote ${out}`);
