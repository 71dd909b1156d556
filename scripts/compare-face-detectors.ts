// npx tsx scripts/compare-face-detectors.ts [--out out/detector-compare.json] [--full-wells 100,300,1000] [--grid FILE.png [--grid-only]]
// Recall and precision of each face detector against one reference that none of them made: the
// UltraFace RFB-640 pseudo-labels of ../shared's face-api.js group photos (faces.jpg, bbt1–5;
// bbt4 is faces.jpg again and is left out: 23 faces). Each photo is also downscaled (area mean)
// by 2, 4 and 6 so its faces shrink from ~50–120 px to ~8–20 px, and darkened by the eval's
// physical model at each full well (same exposure per photo at every level). Detection goes
// along the default raw path (noise-adaptive smoothing, then the detector, score ≥ 0.5).
// `eval --faces` cannot compare detectors: its references are each detector's own faces on the
// originals. Needs ../shared; writes JSON and prints a Markdown table. --grid: three cases (rows)
// by detector (columns), darkened frames brightened for viewing, references red, detections green.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaceModel } from '../src/detect/anchors.js';
import { FaceDetector } from '../src/detect/detector.js';
import { iou } from '../src/detect/nms.js';
import { drawFaces } from '../src/detect/draw.js';
import { detectAlong } from '../src/detect/path.js';
import type { Box, Face } from '../src/detect/types.js';
import { darken, exposureFor } from '../src/eval/synthetic-night.js';
import { gammaToMean } from '../src/eval/baselines.js';
import { readImage, writeImage } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const DIR = path.resolve(here, '../../shared/data/faces/face-api-js');
const out = arg('out', path.resolve(here, '../out/detector-compare.json'));
const fullWells = arg('full-wells', '100,300,1000').split(',').map(Number);
const FACTORS = [1, 2, 4, 6];
const gridFile = process.argv.includes('--grid') ? arg('grid', '') : undefined;
/** --grid-only: just the grid's cases (no table, no JSON). */
const gridOnly = process.argv.includes('--grid-only');
/** Grid rows: photo, downscale factor, level. */
const GRID_CASES: ReadonlyArray<readonly [string, number, string]> = [['bbt1.jpg', 2, '300'], ['bbt3.jpg', 4, '300'], ['faces.jpg', 6, 'normal']];
const DETECTORS: ReadonlyArray<{ name: string; model: FaceModel; upscale: number }> = [
  { name: 'back', model: 'back', upscale: 1 },
  { name: 'back up2', model: 'back', upscale: 2 },
  { name: 'full-range', model: 'full-range', upscale: 1 },
  { name: 'full-range up2', model: 'full-range', upscale: 2 },
];

interface Labels { [file: string]: { width: number; height: number; faces: Array<{ x: number; y: number; w: number; h: number }> } }
const labels = JSON.parse(fs.readFileSync(path.join(DIR, 'pseudo_labels_ultraface_rfb640.json'), 'utf8')) as Labels;
const files = Object.keys(labels).filter((f) => f !== 'bbt4.jpg');

/** Area-mean downscale by an integer factor. */
function shrink(img: RgbImage, k: number): RgbImage {
  if (k === 1) return img;
  const w = Math.floor(img.width / k), h = Math.floor(img.height / k), data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) s += img.data[((y * k + j) * img.width + x * k + i) * 3 + c]!;
    data[(y * w + x) * 3 + c] = Math.round(s / (k * k));
  }
  return { width: w, height: h, data };
}

/** Greedy matching by score at IoU ≥ 0.5: true positives and false positives. */
function score(faces: readonly Face[], refs: readonly Box[]): { tp: number; fp: number } {
  const used = new Set<number>();
  let tp = 0, fp = 0;
  for (const f of [...faces].sort((a, b) => b.score - a.score)) {
    let best = -1, bestIou = 0.5;
    refs.forEach((r, i) => { const v = iou(f.box, r); if (!used.has(i) && v >= bestIou) { best = i; bestIou = v; } });
    if (best >= 0) { used.add(best); tp++; } else fp++;
  }
  return { tp, fp };
}

interface Row { detector: string; factor: number; faceSizePx: string; level: string; references: number; tp: number; fp: number; recall: number; precision: number; ms: number }
const rows: Row[] = [];
const panels = new Map<string, RgbImage>();

const PANEL_WIDTH = 440;

/** A grid panel PANEL_WIDTH wide (nearest-neighbour, so noise stays as the detector saw it), brightened for viewing; references red, detections green. */
function panel(img: RgbImage, refs: readonly Box[], faces: readonly Face[]): RgbImage {
  const lit = gammaToMean(img).image, z = PANEL_WIDTH / lit.width;
  const w = PANEL_WIDTH, h = Math.round(lit.height * z), data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (Math.min(lit.height - 1, Math.floor(y / z)) * lit.width + Math.min(lit.width - 1, Math.floor(x / z))) * 3;
    data.set(lit.data.subarray(i, i + 3), (y * w + x) * 3);
  }
  const scaled = (b: Box): Box => ({ x: b.x * z, y: b.y * z, width: b.width * z, height: b.height * z });
  const withRefs = drawFaces({ width: w, height: h, data }, refs.map((b) => ({ box: scaled(b), score: 1, keypoints: [] })), { boxColor: [255, 0, 0], thickness: 1 });
  return drawFaces(withRefs, faces.map((f) => ({ box: scaled(f.box), score: f.score, keypoints: [] })), { thickness: 2 });
}

/** Panels side by side per row, rows stacked, 4 px grey gaps. */
function grid(cells: RgbImage[][]): RgbImage {
  const gap = 4;
  const colW = cells[0]!.map((_, c) => Math.max(...cells.map((r) => r[c]!.width)));
  const rowH = cells.map((r) => Math.max(...r.map((p) => p.height)));
  const W = colW.reduce((a, b) => a + b + gap, gap), H = rowH.reduce((a, b) => a + b + gap, gap);
  const data = new Uint8Array(W * H * 3).fill(128);
  let oy = gap;
  cells.forEach((r, ri) => {
    let ox = gap;
    r.forEach((p, c) => {
      for (let y = 0; y < p.height; y++) data.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), ((oy + y) * W + ox) * 3);
      ox += colW[c]! + gap;
    });
    oy += rowH[ri]! + gap;
  });
  return { width: W, height: H, data };
}
const photos = await Promise.all(files.map((f) => readImage(path.join(DIR, 'images', f))));
for (const d of DETECTORS) {
  const det = await FaceDetector.open({ model: d.model, ...(d.upscale > 1 ? { tiling: { upscale: d.upscale } } : {}) });
  for (const k of FACTORS) {
    const refs = files.map((f) => labels[f]!.faces.map((b) => ({ x: b.x / k, y: b.y / k, width: b.w / k, height: b.h / k })));
    const sizes = refs.flat().map((b) => Math.sqrt(b.width * b.height));
    const faceSizePx = `${Math.round(Math.min(...sizes))}–${Math.round(Math.max(...sizes))}`;
    const small = photos.map((p) => shrink(p, k));
    for (const level of ['normal', ...fullWells.map(String)]) {
      let tp = 0, fp = 0;
      const t0 = performance.now();
      for (let i = 0; i < small.length; i++) {
        if (gridOnly && !GRID_CASES.some(([f, gk, gl]) => f === files[i] && gk === k && gl === level)) continue;
        const img = level === 'normal' ? small[i]! : darken(small[i]!, { exposure: exposureFor(1, i), fullWell: Number(level), seed: 1000 * k + i });
        const [faces] = await detectAlong(det, [{ raw: img }], { on: 'raw' });
        const gi = GRID_CASES.findIndex(([f, gk, gl]) => f === files[i] && gk === k && gl === level);
        if (gi >= 0) panels.set(`${gi}/${d.name}`, panel(img, refs[i]!, faces!.filter((f) => f.score >= 0.5)));
        const s = score(faces!.filter((f) => f.score >= 0.5), refs[i]!);
        tp += s.tp; fp += s.fp;
      }
      const references = refs.flat().length;
      const row = { detector: d.name, factor: k, faceSizePx, level, references, tp, fp, recall: tp / references, precision: tp + fp ? tp / (tp + fp) : NaN, ms: (performance.now() - t0) / small.length };
      rows.push(row);
      console.error(`${d.name.padEnd(15)} 1/${k} (${faceSizePx} px) ${level.padStart(6)}: recall ${row.recall.toFixed(3)} precision ${row.precision.toFixed(3)} (${tp}/${references}, ${fp} false)`);
    }
  }
  await det.close();
}

if (gridFile) {
  await writeImage(grid(GRID_CASES.map((_, gi) => DETECTORS.map((d) => panels.get(`${gi}/${d.name}`)!))), gridFile);
  console.error(`grid: rows ${GRID_CASES.map(([f, k, l]) => `${f} 1/${k} ${l}`).join('; ')}; columns ${DETECTORS.map((d) => d.name).join(', ')} → ${gridFile}`);
}
if (gridOnly) process.exit(0);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), reference: 'UltraFace RFB-640 pseudo-labels (../shared face-api-js, bbt4 left out)', path: 'raw, adaptive smoothing, score >= 0.5, IoU >= 0.5', rows }, null, 1));
const levels = ['normal', ...fullWells.map(String)];
console.log(`| detector | scale (face px) | ${levels.map((l) => (l === 'normal' ? 'normal light' : `full well ${l}`)).join(' | ')} |`);
console.log(`| --- | --- | ${levels.map(() => '---').join(' | ')} |`);
for (const d of DETECTORS) for (const k of FACTORS) {
  const cells = levels.map((l) => rows.find((r) => r.detector === d.name && r.factor === k && r.level === l)!).map((r) => `${r.recall.toFixed(2)} / ${Number.isNaN(r.precision) ? '–' : r.precision.toFixed(2)}`);
  console.log(`| ${d.name} | 1/${k} (${rows.find((r) => r.factor === k)!.faceSizePx}) | ${cells.join(' | ')} |`);
}
console.log(`\nrecall / precision, ${rows[0]!.references} faces; wrote ${out}`);
