// `pie-stream eval --faces`: the face-detection gain of enhancement on synthetic night (issue 6).
// Reads the photos (a folder, recursively), opens the detector, the enhancers (DCE-Net models and
// the gamma baseline) and the denoiser, runs src/eval/faces.ts, prints the table and writes JSON.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { denoiseImage, denoiseStill, parseStillDenoise } from '../detect/denoise.js';
import { FaceDetector } from '../detect/detector.js';
import { adaptiveSmooth } from '../detect/smooth.js';
import { FACE_MODELS, isFaceModel, type FaceModel } from '../detect/anchors.js';
import { FUSE_ENHANCED_ONLY_MIN_SCORE, type FuseOptions } from '../detect/fuse.js';
import { Enhancer } from '../enhance/enhancer.js';
import { PieError } from '../errors.js';
import { gammaToMean } from '../eval/baselines.js';
import { collectFaceDetections, formatFaceEval, scoreFaceEval, type DenoiseStage, type FaceEvalReport, type ImageStage } from '../eval/faces.js';
import { FULL_WELLS } from '../eval/synthetic-night.js';
import { isImagePath, readImage } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { parsePose } from './detect.js';
import type { FacePose } from '../detect/pose.js';
import { Progress } from './progress.js';

export interface FaceEvalCommandOptions {
  /** Folders (searched recursively) or image files of normal-light photos with faces. */
  readonly images: readonly string[];
  /** DCE-Net models to compare: `path.onnx` (named by its file name) or `name=path.onnx`. */
  readonly models: readonly string[];
  /** Add the gamma baseline (mean lifted to 0.45). Default true. */
  readonly gamma?: boolean;
  /** Curve scale k (1/k) for the models. Default 4. */
  readonly downscale?: number;
  readonly fullWells?: readonly number[];
  readonly seed?: number;
  /** 'smooth' (default: the box blur, as video frames get it), 'still' (the still path's BM3D rule, as photos get it), 'hqdn3d', 'nlmeans' (ffmpeg) or 'none'. */
  readonly denoise?: string;
  readonly denoiseStage?: 'before' | 'after';
  readonly detectorModel?: FaceModel;
  readonly tiling?: boolean;
  /** 2: tiles scaled up 2× before the detector. Default 1. */
  readonly upscale?: number;
  /** Operating score; the detector runs lower so AP50 sees the whole ranking. Default 0.5. */
  readonly threshold?: number;
  /** Default 'frontal', the product's default (detect.pose). */
  readonly pose?: FacePose;
  readonly fuse?: FuseOptions;
  readonly threads?: number;
  /** Where the JSON goes (the table is logged). */
  readonly out?: string;
  readonly quiet?: boolean;
}

/** Image files under the inputs, sorted, hidden ones skipped. */
export function listImages(inputs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new PieError('input', `${p}: no such file or folder`, 'pass folders or image files of normal-light photos with faces');
    }
    if (st.isDirectory()) {
      for (const f of fs.readdirSync(p).sort()) if (!f.startsWith('.')) walk(path.join(p, f));
    } else if (isImagePath(p)) out.push(p);
  };
  inputs.forEach(walk);
  return out;
}

function denoiseStage(name: string, stage: 'before' | 'after'): DenoiseStage | undefined {
  if (name === 'smooth') return { name, stage, run: async (img) => adaptiveSmooth(img) };
  if (name === 'still') {
    // The still path's rule on the frame it is given (raw+still is what `pie-stream detect` does to a photo).
    return { name, stage, run: (img) => denoiseStill(img) };
  }
  const dn = parseStillDenoise(name);
  return dn ? { name: dn.filter, stage, run: (img) => denoiseImage(img, dn) } : undefined;
}

/** The detector's floor under the operating score, so AP50 ranks detections below it too. */
const AP_FLOOR = 0.25;

export async function runFaceEval(o: FaceEvalCommandOptions, log: (s: string) => void): Promise<FaceEvalReport> {
  const files = listImages(o.images);
  if (files.length === 0) throw new PieError('input', `no images under ${o.images.join(', ')}`, 'pass folders of jpg/png photos with faces');
  const images: RgbImage[] = [];
  for (const f of files) images.push(await readImage(f));
  const threshold = o.threshold ?? 0.5;
  const detector = await FaceDetector.open({
    model: o.detectorModel ?? 'back', scoreThreshold: Math.min(AP_FLOOR, threshold), ...(o.tiling === false ? { tiling: false } : o.upscale && o.upscale > 1 ? { tiling: { upscale: o.upscale } } : {}),
    pose: o.pose ?? 'frontal', ...(o.threads ? { threads: o.threads } : {}),
  });
  log(detector.describe());
  const enhancers: Enhancer[] = [];
  try {
    const stages: ImageStage[] = [];
    for (const spec of o.models) {
      const eq = spec.indexOf('=');
      const file = eq >= 0 ? spec.slice(eq + 1) : spec, name = eq >= 0 ? spec.slice(0, eq) : path.basename(spec, '.onnx');
      const e = await Enhancer.open({ modelPath: file, downscale: o.downscale ?? 4, ...(o.threads ? { threads: o.threads } : {}) });
      enhancers.push(e);
      stages.push({ name, run: async (img) => (await e.enhance([img])).frames[0]! });
    }
    if (o.gamma ?? true) stages.push({ name: 'gamma', run: async (img) => gammaToMean(img).image });
    const denoise = denoiseStage(o.denoise ?? 'smooth', o.denoiseStage ?? 'after');
    const fullWells = o.fullWells ?? FULL_WELLS;
    log(`${images.length} images; full wells ${fullWells.join(', ')} e⁻; enhancers ${stages.map((s) => s.name).join(', ')}; denoise ${denoise ? `${denoise.name} (${denoise.stage} enhancing)` : 'none'}; fused: raw faces plus enhanced-only faces from score ${o.fuse?.enhancedOnlyMinScore ?? FUSE_ENHANCED_ONLY_MIN_SCORE}`);
    const bar = new Progress('faces', images.length * (1 + fullWells.length), process.stderr, o.quiet);
    const collected = await collectFaceDetections({
      images, fullWells, seed: o.seed ?? 1, enhancers: stages, detector, scoreThreshold: threshold,
      ...(denoise ? { denoise } : {}), onProgress: (d, t) => bar.update(d, t),
    });
    bar.done();
    const report = scoreFaceEval(collected, o.fuse);
    log(formatFaceEval(report));
    if (o.out) {
      // The JSON, and the table beside it as Markdown (faces.json → faces.md).
      fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
      const md = o.out.replace(/\.json$/i, '') + '.md';
      for (const [file, text] of [[o.out, `${JSON.stringify({ files: files.map((f) => path.relative(process.cwd(), f)), ...report }, null, 1)}\n`], [md, `${formatFaceEval(report)}\n`]] as const) {
        const tmp = `${file}.partial-${process.pid}`;
        fs.writeFileSync(tmp, text);
        fs.renameSync(tmp, file);
      }
    }
    return report;
  } finally {
    await detector.close();
    await Promise.all(enhancers.map((e) => e.close()));
  }
}

/**
 * `eval --faces` flags as the eval command hands them over: its enhancer list (plain .onnx paths
 * and 'gamma' count here; CLAHE and commands are not compared for faces), its out folder, full
 * wells, scale, seed and threads, plus --faces, --denoise and --detector.
 */
export interface FaceEvalFlags {
  readonly faces: readonly string[] | true;
  readonly enhancer: readonly string[];
  readonly out: string;
  readonly fullWells: string;
  readonly scale: string;
  readonly seed: string;
  readonly denoise?: string;
  readonly detector?: string;
  readonly upscale?: string;
  readonly pose?: string;
  readonly threads?: string;
  readonly quiet?: boolean;
}

/** The default photos: ../shared's face-api.js set, beside the repository. */
export const DEFAULT_FACE_IMAGES = 'data/faces/face-api-js/images';

/** ../shared beside the repository ($PIE_SHARED if set); resolves from src/ and from dist/ alike. */
export const defaultSharedDir = (): string => process.env.PIE_SHARED ?? fileURLToPath(new URL('../../../shared', import.meta.url));

export function faceEvalOptionsFromFlags(f: FaceEvalFlags, o: { shared?: string; scale: (s: string) => number; positiveInt: (flag: string, s: string, max?: number) => number }): FaceEvalCommandOptions {
  const wells = f.fullWells.split(',').map((s) => Number(s.trim()));
  if (wells.some((w) => !(w > 0 && Number.isFinite(w)))) throw new PieError('usage', `--full-wells ${f.fullWells} must be positive numbers separated by commas`, 'e.g. --full-wells 100,300,1000');
  const detector = f.detector ?? 'back';
  if (!isFaceModel(detector)) throw new PieError('usage', `--detector ${detector} is not one of ${FACE_MODELS.join(', ')}`, 'use back, front or full-range');
  const upscale = f.upscale === undefined ? 1 : Number(f.upscale);
  if (upscale !== 1 && upscale !== 2) throw new PieError('usage', `--upscale ${f.upscale} is not 1 or 2`, 'e.g. --upscale 2');
  const denoise = f.denoise ?? 'smooth';
  if (!['smooth', 'still', 'hqdn3d', 'nlmeans', 'none'].includes(denoise)) throw new PieError('usage', `--denoise ${denoise} is not smooth, still, hqdn3d, nlmeans or none`, 'e.g. --denoise still (what pie-stream detect does to a photo)');
  const models = f.enhancer.filter((e) => /^(?:[^=,]+=)?[^=,]+\.onnx$/i.test(e));
  return {
    images: f.faces === true ? [path.join(o.shared ?? defaultSharedDir(), DEFAULT_FACE_IMAGES)] : f.faces,
    models, gamma: f.enhancer.includes('gamma'), downscale: o.scale(f.scale),
    fullWells: wells, seed: o.positiveInt('--seed', f.seed, 2 ** 31), denoise, detectorModel: detector, ...(upscale > 1 ? { upscale } : {}), pose: parsePose(f.pose ?? 'frontal'),
    quiet: Boolean(f.quiet), out: path.join(f.out, 'faces.json'),
    ...(f.threads ? { threads: o.positiveInt('--threads', f.threads, 256) } : {}),
  };
}
