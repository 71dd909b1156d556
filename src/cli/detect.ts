// `pie-stream detect <inputs…> -o <dir>`: faces in images, folders of images and videos, optionally
// after enhancement. Per input it writes `<name>.faces.json` and an annotated copy (`<name>.<ext>`
// for an image, `<name>.faces.mp4` at the sampling rate for a video), each written to a temporary
// name and renamed. A run over many inputs goes on past a bad file and lists the failures.
import fs from 'node:fs';
import path from 'node:path';
import { FACE_MODELS, isFaceModel, type FaceModel } from '../detect/anchors.js';
import { FaceDetector } from '../detect/detector.js';
import { drawFaces } from '../detect/draw.js';
import { faceJson, type FaceJson } from '../detect/event.js';
import { denoiseStill } from '../detect/denoise.js';
import { detectAlong, type DetectOn } from '../detect/path.js';
import { StillGate } from '../detect/static-scene.js';
import { CONFIRM_DEFAULTS, FaceConfirmer, type HeldReason } from '../pipeline/confirmFaces.js';
import type { Face } from '../detect/types.js';
import { Enhancer } from '../enhance/enhancer.js';
import type { ProviderChoice } from '../enhance/session.js';
import { isVideoPath } from '../enhance/video-file.js';
import { PieError, messageOf } from '../errors.js';
import { isImagePath, readImage, writeImage } from '../image/io.js';
import { rgbBytes, type RgbImage } from '../image/types.js';
import { decodeToRawArgs, encodeFromRawArgs, type Denoise } from '../ingest/ffmpeg-args.js';
import { FfmpegProcess, lastLine } from '../ingest/ffmpeg-process.js';
import { rawFrames, readAhead } from '../ingest/frame-splitter.js';
import { checkDecodedFrames, probeMedia } from '../ingest/probe.js';
import { parseStrength } from './args.js';
import { checkOutputs, expandInputs, type InputFailure } from './inputs.js';
import { FACE_POSES, type FacePose } from '../detect/pose.js';
import { Progress } from './progress.js';

export interface DetectCommandOptions {
  readonly inputs: readonly string[];
  /** A folder (created if missing). */
  readonly output: string;
  /** Detect after enhancement with this DCE-Net model. */
  readonly enhance?: { readonly modelPath?: string; readonly downscale: number; readonly strength?: number };
  /** Default 'back': on this path (hqdn3d in the decoder) it reports the fewest false faces; the live default is full-range (README). */
  readonly model?: FaceModel;
  readonly tiling?: boolean;
  /** Tiles scaled up this many times (1 native, 2 for faces under ~20 px). Default 1. */
  readonly upscale?: number;
  readonly threshold?: number;
  /** 'frontal' (default): only faces whose keypoints sit as a face's seen from the front (src/detect/pose.ts); 'any': every detection. */
  readonly pose?: FacePose;
  /** Faces narrower than this many pixels of the input are not reported. Default 0 (every size); the live path's detect.minFace is 12. */
  readonly minFace?: number;
  /**
   * Spatial smoothing before detection: 'auto' (default: as strong as each frame's noise calls
   * for, none on a clean one) or 'none'.
   */
  readonly denoise?: 'auto' | 'none';
  /** A temporal denoiser in the video decoder (default TEMPORAL_DENOISE_DEFAULT; null: none). */
  readonly videoDenoise?: Denoise | null;
  /** Which frame is looked at; default 'fused' with enhancement, 'raw' without. */
  readonly on?: DetectOn;
  /** Frames per second taken from a video. Default 5 (Frigate's detect rate). */
  readonly fps?: number;
  /** Write annotated images/videos. Default true. */
  readonly annotate?: boolean;
  readonly provider?: ProviderChoice;
  readonly threads?: number;
  /** Video frames per enhancer/detector batch. Default 4. */
  readonly batch?: number;
  /**
   * Videos: faces on a part of the view unchanged for this many seconds are dropped (listed under
   * `held`, why `still`), as the live path does (detect.confirm.staticAfter). Default
   * CONFIRM_DEFAULTS.staticAfter (10); 0: off.
   */
  readonly staticAfter?: number;
  /**
   * Videos: the live path's temporal rules (detect.confirm): a face is reported once seen near the
   * same place in `hits` of the last `frames` detections, and not where a face has sat still for
   * `fixtureAfter` detections. Default CONFIRM_DEFAULTS (2 of 3, fixtures after 50); null: every
   * detection is reported.
   */
  readonly confirm?: VideoConfirm | null;
  readonly quiet?: boolean;
}

/**
 * hqdn3d with a strong temporal part: on a static synthetic-night clip (1366×768, 8 faces, 300 e⁻
 * full well) it took recall/precision from 0.21/0.65 to 0.44/0.95, and with the adaptive smoothing
 * to 0.50/0.89; atadenoise did less (0.24–0.51 recall), and tmix (a plain mean of 9 frames) did as
 * well but smears anything that moves, which hqdn3d's motion-adaptive weights do not.
 */
export const TEMPORAL_DENOISE_DEFAULT: Denoise = { filter: 'hqdn3d', lumaSpatial: 4, chromaSpatial: 3, lumaTemporal: 20, chromaTemporal: 15 };

/**
 * What the still gate (--static-after) is fed of a video: its own decode without the video
 * denoiser. hqdn3d's temporal part spreads an encoder's re-draw of the whole picture over ~8
 * frames, so no one frame looks like a re-draw and the gate took the re-draw for change (the IR
 * clip: 1.9 false faces per 10 min kept, against 0 on the live path); unsmoothed, the re-draw is
 * one frame, as a camera's decoder gives it. The gate follows each cell's own noise, so the grain
 * left in costs it nothing. Undefined: the gate's frames are the detector's (nothing to strip).
 */
export const gateDecode = (denoise: Denoise | undefined): { readonly denoise?: Denoise } | undefined => (denoise ? {} : undefined);

/** The temporal rules `pie-stream detect` applies to a video (the live path's detect.confirm, less staticAfter). */
export interface VideoConfirm { readonly frames: number; readonly hits: number; readonly fixtureAfter: number }
export const VIDEO_CONFIRM_DEFAULT: VideoConfirm = { frames: CONFIRM_DEFAULTS.frames, hits: CONFIRM_DEFAULTS.hits, fixtureAfter: CONFIRM_DEFAULTS.fixtureAfter };

export interface DetectJob { readonly kind: 'image' | 'video'; readonly input: string; readonly json: string; readonly annotated: string }
export interface DetectDone extends DetectJob { readonly faces: number; readonly frames: number }
export type DetectFailure = InputFailure;
export interface DetectSummary { readonly done: readonly DetectDone[]; readonly failed: readonly DetectFailure[]; readonly skipped: readonly string[] }

export interface ImageFacesJson {
  readonly input: string;
  readonly kind: 'image';
  readonly width: number;
  readonly height: number;
  readonly faces: readonly FaceJson[];
}

export interface VideoFacesJson {
  readonly input: string;
  readonly kind: 'video';
  readonly width: number;
  readonly height: number;
  /** The rate frames were taken at. */
  readonly fps: number;
  /**
   * Every sampled frame, faces or none; `ms` from the start of the video. `faces` are the reported
   * ones; `held` (with the still gate or temporal rules on) the faces found but not reported, each
   * with why: 'still' (a part of the view unchanged for --static-after s), 'unconfirmed' (not yet
   * seen in enough recent detections near there) or 'fixture' (where a face has sat still for
   * --fixture-after detections).
   */
  readonly frames: ReadonlyArray<{ readonly index: number; readonly ms: number; readonly faces: readonly FaceJson[]; readonly held?: ReadonlyArray<FaceJson & { readonly why: HeldReason }> }>;
}

/** Jobs for the inputs; unreadable or unknown inputs become failures, a plan that would overwrite an input is refused. */
export function planDetectJobs(inputs: readonly string[], output: string): { jobs: DetectJob[]; failed: DetectFailure[]; skipped: string[] } {
  const jobs: DetectJob[] = [], failed: DetectFailure[] = [];
  const expanded = expandInputs(inputs, (f) => isImagePath(f) || isVideoPath(f));
  failed.push(...expanded.failed);
  for (const f of expanded.files) {
    const base = path.basename(f.file), stem = path.basename(base, path.extname(base));
    const json = path.join(output, `${stem}.faces.json`);
    if (isImagePath(f.file)) jobs.push({ kind: 'image', input: f.file, json, annotated: path.join(output, base) });
    else jobs.push({ kind: 'video', input: f.file, json, annotated: path.join(output, `${stem}.faces.mp4`) });
  }
  checkOutputs(jobs.map((j) => ({ input: j.input, outputs: [j.json, j.annotated] })), 'detect', 'faces/');
  return { jobs, failed, skipped: expanded.skipped };
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.partial-${process.pid}`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(value, null, 1)}\n`);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new PieError('output', `cannot write ${file}: ${messageOf(e)}`, 'check the output folder is writable', { cause: e });
  }
}

interface Runtime {
  readonly detector: FaceDetector;
  readonly enhancer: Enhancer | undefined;
  readonly on: DetectOn;
  readonly smooth: boolean;
  readonly annotate: boolean;
}

/**
 * Detects on a batch of same-sized frames; returns faces and the frames to draw on (enhanced when
 * there are). `stills`: the frames are photos, and their raw pass goes through the still denoiser
 * (BM3D, denoiseStill) instead of the box blur, a clean one through nothing (the blur lost small
 * faces on stills at every noise level it acts on); a video's frames have hqdn3d in the decoder.
 */
async function detectBatch(rt: Runtime, frames: readonly RgbImage[], stills = false): Promise<{ faces: Face[][]; shown: readonly RgbImage[] }> {
  const enhanced = rt.enhancer ? (await rt.enhancer.enhance(frames)).frames : undefined;
  const denoised = stills && rt.smooth ? await Promise.all(frames.map((raw) => denoiseStill(raw))) : [];
  const faces = await detectAlong(rt.detector, frames.map((raw, i) => ({ raw, ...(denoised[i] ? { rawDenoised: denoised[i] } : {}), ...(enhanced ? { enhanced: enhanced[i]! } : {}) })), { on: rt.on, smooth: rt.smooth ? {} : false });
  return { faces, shown: enhanced ?? frames };
}

async function detectImage(rt: Runtime, job: DetectJob): Promise<DetectDone> {
  const img = await readImage(job.input);
  const { faces: [faces = []], shown } = await detectBatch(rt, [img], true);
  const json: ImageFacesJson = { input: job.input, kind: 'image', width: img.width, height: img.height, faces: faces.map(faceJson) };
  if (rt.annotate) await writeImage(drawFaces(shown[0]!, faces), job.annotated);
  writeJsonAtomic(job.json, json);
  return { ...job, faces: faces.length, frames: 1 };
}

async function detectVideo(rt: Runtime, job: DetectJob, o: { fps: number; batch: number; denoise: Denoise | undefined; staticAfter: number; confirm: VideoConfirm | null; onProgress: (done: number, total: number) => void }): Promise<DetectDone> {
  const info = await probeMedia(job.input);
  const { width, height } = info;
  const total = Math.max(1, Math.ceil(info.durationS * o.fps));
  const decoder = await FfmpegProcess.start(decodeToRawArgs({ input: job.input, fps: o.fps, ...(o.denoise ? { denoise: o.denoise } : {}) }));
  // Read from now on: a short clip's decoder may be done before the other processes have started.
  const decoded = readAhead(rawFrames(decoder.stdout, rgbBytes(width, height)));
  const tmp = `${job.annotated}.partial-${process.pid}`;
  const encoder = rt.annotate
    ? await FfmpegProcess.start(encodeFromRawArgs({ width, height, fps: String(o.fps), output: tmp, format: 'mp4' }), { stdin: true })
    : undefined;
  const write = (img: RgbImage): Promise<void> => new Promise((resolve, reject) => {
    // Wait for the pipe to drain rather than buffer frames in memory.
    if (encoder!.stdin!.write(img.data, (err) => (err ? reject(err) : undefined))) resolve();
    else encoder!.stdin!.once('drain', resolve);
  });
  const frames: Array<VideoFacesJson['frames'][number]> = [];
  let faceCount = 0;
  // The video as one fixed camera: its still-scene model sees the decoded (raw) frames, as the live
  // worker does; without the video denoiser (gateDecode), from a second decoder in step with the first.
  // Then the live path's temporal rules, in the same order: the gate marks, the confirmer decides.
  const gate = o.staticAfter > 0 ? new StillGate({ afterS: o.staticAfter }) : undefined;
  const rules = gate || o.confirm ? new FaceConfirmer(o.confirm ?? { frames: 0, hits: 1 }) : undefined;
  const plain = gate ? gateDecode(o.denoise) : undefined;
  const gateDecoder = plain ? await FfmpegProcess.start(decodeToRawArgs({ input: job.input, fps: o.fps, ...plain })) : undefined;
  const gateFrames = gateDecoder ? readAhead(rawFrames(gateDecoder.stdout, rgbBytes(width, height))) : undefined;
  try {
    let gateBatch: Uint8Array[] = [];
    let batch: RgbImage[] = [];
    const flush = async (): Promise<void> => {
      if (!batch.length) return;
      const { faces, shown } = await detectBatch(rt, batch);
      for (let i = 0; i < batch.length; i++) {
        const index = frames.length, ms = Math.round((index * 1000) / o.fps);
        const marked = gate ? gate.mark(job.input, gateFrames ? { width, height, data: gateBatch[i]! } : batch[i]!, ms, faces[i]!) : faces[i]!;
        const r = rules?.push({ camera: job.input, faces: marked });
        const kept = r ? r.faces : marked;
        frames.push({ index, ms, faces: kept.map(faceJson), ...(r ? { held: r.held.map((h) => ({ ...faceJson(h.face), why: h.why })) } : {}) });
        faceCount += kept.length;
        if (encoder) await write(drawFaces(shown[i]!, kept));
      }
      batch = [];
      gateBatch = [];
      o.onProgress(frames.length, Math.max(total, frames.length));
    };
    for await (const data of decoded) {
      batch.push({ width, height, data });
      if (gateFrames) {
        const g = await gateFrames.next();
        // Both decoders sample the same frames (the denoiser drops none): one running short is a fault.
        if (g.done) {
          const exit = await gateDecoder!.exited;
          throw new PieError('ffmpeg-failed', `${job.input}: the still gate's decoder ended after ${frames.length + batch.length - 1} frames, before the detector's (exit ${exit.code ?? exit.signal}${exit.stderrTail ? `: ${lastLine(exit.stderrTail)}` : ''})`, 'check the file plays to its end (ffprobe), or run with --static-after 0');
        }
        gateBatch.push(g.value);
      }
      if (batch.length >= o.batch) await flush();
    }
    await flush();
    encoder?.stdin!.end();
    // The gate's decoder has one frame at most left (the detector's ended first); its end is read, not waited on.
    await gateFrames?.return();
    const [dec, enc] = await Promise.all([decoder.exited, encoder?.exited]);
    await gateDecoder?.close();
    if (dec.code !== 0 || frames.length === 0) {
      throw new PieError('input', `${job.input}: ffmpeg could not decode it after ${frames.length} frames: ${lastLine(dec.stderrTail)}`, 'check the file plays (ffplay/ffprobe) and is not truncated');
    }
    // The fps filter's count: the probe's duration at the sampling rate.
    checkDecodedFrames(job.input, frames.length, info.durationS > 0 ? Math.floor(info.durationS * o.fps) : 0, dec.stderrTail);
    if (enc && enc.code !== 0) throw new PieError('ffmpeg-failed', `encoding ${job.annotated} failed: ${lastLine(enc.stderrTail)}`, 'check the output folder and free disk space');
    if (encoder) fs.renameSync(tmp, job.annotated);
    const json: VideoFacesJson = { input: job.input, kind: 'video', width, height, fps: o.fps, frames };
    writeJsonAtomic(job.json, json);
    return { ...job, faces: faceCount, frames: frames.length };
  } catch (e) {
    await Promise.all([decoder.close(), encoder?.close(), gateDecoder?.close()]);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export async function runDetect(o: DetectCommandOptions, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<DetectSummary> {
  const fps = o.fps ?? 5;
  if (!(fps > 0 && fps <= 120)) throw new PieError('usage', `--fps ${fps} must be a number above 0 and at most 120`, 'e.g. --fps 5');
  const on = o.on ?? (o.enhance ? 'fused' : 'raw');
  if (on !== 'raw' && !o.enhance) throw new PieError('usage', `--on ${on} needs --enhance`, 'add --enhance, or detect --on raw');
  const { jobs, failed, skipped } = planDetectJobs(o.inputs, o.output);
  if (jobs.length === 0) return { done: [], skipped, failed: failed.length ? failed : [{ input: o.inputs.join(' '), message: 'no images or videos to detect faces in' }] };
  fs.mkdirSync(o.output, { recursive: true });

  const detector = await FaceDetector.open({
    model: o.model ?? 'back', ...(o.tiling === false ? { tiling: false } : o.upscale && o.upscale > 1 ? { tiling: { upscale: o.upscale } } : {}), scoreThreshold: o.threshold ?? 0.5,
    pose: o.pose ?? 'frontal', minFace: o.minFace ?? 0, provider: o.provider ?? 'cpu', ...(o.threads ? { threads: o.threads } : {}),
  });
  let enhancer: Enhancer | undefined;
  try {
    if (o.enhance) {
      enhancer = await Enhancer.open({
        downscale: o.enhance.downscale, strength: o.enhance.strength ?? 1, provider: o.provider ?? 'cpu',
        ...(o.enhance.modelPath ? { modelPath: o.enhance.modelPath } : {}), ...(o.threads ? { threads: o.threads } : {}),
      });
      log(`enhancer: ${enhancer.describe()}`);
    }
    log(`detector: ${detector.describe()}; detecting on ${on} frames${(o.denoise ?? 'auto') === 'auto' ? ', denoised as the noise calls for (photos: BM3D; video frames: a box blur)' : ''}`);
    const rt: Runtime = { detector, enhancer, on, smooth: (o.denoise ?? 'auto') === 'auto', annotate: o.annotate ?? true };
    const done: DetectDone[] = [];
    const images = jobs.filter((j) => j.kind === 'image'), videos = jobs.filter((j) => j.kind === 'video');
    if (images.length) {
      const bar = new Progress('images', images.length, process.stderr, o.quiet || images.length < 2);
      let n = 0;
      for (const job of images) {
        try {
          done.push(await detectImage(rt, job));
        } catch (e) {
          failed.push({ input: job.input, message: messageOf(e) });
        }
        bar.update(++n);
      }
      bar.done();
    }
    const videoDenoise = o.videoDenoise === undefined ? TEMPORAL_DENOISE_DEFAULT : o.videoDenoise ?? undefined;
    const staticAfter = o.staticAfter ?? CONFIRM_DEFAULTS.staticAfter, confirm = o.confirm === undefined ? VIDEO_CONFIRM_DEFAULT : o.confirm;
    const rules = [
      ...(staticAfter > 0 ? [`a face on a view still for ${staticAfter} s held back`] : []),
      ...(confirm && confirm.frames > 0 && confirm.hits > 1 ? [`reported once seen in ${confirm.hits} of ${confirm.frames} detections`] : []),
      ...(confirm && confirm.fixtureAfter > 0 ? [`not where a face sat still for ${confirm.fixtureAfter}`] : []),
    ];
    const rulesSaid = rules.length ? ` (${rules.join('; ')})` : '';
    for (const job of videos) {
      const bar = new Progress(path.basename(job.input), 1, process.stderr, o.quiet);
      try {
        const r = await detectVideo(rt, job, { fps, batch: o.batch ?? 4, denoise: videoDenoise, staticAfter, confirm, onProgress: (d, t) => bar.update(d, t) });
        bar.done();
        log(`${job.input}: ${r.faces} faces reported on ${r.frames} frames at ${fps} fps${rulesSaid}`);
        done.push(r);
      } catch (e) {
        bar.done();
        failed.push({ input: job.input, message: messageOf(e) });
      }
    }
    return { done, failed, skipped };
  } finally {
    await detector.close();
    await enhancer?.close();
  }
}

/** The command line's flags as commander hands them over (strings, and booleans for switches). */
export interface DetectFlags {
  readonly output: string;
  readonly enhance?: boolean;
  readonly model?: string;
  readonly scale?: string;
  readonly strength?: string;
  readonly on?: string;
  readonly detector?: string;
  readonly tiling?: boolean;
  readonly upscale?: string;
  readonly threshold?: string;
  readonly pose?: string;
  readonly minFace?: string;
  readonly denoise?: string;
  readonly videoDenoise?: string;
  readonly fps?: string;
  readonly staticAfter?: string;
  readonly confirm?: string;
  readonly fixtureAfter?: string;
  readonly annotate?: boolean;
  readonly ep?: string;
  readonly threads?: string;
  readonly batch?: string;
  readonly quiet?: boolean;
}

/** Video denoisers by name: 'hqdn3d' (default), 'atadenoise', 'tmix' (static cameras) or 'none'. */
export function parseVideoDenoise(name: string): Denoise | null {
  switch (name) {
    case 'hqdn3d': return TEMPORAL_DENOISE_DEFAULT;
    case 'atadenoise': return { filter: 'atadenoise', frames: 25, thresholdA: 0.2, thresholdB: 1 };
    case 'tmix': return { filter: 'tmix', frames: 9 };
    case 'none': return null;
    default: throw new PieError('usage', `--video-denoise ${name} is not a video denoiser`, 'use hqdn3d (default), atadenoise, tmix (static cameras: smears motion) or none');
  }
}

/**
 * --confirm and --fixture-after: 'live' (the default: the live path's 2 of 3, fixtures after 50),
 * 'H/F' (seen in H of the last F detections) or 'off' (every detection reported; no fixture rule).
 */
export function parseConfirm(rule: string, fixtureAfter: string | undefined): VideoConfirm | null {
  const fix = ((): number | undefined => {
    if (fixtureAfter === undefined) return undefined;
    const n = Number(fixtureAfter);
    if (!(Number.isInteger(n) && n >= 0 && n <= 100_000)) throw new PieError('usage', `--fixture-after ${fixtureAfter} is not a whole number of detections from 0 to 100000`, `e.g. --fixture-after ${CONFIRM_DEFAULTS.fixtureAfter} (0: faces at one place are reported however long they stay)`);
    return n;
  })();
  if (rule === 'off') {
    if (fix) throw new PieError('usage', '--fixture-after needs the temporal rules, and --confirm is off', 'drop --fixture-after, or use --confirm live');
    return null;
  }
  if (rule === 'live') return { ...VIDEO_CONFIRM_DEFAULT, ...(fix !== undefined ? { fixtureAfter: fix } : {}) };
  const m = /^(\d+)\/(\d+)$/.exec(rule);
  const hits = Number(m?.[1]), frames = Number(m?.[2]);
  if (!m || !(hits >= 1 && hits <= frames && frames <= 30)) throw new PieError('usage', `--confirm ${rule} is not live, off or H/F with 1 ≤ H ≤ F ≤ 30`, 'e.g. --confirm live (as the live path: 2/3, fixtures after 50), --confirm 3/5, or --confirm off (every detection)');
  return { frames, hits, fixtureAfter: fix ?? VIDEO_CONFIRM_DEFAULT.fixtureAfter };
}

/** --pose: frontal (the default) or any. */
export function parsePose(s: string): FacePose {
  const p = FACE_POSES.find((x) => x === s);
  if (!p) throw new PieError('usage', `--pose ${s} is not one of ${FACE_POSES.join(', ')}`, 'use --pose frontal (faces seen from the front only: far fewer false faces; the default) or --pose any (every detection, profiles too)');
  return p;
}

/** Checks every flag once and turns them into runDetect's options (usage errors name the flag). */
export function detectOptionsFromFlags(inputs: readonly string[], f: DetectFlags, parse: {
  scale: (s: string) => number; provider: (s: string) => ProviderChoice; positiveInt: (flag: string, s: string, max?: number) => number;
}): DetectCommandOptions {
  const num = (flag: string, s: string, lo: number, hi: number, example: string): number => {
    const v = Number(s);
    if (!(Number.isFinite(v) && v > lo && v <= hi)) throw new PieError('usage', `${flag} ${s} must be a number above ${lo} and at most ${hi}`, `e.g. ${flag} ${example}`);
    return v;
  };
  const detector = f.detector ?? 'back';
  if (!isFaceModel(detector)) throw new PieError('usage', `--detector ${detector} is not one of ${FACE_MODELS.join(', ')}`, 'use back (BlazeFace, faces at a distance, 256²), front (close faces, 128²) or full-range (MediaPipe\'s 192² detector for distant faces)');
  const upscale = f.upscale === undefined ? 1 : Number(f.upscale);
  if (upscale !== 1 && upscale !== 2) throw new PieError('usage', `--upscale ${f.upscale} is not 1 or 2`, 'use --upscale 2 for 2× upscaled tiles (faces under ~20 px; 4× the model runs)');
  if (upscale > 1 && f.tiling === false) throw new PieError('usage', '--upscale needs tiles', 'drop --no-tiling, or --upscale');
  if (f.on !== undefined && !(['raw', 'enhanced', 'fused'] as const).some((x) => x === f.on)) throw new PieError('usage', `--on ${f.on} is not raw, enhanced or fused`, 'e.g. --on fused (with --enhance)');
  const denoise = f.denoise ?? 'auto';
  if (denoise !== 'auto' && denoise !== 'none') throw new PieError('usage', `--denoise ${denoise} is not auto or none`, 'use --denoise auto (smoothing as strong as the noise calls for) or none');
  const threshold = num('--threshold', f.threshold ?? '0.5', 0, 0.999, '0.5');
  const pose = parsePose(f.pose ?? 'frontal');
  const minFace = f.minFace === undefined ? undefined : Number(f.minFace);
  if (minFace !== undefined && !(Number.isInteger(minFace) && minFace >= 0 && minFace <= 4096)) {
    throw new PieError('usage', `--min-face ${f.minFace} is not a whole number of pixels from 0 to 4096`, 'e.g. --min-face 12 (as the live path: faces under 12 px are mostly false ones in foliage and glare) or --min-face 0 (every size)');
  }
  const strength = parseStrength(f.strength ?? '1');
  return {
    inputs, output: f.output, model: detector, tiling: f.tiling ?? true, ...(upscale > 1 ? { upscale } : {}), threshold, pose, denoise,
    videoDenoise: parseVideoDenoise(f.videoDenoise ?? 'hqdn3d'), fps: num('--fps', f.fps ?? '5', 0, 120, '5'),
    annotate: f.annotate ?? true, provider: parse.provider(f.ep ?? 'cpu'), quiet: Boolean(f.quiet),
    ...(f.staticAfter !== undefined ? { staticAfter: f.staticAfter.trim() !== '' && Number(f.staticAfter) === 0 ? 0 : num('--static-after', f.staticAfter, 0, 3600, String(CONFIRM_DEFAULTS.staticAfter)) } : {}),
    ...(f.confirm !== undefined || f.fixtureAfter !== undefined ? { confirm: parseConfirm(f.confirm ?? 'live', f.fixtureAfter) } : {}),
    ...(f.on ? { on: f.on as DetectOn } : {}),
    ...(minFace ? { minFace } : {}),
    ...(f.enhance ? {
      enhance: {
        downscale: parse.scale(f.scale ?? '1/4'), strength,
        ...(f.model ? { modelPath: f.model } : {}),
      },
    } : {}),
    ...(f.threads ? { threads: parse.positiveInt('--threads', f.threads, 256) } : {}),
    ...(f.batch ? { batch: parse.positiveInt('--batch', f.batch, 64) } : {}),
  };
}
