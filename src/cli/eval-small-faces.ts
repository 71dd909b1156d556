// `pie-stream eval --faces --small`: the small-face set (issue 16). Reads the labelled photos (boxes
// from a labels JSON beside the images where it has them, else the main detector's faces on the
// full-size original), drops exact duplicates, splits them by name into tune and held-out photos,
// builds the set, opens the detectors (each model tiled, plus the first untiled, on 2× frames and
// with 2× tiles added), the enhancer and the guided-filter denoiser, runs src/eval/small-face-eval.ts
// and writes small-faces.json, small-faces.md and a grid of face crops.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FACE_MODELS } from '../config/schema.js';
import { Denoiser } from '../denoise/denoiser.js';
import { FaceDetector } from '../detect/detector.js';
import { denoiseImage, denoiseStill, STILL_BM3D_STRONG_FROM_SIGMA, STILL_CLEAN_BELOW } from '../detect/denoise.js';
import type { BlazeFaceModel } from '../detect/anchors.js';
import { FUSE_ENHANCED_ONLY_MIN_SCORE, type FaceFinder, type FuseOptions } from '../detect/fuse.js';
import { boxBlur, estimateNoise as estimateOwn, radiusForNoise } from '../detect/smooth.js';
import type { Box, Face } from '../detect/types.js';
import { Enhancer } from '../enhance/enhancer.js';
import { PieError } from '../errors.js';
import { collectSmallFaces, darkFrame, formatFuseSweep, formatSmallFaces, scoreSmallFaces, variantName, type CollectedSmallFaces, type NamedFinder, type SmoothingChoice } from '../eval/small-face-eval.js';
import { buildSmallFaceSet, faceSize, splitOf, type LabelledPhoto, type Split } from '../eval/small-faces.js';
import { iou } from '../detect/nms.js';
import { readImage, writeImage } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { listImages } from './eval-faces.js';
import type { FacePose } from '../detect/pose.js';
import { Progress } from './progress.js';

export interface SmallFaceEvalCommandOptions {
  readonly images: readonly string[];
  /** Labels JSON ({ "<file name>": { faces: [{ x, y, w, h }] } }); default: pseudo_labels*.json beside the image folder. */
  readonly labels?: string;
  readonly detectors?: readonly BlazeFaceModel[];
  readonly fullWells: readonly number[];
  readonly seed?: number;
  /** Enhancer model (.onnx) for the enhanced and fused paths; undefined: the shipped one. */
  readonly model?: string;
  readonly downscale?: number;
  /** At most this many photos per split (the first by name). */
  readonly limit?: number;
  readonly threshold?: number;
  /** Default 'frontal', the product's default (detect.pose). */
  readonly pose?: FacePose;
  readonly fuse?: FuseOptions;
  readonly threads?: number;
  readonly outDir: string;
  readonly quiet?: boolean;
}

/** `back,front`: detector models, each known (FACE_MODELS). */
export function parseDetectorList(list: string): BlazeFaceModel[] {
  const out = list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = out.find((m) => !(FACE_MODELS as readonly string[]).includes(m));
  if (bad !== undefined || out.length === 0) throw new PieError('usage', `--detector ${list}: ${bad ?? 'nothing'} is not a face model`, `use one or more of ${FACE_MODELS.join(', ')}, separated by commas`);
  return out as BlazeFaceModel[];
}

export interface LabelFile { readonly [file: string]: { readonly faces: ReadonlyArray<{ x: number; y: number; w: number; h: number }> } }

export function findLabels(images: readonly string[]): string | undefined {
  for (const dir of images) {
    const up = path.dirname(path.resolve(dir));
    const hit = fs.existsSync(up) ? fs.readdirSync(up).find((f) => /^pseudo_labels.*\.json$/i.test(f)) : undefined;
    if (hit) return path.join(up, hit);
  }
  return undefined;
}

/** 2× bilinear frames for a detector: small faces get twice the pixels in each native tile. */
function upscaled(finder: FaceFinder, k: number): FaceFinder {
  const up = (img: RgbImage): RgbImage => {
    const w = img.width * k, h = img.height * k, d = img.data, out = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      const fy = Math.min(img.height - 1, Math.max(0, (y + 0.5) / k - 0.5)), y0 = Math.floor(fy), y1 = Math.min(img.height - 1, y0 + 1), wy = fy - y0;
      for (let x = 0; x < w; x++) {
        const fx = Math.min(img.width - 1, Math.max(0, (x + 0.5) / k - 0.5)), x0 = Math.floor(fx), x1 = Math.min(img.width - 1, x0 + 1), wx = fx - x0;
        for (let c = 0; c < 3; c++) {
          const a = d[(y0 * img.width + x0) * 3 + c]!, b = d[(y0 * img.width + x1) * 3 + c]!, e = d[(y1 * img.width + x0) * 3 + c]!, g = d[(y1 * img.width + x1) * 3 + c]!;
          out[(y * w + x) * 3 + c] = Math.round((a + (b - a) * wx) * (1 - wy) + (e + (g - e) * wx) * wy);
        }
      }
    }
    return { width: w, height: h, data: out };
  };
  const back = (f: Face): Face => ({ score: f.score, box: { x: f.box.x / k, y: f.box.y / k, width: f.box.width / k, height: f.box.height / k }, keypoints: f.keypoints.map((p) => ({ x: p.x / k, y: p.y / k })) });
  return {
    detect: async (frames, o) => (await finder.detect(frames.map(up), o?.whole ? { whole: o.whole.map(up) } : {})).map((fs) => fs.map(back)),
  };
}

/**
 * The smoothings compared, by name. `old blur`: the radius (≤ 3) from the input's own noise, as
 * before issue 16 (on an enhanced frame, the amplified noise); `blur ≤1`: the default now (raw
 * noise, radius ≤ 1); `guided`: the project's spatial denoiser (noise-guided filter).
 */
export function smoothings(guided: Denoiser): SmoothingChoice[] {
  let n = 0;
  const old = { maxRadius: 3 };
  return [
    { name: 'none', prep: (img) => ({ tiles: img }) },
    { name: 'old blur', prep: (img) => ({ tiles: boxBlur(img, radiusForNoise(estimateOwn(img), old)) }) },
    { name: 'old blur, raw σ', prep: (img, s) => ({ tiles: boxBlur(img, radiusForNoise(s, old)) }) },
    { name: 'blur ≤1', prep: (img, s) => ({ tiles: boxBlur(img, radiusForNoise(s)) }) },
    // Per detector input scale: the shrunken whole-frame pass blurred more than the native tiles.
    { name: 'tiles none, whole ≤3', prep: (img, s) => ({ tiles: img, whole: boxBlur(img, radiusForNoise(s, old)) }) },
    { name: 'tiles ≤1, whole ≤3', prep: (img, s) => ({ tiles: boxBlur(img, radiusForNoise(s)), whole: boxBlur(img, radiusForNoise(s, old)) }) },
    // ffmpeg's BM3D, first stage on the RGB planes (session 14's still default). Its sigma is not the noise's in levels: on a
    // test card with noise of RMSE 32 levels, sigma 10 changed pixels by 0.4 levels on average, 100 by 14; 3σ, 4σ and 6σ were compared.
    { name: 'bm3d 4σ', prep: async (img, s) => ({ tiles: await denoiseImage(img, { filter: 'bm3d', sigma: Math.min(999, Math.max(1, 4 * s)) }) }) },
    // The still path's default (`pie-stream detect` on images): BM3D, both stages in YUV, above σ 4.5; a cleaner photo as it is.
    { name: STILL_DEFAULT, prep: async (img, s) => ({ tiles: await denoiseStill(img, s) }) },
    {
      name: 'guided',
      prep: async (img) => {
        // A camera of its own per image: the denoiser's noise model must not pair unrelated frames.
        const cam = `still-${n++}`;
        const [out] = await guided.denoise([{ camera: cam, image: img }]);
        guided.reset(cam);
        return { tiles: out! };
      },
    },
  ];
}

/** The still path's default smoothing, by its row name. */
export const STILL_DEFAULT = `still default (bm3d yuv 2-stage, 2.5σ above σ ${STILL_CLEAN_BELOW}, 3.5σ from σ ${STILL_BM3D_STRONG_FROM_SIGMA})`;

/** Smoothings every detector, tiling and the enhanced pass run (the rest run on the main detector's raw frames). */
export const CROSS_SMOOTHINGS = ['none', 'old blur', 'blur ≤1'];

export async function loadPhotos(o: Pick<SmallFaceEvalCommandOptions, 'images' | 'labels'>, main: FaceDetector, log: (s: string) => void): Promise<Array<LabelledPhoto & { split: Split; labelled: boolean }>> {
  const files = listImages(o.images);
  if (files.length === 0) throw new PieError('input', `no images under ${o.images.join(', ')}`, 'pass folders of jpg/png photos with faces');
  const labelsPath = o.labels ?? findLabels(o.images);
  const labels: LabelFile = labelsPath ? JSON.parse(fs.readFileSync(labelsPath, 'utf8')) as LabelFile : {};
  const root = path.resolve(o.images[0]!);
  const seen = new Set<string>();
  const out: Array<LabelledPhoto & { split: Split; labelled: boolean }> = [];
  for (const f of files) {
    const bytes = fs.readFileSync(f), hash = createHash('sha256').update(bytes).digest('hex');
    if (seen.has(hash)) continue; // the same picture under two names (bbt4.jpg = faces.jpg) would sit in both splits
    seen.add(hash);
    const name = path.relative(fs.statSync(root).isDirectory() ? root : path.dirname(root), f);
    const image = await readImage(f);
    const lab = labels[path.basename(f)];
    let boxes: Box[];
    if (lab) boxes = lab.faces.map((b) => ({ x: b.x, y: b.y, width: b.w, height: b.h }));
    else boxes = ((await main.detect([image]))[0] ?? []).filter((x) => x.score >= 0.5).map((x) => x.box);
    if (boxes.length) out.push({ name, image, boxes, split: splitOf(name), labelled: Boolean(lab) });
  }
  log(`${out.length} photos with faces (${out.filter((p) => p.labelled).length} labelled by ${labelsPath ? path.basename(labelsPath) : 'nothing'}, the rest by BlazeFace back on the full-size original); held out: ${out.filter((p) => p.split === 'heldout').map((p) => p.name).join(', ')}`);
  return out;
}

export async function runSmallFaceEval(o: SmallFaceEvalCommandOptions, log: (s: string) => void): Promise<CollectedSmallFaces> {
  const models = o.detectors ?? ['back'];
  const thr = o.threshold ?? 0.5;
  const threads = o.threads ? { threads: o.threads } : {};
  const open = (model: BlazeFaceModel, tiling: boolean): Promise<FaceDetector> => FaceDetector.open({ model, scoreThreshold: Math.min(0.25, thr), pose: o.pose ?? 'frontal', ...(tiling ? {} : { tiling: false }), ...threads });
  const dets: FaceDetector[] = [];
  let enhancer: Enhancer | undefined, guided: Denoiser | undefined;
  try {
    const main = await open(models[0]!, true);
    dets.push(main);
    const finders: NamedFinder[] = [{ name: `${models[0]} tiled`, finder: main }];
    for (const m of models.slice(1)) { const d = await open(m, true); dets.push(d); finders.push({ name: `${m} tiled`, finder: d }); }
    const whole = await open(models[0]!, false);
    dets.push(whole);
    finders.push({ name: `${models[0]} untiled`, finder: whole }, { name: `${models[0]} tiled 2×`, finder: upscaled(main, 2) });
    // The product's own upscaled tiles (`detect --upscale 2`, detect.upscale): native tiles plus 2× ones, merged.
    const plus2 = await FaceDetector.open({ model: models[0]!, scoreThreshold: Math.min(0.25, thr), pose: o.pose ?? 'frontal', tiling: { upscale: 2 }, ...threads });
    dets.push(plus2);
    finders.push({ name: `${models[0]} tiles +2×`, finder: plus2 });

    const photos = await loadPhotos(o, main, log);
    const frames = (['tune', 'heldout'] as const).flatMap((split) => {
      // Labelled photos first: a limit keeps the group photos, whose boxes are independent of the detector.
      const mine = photos.filter((p) => p.split === split).sort((a, b) => Number(b.labelled) - Number(a.labelled)).slice(0, o.limit ?? Infinity);
      return buildSmallFaceSet(mine).map((f) => ({ ...f, split }));
    });
    enhancer = await Enhancer.open({ ...(o.model ? { modelPath: o.model } : {}), downscale: o.downscale ?? 4, ...threads });
    guided = await Denoiser.open({ mode: 'spatial', ...threads });
    const en = enhancer, smooths = smoothings(guided);
    log(`${frames.length} frames of 640×480 (${frames.filter((f) => f.split === 'tune').length} tune, ${frames.filter((f) => f.split === 'heldout').length} held out), ${frames.reduce((n, f) => n + f.boxes.length, 0)} faces; full wells ${o.fullWells.join(', ')}; detectors ${finders.map((f) => f.name).join(', ')}; ${en.describe()}`);
    const bar = new Progress('small faces', frames.length * (1 + o.fullWells.length), process.stderr, o.quiet);
    const t0 = performance.now();
    const collected = await collectSmallFaces({
      frames, fullWells: o.fullWells, seed: o.seed ?? 1, detectors: finders, smoothings: smooths,
      crossSmoothings: CROSS_SMOOTHINGS,
      enhancer: { name: 'enhanced', run: async (img) => (await en.enhance([img])).frames[0]! },
      onProgress: (d, t) => bar.update(d, t),
    });
    bar.done();
    log(`collected in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    // The detections themselves, so fusion rules and splits are re-scored without re-running.
    fs.mkdirSync(o.outDir, { recursive: true });
    fs.writeFileSync(path.join(o.outDir, 'small-faces.detections.json'), JSON.stringify(collected));
    writeReports(collected, o, log);
    const file = path.join(o.outDir, 'small-faces-grid.png');
    await writeFaceGrid(collected, {
      seed: o.seed ?? 1, file, smoothings: smooths, detector: finders[0]!.name, enhance: async (img) => (await en.enhance([img])).frames[0]!,
      columns: faceGridColumns(o.fullWells),
    });
    log(`face crops: ${file}`);
    return collected;
  } finally {
    await Promise.all(dets.map((d) => d.close()));
    await enhancer?.close();
    await guided?.close();
  }
}

/** A face crop for the grid: `k`× the face's size around its centre, scaled to `cell` pixels. */
export function crop(img: RgbImage, b: Box, cell: number, k = 3): RgbImage {
  const side = Math.max(4, Math.round(Math.max(b.width, b.height) * k));
  const x0 = Math.round(b.x + b.width / 2 - side / 2), y0 = Math.round(b.y + b.height / 2 - side / 2);
  const out = new Uint8Array(cell * cell * 3);
  for (let y = 0; y < cell; y++) {
    for (let x = 0; x < cell; x++) {
      // Nearest neighbour: the pixels as the detector got them, noise grain included.
      const sx = Math.min(img.width - 1, Math.max(0, x0 + Math.floor((x * side) / cell))), sy = Math.min(img.height - 1, Math.max(0, y0 + Math.floor((y * side) / cell)));
      out.set(img.data.subarray((sy * img.width + sx) * 3, (sy * img.width + sx) * 3 + 3), (y * cell + x) * 3);
    }
  }
  // Shown brightened to a mean of 110 (display only; the detector saw the dark pixels).
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += out[i]!;
  const gain = Math.min(16, 110 / Math.max(1, sum / out.length));
  if (gain > 1.05) for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.round(out[i]! * gain));
  return { width: cell, height: cell, data: out };
}

/** A column of the face-crop grid: a full well (0 = normal light), the frame looked at, the smoothing. */
export interface GridColumn { readonly fullWell: number; readonly kind: 'raw' | 'enhanced'; readonly smoothing: string }

/**
 * The grid's columns after normal light, for the full wells a run darkened at (ascending): at each
 * but 1000, unsmoothed raw, the box blur and the still default; the enhanced pass at 300; at 1000,
 * unsmoothed raw and the still default.
 */
export function faceGridColumns(fullWells: readonly number[]): GridColumn[] {
  const wells = [...new Set(fullWells)].sort((a, b) => a - b);
  return [
    ...wells.filter((w) => w !== 1000).flatMap((fullWell) => ['none', 'blur ≤1', STILL_DEFAULT].map((smoothing) => ({ fullWell, kind: 'raw' as const, smoothing }))),
    ...(wells.includes(300) ? [{ fullWell: 300, kind: 'enhanced' as const, smoothing: 'blur ≤1' }] : []),
    ...(wells.includes(1000) ? ['none', STILL_DEFAULT].map((smoothing) => ({ fullWell: 1000, kind: 'raw' as const, smoothing })) : []),
  ];
}

/**
 * The grid of face crops (held-out frames): a row per face, a few of each size bucket; columns
 * normal light, then each (full well, input, smoothing) in `columns`. A green frame: the
 * detector found that face there (score ≥ 0.5, IoU ≥ 0.5); red: missed. Dark crops are brightened
 * for display (a gain to mean 110, the same noise grain the detector saw, made visible).
 */
export async function writeFaceGrid(c: CollectedSmallFaces, o: { seed: number; file: string; smoothings: readonly SmoothingChoice[]; enhance: (img: RgbImage) => Promise<RgbImage>; detector: string; columns: readonly GridColumn[]; perBucket?: number }): Promise<void> {
  const cell = 64, pad = 4, perBucket = o.perBucket ?? 3;
  const faces: Array<{ frame: number; box: Box }> = [];
  for (const [lo, hi] of [[0, 16], [16, 32], [32, Infinity]] as const) {
    const pool = c.frames.flatMap((f, frame) => (f.split === 'heldout' ? f.boxes.map((box) => ({ frame, box })) : [])).filter(({ box }) => faceSize(box) >= lo && faceSize(box) < hi);
    // Spread over the bucket: evenly spaced picks, not the first few of one photo.
    for (let k = 0; k < perBucket && pool.length; k++) faces.push(pool[Math.floor(((k + 0.5) * pool.length) / perBucket)]!);
  }
  const cols = [{ fullWell: 0, kind: 'raw' as const, smoothing: 'none' }, ...o.columns];
  const W = cols.length * (cell + pad) + pad, H = faces.length * (cell + pad) + pad;
  const grid = new Uint8Array(W * H * 3).fill(255);
  const hit = (fullWell: number, name: string, frame: number, box: Box): boolean => {
    const v = c.levels.find((l) => l.fullWell === fullWell)?.variants.find((x) => x.name === name);
    return Boolean(v?.faces[frame]?.some((f) => f.score >= 0.5 && iou(f.box, box) >= 0.5));
  };
  const images = new Map<string, RgbImage>();
  for (const [ci, col] of cols.entries()) {
    for (const [ri, { frame, box }] of faces.entries()) {
      const key = `${col.fullWell}/${col.kind}/${col.smoothing}/${frame}`;
      let img = images.get(key);
      if (!img) {
        const base = c.frames[frame]!.image;
        const dark = col.fullWell ? darkFrame(base, o.seed, col.fullWell, frame) : base;
        const input = col.kind === 'enhanced' ? await o.enhance(dark) : dark;
        const sm = o.smoothings.find((s) => s.name === col.smoothing)!;
        img = (await sm.prep(input, estimateOwn(dark))).tiles;
        images.set(key, img);
      }
      const found = hit(col.fullWell, variantName(o.detector, col.kind, col.smoothing), frame, box);
      const x0 = pad + ci * (cell + pad), y0 = pad + ri * (cell + pad), colour = found ? [40, 200, 60] : [220, 40, 40];
      for (let y = -2; y < cell + 2; y++) for (let x = -2; x < cell + 2; x++) grid.set(colour, ((y0 + y) * W + x0 + x) * 3);
      const cr = crop(img, box, cell);
      for (let y = 0; y < cell; y++) grid.set(cr.data.subarray(y * cell * 3, (y + 1) * cell * 3), ((y0 + y) * W + x0) * 3);
    }
  }
  await writeImage({ width: W, height: H, data: grid }, o.file);
}

/** Scores per split (held out first), writes small-faces.{json,md}. */
export function writeReports(c: CollectedSmallFaces, o: Pick<SmallFaceEvalCommandOptions, 'outDir' | 'threshold' | 'fuse'>, log: (s: string) => void): void {
  const fuse = o.fuse ?? {};
  // Also scored: the smoothed raw pass with the unsmoothed one's own faces added (a second raw pass in place of the enhanced one).
  const rawPair = { first: 'blur ≤1', second: 'none', minScore: 0.5 };
  const reports = (['heldout', 'tune'] as const).map((split) => scoreSmallFaces(c, { split, scoreThreshold: o.threshold ?? 0.5, fuse, rawPair }));
  const sweeps = (['heldout', 'tune'] as const).map((split) => formatFuseSweep(c, { split, detector: c.levels[1]?.variants[0]?.detector ?? '', smoothing: 'blur ≤1', scoreThreshold: o.threshold ?? 0.5 }));
  const md = [`Fused: raw faces plus enhanced-only faces from score ${fuse.enhancedOnlyMinScore ?? FUSE_ENHANCED_ONLY_MIN_SCORE}.`, '', ...reports.map(formatSmallFaces), ...sweeps].join('\n\n');
  log(md);
  fs.mkdirSync(o.outDir, { recursive: true });
  fs.writeFileSync(path.join(o.outDir, 'small-faces.md'), `${md}\n`);
  fs.writeFileSync(path.join(o.outDir, 'small-faces.json'), `${JSON.stringify({ fuse, reports, sources: c.frames.map((f) => ({ split: f.split, sources: f.sources })) }, null, 1)}\n`);
}
