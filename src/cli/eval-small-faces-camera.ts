// `pie-stream eval --faces --small --camera`: the small-face set held as fixed night cameras (issue
// 16; src/eval/small-face-camera.ts). Opens the detector(s), enhancer and temporal denoiser with the
// live pipeline's defaults (the embedded default config), runs every canvas as a camera of its own at
// each full well, and writes small-faces-camera.md/.json and a grid of face crops.
import fs from 'node:fs';
import path from 'node:path';
import { loadDefaultConfig } from '../config/load.js';
import type { BlazeFaceModel } from '../detect/anchors.js';
import { Denoiser } from '../denoise/denoiser.js';
import { FaceDetector } from '../detect/detector.js';
import { iou } from '../detect/nms.js';
import type { Box } from '../detect/types.js';
import { Enhancer } from '../enhance/enhancer.js';
import { denoiserOptions, enhancerOptions, LiveEnhancers, modelKeyOf } from '../enhance/live-enhancers.js';
import { PieError } from '../errors.js';
import { collectSmallFaceCamera, formatSmallFaceCamera, recallOverTime, scoreSmallFaceCamera, type CameraPath, type CollectedSmallFaceCamera } from '../eval/small-face-camera.js';
import { buildSmallFaceSet, faceSize } from '../eval/small-faces.js';
import { writeImage } from '../image/io.js';
import { crop, loadPhotos } from './eval-small-faces.js';
import type { FacePose } from '../detect/pose.js';
import { Progress } from './progress.js';

export interface SmallFaceCameraCommandOptions {
  readonly images: readonly string[];
  readonly detectors?: readonly BlazeFaceModel[];
  readonly fullWells: readonly number[];
  readonly seed?: number;
  readonly limit?: number;
  /** Frames in each camera's clip (default 40: 4 s at the default camera's 10 fps). */
  readonly clipFrames?: number;
  /** Scored from this frame on (default 10: the first second is the denoiser's warm-up, shown apart). */
  readonly fromFrame?: number;
  /** Default: the live default (detect.pose). */
  readonly pose?: FacePose;
  readonly threads?: number;
  readonly outDir: string;
  readonly quiet?: boolean;
}

export async function runSmallFaceCameraEval(o: SmallFaceCameraCommandOptions, log: (s: string) => void): Promise<void> {
  const config = loadDefaultConfig();
  const d = config.detect, cam = config.cameras[0]!;
  // The detector samples the camera at detect.fps: every (camera fps / detect fps)-th frame.
  const every = Math.max(1, Math.round(cam.fps / d.fps));
  const clipFrames = o.clipFrames ?? 40, fromFrame = o.fromFrame ?? 10;
  if (fromFrame >= clipFrames) throw new PieError('usage', `--from-frame ${fromFrame} leaves nothing of a ${clipFrames}-frame clip to score`, `use a --from-frame below --camera ${clipFrames}`);
  const threads = o.threads ? { threads: o.threads } : {};
  const models = o.detectors ?? [d.model];
  const detectors: FaceDetector[] = [];
  let enhancer: Enhancer | undefined, denoiser: Denoiser | undefined;
  try {
    // Detections kept from score 0.25 so AP50 has a curve; the tables count from d.threshold.
    for (const model of models) detectors.push(await FaceDetector.open({ model, scoreThreshold: Math.min(0.25, d.threshold), pose: o.pose ?? d.pose, minFace: d.minFace, ...(d.tiling ? (d.upscale > 1 ? { tiling: { upscale: d.upscale } } : {}) : { tiling: false }), ...threads }));
    const photos = await loadPhotos({ images: o.images }, detectors[0]!, log);
    const frames = (['tune', 'heldout'] as const).flatMap((split) => {
      const mine = photos.filter((p) => p.split === split).sort((a, b) => Number(b.labelled) - Number(a.labelled)).slice(0, o.limit ?? Infinity);
      return buildSmallFaceSet(mine).map((f) => ({ ...f, split }));
    });
    enhancer = await Enhancer.open({ ...enhancerOptions(config, modelKeyOf(LiveEnhancers.modelOf(config, cam))), ...threads });
    const dn = denoiserOptions(config);
    if (!dn || dn.mode !== 'temporal') throw new PieError('config', 'the default config does not denoise temporally', 'this eval measures the live path; set enhance.denoise: temporal in config/default.yaml');
    denoiser = await Denoiser.open({ ...dn, ...threads });
    const en = enhancer, dz = denoiser;
    log(`${frames.length} canvases of 640×480 (${frames.filter((f) => f.split === 'tune').length} tune, ${frames.filter((f) => f.split === 'heldout').length} held out), ${frames.reduce((n, f) => n + f.boxes.length, 0)} faces, each a fixed camera for ${clipFrames} frames (detection every ${every}: camera ${cam.fps} fps, detect.fps ${d.fps}); full wells ${o.fullWells.join(', ')}; ${en.describe()}; ${dz.describe()}`);
    const md: string[] = [];
    const json: Record<string, unknown> = { date: new Date().toISOString(), clipFrames, every, fromFrame, fullWells: o.fullWells, detectors: models, pose: o.pose ?? d.pose };
    for (const [di, det] of detectors.entries()) {
      const bar = new Progress(`cameras (${models[di]})`, 1, process.stderr, o.quiet);
      const t0 = performance.now();
      const c = await collectSmallFaceCamera({
        frames, fullWells: o.fullWells, seed: o.seed ?? 1, clipFrames, every, detector: det,
        enhance: async (img) => (await en.enhance([img])).frames[0]!,
        denoise: async (camera, img) => (await dz.denoise([{ camera, image: img }]))[0]!,
        forget: (camera) => dz.reset(camera),
        ...(di === 0 ? { keepLast: { fullWell: Math.min(...o.fullWells), split: 'heldout' as const } } : {}),
        onProgress: (k, t) => bar.update(k, t),
      });
      bar.done();
      const seconds = (performance.now() - t0) / 1000;
      const reports = (['heldout', 'tune'] as const).map((split) => scoreSmallFaceCamera(c, { split, fromFrame, scoreThreshold: d.threshold }));
      const warm = (['heldout', 'tune'] as const).map((split) => scoreSmallFaceCamera(c, { split, fromFrame: 0, scoreThreshold: d.threshold }));
      const curves = (['heldout', 'tune'] as const).map((split) => ({ split, path: 'fused (denoised)' as CameraPath, levels: recallOverTime(c, { split, path: 'fused (denoised)', scoreThreshold: d.threshold }) }));
      md.push(`## Detector ${models[di]} (collected in ${seconds.toFixed(0)} s)`, '', ...reports.flatMap((r) => [formatSmallFaceCamera(r, c), '']),
        `Recall of faces ≥ 16 px along fused (denoised), at each detected frame (${c.detected.join(', ')}):`, '',
        ...curves.flatMap((cv) => cv.levels.map((l) => `- ${cv.split}, full well ${l.fullWell}: ${l.recall.map((x) => x.toFixed(2)).join(' ')}`)), '',
        'All frames from 0 (warm-up included):', '', ...warm.flatMap((r) => [formatSmallFaceCamera(r, c), '']));
      json[models[di]!] = { seconds, reports, warm, curves };
      // The detections themselves, so rules over them (fusion, agreement of detectors) are scored without re-running.
      fs.mkdirSync(o.outDir, { recursive: true });
      fs.writeFileSync(path.join(o.outDir, `small-faces-camera.${models[di]}.detections.json`), JSON.stringify({ canvases: c.frames.map((f) => ({ split: f.split, boxes: f.boxes, sources: f.sources })), detected: c.detected, clipFrames: c.clipFrames, normal: c.normal, levels: c.levels }));
      if (di === 0) {
        const file = path.join(o.outDir, 'small-faces-camera-grid.png');
        await writeCameraGrid(c, { file, fullWell: Math.min(...o.fullWells) });
        md.push(`Face crops: ${path.basename(file)}`, '');
      }
    }
    log(md.join('\n'));
    fs.mkdirSync(o.outDir, { recursive: true });
    fs.writeFileSync(path.join(o.outDir, 'small-faces-camera.md'), `${md.join('\n')}\n`);
    fs.writeFileSync(path.join(o.outDir, 'small-faces-camera.json'), `${JSON.stringify(json, null, 1)}\n`);
  } finally {
    await Promise.all(detectors.map((x) => x.close()));
    await enhancer?.close();
    await denoiser?.close();
  }
}

/**
 * Face crops of the held-out canvases at the collect's keepLast full well, on the clip's last detected
 * frame: a row per face (three of each size bucket), columns clean, raw, smoothed raw, denoised,
 * denoised + enhanced as the detector got them (smoothing included); green where that path found the
 * face, red where it missed.
 */
async function writeCameraGrid(c: CollectedSmallFaceCamera, o: { file: string; fullWell: number }): Promise<void> {
  const cell = 64, pad = 4, level = c.levels.find((l) => l.fullWell === o.fullWell)!;
  const k = c.detected.length - 1;
  const images = new Map(c.kept.map((x) => [x.canvas, { clean: c.frames[x.canvas]!.image, ...x.images }]));
  const rows: Array<{ ci: number; box: Box }> = [];
  for (const [lo, hi] of [[0, 16], [16, 32], [32, Infinity]] as const) {
    const pool = c.frames.flatMap((f, ci) => (images.has(ci) ? f.boxes.map((box) => ({ ci, box })) : [])).filter(({ box }) => faceSize(box) >= lo && faceSize(box) < hi);
    for (let j = 0; j < 3 && pool.length; j++) rows.push(pool[Math.floor(((j + 0.5) * pool.length) / 3)]!);
  }
  const columns = ['clean', 'raw', 'smoothed raw', 'denoised', 'denoised+enhanced'] as const;
  const W = columns.length * (cell + pad) + pad, H = rows.length * (cell + pad) + pad;
  const grid = new Uint8Array(W * H * 3).fill(255);
  for (const [ri, { ci, box }] of rows.entries()) {
    for (const [col, p] of columns.entries()) {
      const faces = p === 'clean' ? c.normal[ci]! : level.paths[p][ci]![k]!;
      const hit = faces.some((f) => f.score >= 0.5 && iou(f.box, box) >= 0.5);
      const x0 = pad + col * (cell + pad), y0 = pad + ri * (cell + pad), colour = hit ? [40, 200, 60] : [220, 40, 40];
      for (let y = -2; y < cell + 2; y++) for (let x = -2; x < cell + 2; x++) grid.set(colour, ((y0 + y) * W + x0 + x) * 3);
      const cr = crop(images.get(ci)![p], box, cell);
      for (let y = 0; y < cell; y++) grid.set(cr.data.subarray(y * cell * 3, (y + 1) * cell * 3), ((y0 + y) * W + x0) * 3);
    }
  }
  fs.mkdirSync(path.dirname(o.file), { recursive: true });
  await writeImage({ width: W, height: H, data: grid }, o.file);
}

