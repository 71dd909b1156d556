// `pie-stream eval --face-video`: face recall on dark video (issue 12). Reads labelled group photos
// (boxes from the labels JSON beside their folder), makes a slow pan or zoom clip of each
// (src/eval/face-video.ts), opens the detector, enhancer and temporal denoiser with the live
// pipeline's default settings (the embedded default config), runs every path frame by frame and
// writes face-video.md/.json and a grid of face crops.
import fs from 'node:fs';
import path from 'node:path';
import { loadDefaultConfig } from '../config/load.js';
import type { BlazeFaceModel as FaceModel } from '../detect/anchors.js';
import { Denoiser } from '../denoise/denoiser.js';
import type { GlobalMotionMode } from '../denoise/global-motion.js';
import { FaceDetector } from '../detect/detector.js';
import { iou } from '../detect/nms.js';
import type { Box, Face } from '../detect/types.js';
import { Enhancer } from '../enhance/enhancer.js';
import { denoiserOptions, enhancerOptions, LiveEnhancers, modelKeyOf } from '../enhance/live-enhancers.js';
import { PieError } from '../errors.js';
import { buildFaceClip, collectFaceVideo, formatFaceVideo, formatPerClip, panMotion, scoreFaceVideo, stillMotion, zoomMotion, type CollectedFaceVideo, type FaceClip, type FaceVideoPath, type KeptFrame } from '../eval/face-video.js';
import type { LabelledPhoto } from '../eval/small-faces.js';
import { readImage, writeImage } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { crop, findLabels, type LabelFile } from './eval-small-faces.js';
import type { FacePose } from '../detect/pose.js';
import { Progress } from './progress.js';

type Motion = 'pan' | 'zoom' | 'still';

/**
 * The clips made by default: two pans and a zoom over the labelled group photos (the headline
 * table), and the first pan's opening window held still, a fixed camera's view (a control).
 */
export const DEFAULT_FACE_CLIPS: ReadonlyArray<{ readonly file: string; readonly motion: Motion }> = [
  { file: 'bbt1.jpg', motion: 'pan' },
  { file: 'faces.jpg', motion: 'zoom' },
  { file: 'bbt5.jpg', motion: 'pan' },
  { file: 'bbt1.jpg', motion: 'still' },
];

export interface FaceVideoCommandOptions {
  /** The folder of the photos (the labels JSON is looked for beside it). */
  readonly images: string;
  readonly clips?: ReadonlyArray<{ readonly file: string; readonly motion: Motion }>;
  readonly fullWells: readonly number[];
  readonly frames?: number;
  readonly width?: number;
  readonly height?: number;
  readonly seed?: number;
  /** Default: the live default (detect.model). */
  readonly detector?: FaceModel;
  /** Default: the live default (detect.pose). */
  readonly pose?: FacePose;
  readonly threads?: number;
  readonly outDir: string;
  readonly quiet?: boolean;
  /** The denoiser's handling of view motion; default the live config's (enhance.denoiseGlobalMotion). */
  readonly globalMotion?: GlobalMotionMode;
}

async function loadPhoto(dir: string, file: string, labels: LabelFile): Promise<LabelledPhoto> {
  const lab = labels[file];
  if (!lab) throw new PieError('input', `${file} has no boxes in the labels beside ${dir}`, 'use photos listed in pseudo_labels*.json (e.g. bbt1.jpg, faces.jpg, bbt5.jpg)');
  return { name: file, image: await readImage(path.join(dir, file)), boxes: lab.faces.map((b) => ({ x: b.x, y: b.y, width: b.w, height: b.h })) };
}

export async function runFaceVideoEval(o: FaceVideoCommandOptions, log: (s: string) => void): Promise<CollectedFaceVideo> {
  const labelsPath = findLabels([o.images]);
  if (!labelsPath) throw new PieError('input', `no pseudo_labels*.json beside ${o.images}`, 'pass the images folder of ../shared/data/faces/face-api-js (its labels sit beside it)');
  const labels = JSON.parse(fs.readFileSync(labelsPath, 'utf8')) as LabelFile;
  const W = o.width ?? 640, H = o.height ?? 360, n = o.frames ?? 40;
  const clips: FaceClip[] = [];
  for (const c of o.clips ?? DEFAULT_FACE_CLIPS) {
    const photo = await loadPhoto(o.images, c.file, labels);
    const pan = panMotion(photo, { width: W, height: H, frames: n });
    const motion = c.motion === 'pan' ? pan : c.motion === 'still' ? stillMotion(pan) : zoomMotion(photo, { width: W, height: H });
    clips.push(buildFaceClip(photo, motion, { width: W, height: H, frames: n }));
  }
  // The live pipeline's settings, as `pie-stream run` with detection on would use them.
  const config = loadDefaultConfig();
  const threads = o.threads ? { threads: o.threads } : {};
  const d = config.detect;
  const detector = await FaceDetector.open({ model: o.detector ?? d.model, scoreThreshold: d.threshold, pose: o.pose ?? d.pose, minFace: d.minFace, ...(d.tiling ? (d.upscale > 1 ? { tiling: { upscale: d.upscale } } : {}) : { tiling: false }), ...threads });
  let enhancer: Enhancer | undefined, denoiser: Denoiser | undefined;
  try {
    const modelKey = modelKeyOf(LiveEnhancers.modelOf(config, config.cameras[0]!));
    enhancer = await Enhancer.open({ ...enhancerOptions(config, modelKey), ...threads });
    const dn = denoiserOptions(config);
    if (!dn || dn.mode !== 'temporal') throw new PieError('config', 'the default config does not denoise temporally', 'issue 12 measures the temporal denoiser; set enhance.denoise: temporal in config/default.yaml');
    denoiser = await Denoiser.open({ ...dn, ...threads, ...(o.globalMotion ? { globalMotion: o.globalMotion } : {}) });
    const en = enhancer, dn2 = denoiser;
    log(`${clips.map((c) => `${c.name}: ${c.frames.length} frames ${W}×${H}, ${c.frames.reduce((k, f) => k + f.boxes.length, 0)} faces`).join('; ')}; full wells ${o.fullWells.join(', ')}; detector ${o.detector ?? d.model}${d.tiling ? ' tiled' : ''} (score ≥ ${d.threshold}); ${en.describe()}; ${dn2.describe()} (strength ${config.enhance.denoiseStrength}, global motion ${o.globalMotion ?? config.enhance.denoiseGlobalMotion})`);
    const bar = new Progress('face video', 1, process.stderr, o.quiet);
    const t0 = performance.now();
    const keepFrame = Math.floor(n / 2);
    const collected = await collectFaceVideo(clips, {
      fullWells: o.fullWells, seed: o.seed ?? 1, keepFrame, detector,
      enhance: async (img) => (await en.enhance([img])).frames[0]!,
      denoise: async (camera, img) => (await dn2.denoise([{ camera, image: img }]))[0]!,
      onProgress: (k, t) => bar.update(k, t),
    });
    bar.done();
    const seconds = (performance.now() - t0) / 1000;
    // The headline: the moving clips (issue 12 asks for a pan or zoom); the still control apart.
    const report = scoreFaceVideo(clips, collected, d.threshold, (c) => c.motion.kind !== 'still');
    const still = clips.some((c) => c.motion.kind === 'still') ? scoreFaceVideo(clips, collected, d.threshold, (c) => c.motion.kind === 'still') : undefined;
    const md = [`Moving clips (pan, zoom):`, '', formatFaceVideo(report), ...(still ? ['', 'Still control (a fixed camera):', '', formatFaceVideo(still)] : []), '', formatPerClip(clips, collected, d.threshold)].join('\n');
    log(md);
    log(`collected in ${seconds.toFixed(0)} s`);
    fs.mkdirSync(o.outDir, { recursive: true });
    fs.writeFileSync(path.join(o.outDir, 'face-video.md'), `${md}\n`);
    fs.writeFileSync(path.join(o.outDir, 'face-video.json'), `${JSON.stringify({ date: new Date().toISOString(), seconds, detector: o.detector ?? d.model, moving: report, still }, null, 1)}\n`);
    const file = path.join(o.outDir, 'face-video-grid.png');
    await writeGrid(clips, collected, file, Math.min(...o.fullWells));
    log(`face crops: ${file}`);
    return collected;
  } finally {
    await detector.close();
    await enhancer?.close();
    await denoiser?.close();
  }
}

const GRID_COLUMNS: ReadonlyArray<{ readonly image: keyof KeptFrame['images'] | 'clean'; readonly path: FaceVideoPath }> = [
  { image: 'clean', path: 'raw' }, { image: 'dark', path: 'raw' }, { image: 'smoothed raw', path: 'smoothed raw' },
  { image: 'denoised', path: 'denoised' }, { image: 'denoised+enhanced', path: 'denoised+enhanced' },
];

/**
 * Face crops of the middle frame of each clip at `fullWell`, as the detector saw them: columns
 * clean, raw, smoothed raw, denoised, denoised + enhanced; a green frame where that path found
 * the face (score ≥ 0.5, IoU ≥ 0.5), red where it missed. Dark crops are brightened for display.
 */
async function writeGrid(clips: readonly FaceClip[], c: CollectedFaceVideo, file: string, fullWell: number): Promise<void> {
  const cell = 72, pad = 4;
  const rows: Array<{ k: KeptFrame; box: Box }> = [];
  for (const k of c.kept.filter((x) => x.fullWell === fullWell)) for (const box of clips[k.clip]!.frames[k.frame]!.boxes.slice(0, 3)) rows.push({ k, box });
  const W = GRID_COLUMNS.length * (cell + pad) + pad, H = rows.length * (cell + pad) + pad;
  const grid = new Uint8Array(W * H * 3).fill(255);
  const found = (level: number, p: FaceVideoPath, clip: number, frame: number, box: Box): boolean =>
    Boolean(c.levels.find((l) => l.fullWell === level)?.paths[p]?.[clip]?.[frame]?.some((f: Face) => f.score >= 0.5 && iou(f.box, box) >= 0.5));
  for (const [ri, { k, box }] of rows.entries()) {
    for (const [ci, col] of GRID_COLUMNS.entries()) {
      const img: RgbImage = col.image === 'clean' ? clips[k.clip]!.frames[k.frame]!.image : k.images[col.image];
      const hit = found(col.image === 'clean' ? 0 : fullWell, col.path, k.clip, k.frame, box);
      const x0 = pad + ci * (cell + pad), y0 = pad + ri * (cell + pad), colour = hit ? [40, 200, 60] : [220, 40, 40];
      for (let y = -2; y < cell + 2; y++) for (let x = -2; x < cell + 2; x++) grid.set(colour, ((y0 + y) * W + x0 + x) * 3);
      const cr = crop(img, box, cell, 1.6);
      for (let y = 0; y < cell; y++) grid.set(cr.data.subarray(y * cell * 3, (y + 1) * cell * 3), ((y0 + y) * W + x0) * 3);
    }
  }
  await writeImage({ width: W, height: H, data: grid }, file);
}
