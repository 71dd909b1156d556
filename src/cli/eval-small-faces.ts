// `pie-stream eval --faces --small`: the small-face set (issue 16). Reads the labelled photos (boxes
// from a labels JSON beside the images where it has them, else the main detector's faces on the
// full-size original), drops exact duplicates, splits them by name into tune and held-out photos,
// builds the set, opens the detectors (each model tiled, plus back untiled and on 2× frames), the
// enhancer and the guided-filter denoiser, runs src/eval/small-face-eval.ts and writes
// small-faces.json, small-faces.md and a grid of face crops.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FACE_MODELS } from '../config/schema.js';
import { Denoiser } from '../denoise/denoiser.js';
import { FaceDetector } from '../detect/detector.js';
import type { BlazeFaceModel } from '../detect/anchors.js';
import { FUSE_ENHANCED_ONLY_MIN_SCORE, type FaceFinder, type FuseOptions } from '../detect/fuse.js';
import { boxBlur, estimateNoise as estimateOwn, radiusForNoise } from '../detect/smooth.js';
import type { Box, Face } from '../detect/types.js';
import { Enhancer } from '../enhance/enhancer.js';
import { PieError } from '../errors.js';
import { collectSmallFaces, formatSmallFaces, scoreSmallFaces, type CollectedSmallFaces, type NamedFinder, type SmoothingChoice } from '../eval/small-face-eval.js';
import { buildSmallFaceSet, splitOf, type LabelledPhoto, type Split } from '../eval/small-faces.js';
import { readImage } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { listImages } from './eval-faces.js';
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

interface LabelFile { readonly [file: string]: { readonly faces: ReadonlyArray<{ x: number; y: number; w: number; h: number }> } }

function findLabels(images: readonly string[]): string | undefined {
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

/** The smoothings compared, by name. `guided` runs the project's spatial denoiser (noise-guided filter). */
function smoothings(guided: Denoiser): SmoothingChoice[] {
  let n = 0;
  const blur = (img: RgbImage, r: number): RgbImage => boxBlur(img, r);
  return [
    { name: 'none', prep: (img) => ({ tiles: img }) },
    // The old default: the radius from the input's own noise (on an enhanced frame, the amplified one).
    { name: 'blur-self', prep: (img) => { const r = radiusForNoise(estimateOwn(img)); return { tiles: blur(img, r) }; } },
    // The same rule with the raw frame's noise carried over.
    { name: 'blur', prep: (img, s) => ({ tiles: blur(img, radiusForNoise(s)) }) },
    { name: 'blur-r1', prep: (img, s) => ({ tiles: blur(img, Math.min(1, radiusForNoise(s))) }) },
    { name: 'blur-whole', prep: (img, s) => ({ tiles: img, whole: blur(img, radiusForNoise(s)) }) },
    { name: 'blur-r1-tiles', prep: (img, s) => ({ tiles: blur(img, Math.min(1, radiusForNoise(s))), whole: blur(img, radiusForNoise(s)) }) },
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

async function loadPhotos(o: SmallFaceEvalCommandOptions, main: FaceDetector, log: (s: string) => void): Promise<Array<LabelledPhoto & { split: Split; labelled: boolean }>> {
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
  const open = (model: BlazeFaceModel, tiling: boolean): Promise<FaceDetector> => FaceDetector.open({ model, scoreThreshold: Math.min(0.25, thr), ...(tiling ? {} : { tiling: false }), ...threads });
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

    const photos = await loadPhotos(o, main, log);
    const frames = (['tune', 'heldout'] as const).flatMap((split) => {
      // Labelled photos first: a limit keeps the group photos, whose boxes are independent of the detector.
      const mine = photos.filter((p) => p.split === split).sort((a, b) => Number(b.labelled) - Number(a.labelled)).slice(0, o.limit ?? Infinity);
      return buildSmallFaceSet(mine).map((f) => ({ ...f, split }));
    });
    enhancer = await Enhancer.open({ ...(o.model ? { modelPath: o.model } : {}), downscale: o.downscale ?? 4, ...threads });
    guided = await Denoiser.open({ mode: 'spatial', ...threads });
    const en = enhancer;
    log(`${frames.length} frames of 640×480 (${frames.filter((f) => f.split === 'tune').length} tune, ${frames.filter((f) => f.split === 'heldout').length} held out), ${frames.reduce((n, f) => n + f.boxes.length, 0)} faces; full wells ${o.fullWells.join(', ')}; detectors ${finders.map((f) => f.name).join(', ')}; ${en.describe()}`);
    const bar = new Progress('small faces', frames.length * (1 + o.fullWells.length), process.stderr, o.quiet);
    const t0 = performance.now();
    const collected = await collectSmallFaces({
      frames, fullWells: o.fullWells, seed: o.seed ?? 1, detectors: finders, smoothings: smoothings(guided),
      crossSmoothings: ['none', 'blur', 'blur-self', 'blur-r1-tiles'],
      enhancer: { name: 'enhanced', run: async (img) => (await en.enhance([img])).frames[0]! },
      onProgress: (d, t) => bar.update(d, t),
    });
    bar.done();
    log(`collected in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    // The detections themselves, so fusion rules and splits are re-scored without re-running.
    fs.mkdirSync(o.outDir, { recursive: true });
    fs.writeFileSync(path.join(o.outDir, 'small-faces.detections.json'), JSON.stringify(collected));
    writeReports(collected, o, log);
    return collected;
  } finally {
    await Promise.all(dets.map((d) => d.close()));
    await enhancer?.close();
    await guided?.close();
  }
}

/** Scores per split (held out first), writes small-faces.{json,md}. */
export function writeReports(c: CollectedSmallFaces, o: Pick<SmallFaceEvalCommandOptions, 'outDir' | 'threshold' | 'fuse'>, log: (s: string) => void): void {
  const fuse = o.fuse ?? {};
  const reports = (['heldout', 'tune'] as const).map((split) => scoreSmallFaces(c, { split, scoreThreshold: o.threshold ?? 0.5, fuse }));
  const md = [`Fused: raw faces plus enhanced-only faces from score ${fuse.enhancedOnlyMinScore ?? FUSE_ENHANCED_ONLY_MIN_SCORE}.`, '', ...reports.map(formatSmallFaces)].join('\n\n');
  log(md);
  fs.mkdirSync(o.outDir, { recursive: true });
  fs.writeFileSync(path.join(o.outDir, 'small-faces.md'), `${md}\n`);
  fs.writeFileSync(path.join(o.outDir, 'small-faces.json'), `${JSON.stringify({ fuse, reports, sources: c.frames.map((f) => ({ split: f.split, sources: f.sources })) }, null, 1)}\n`);
}
