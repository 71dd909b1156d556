// npm run bench -- still [--quick]
// What the still-scene gate (src/detect/static-scene.ts, detect.confirm.staticAfter) costs the
// detection worker per frame, against the detector it follows (BlazeFace back, tiled, one frame),
// timed in the same run at each size: ms per frame and the ratio. Writes bench/results/still.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceDetector } from '../src/detect/detector.js';
import { StillGate } from '../src/detect/static-scene.js';
import type { Face } from '../src/detect/types.js';
import type { RgbImage } from '../src/image/types.js';
import { describeMachine, machine, timeIt } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const SIZES: Array<[number, number]> = quick ? [[1280, 720]] : [[640, 360], [1280, 720], [1920, 1080], [3840, 2160]];

/** A dark shaded scene with fresh noise (σ ≈ 4 levels) per frame. */
function frame(w: number, h: number, seed: number): RgbImage {
  const d = new Uint8Array(w * h * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < w * h; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const x = i % w, y = (i / w) | 0;
    const v = Math.max(0, Math.min(255, 40 + 30 * Math.sin(x / 37) * Math.cos(y / 23) + ((s & 15) - 7.5)));
    d[3 * i] = v; d[3 * i + 1] = v; d[3 * i + 2] = v;
  }
  return { width: w, height: h, data: d };
}

const m = machine();
console.log(`machine: ${describeMachine(m)}\n`);
const detector = await FaceDetector.open({ model: 'back', provider: 'cpu' });
const faces: Face[] = Array.from({ length: 8 }, (_, i) => ({ box: { x: 40 + i * 60, y: 40, width: 40, height: 40 }, score: 0.6, keypoints: [] }));
const rows: Array<{ width: number; height: number; gateMs: number; detectMs: number; ofDetect: number }> = [];
for (const [w, h] of SIZES) {
  const frames = [frame(w, h, 1), frame(w, h, 2), frame(w, h, 3)];
  const gate = new StillGate({ afterS: 30 });
  let n = 0;
  // One camera fed its next frame each call, 200 ms apart (5 fps), 8 faces checked: the worker's step.
  const g = await timeIt(async () => { gate.filter('cam', frames[n % 3]!, 200 * n++, faces); }, 10, 1.5, 200);
  const d = await timeIt(() => detector.detect([frames[0]!]), 3, 1.5);
  const row = { width: w, height: h, gateMs: +g.medianMs.toFixed(2), detectMs: +d.medianMs.toFixed(1), ofDetect: +(g.medianMs / d.medianMs).toFixed(4) };
  rows.push(row);
  console.log(`${w}×${h}: still gate ${row.gateMs} ms/frame, detector (back, tiled) ${row.detectMs} ms/frame: ${(100 * row.ofDetect).toFixed(2)}% of it`);
}
await detector.close();
const out = path.join(here, 'results', quick ? 'still-quick.json' : 'still.json');
fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine: m, baseline: 'FaceDetector back, tiled, batch 1, same frame size, same run', rows }, null, 1)}\n`);
console.log(`\nwrote ${out}`);
