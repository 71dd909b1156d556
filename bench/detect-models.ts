// npm run bench -- detect-models [--rounds 5] [--sizes 1280x720,1920x1080] [--photo FILE]
// The face detectors against each other in one run: BlazeFace back and MediaPipe's full-range
// detector, whole frame, native tiles and 2× upscaled tiles, at 720p and 1080p. Calls alternate
// between the detectors round by round, so on a shared machine both see the same contention and
// their ratio holds even where the absolute figures do not. Frames as in bench detect (the
// face-api.js group photo repeated across the frame). Baseline: BlazeFace back, same size and
// tiling. Writes bench/results/detect-models.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaceModel } from '../src/detect/anchors.js';
import { FaceDetector } from '../src/detect/detector.js';
import { readImage } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';
import { syntheticFrame, tiledFrame } from './frames.js';
import { describeMachine, machine } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const rounds = Number(arg('rounds', '5'));
const SIZES = arg('sizes', '1280x720,1920x1080').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const photoPath = arg('photo', path.resolve(here, '../../shared/data/faces/face-api-js/images/faces.jpg'));
const MODELS: readonly FaceModel[] = ['back', 'full-range'];
type Mode = 'whole' | 'tiled' | 'up2';
const MODES: readonly Mode[] = ['whole', 'tiled', 'up2'];

const frameOf = (photo: RgbImage | undefined, w: number, h: number): RgbImage => (photo ? tiledFrame(photo, w, h) : syntheticFrame(w, h));

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b), m = s.length / 2; return s.length % 2 ? s[Math.floor(m)]! : (s[m - 1]! + s[m]!) / 2; };

const m = machine();
console.log(`machine: ${describeMachine(m)}`);
const photo = fs.existsSync(photoPath) ? await readImage(photoPath) : undefined;
console.log(photo ? `frames: ${photoPath} repeated across each frame` : `frames: synthetic (no faces; ${photoPath} not found)`);
const detectors = new Map<string, FaceDetector>();
for (const model of MODELS) for (const mode of MODES) {
  detectors.set(`${model}/${mode}`, await FaceDetector.open({ model, provider: 'cpu', ...(mode === 'whole' ? { tiling: false } : mode === 'up2' ? { tiling: { upscale: 2 } } : {}) }));
}
for (const model of MODELS) console.log(detectors.get(`${model}/tiled`)!.describe());

interface Row { model: FaceModel; width: number; height: number; mode: Mode; passes: number; faces: number; medianMs: number; fps: number; facesPerSecond: number; msPerPass: number; vsBack: number }
const rows: Row[] = [];
console.log(`\n${rounds} alternating rounds per size and tiling (median ms per frame); ratio: back's time over this one's (> 1: faster than back)`);
console.log('size        tiling  model        passes  faces   ms/frame     fps  faces/s  ms/pass  vs back');
for (const [w, h] of SIZES) {
  const frame = frameOf(photo, w, h);
  for (const mode of MODES) {
    const times = new Map<FaceModel, number[]>(MODELS.map((x) => [x, []]));
    const faces = new Map<FaceModel, number>();
    for (const model of MODELS) faces.set(model, (await detectors.get(`${model}/${mode}`)!.detect([frame]))[0]!.length); // also the warm-up
    for (let r = 0; r < rounds; r++) {
      for (const model of r % 2 ? [...MODELS].reverse() : MODELS) {
        const t = performance.now();
        await detectors.get(`${model}/${mode}`)!.detect([frame]);
        times.get(model)!.push(performance.now() - t);
      }
    }
    const backMs = median(times.get('back')!);
    for (const model of MODELS) {
      const d = detectors.get(`${model}/${mode}`)!, ms = median(times.get(model)!), passes = d.plan(w, h).length, n = faces.get(model)!;
      const row: Row = { model, width: w, height: h, mode, passes, faces: n, medianMs: +ms.toFixed(1), fps: +(1000 / ms).toFixed(2), facesPerSecond: +((1000 * n) / ms).toFixed(1), msPerPass: +(ms / passes).toFixed(1), vsBack: +(backMs / ms).toFixed(2) };
      rows.push(row);
      console.log(`${`${w}x${h}`.padEnd(11)} ${mode.padStart(6)}  ${model.padEnd(11)} ${String(passes).padStart(6)} ${String(n).padStart(6)} ${row.medianMs.toFixed(1).padStart(10)} ${row.fps.toFixed(2).padStart(7)} ${row.facesPerSecond.toFixed(1).padStart(8)} ${row.msPerPass.toFixed(1).padStart(8)} ${row.vsBack.toFixed(2).padStart(7)}x`);
    }
  }
}
for (const d of detectors.values()) await d.close();
const out = path.join(here, 'results', 'detect-models.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, frames: photo ? path.basename(photoPath) : 'synthetic', rounds, baseline: 'BlazeFace back, same size and tiling, alternating calls', rows }, null, 1));
console.log(`\nwrote ${out}`);
