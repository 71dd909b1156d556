// `pie-stream adapt`: fine-tune a base model on one camera's own footage, without labels. Night
// frames are the inputs; the same camera's daytime frames (or a generic folder) are the positives.
// A share of the night frames is held out; base and adapted models are scored on the same held-out
// crops with the training objective, and the new model becomes the camera's only if it is better.
import fs from 'node:fs';
import path from 'node:path';
import { loadDceNetModel } from '../enhance/model-file.js';
import { PieError } from '../errors.js';
import { Enhancer } from '../enhance/enhancer.js';
import { clippedFraction, colorfulness, loe, meanBrightness, neutralCast } from '../eval/metrics.js';
import type { CurveForm } from '../enhance/tone.js';
import { isImagePath, readImage, writeImage } from '../image/io.js';
import { isVideoPath } from '../enhance/video-file.js';
import { concatMap, lastValueFrom, take, takeUntil, timer } from 'rxjs';
import type { CameraConfig } from '../config/schema.js';
import { CameraSource } from '../ingest/camera-source.js';
import { videoFrames } from '../ingest/video-frames.js';
import { listImages } from './data.js';
import type { FeatureNetSpec } from './features.js';
import { LOSS_NAMES, type LossName, type LossWeights } from './step.js';
import { train, validationLoss, type Segmenter, type StepReport } from './trainer.js';

export interface AdaptOptions {
  readonly camera: string;
  readonly base: string;
  /** Night footage: video files, image folders, or `camera:<name>` (recorded live, see `cameras`). */
  readonly night: readonly string[];
  /** Daytime footage of the same camera (the strongest unpaired positives a site has). */
  readonly day: readonly string[];
  /** A generic positives folder, used when there is no daytime footage. */
  readonly positives?: string;
  /** Where <camera>.onnx and <camera>.md go (models/cameras). */
  readonly outDir: string;
  /** Scratch folder for extracted frames and the training run. */
  readonly workDir: string;
  readonly steps: number;
  readonly crop: number;
  readonly batch: number;
  readonly lr: number;
  readonly seed: number;
  /** Frames per second taken from videos, and at most this many frames per source. */
  readonly sampleFps: number;
  readonly maxFrames: number;
  /** Fraction of night frames held out for validation. */
  readonly holdout: number;
  /** Cameras a `camera:<name>` source may name (a config's), and how long to record each. */
  readonly cameras?: readonly CameraConfig[];
  readonly recordSeconds?: number;
  readonly weights: LossWeights;
  readonly exposureLevel?: number;
  readonly features?: FeatureNetSpec;
  readonly segment: Segmenter;
  readonly threads?: number;
  /** How the camera's curves will be applied (tone.ts; default 'value'): the picture checks run that way. */
  readonly form?: CurveForm;
  readonly onStep?: (r: StepReport) => void;
  readonly log?: (s: string) => void;
}

export type Losses = Readonly<Record<LossName | 'total', number>>;

export interface AdaptResult {
  readonly accepted: boolean;
  /** The camera's model after this run (the new one, or the one it kept). */
  readonly model: string;
  /** Where the new model was written (the camera's model when accepted, a .candidate otherwise). */
  readonly candidate: string;
  readonly card: string;
  readonly base: Losses;
  readonly adapted: Losses;
  readonly frames: { train: number; holdout: number; positives: number; positivesFrom: 'day' | 'folder' };
  readonly seconds: number;
}

const NAME = /^[a-z0-9_-]{1,64}$/;

/** Frames of a video at `fps`, written as PNGs into `dir`; returns their paths. */
async function extractFrames(video: string, dir: string, fps: number, max: number, prefix: string): Promise<string[]> {
  const files: string[] = [];
  // Train on at most 640 px wide: a camera's processing size, and crops see more of the scene.
  for await (const img of videoFrames(video, { maxWidth: 640, fps })) {
    const f = path.join(dir, `${prefix}-${String(files.length).padStart(5, '0')}.png`);
    await writeImage(img, f);
    files.push(f);
    if (files.length >= max) break;
  }
  if (files.length === 0) throw new PieError('input', `${video}: no frames could be decoded`, 'check that the file is a complete video');
  return files;
}

/**
 * Records a configured camera live: its own ffmpeg (through CameraSource, so RTSP, files and the
 * synthetic scene all work, restarts included) sampled at `fps`, each frame written as it comes.
 */
async function recordCamera(camera: CameraConfig, dir: string, fps: number, max: number, seconds: number, prefix: string, log: (s: string) => void): Promise<string[]> {
  const source = new CameraSource({ name: camera.name, input: camera.input, width: camera.width, height: camera.height, fps, log: (l) => log(`[${camera.name}] ${l}`) });
  const files: string[] = [];
  log(`recording ${camera.name} for ${Number(seconds.toFixed(1))} s at ${fps} fps…`);
  source.start();
  try {
    await lastValueFrom(source.frames$.pipe(
      take(max),
      takeUntil(timer(seconds * 1000)),
      // One write at a time, as frames come: memory holds a frame, not the recording.
      concatMap(async (f) => {
        const file = path.join(dir, `${prefix}-${String(files.length).padStart(5, '0')}.png`);
        await writeImage({ width: f.width, height: f.height, data: f.data }, file);
        files.push(file);
      }),
    ), { defaultValue: undefined });
  } finally {
    await source.stop();
  }
  if (files.length === 0) {
    const err = source.status().lastError;
    throw new PieError('input', `camera ${camera.name} gave no frame in ${seconds} s${err ? ` (${err.message})` : ''}`, 'check that the camera is reachable (pie-stream run shows its status), or record for longer with --minutes');
  }
  return files;
}

/** Every source as a list of image files (videos sampled, cameras recorded, into `dir`). */
async function gather(sources: readonly string[], dir: string, what: string, o: AdaptOptions): Promise<string[]> {
  const files: string[] = [];
  for (const [i, s] of sources.entries()) {
    if (s.startsWith('camera:')) {
      const name = s.slice(7);
      const cam = o.cameras?.find((c) => c.name === name);
      if (!cam) throw new PieError('usage', `${what} source ${s}: no camera ${name} in the config`, `name one of: ${(o.cameras ?? []).map((c) => c.name).join(', ') || '(none: pass --config)'}`);
      files.push(...await recordCamera(cam, dir, o.sampleFps, o.maxFrames, o.recordSeconds ?? 300, `${what}${i}`, o.log ?? (() => {})));
      continue;
    }
    if (!fs.existsSync(s)) throw new PieError('input', `${what} source ${s} does not exist`, `pass video files or image folders to --${what}`);
    if (fs.statSync(s).isDirectory()) files.push(...listImages(s, what).slice(0, o.maxFrames));
    else if (isVideoPath(s)) files.push(...await extractFrames(s, dir, o.sampleFps, o.maxFrames, `${what}${i}`));
    else if (isImagePath(s)) files.push(s);
    else throw new PieError('input', `${what} source ${s} is neither a video nor an image folder`, 'pass .mp4/.mkv/… files or folders of images');
  }
  return files;
}

/** Every k-th frame held out (not a random draw: neighbouring video frames are near-duplicates). */
export function splitHoldout<T>(items: readonly T[], fraction: number): { train: T[]; holdout: T[] } {
  const every = Math.max(2, Math.round(1 / fraction));
  const holdout = items.filter((_, i) => i % every === every - 1);
  const train = items.filter((_, i) => i % every !== every - 1);
  return { train, holdout };
}

export interface PictureFigures { readonly brightness: number; readonly clipped: number; readonly loe: number; readonly colorfulness: number; readonly cast: number }

async function pictureFigures(models: readonly string[], files: readonly string[], form: CurveForm): Promise<PictureFigures[]> {
  const images = await Promise.all(files.map((f) => readImage(f)));
  const out: PictureFigures[] = [];
  for (const m of models) {
    const e = await Enhancer.open({ modelPath: m, downscale: 1, form });
    const sum = { brightness: 0, clipped: 0, loe: 0, colorfulness: 0, cast: 0 };
    for (const img of images) {
      const y = (await e.enhance([img])).frames[0]!;
      sum.brightness += meanBrightness(y) / images.length;
      sum.clipped += clippedFraction(y).highlights / images.length;
      sum.loe += loe(img, y) / images.length;
      sum.colorfulness += colorfulness(y) / images.length;
      sum.cast += neutralCast(img, y) / images.length;
    }
    await e.close();
    out.push(sum);
  }
  return out;
}

/**
 * How much worse than the base a candidate's picture may be on the held-out frames and still be
 * accepted: neutral colour cast (CIELAB, ~2 is just noticeable), clipped fraction (0.5 points),
 * lightness order error (25 % and 5 more). A lower training loss alone once accepted a model whose
 * LOE went from 13.5 to 206.
 */
export const ADAPT_TOLERANCE = { cast: 1, clipped: 0.005, loeRatio: 1.25, loeAbs: 5 } as const;

/** The acceptance rule: a lower held-out loss and no picture regression beyond ADAPT_TOLERANCE; the reasons when not. */
export function acceptance(base: { loss: number; picture: PictureFigures }, cand: { loss: number; picture: PictureFigures }): { accepted: boolean; reasons: string[] } {
  const t = ADAPT_TOLERANCE, b = base.picture, c = cand.picture;
  const reasons: string[] = [];
  if (!(cand.loss < base.loss)) reasons.push(`the held-out loss rose from ${fmt(base.loss)} to ${fmt(cand.loss)}`);
  if (c.cast > b.cast + t.cast) reasons.push(`neutral colour cast ${c.cast.toFixed(2)} > ${b.cast.toFixed(2)} + ${t.cast}`);
  if (c.clipped > b.clipped + t.clipped) reasons.push(`clipped ${(100 * c.clipped).toFixed(2)} % > ${(100 * b.clipped).toFixed(2)} + ${100 * t.clipped} points`);
  if (c.loe > b.loe * t.loeRatio + t.loeAbs) reasons.push(`LOE ${c.loe.toFixed(1)} > ${b.loe.toFixed(1)} × ${t.loeRatio} + ${t.loeAbs}`);
  return { accepted: reasons.length === 0, reasons };
}

const fmt = (x: number): string => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(4) : x.toExponential(2));

export async function adapt(o: AdaptOptions): Promise<AdaptResult> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  if (!NAME.test(o.camera)) throw new PieError('usage', `camera name '${o.camera}' must be 1–64 of a-z 0-9 _ -`, 'use the camera\'s name from the config, e.g. --camera front_door');
  if (!(o.holdout > 0 && o.holdout < 0.5)) throw new PieError('usage', `--holdout ${o.holdout} must be between 0 and 0.5`, 'e.g. --holdout 0.2');
  const base = await loadDceNetModel(o.base);
  fs.mkdirSync(o.workDir, { recursive: true });
  const framesDir = fs.mkdtempSync(path.join(o.workDir, 'frames-'));
  try {
    const night = await gather(o.night, framesDir, 'night', o);
    const { train: trainFiles, holdout } = splitHoldout(night, o.holdout);
    if (trainFiles.length < 2 || holdout.length < 1) throw new PieError('input', `only ${night.length} night frame(s): too few to train and hold some out`, 'give a longer clip, a higher --sample-fps or more images');
    const dayFiles = o.day.length ? await gather(o.day, framesDir, 'day', o) : [];
    const positivesFrom = dayFiles.length ? 'day' : 'folder';
    const positives = dayFiles.length ? dayFiles : o.positives ? listImages(o.positives, 'positives') : [];
    if (!positives.length && (o.weights.nce || o.weights.triplet)) {
      throw new PieError('usage', 'adapt needs positives: daytime footage of the camera or a folder of normal-light images', 'pass --day <video|folder> or --positives <folder>');
    }
    // The trainer reads folders: link the chosen files into one folder per role.
    const link = (files: readonly string[], name: string): string => {
      const d = path.join(framesDir, name);
      fs.mkdirSync(d);
      files.forEach((f, i) => fs.symlinkSync(path.resolve(f), path.join(d, `${String(i).padStart(5, '0')}${path.extname(f)}`)));
      return d;
    };
    const crop = o.crop;
    log(`${o.camera}: ${trainFiles.length} night frames to train on, ${holdout.length} held out, ${positives.length} positives (${positivesFrom})`);

    const candidate = path.join(o.outDir, `${o.camera}.candidate.onnx`);
    fs.mkdirSync(o.outDir, { recursive: true });
    const result = await train({
      inputs: link(trainFiles, 'train'), ...(positives.length ? { positives: link(positives, 'positives') } : {}),
      out: path.join(framesDir, 'adapted.onnx'), steps: o.steps, crop, batch: o.batch, lr: o.lr, seed: o.seed, weights: o.weights,
      ...(o.exposureLevel !== undefined ? { exposureLevel: o.exposureLevel } : {}), ...(o.features ? { features: o.features } : {}),
      segment: o.segment, init: o.base, checkpointEvery: o.steps, apply: o.form ?? 'value', ...(o.threads ? { threads: o.threads } : {}),
      ...(o.onStep ? { onStep: o.onStep } : {}), log,
    });
    fs.copyFileSync(result.out, candidate);
    const adapted = await loadDceNetModel(candidate);

    log('validating base and adapted on the held-out frames…');
    const batches = Math.max(4, Math.min(16, holdout.length));
    const [lb, la] = await validationLoss([base.weights, adapted.weights], {
      inputs: holdout, positives, crop, batch: o.batch, batches, seed: o.seed + 1, weights: o.weights,
      ...(o.exposureLevel !== undefined ? { exposureLevel: o.exposureLevel } : {}), ...(o.features ? { features: o.features } : {}),
      segment: o.segment, apply: o.form ?? 'value', ...(o.threads ? { threads: o.threads } : {}),
    }) as [Losses, Losses];
    // The label-free picture figures on the same held-out frames, as the camera will run the model.
    const figures = await pictureFigures([o.base, candidate], holdout, o.form ?? 'value');
    const { accepted, reasons } = acceptance({ loss: lb.total, picture: figures[0]! }, { loss: la.total, picture: figures[1]! });
    const target = path.join(o.outDir, `${o.camera}.onnx`);
    if (accepted) fs.renameSync(candidate, target);
    const card = path.join(o.outDir, `${o.camera}.md`);
    const terms = LOSS_NAMES.filter((n) => o.weights[n]);
    const lines = [
      `# ${o.camera}: adapted PIE model`, '',
      accepted
        ? `**Accepted**: \`${path.basename(target)}\` — the held-out loss fell from ${fmt(lb.total)} (base) to ${fmt(la.total)}, and colour cast, clipping and LOE stayed within tolerance (cast +${ADAPT_TOLERANCE.cast}, clipped +${100 * ADAPT_TOLERANCE.clipped} points, LOE ×${ADAPT_TOLERANCE.loeRatio} +${ADAPT_TOLERANCE.loeAbs}).`
        : `**Rejected**: ${reasons.join('; ')}; the camera keeps ${fs.existsSync(target) ? `its current \`${path.basename(target)}\`` : 'the base model'}, and the new model is left at \`${path.basename(candidate)}\` for inspection.`,
      '', `- Base: \`${o.base}\``,
      `- Night footage: ${o.night.map((s) => `\`${s}\``).join(', ')} → ${night.length} frames (${o.sampleFps} fps from videos, at most ${o.maxFrames} per source), every ${Math.max(2, Math.round(1 / o.holdout))}th held out: ${trainFiles.length} train, ${holdout.length} held out`,
      `- Positives: ${positivesFrom === 'day' ? `daytime footage of the camera, ${o.day.map((s) => `\`${s}\``).join(', ')}` : `\`${o.positives ?? 'none'}\``} (${positives.length} images)`,
      `- Training: ${o.steps} steps from the base, crop ${crop}, batch ${o.batch}, lr ${o.lr}, seed ${o.seed}, features ${o.features?.name ?? 'none'}, weights ${terms.map((n) => `${n} ${o.weights[n]}`).join(', ')}; ${result.seconds.toFixed(0)} s`,
      '', `Validation: the training objective on the same ${batches} held-out batches (crops drawn with seed ${o.seed + 1}) for both models.`, '',
      `| | total | ${terms.join(' | ')} |`, `|---|---|${terms.map(() => '---').join('|')}|`,
      `| base | ${fmt(lb.total)} | ${terms.map((n) => fmt(lb[n])).join(' | ')} |`,
      `| adapted | ${fmt(la.total)} | ${terms.map((n) => fmt(la[n])).join(' | ')} |`, '',
      `On the ${holdout.length} held-out frames (whole frames, curves at full resolution): mean brightness, highlight-clipped pixels, lightness order error against the input (0 = order kept), colorfulness.`, '',
      '| | brightness | clipped % | LOE | colorfulness | neutral cast |', '|---|---|---|---|---|---|',
      ...(['base', 'adapted'] as const).map((n, i) => `| ${n} | ${figures[i]!.brightness.toFixed(3)} | ${(100 * figures[i]!.clipped).toFixed(2)} | ${figures[i]!.loe.toFixed(1)} | ${figures[i]!.colorfulness.toFixed(1)} | ${figures[i]!.cast.toFixed(2)} |`), '',
      'Switch a running pipeline to it without dropping its streams: `POST /api/cameras/<camera>/model` with `{"path": "models/cameras/<camera>.onnx"}` (README, HTTP API), or set `model:` on the camera in the config.', '',
    ];
    fs.writeFileSync(card, lines.join('\n'));
    return {
      accepted, model: accepted ? target : fs.existsSync(target) ? target : o.base, candidate: accepted ? target : candidate, card, base: lb, adapted: la,
      frames: { train: trainFiles.length, holdout: holdout.length, positives: positives.length, positivesFrom }, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    fs.rmSync(framesDir, { recursive: true, force: true });
  }
}
