// npm run bench -- false-faces [--path detect|live] [--detector back|front|full-range] [--pose frontal|any] [--loops 10] [--redetect]
//   [--ir FILE] [--walk FILE] [--variants a,b] [--camera-fps N] [--crops FILE [--crops-variant default]] [--list] [--out NAME]
//   [--gate-decode cli|denoised]
// False faces per 10 minutes of a fixed night camera with no people (issue 16's aim: at most 1), and
// what the same rules cost a walking person. Three steps:
//  1. a detection path on each clip, once, every frame's faces cached under out/false-faces/ (rerun
//     only with --redetect or when the clip or the options change: it is the slow part), no still gate:
//     --path detect (default): `pie-stream detect --enhance --fps 5` through runDetect itself (temporal
//       denoiser hqdn3d in the decoder, PIE at 1/4, fused, smoothed, tiled at 0.5);
//     --path live: what `pie-stream run` does to a camera (the embedded default config): the clip
//       decoded at the camera's fps with no ffmpeg denoiser, every frame through ONE camera's Denoiser
//       and the live enhancer (its tone state carried), sampled at 5 fps by the live sampleFps, and
//       detectAlong on the denoised frame as raw and the enhanced one (detect.on); the sampled
//       denoised frames are cached too (raw RGB): they are what the live gate is fed;
//     --detector and --pose pick the face model and the pose rule (src/detect/pose.ts) for either
//       path; default: the path's own (the detect CLI's defaults; the config's detect.model and detect.pose);
//  2. the frames the gate sees: for --path detect the clip decoded again as the detect CLI decodes it
//     for its gate (no video denoiser since session 13; --gate-decode denoised: hqdn3d, as before),
//     looped by one ffmpeg -stream_loop (a decoder's state runs on across the seams, as a camera's would); for
//     --path live the first pass's denoised frames, replayed (each seam a hard cut of the denoised picture);
//  3. the IR clip (no people) replayed as ONE fixed camera, 5 fps timestamps running on, looped
//     N× (each seam a cut: 65 s → 0 s) and ping-pong (forward, backward, …: no cut), through the
//     still gate and confirmFaces exactly as the live path chains them (gate in the detection
//     worker, then the confirm operator). A false-face appearance is a reported face with no
//     reported face near it (confirmFaces' `near`) in the camera's previous detection; split by
//     where it starts: the first pass, the 2 s after a seam (or turn), the rest. The night walk (one
//     person, the camera starting with the clip) is replayed once: detections with a reported face.
// Each variant is a set of gate and confirmation options; the default variant is the shipped one.
// Writes bench/results/false-faces.json (the detect path with its default detector and pose, all
// variants), else bench/results/false-faces-<path>-<detector>[-pose-<pose>].json (any variants; the
// pose named when it is not the path's default), else out/false-faces/partial.json; --out NAME: bench/results/NAME.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { parsePositiveInt, parseProvider, parseScale } from '../src/cli/args.js';
import { detectOptionsFromFlags, gateDecode, runDetect, TEMPORAL_DENOISE_DEFAULT, type VideoFacesJson } from '../src/cli/detect.js';
import { loadDefaultConfig } from '../src/config/load.js';
import { Denoiser } from '../src/denoise/denoiser.js';
import { isFaceModel, type FaceModel } from '../src/detect/anchors.js';
import { FaceDetector } from '../src/detect/detector.js';
import { outsideMask, type MaskRect } from '../src/detect/face-mask.js';
import { DETECT_ON, detectAlong, type DetectOn } from '../src/detect/path.js';
import { FACE_POSES } from '../src/detect/pose.js';
import { CameraTone } from '../src/enhance/camera-tone.js';
import { Enhancer } from '../src/enhance/enhancer.js';
import { denoiserOptions, enhancerOptions, LiveEnhancers, modelKeyOf } from '../src/enhance/live-enhancers.js';
import { encodeImage, writeSvgPng } from '../src/image/io.js';
import { StillGate, type StillGateOptions } from '../src/detect/static-scene.js';
import type { Face, FaceEvent } from '../src/detect/types.js';
import { decodeToRawArgs } from '../src/ingest/ffmpeg-args.js';
import { FfmpegProcess } from '../src/ingest/ffmpeg-process.js';
import { rawFrames } from '../src/ingest/frame-splitter.js';
import { probeMedia } from '../src/ingest/probe.js';
import { rgbBytes, type RgbImage } from '../src/image/types.js';
import { CONFIRM_DEFAULTS, confirmFaces, near, type ConfirmOptions } from '../src/pipeline/confirmFaces.js';
import { sampleFps } from '../src/pipeline/sampleFps.js';
import { describeMachine, machine } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const video = (name: string): string => path.resolve(here, '../../shared/data/video', name);
const irClip = arg('ir', video('ir_cctv_night_65s.mp4'))!;
const walkClip = arg('walk', video('person_walking_night_1080p.mp4'))!;
const loops = Number(arg('loops', '10'));
const FPS = 5;
/** After a seam or a turn, this long counts as "after the seam". */
const SEAM_S = 2;
const cacheDir = path.resolve(here, '../out/false-faces');
/** The live pipeline's settings: the embedded default config, as `eval --face-video` opens them. */
const config = loadDefaultConfig();
const PATHS = ['detect', 'live'] as const;
type DetectionPath = (typeof PATHS)[number];
const pathArg = arg('path', 'detect')!;
if (!(PATHS as readonly string[]).includes(pathArg)) throw new Error(`--path ${pathArg}: use detect or live`);
const detPath = pathArg as DetectionPath;
const parsers = { scale: parseScale, provider: parseProvider, positiveInt: parsePositiveInt };
/**
 * Each path's own defaults, read from it rather than written here (they have moved: detect.model is
 * full-range while `pie-stream detect` keeps back): the detect CLI's with no flags, the live config's.
 */
const cliDefaults = detectOptionsFromFlags([], { output: cacheDir }, parsers);
const defaults = detPath === 'detect'
  ? { detector: cliDefaults.model ?? config.detect.model, pose: cliDefaults.pose ?? config.detect.pose }
  : { detector: config.detect.model, pose: config.detect.pose };
const detectorArg = arg('detector', defaults.detector)!;
if (!isFaceModel(detectorArg)) throw new Error(`--detector ${detectorArg}: use back, front or full-range`);
const detector: FaceModel = detectorArg;
const poseArg = arg('pose', defaults.pose)!;
const pose = FACE_POSES.find((p) => p === poseArg);
if (!pose) throw new Error(`--pose ${poseArg}: use ${FACE_POSES.join(' or ')}`);
/**
 * The live camera's frame rate: ffmpeg's fps filter at cameras[].fps is what feeds the denoiser
 * (camera-source.ts decodeOptions), default 10 (the default config's camera and the schema's default).
 */
const cameraFps = Number(arg('camera-fps', String(config.cameras[0]?.fps ?? 10)));
if (!(cameraFps >= FPS)) throw new Error(`--camera-fps ${cameraFps}: at least the detection rate ${FPS}`);
if (config.detect.fps !== FPS) console.warn(`note: the default config detects at ${config.detect.fps} fps; this bench at ${FPS}`);
/** --on (live path only): which frames the detector looks at; default the config's (detect.on). */
const detectOn: DetectOn = ((): DetectOn => {
  const on = DETECT_ON.find((x) => x === arg('on', config.detect.on));
  if (!on) throw new Error(`--on ${arg('on')}: use ${DETECT_ON.join(', ')}`);
  if (on !== config.detect.on && detPath !== 'live') throw new Error('--on is for --path live (pie-stream detect takes its own --on)');
  return on;
})();
const redetect = process.argv.includes('--redetect');
const outName = arg('out');
if (outName !== undefined && !/^[\w.-]+$/.test(outName)) throw new Error(`--out ${outName}: a file name under bench/results (letters, digits, . _ -), no folder`);
/** One camera: the denoiser's and the gate's state are per camera name. */
const CAMERA = 'cam';

/** The flags of `pie-stream detect --enhance --fps 5 --no-annotate --detector D --pose P`, checked by the CLI's own parser. */
// Every detection, unfiltered (the CLI's still gate and temporal rules off): the variants below apply their own.
const detectFlags = (output: string) => ({ output, enhance: true, fps: String(FPS), annotate: false, quiet: true, detector, pose, staticAfter: '0', confirm: 'off' }) as const;

interface Variant {
  readonly name: string;
  readonly about: string;
  /** The still gate (undefined: none). */
  readonly gate?: StillGateOptions;
  readonly confirm: ConfirmOptions;
  /** The chain before this change: the gate's dropped faces never reached confirmFaces (its fixture rule learnt from the kept ones only). */
  readonly oldChain?: true;
  /** Faces narrower than this many pixels of the frame dropped before the gate; default: the live path's detect.minFace (the detector applies it there), none on the detect path. */
  readonly minPx?: number;
  /** A per-camera face mask (cameras[].faceMask). Applied before the gate here, after it in the live path: the same faces reach confirmFaces, since marking keeps no state per face. */
  readonly mask?: readonly MaskRect[];
}

/** The IR clip's on-screen text as a user would mask it at setup: the date and time (top left) and
 * "Camera 01" (bottom right), each drawn around the text with ~25 px to spare (960×1088 frame). */
const IR_OSD_MASK: readonly MaskRect[] = [{ x: 0, y: 0.04, width: 0.33, height: 0.05 }, { x: 0.71, y: 0.88, width: 0.13, height: 0.04 }];

const DEFAULT_CONFIRM: ConfirmOptions = { ...CONFIRM_DEFAULTS };
const gateOf = (o: Partial<StillGateOptions> = {}): StillGateOptions => ({ afterS: CONFIRM_DEFAULTS.staticAfter, ...o });
/** The gate's rules before session 12 (no re-draw rule, the light not followed) and session 14's learning window. */
const S11_GATE = { refreshSpread: 0, followLight: false, learnFirstS: 0 } as const;
/** The gate as it was before (a new camera: nothing still for afterS), with the old chain. */
const old = (o: Partial<StillGateOptions> = {}): Pick<Variant, 'gate' | 'oldChain'> => ({ gate: gateOf({ startAs: 'changed', noiseFrom: 'raw', ...S11_GATE, ...o }), oldChain: true });
const VARIANTS: readonly Variant[] = [
  { name: 'none', about: 'no confirmation, no gate', confirm: { frames: 0, hits: 1 } },
  { name: '2of3', about: '2 of 3', confirm: { frames: 3, hits: 2 } },
  { name: '2of3+fix50', about: '2 of 3 + fixtures after 50 (no gate)', confirm: { frames: 3, hits: 2, fixtureAfter: 50 } },
  { name: 'old:gate10', about: 'gate 10 s alone, before', ...old(), confirm: { frames: 0, hits: 1 } },
  { name: 'old:2of3+gate10', about: '2 of 3 + gate 10 s, before', ...old(), confirm: { frames: 3, hits: 2 } },
  { name: 'old:default', about: '2 of 3 + fixtures after 50 + gate 10 s: the default before this change', ...old(), confirm: DEFAULT_CONFIRM },
  { name: 'old:fix150', about: '2 of 3 + fixtures after 150 + gate 10 s, before', ...old(), confirm: { ...DEFAULT_CONFIRM, fixtureAfter: 150 } },
  { name: 'old:gate5', about: '2 of 3 + fixtures after 50 + gate 5 s, before', ...old({ afterS: 5 }), confirm: DEFAULT_CONFIRM },
  { name: 'old:gate30', about: '2 of 3 + fixtures after 50 + gate 30 s, before', ...old({ afterS: 30 }), confirm: DEFAULT_CONFIRM },
  { name: 'old:3of5+fix25', about: '3 of 5 + fixtures after 25 + gate 10 s, before', ...old(), confirm: { frames: 5, hits: 3, fixtureAfter: 25 } },
  { name: 'old+start-still', about: 'the old default, a new camera\'s cells start still', gate: gateOf({ noiseFrom: 'raw', ...S11_GATE }), oldChain: true, confirm: DEFAULT_CONFIRM },
  { name: 'fixtures-learn-still', about: 'the old default, the fixture rule also learns from the faces the gate dropped', gate: gateOf({ startAs: 'changed', noiseFrom: 'raw', ...S11_GATE }), confirm: DEFAULT_CONFIRM },
  { name: 'session7', about: 'the default of session 7: cells start still, fixtures learnt from dropped faces too, noise from the raw quartile', gate: gateOf({ noiseFrom: 'raw', ...S11_GATE }), confirm: DEFAULT_CONFIRM },
  { name: 'session7+osd-mask', about: 'session 7 with the on-screen text masked', gate: gateOf({ noiseFrom: 'raw', ...S11_GATE }), confirm: DEFAULT_CONFIRM, mask: IR_OSD_MASK },
  { name: 'default', about: 'the default now: the gate\'s noise centred, re-draws of the whole picture only teach (session 12), also those over more than half the cells whose blocks keep their mean (session 13), the light followed (session 12), a new camera learns until it shows its noise, at most 5 s (session 14)', gate: gateOf(), confirm: DEFAULT_CONFIRM },
  { name: 'session13', about: 'session 13\'s default: a new camera marks change from its first frame (no learning window)', gate: gateOf({ learnFirstS: 0 }), confirm: DEFAULT_CONFIRM },
  { name: 'default+learn3', about: 'the default, learning for at most 3 s', gate: gateOf({ learnFirstS: 3 }), confirm: DEFAULT_CONFIRM },
  { name: 'default+learn10', about: 'the default, learning for at most 10 s', gate: gateOf({ learnFirstS: 10 }), confirm: DEFAULT_CONFIRM },
  { name: 'session12', about: 'session 12\'s default: a re-draw over more than half the cells is a cut', gate: gateOf({ redrawCuts: false, learnFirstS: 0 }), confirm: DEFAULT_CONFIRM },
  { name: 'session11', about: 'session 11\'s default: no re-draw rule, the light not followed', gate: gateOf(S11_GATE), confirm: DEFAULT_CONFIRM },
  { name: 'default-refresh', about: 'the default without the re-draw rule', gate: gateOf({ refreshSpread: 0 }), confirm: DEFAULT_CONFIRM },
  { name: 'default-light', about: 'the default with the light not followed (raw differences)', gate: gateOf({ followLight: false }), confirm: DEFAULT_CONFIRM },
  { name: 'default+refresh0.3', about: 'the default, a re-draw from 30% of the blocks', gate: gateOf({ refreshSpread: 0.3 }), confirm: DEFAULT_CONFIRM },
  { name: 'default+gate5', about: 'the default with staticAfter 5 s', gate: gateOf({ afterS: 5 }), confirm: DEFAULT_CONFIRM },
  { name: 'default+osd-mask', about: 'the default with the on-screen text masked (cameras[].faceMask)', gate: gateOf(), confirm: DEFAULT_CONFIRM, mask: IR_OSD_MASK },
  { name: 'default+3of5+fix25', about: 'the default with 3 of 5 and fixtures after 25', gate: gateOf(), confirm: { frames: 5, hits: 3, fixtureAfter: 25 } },
  { name: 'default-minFace', about: 'the default without a minimum face size (the live default before session 11)', gate: gateOf(), confirm: DEFAULT_CONFIRM, minPx: 0 },
  { name: 'default+min12', about: 'the default, faces under 12 px wide dropped first', gate: gateOf(), confirm: DEFAULT_CONFIRM, minPx: 12 },
  { name: 'default+min16', about: 'the default, faces under 16 px wide dropped first', gate: gateOf(), confirm: DEFAULT_CONFIRM, minPx: 16 },
  { name: 'default+min20', about: 'the default, faces under 20 px wide dropped first', gate: gateOf(), confirm: DEFAULT_CONFIRM, minPx: 20 },
];

/** Clip → every sampled frame's faces along the detect CLI's path, cached in a folder per detector and pose (runDetect names its files by the clip alone). */
async function detections(clip: string): Promise<VideoFacesJson> {
  const dir = path.join(cacheDir, `detect-${detector}-${pose}`);
  const opts = detectOptionsFromFlags([clip], detectFlags(dir), parsers);
  const stem = path.basename(clip, path.extname(clip));
  const json = path.join(dir, `${stem}.faces.json`), metaFile = path.join(dir, `${stem}.meta.json`);
  const st = fs.statSync(clip);
  // The rules after detection (off here) do not change what is cached: left out, so older caches stay valid.
  const meta = JSON.stringify({ clip: path.resolve(clip), size: st.size, mtimeMs: st.mtimeMs, opts: { ...opts, output: undefined, staticAfter: undefined, confirm: undefined } });
  if (!redetect && fs.existsSync(json) && fs.existsSync(metaFile) && fs.readFileSync(metaFile, 'utf8') === meta) {
    console.log(`${stem}: detections cached in ${path.relative(process.cwd(), json)} (--redetect to run the detector again)`);
  } else {
    fs.mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    const r = await runDetect(opts, (s) => console.log(`  ${s}`));
    if (r.failed.length) throw new Error(`detect failed: ${r.failed.map((f) => `${f.input}: ${f.message}`).join('; ')}`);
    fs.writeFileSync(metaFile, meta);
    const sec = (performance.now() - t0) / 1000;
    detectSeconds[stem] = Math.round(sec);
    console.log(`${stem}: detected in ${sec.toFixed(0)} s (contended CPU), cached`);
  }
  return JSON.parse(fs.readFileSync(json, 'utf8')) as VideoFacesJson;
}

/** Seconds the detection step took per clip in this run (absent: cached). */
const detectSeconds: Record<string, number> = {};

/** A clip along the live path: the sampled denoised frames (what the gate is fed) and their faces. */
interface LiveClip {
  readonly frames: RgbImage[];
  readonly faces: Face[][];
  /** Camera frames decoded (and denoised, enhanced). */
  readonly cameraFrames: number;
}

interface LiveFacesFile {
  readonly cameraFrames: number;
  readonly width: number;
  readonly height: number;
  readonly frames: ReadonlyArray<{ readonly index: number; readonly ms: number; readonly faces: Face[] }>;
}

/** sampleFps itself on one camera's ideal pts (the live operator keeps the first frame of each 1/fps slot): keep this frame? */
function sampler(fps: number): (ptsMs: number) => boolean {
  const feed = new Subject<{ camera: string; ptsMs: number }>();
  let kept = false;
  // Synchronous: next() runs the filter and this subscriber before it returns.
  feed.pipe(sampleFps(fps, { drop: () => {} })).subscribe(() => { kept = true; });
  return (ptsMs) => { kept = false; feed.next({ camera: CAMERA, ptsMs }); return kept; };
}

/**
 * Clip → the live path, cached under out/false-faces/live/: the sampled denoised frames as raw RGB
 * (<stem>.denoised.rgb, the same for every detector) and each detector's faces (<stem>.<detector>.<pose>.faces.json).
 * The pipeline is run whole when either is missing or stale: the detector needs the enhanced frames.
 */
async function liveDetections(clip: string): Promise<LiveClip> {
  const dir = path.join(cacheDir, 'live'), stem = path.basename(clip, path.extname(clip));
  const { width, height } = await probeMedia(clip);
  const st = fs.statSync(clip);
  const dn = denoiserOptions(config);
  if (!dn || dn.mode !== 'temporal') throw new Error('the default config does not denoise temporally: the live path measured here needs enhance.denoise: temporal');
  const modelKey = modelKeyOf(LiveEnhancers.modelOf(config, config.cameras[0]!));
  const en = enhancerOptions(config, modelKey), d = config.detect;
  const pipeline = { clip: path.resolve(clip), size: st.size, mtimeMs: st.mtimeMs, width, height, cameraFps, detectFps: FPS, denoiser: dn, enhancer: en, mono: config.enhance.mono, on: d.on };
  // --on other than the config's: the same denoised frames (their meta keeps the config's on), faces cached apart.
  const detOpts = { model: detector, threshold: d.threshold, tiling: d.tiling, upscale: d.upscale, pose, ...(detectOn === d.on ? {} : { on: detectOn }) };
  const onKey = detectOn === d.on ? '' : `.on-${detectOn}`;
  const framesMeta = JSON.stringify(pipeline), facesMeta = JSON.stringify({ ...pipeline, detector: detOpts });
  const rawFile = path.join(dir, `${stem}.denoised.rgb`), framesMetaFile = path.join(dir, `${stem}.denoised.meta.json`);
  const facesFile = path.join(dir, `${stem}.${detector}.${pose}${onKey}.faces.json`), facesMetaFile = path.join(dir, `${stem}.${detector}.${pose}${onKey}.meta.json`);
  const bytes = rgbBytes(width, height);
  const same = (file: string, meta: string): boolean => fs.existsSync(file) && fs.readFileSync(file, 'utf8') === meta;
  if (!redetect && same(framesMetaFile, framesMeta) && same(facesMetaFile, facesMeta) && fs.existsSync(rawFile) && fs.existsSync(facesFile)) {
    const j = JSON.parse(fs.readFileSync(facesFile, 'utf8')) as LiveFacesFile;
    if (fs.statSync(rawFile).size === j.frames.length * bytes) {
      const buf = fs.readFileSync(rawFile);
      console.log(`${stem}: live-path detections cached in ${path.relative(process.cwd(), facesFile)}, denoised frames in ${path.relative(process.cwd(), rawFile)} (--redetect to run again)`);
      return { frames: j.frames.map((_, i) => ({ width, height, data: new Uint8Array(buf.buffer, buf.byteOffset + i * bytes, bytes) })), faces: j.frames.map((f) => f.faces), cameraFrames: j.cameraFrames };
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  // The detector as the live detection worker opens it (LiveDetection.open), the enhancer and denoiser as eval --face-video does.
  const faceDetector = await FaceDetector.open({ model: detector, scoreThreshold: d.threshold, pose, provider: config.enhance.provider, ...(d.tiling ? (d.upscale > 1 ? { tiling: { upscale: d.upscale } } : {}) : { tiling: false }) });
  let enhancer: Enhancer | undefined, denoiser: Denoiser | undefined, fd: number | undefined;
  try {
    enhancer = await Enhancer.open(en);
    denoiser = await Denoiser.open(dn);
    console.log(`${stem}: live path, ${width}×${height} at ${cameraFps} fps (no ffmpeg denoiser): ${denoiser.describe()} (strength ${dn.strength}, global motion ${dn.globalMotion}); ${enhancer.describe()}; detector ${detector}${d.tiling ? ' tiled' : ''} ≥ ${d.threshold}, pose ${pose}, on ${detectOn} at ${FPS} fps`);
    const tone = new CameraTone(config.enhance.mono), keep = sampler(FPS);
    const frames: RgbImage[] = [], rows: Array<LiveFacesFile['frames'][number]> = [];
    const tmp = `${rawFile}.partial`;
    fd = fs.openSync(tmp, 'w');
    const p = await FfmpegProcess.start(decodeToRawArgs({ input: clip, fps: cameraFps }));
    let k = 0;
    for await (const data of rawFrames(p.stdout, bytes)) {
      const ptsMs = (k * 1000) / cameraFps, index = k++;
      // Every camera frame is denoised and enhanced: the default outputs show the enhanced stream, so
      // the live path enhances all frames and samples at detect.fps only after (app.ts wire()).
      const den = (await denoiser.denoise([{ camera: CAMERA, image: { width, height, data } }]))[0]!;
      const r = await enhancer.enhance([den], [tone.next()]);
      const change = tone.observe(r.tone[0]!);
      // As LiveEnhancers.toneObserved: an IR switch (not IR from the start) restarts the temporal state.
      if (change === 'mono-on' || change === 'mono-off') denoiser.reset(CAMERA);
      if (!keep(ptsMs)) continue;
      const faces = (await detectAlong(faceDetector, [{ raw: den, enhanced: r.frames[0]! }], { on: detectOn }))[0] ?? [];
      frames.push(den);
      rows.push({ index, ms: Math.round(ptsMs), faces });
      fs.writeSync(fd, den.data);
      if (rows.length % 25 === 0) console.log(`  ${stem}: ${rows.length} detections (${index + 1} camera frames), ${rows.reduce((n, r2) => n + r2.faces.length, 0)} faces, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const exit = await p.exited;
    if (exit.code !== 0) throw new Error(`decoding ${clip} failed: ${exit.stderrTail}`);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, rawFile);
    const file: LiveFacesFile = { cameraFrames: k, width, height, frames: rows };
    fs.writeFileSync(facesFile, `${JSON.stringify(file)}\n`);
    // Metas last: a run cut short leaves no cache that looks valid.
    fs.writeFileSync(framesMetaFile, framesMeta);
    fs.writeFileSync(facesMetaFile, facesMeta);
    const sec = (performance.now() - t0) / 1000;
    detectSeconds[stem] = Math.round(sec);
    console.log(`${stem}: live path run in ${sec.toFixed(0)} s (contended CPU): ${k} camera frames, ${rows.length} detections, cached`);
    return { frames, faces: rows.map((r2) => r2.faces), cameraFrames: k };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    await faceDetector.close();
    await enhancer?.close();
    await denoiser?.close();
  }
}

/**
 * How the detect path's gate frames are decoded: as the CLI feeds its still gate (gateDecode: no
 * video denoiser), or, with --gate-decode denoised, the detector's own decode (hqdn3d: the CLI
 * before session 13).
 */
const gateDecodeArg = arg('gate-decode', 'cli')!;
if (gateDecodeArg !== 'cli' && gateDecodeArg !== 'denoised') throw new Error(`--gate-decode ${gateDecodeArg}: use cli or denoised`);
const gateDenoise = gateDecodeArg === 'cli' ? (gateDecode(TEMPORAL_DENOISE_DEFAULT) ?? { denoise: TEMPORAL_DENOISE_DEFAULT }) : { denoise: TEMPORAL_DENOISE_DEFAULT };

/** The clip's sampled frames as the detect CLI decodes them for its still gate. */
async function decode(clip: string): Promise<RgbImage[]> {
  const frames: RgbImage[] = [];
  await decodeEach(clip, 1, (f) => { frames.push(f); });
  return frames;
}

/**
 * The clip decoded `passes` times in a row by ONE ffmpeg (-stream_loop, the temporal denoiser running
 * on across each seam, as a camera's decoder would), each sampled frame handed to `each`.
 */
async function decodeEach(clip: string, passes: number, each: (f: RgbImage, j: number) => void): Promise<number> {
  const { width, height } = await probeMedia(clip);
  const args = decodeToRawArgs({ input: clip, fps: FPS, ...gateDenoise });
  if (passes > 1) args.splice(args.indexOf('-i'), 0, '-stream_loop', String(passes - 1));
  const p = await FfmpegProcess.start(args);
  let j = 0;
  for await (const data of rawFrames(p.stdout, rgbBytes(width, height))) each({ width, height, data }, j++);
  const exit = await p.exited;
  if (exit.code !== 0) throw new Error(`decoding ${clip} failed: ${exit.stderrTail}`);
  return j;
}

/** Frame indices of a ping-pong replay: forward, backward, …, each turn without a repeated frame (no cut). */
function pingPong(n: number, passes: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < passes; p++) {
    const pass = Array.from({ length: n }, (_, i) => i);
    if (p % 2 === 1) pass.reverse();
    out.push(...(p > 0 ? pass.slice(1) : pass));
  }
  return out;
}

/** The still gate as the detection worker runs it: one camera, each frame with its faces → the faces, those on a still part marked. */
function gated(v: Variant): (f: RgbImage, ms: number, faces: readonly Face[]) => Face[] {
  const gate = v.gate ? new StillGate(v.gate) : undefined;
  // Marked, as the worker hands them to the live operator; the old chain dropped them there.
  return (f, ms, found) => {
    // The cached detections are before the size rule: it is applied here, as the detector would.
    const minPx = v.minPx ?? (detPath === 'live' ? config.detect.minFace : 0);
    const faces = outsideMask(found, f.width, f.height, v.mask).filter((x) => x.box.width >= minPx);
    return !gate ? faces : v.oldChain ? gate.filter('cam', f, ms, faces) : gate.mark('cam', f, ms, faces);
  };
}

/** The gate's output through confirmFaces (the live operator after the worker): the reported faces per detection. */
async function confirmed(kept: ReadonlyArray<readonly Face[]>, v: Variant): Promise<Face[][]> {
  const events: FaceEvent[] = kept.map((faces, j) => ({ camera: 'cam', seq: j, ts: Math.round((j * 1000) / FPS), width: 1, height: 1, faces }));
  const out = await lastValueFrom(from(events).pipe(confirmFaces(v.confirm), toArray()));
  return out.map((e) => [...e.faces]);
}

type Where = 'first pass' | 'seam' | 'rest';
interface Start { s: number; frame: number; box: Face['box']; score: number; where: Where }
interface Count { faces: number; appearances: number; perTenMin: number; firstPass: number; afterSeams: number; rest: number; minutes: number; starts: Start[] }

/** Appearances: a reported face with none near it in the previous detection; classed by where it starts. */
function count(reported: readonly Face[][], idx: readonly number[], pass: readonly number[]): Count {
  // Where each pass starts (a loop's seam, a ping-pong's turn).
  const starts = pass.flatMap((p, j) => (j > 0 && p !== pass[j - 1] ? [j] : []));
  const c: Count = { faces: 0, appearances: 0, perTenMin: 0, firstPass: 0, afterSeams: 0, rest: 0, minutes: reported.length / FPS / 60, starts: [] };
  for (let j = 0; j < reported.length; j++) {
    c.faces += reported[j]!.length;
    for (const f of reported[j]!) {
      if (j > 0 && reported[j - 1]!.some((b) => near(f.box, b.box))) continue;
      c.appearances++;
      const where: Where = pass[j] === 0 ? 'first pass' : starts.some((k) => j >= k && j < k + SEAM_S * FPS) ? 'seam' : 'rest';
      if (where === 'first pass') c.firstPass++;
      else if (where === 'seam') c.afterSeams++;
      else c.rest++;
      c.starts.push({ s: +(j / FPS).toFixed(1), frame: idx[j]!, box: f.box, score: f.score, where });
    }
  }
  c.perTenMin = +(c.appearances / c.minutes * 10).toFixed(1);
  return c;
}

const toFaces = (d: VideoFacesJson): Face[][] => d.frames.map((fr) => fr.faces.map((f) => ({ box: f.box, score: f.score, keypoints: f.keypoints })));

/** Nearest-neighbour crop of `side` px around (cx, cy), scaled to `cell`, brightened by `gain` (display only). */
function cropAt(img: RgbImage, cx: number, cy: number, side: number, cell: number, gain: number): RgbImage {
  const out = new Uint8Array(cell * cell * 3), x0 = Math.round(cx - side / 2), y0 = Math.round(cy - side / 2);
  for (let y = 0; y < cell; y++) {
    for (let x = 0; x < cell; x++) {
      const sx = x0 + Math.floor((x * side) / cell), sy = y0 + Math.floor((y * side) / cell);
      if (sx < 0 || sy < 0 || sx >= img.width || sy >= img.height) continue; // outside the frame: black
      for (let ch = 0; ch < 3; ch++) out[(y * cell + x) * 3 + ch] = Math.min(255, Math.round(img.data[(sy * img.width + sx) * 3 + ch]! * gain));
    }
  }
  return { width: cell, height: cell, data: out };
}

/**
 * The false faces a variant still reports on the ping-pong replay, one tile per (clip frame, place):
 * the whole frame with the box (left) and a crop of 4× the box around it (right), both 2× brightened,
 * labelled with the clip frame, where the appearance starts, its score and how often it appeared.
 */
async function writeCrops(file: string, starts: readonly Start[], frames: readonly RgbImage[], title: string): Promise<number> {
  const groups: Array<{ s: Start; n: number; wheres: Set<Where> }> = [];
  for (const st of starts) {
    const g = groups.find((x) => x.s.frame === st.frame && near(x.s.box, st.box));
    if (g) { g.n++; g.wheres.add(st.where); } else groups.push({ s: st, n: 1, wheres: new Set([st.where]) });
  }
  groups.sort((a, b) => a.s.frame - b.s.frame);
  const shown = groups.slice(0, 40);
  const f0 = frames[0]!, thumbW = 240, thumbH = Math.round((thumbW * f0.height) / f0.width), cell = thumbH, pad = 6, label = 18;
  const cols = 2, tileW = thumbW + cell + pad, tileH = label + thumbH + pad;
  const W = cols * tileW + pad, H = 28 + Math.ceil(shown.length / cols) * tileH + pad;
  const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}" font-family="sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#222"/>`, `<text x="${pad}" y="19" fill="#fff">${esc(title)}</text>`];
  for (const [i, g] of shown.entries()) {
    const img = frames[g.s.frame]!, b = g.s.box, x = pad + (i % cols) * tileW, y = 28 + Math.floor(i / cols) * tileH;
    const side = Math.max(48, 4 * Math.max(b.width, b.height)), cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    const thumb = cropAt(img, img.width / 2, img.height / 2, Math.max(img.width, img.height), Math.max(thumbW, thumbH), 2);
    const tPng = Buffer.from(await encodeImage(thumb, 'x.png')).toString('base64'), cPng = Buffer.from(await encodeImage(cropAt(img, cx, cy, side, cell, 2), 'x.png')).toString('base64');
    // The square thumbnail holds the frame centred; the frame's own box in it, scaled.
    const k = Math.max(thumbW, thumbH) / Math.max(img.width, img.height), ox = (Math.max(thumbW, thumbH) - img.width * k) / 2, oy = (Math.max(thumbW, thumbH) - img.height * k) / 2;
    parts.push(`<text x="${x}" y="${y + 13}" fill="#ff0">${esc(`frame ${g.s.frame}: ${[...g.wheres].join(', ')}; score ${g.s.score.toFixed(2)}; ${g.n}×; ${Math.round(b.width)} px`)}</text>`,
      `<svg x="${x}" y="${y + label}" width="${thumbW}" height="${thumbH}" viewBox="${ox} ${oy} ${img.width * k} ${img.height * k}"><image width="${Math.max(thumbW, thumbH)}" height="${Math.max(thumbW, thumbH)}" xlink:href="data:image/png;base64,${tPng}"/>`,
      `<rect x="${b.x * k + ox}" y="${b.y * k + oy}" width="${Math.max(3, b.width * k)}" height="${Math.max(3, b.height * k)}" fill="none" stroke="#0f0" stroke-width="1.5"/></svg>`,
      `<image x="${x + thumbW + 2}" y="${y + label}" width="${cell}" height="${cell}" xlink:href="data:image/png;base64,${cPng}"/>`,
      `<rect x="${x + thumbW + 2 + ((side - b.width) / 2) * (cell / side)}" y="${y + label + ((side - b.height) / 2) * (cell / side)}" width="${(b.width * cell) / side}" height="${(b.height * cell) / side}" fill="none" stroke="#0f0" stroke-width="1.5"/>`);
  }
  parts.push('</svg>');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeSvgPng(parts.join(''), file);
  return groups.length;
}

if (process.argv.includes('--list')) {
  for (const v of VARIANTS) console.log(`${v.name}: ${v.about}`);
  process.exit(0);
}
const wanted = arg('variants')?.split(',');
const variants = wanted ? VARIANTS.filter((v) => wanted.includes(v.name)) : VARIANTS;
if (wanted && variants.length !== wanted.length) throw new Error(`--variants: unknown ${wanted.filter((w) => !VARIANTS.some((v) => v.name === w)).join(', ')} (--list)`);
const cropsFile = arg('crops'), cropsVariant = arg('crops-variant', 'default')!;
if (cropsFile && !variants.some((v) => v.name === cropsVariant)) throw new Error(`--crops: the variant ${cropsVariant} is not in --variants (--crops-variant NAME)`);
for (const clip of [irClip, walkClip]) {
  if (!fs.existsSync(clip)) {
    console.error(`${clip} not found: this benchmark needs ../shared/data/video (or --ir/--walk FILE)`);
    process.exit(2);
  }
}
const m = machine();
console.log(`machine: ${describeMachine(m)}`);
const about = detPath === 'detect'
  ? `pie-stream detect --enhance --fps ${FPS} --detector ${detector} --pose ${pose} (runDetect, hqdn3d in the decoder, --static-after 0 --confirm off), cached; the gate fed ${gateDenoise.denoise ? 'the detector\'s decode (hqdn3d)' : 'the CLI\'s gate decode (no video denoiser)'}, looped by one ffmpeg -stream_loop`
  : `live path (embedded default config): decoded at the camera's ${cameraFps} fps with no ffmpeg denoiser, every frame through one camera's Denoiser and the live enhancer (tone state carried), sampled at ${FPS} fps by sampleFps, detectAlong on ${detectOn} (raw = the denoised frame), detector ${detector}, pose ${pose}, no gate, cached; the gate fed the sampled denoised frames; looped = the first pass's denoised frames replayed, each seam a hard cut of the denoised picture`;
console.log(`detection: ${about}\n`);
const tStart = performance.now();

/** One clip's detections and the frames its gate is fed (undefined: decode them as the detect CLI does). */
interface Source { readonly faces: Face[][]; readonly frames?: RgbImage[]; readonly cameraFrames?: number }
const sourceOf = async (clip: string): Promise<Source> => (detPath === 'live' ? liveDetections(clip) : { faces: toFaces(await detections(clip)) });
const irSrc = await sourceOf(irClip), walkSrc = await sourceOf(walkClip);
const tReplay = performance.now();
const results: Array<Record<string, unknown>> = [];
const facesPerPass: Record<string, number> = {};
let cropsWritten: string | undefined;
{
  const faces = irSrc.faces, n = faces.length;
  facesPerPass.ir = faces.flat().length;
  console.log(`\nIR clip, no people: ${n} detections a pass${irSrc.cameraFrames ? ` (${irSrc.cameraFrames} camera frames)` : ''}, ${faces.flat().length} faces found (${faces.filter((f) => f.length).length} detections with a face); ×${loops} as one camera`);
  const gates = variants.map(gated), loopKept: Face[][][] = variants.map(() => []), passOf: number[] = [], idxOf: number[] = [];
  const each = (f: RgbImage, j: number): void => {
    // The n-th frame of a pass is the detector's n-th (the IR clip is 64.83 s: a CLI pass of 324 sampled frames, and one more at the end of the loop).
    const t = j / FPS, pass = Math.floor(j / n), i = j % n;
    passOf.push(pass);
    idxOf.push(i);
    gates.forEach((g, k) => loopKept[k]!.push(g(f, Math.round(t * 1000), faces[i]!)));
  };
  let total: number;
  if (irSrc.frames) {
    // Live: the first pass's denoised frames again and again (one camera's denoiser is not run across the seams).
    total = n * loops;
    for (let j = 0; j < total; j++) each(irSrc.frames[j % n]!, j);
  } else {
    // Detect: one decoder through every seam, each variant's gate fed every frame in the same pass;
    // a frame's faces are the cached ones of the same frame of the clip.
    total = await decodeEach(irClip, loops, each);
  }
  // Ping-pong from the frames in memory (no cut to carry a decoder's state across).
  const frames = irSrc.frames ?? await decode(irClip);
  if (frames.length !== n) throw new Error(`${irClip}: ${frames.length} frames decoded, ${n} detected: the cache is stale (--redetect)`);
  const pp = pingPong(n, loops);
  const ppPass = pp.map((_, j) => (j < n ? 0 : 1 + Math.floor((j - n) / (n - 1))));
  console.log(`looped: ${total} detections (${(total / FPS / 60).toFixed(1)} min${irSrc.frames ? ', seams: hard cuts of the denoised picture' : ''}); ping-pong: ${pp.length}`);
  console.log('variant | loop: faces, appearances /10 min (first pass / after seams / rest) | ping-pong: same (first pass / after turns / rest)');
  for (const [k, v] of variants.entries()) {
    const loop = count(await confirmed(loopKept[k]!, v), idxOf, passOf);
    const g = gated(v);
    const ppc = count(await confirmed(pp.map((i, j) => g(frames[i]!, Math.round((j * 1000) / FPS), faces[i]!)), v), pp, ppPass);
    const row = (c: Count): string => `${c.faces}, ${c.appearances} = ${c.perTenMin} (${c.firstPass} / ${c.afterSeams} / ${c.rest})`;
    console.log(`${v.name.padEnd(20)} | ${row(loop)} | ${row(ppc)}`);
    results.push({ clip: 'ir', variant: v.name, about: v.about, gate: v.gate, confirm: v.confirm, loop, pingpong: ppc });
    if (cropsFile && v.name === cropsVariant) {
      const places = await writeCrops(cropsFile, ppc.starts, frames, `${detPath} path, ${detector}, pose ${pose}, variant ${v.name}: the ${ppc.appearances} appearances on the ping-pong replay (${ppc.perTenMin} per 10 min), frames 2× brightened`);
      cropsWritten = `${cropsFile} (${places} places)`;
    }
  }
  frames.length = 0;
}
{
  const frames = walkSrc.frames ?? await decode(walkClip);
  if (frames.length !== walkSrc.faces.length) throw new Error(`${walkClip}: ${frames.length} frames decoded, ${walkSrc.faces.length} detected: the cache is stale (--redetect)`);
  const faces = walkSrc.faces;
  facesPerPass.walk = faces.flat().length;
  console.log(`\nnight walk, one person, camera starts with the clip: ${frames.length} detections, ${faces.filter((f) => f.length).length} with a face found (${faces.flat().length} faces)`);
  console.log('variant | detections with a reported face | reported faces');
  for (const v of variants) {
    const g = gated({ ...v, mask: undefined }); // a mask is drawn for one camera's view: the IR clip's
    const rep = await confirmed(frames.map((f, j) => g(f, Math.round((j * 1000) / FPS), faces[j]!)), v);
    const withFace = rep.filter((f) => f.length > 0).length, total = rep.flat().length;
    console.log(`${v.name.padEnd(16)} | ${withFace} | ${total}`);
    results.push({ clip: 'walk', variant: v.name, about: v.about, detectionsWithFace: withFace, faces: total, reported: rep.map((f, i) => ({ frame: i, boxes: f.map((x) => x.box) })).filter((r) => r.boxes.length) });
  }
}
const seconds = { detect: detectSeconds, replay: Math.round((performance.now() - tReplay) / 1000), total: Math.round((performance.now() - tStart) / 1000) };
console.log(`\nrun time: ${seconds.total} s (detection ${Object.keys(detectSeconds).length ? Object.entries(detectSeconds).map(([k, s]) => `${k} ${s} s`).join(', ') : 'cached'}; replay ${seconds.replay} s)`);
if (cropsWritten) console.log(`crops: ${cropsWritten}`);
// The detect path with its defaults and every variant is the committed table; another path, detector
// or pose is named after them (any variants, listed in the file); a subset of the default's is a tuning run: scratch, under out/.
const named = detPath !== 'detect' || detector !== defaults.detector || pose !== defaults.pose || detectOn !== config.detect.on;
const out = outName ? path.join(here, 'results', `${outName}.json`) : named ? path.join(here, 'results', `false-faces-${detPath}-${detector}${pose === defaults.pose ? '' : `-pose-${pose}`}${detectOn === config.detect.on ? '' : `-on-${detectOn}`}.json`) : wanted ? path.join(cacheDir, 'partial.json') : path.join(here, 'results', 'false-faces.json');
const head = JSON.stringify({
  date: new Date().toISOString(), machine: m, clips: { ir: path.relative(process.cwd(), irClip), walk: path.relative(process.cwd(), walkClip) }, loops, fps: FPS, seamS: SEAM_S,
  path: detPath, detector, pose, ...(detPath === 'live' ? { cameraFps, cameraFrames: { ir: irSrc.cameraFrames, walk: walkSrc.cameraFrames } } : {}),
  variants: variants.map((v) => v.name), facesPerPass, seconds, detect: about,
}, null, 1);
// One line per row: the appearances and boxes would take tens of thousands of lines indented.
fs.writeFileSync(out, `${head.slice(0, -2)},\n "results": [\n${results.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}\n ]\n}\n`);
console.log(`\nwrote ${out}`);
