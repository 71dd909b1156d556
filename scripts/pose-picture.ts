// npx pie-stream detect CLIP -o out/pose --pose any --no-annotate && npx tsx scripts/pose-picture.ts CLIP out/pose/<stem>.faces.json OUT.png
// What the frontal pose rule (src/detect/pose.ts, detect.pose: frontal) drops on a clip it was not
// tuned on: top row, every detection it drops; bottom row, every 8th one it keeps. Each crop is 3×
// the box around its centre, from the frame the detector saw (decoded again by ffmpeg at its time).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { crop } from '../src/cli/eval-small-faces.js';
import { isFrontal, faceGeometry } from '../src/detect/pose.js';
import type { Face } from '../src/detect/types.js';
import { writeImage } from '../src/image/io.js';
import { probeMedia } from '../src/ingest/probe.js';

const [clip, json, outFile] = process.argv.slice(2);
if (!clip || !json || !outFile) throw new Error('usage: npx tsx scripts/pose-picture.ts CLIP FACES_JSON OUT.png (FACES_JSON from pie-stream detect --pose any)');
const d = JSON.parse(fs.readFileSync(json, 'utf8')) as { frames: Array<{ index: number; ms: number; faces: Face[] }> };
const { width, height } = await probeMedia(clip);
const all = d.frames.flatMap((fr) => fr.faces.map((f) => ({ fr, f })));
const rows = [all.filter((x) => !isFrontal(x.f)), all.filter((x) => isFrontal(x.f)).filter((_, i) => i % 8 === 0)];
const cell = 96, pad = 4, cols = Math.max(1, ...rows.map((r) => r.length)), W = cols * (cell + pad) + pad, H = rows.length * (cell + pad) + pad;
const out = new Uint8Array(W * H * 3).fill(255);
for (const [ri, row] of rows.entries()) {
  for (const [ci, { fr, f }] of row.entries()) {
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-ss', String(fr.ms / 1000), '-i', clip, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: width * height * 3 + 1024 });
    const c = crop({ width, height, data: new Uint8Array(raw.buffer, raw.byteOffset, width * height * 3) }, f.box, cell, 3);
    const x0 = pad + ci * (cell + pad), y0 = pad + ri * (cell + pad);
    for (let y = 0; y < cell; y++) out.set(c.data.subarray(y * cell * 3, (y + 1) * cell * 3), ((y0 + y) * W + x0) * 3);
    const g = faceGeometry(f);
    console.log(`${ri ? 'kept' : 'dropped'}: frame ${fr.index}, score ${f.score.toFixed(2)}, ${Math.round(f.box.width)} px, eyes ${g.eyes.toFixed(2)}, ears ${g.ears.toFixed(2)}`);
  }
}
await writeImage({ width: W, height: H, data: out }, outFile);
console.log(`${rows[0]!.length} of ${all.length} detections dropped; ${outFile}`);
