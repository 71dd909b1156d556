// The `pie-stream` command. Values are parsed and checked here, once; errors of the closed set
// print their message and fix, and map to exit codes (2 usage, 1 everything else).
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { PieError, isPieError, messageOf } from '../errors.js';
import { DEFAULT_MODEL_PATH } from '../enhance/enhancer.js';
import { MAX_STRENGTH } from '../enhance/graph.js';
import { DEFAULT_SATURATION } from '../enhance/tone.js';
import { parseColor, parseExposure, parseFraction, parseGlobalMotion, parseMono, parsePositiveInt, parsePreset, parseProvider, parseScale, parseStrength } from './args.js';
import { runDemo } from './demo.js';
import { runEnhance } from './enhance.js';
import { runEvalCommand, runSyntheticVideoCommand } from './eval.js';
import { DEFAULT_FACE_IMAGES, defaultSharedDir, faceEvalOptionsFromFlags, runFaceEval } from './eval-faces.js';
import { parseDetectorList, runSmallFaceEval } from './eval-small-faces.js';
import { runFaceVideoEval } from './eval-face-video.js';
import { runSmallFaceCameraEval } from './eval-small-faces-camera.js';
import { detectOptionsFromFlags, parsePose, runDetect, type DetectFlags } from './detect.js';
import { adaptCameras, runAdapt } from './adapt.js';
import { loadConfig, loadDefaultConfig } from '../config/load.js';
import { DEFAULT_DENOISE, DENOISE_SETTINGS, type DenoiseSetting } from '../config/schema.js';
import { CONFIRM_DEFAULTS } from '../pipeline/confirmFaces.js';
import { runTrain } from './train.js';
import { runLive } from './run.js';
import { addClusterCommands } from './cluster.js';
import { felzenszwalb, PIE_FELZENSZWALB } from '../regions/felzenszwalb.js';
import { DEFAULT_EXPOSURE_LEVEL, LOSS_NAMES, LOSS_PRESETS, PIE_WEIGHTS, type LossName } from '../train/step.js';

const log = (s: string): void => { process.stderr.write(`${s}\n`); };
const VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The end of an enhance or detect run: other files in folders skipped and counted; media that failed listed, exit 1. */
function reportRun(s: { readonly failed: ReadonlyArray<{ readonly message: string }>; readonly skipped: readonly string[] }): void {
  if (s.skipped.length) log(`skipped ${s.skipped.length} file(s) that are not images or videos: ${s.skipped.slice(0, 3).map((f) => path.basename(f)).join(', ')}${s.skipped.length > 3 ? ', …' : ''}`);
  if (!s.failed.length) return;
  log(`${s.failed.length} file(s) failed:`);
  for (const f of s.failed) log(`  - ${f.message.replace(/\n/g, '\n    ')}`);
  process.exitCode = 1;
}

/** A TCP port; 0 lets the system pick a free one. */
function parsePort(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new PieError('usage', `--port ${s} must be an integer from 0 to 65535`, 'e.g. --port 8080 (0 picks a free port)');
  return n;
}

function build(): Command {
  const program = new Command('pie-stream')
    .description('Low-light enhancement (PIE / DCE-Net) for cameras, images and videos on ONNX Runtime')
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError();

  program.command('enhance')
    .description('enhance images (jpg, png, bmp, webp), folders of them, and video files')
    .argument('<inputs...>', 'image files, video files or folders')
    .requiredOption('-o, --output <path>', 'output folder (or a file name for a single input)')
    .option('--model <file>', 'DCE-Net .onnx model', DEFAULT_MODEL_PATH)
    .option('--scale <s>', 'curve-estimation scale: 1 (full resolution), 1/2, 1/4, 1/8 …', '1')
    .option('--ep <provider>', 'execution provider: auto, cpu, webgpu, cuda', 'cpu')
    .option('--batch <n>', 'frames per inference batch', '4')
    .option('--strength <x>', `curve strength: 0 = off, 1 = as trained, up to ${MAX_STRENGTH}`, '1')
    .option('--exposure <x>', "auto (scene-adaptive: dark frames lifted, readable ones kept), a target mean brightness 0–1 (e.g. 0.45), or model (the model's own)", 'auto')
    .option('--color <form>', 'value (one curve on max(R,G,B): colour kept, grey stays grey) or rgb (per channel, as PIE)', 'value')
    .option('--no-noise-aware-gain', 'lift regions even where the signal is within the noise')
    .option('--saturation <x>', 'colour-preserving form: chroma scaled by gain^x, 0–1 (1 = colours lifted with the light, 0 = chroma kept)', String(DEFAULT_SATURATION))
    .option('--mono <mode>', 'monochrome (IR) output: auto (videos: detected with hysteresis), on (luminance only) or off', 'auto')
    .option('--threads <n>', 'CPU threads for inference (default: all cores)')
    .option('--denoise <mode>', 'before the curves: temporal (videos: static pixels averaged over frames; images: spatial), spatial, or off', DEFAULT_DENOISE)
    .option('--denoise-strength <x>', 'spatial smoothing in units of the measured noise: 0 (none) to 16', '2')
    .option('-q, --quiet', 'no progress bar')
    .action(async (inputs: string[], opts: { output: string; model: string; scale: string; ep: string; batch: string; strength: string; exposure: string; color: string; noiseAwareGain: boolean; saturation: string; mono: string; threads?: string; denoise: string; denoiseStrength: string; quiet?: boolean }) => {
      const strength = parseStrength(opts.strength);
      if (!(DENOISE_SETTINGS as readonly string[]).includes(opts.denoise)) throw new PieError('usage', `--denoise ${opts.denoise} is not off, spatial or temporal`, 'e.g. --denoise temporal');
      const denoiseStrength = Number(opts.denoiseStrength);
      if (!(denoiseStrength >= 0 && denoiseStrength <= 16)) throw new PieError('usage', `--denoise-strength ${opts.denoiseStrength} must be from 0 to 16`, 'e.g. --denoise-strength 2');
      const summary = await runEnhance({
        denoise: opts.denoise as DenoiseSetting, denoiseStrength,
        inputs, output: opts.output, modelPath: opts.model, strength, exposure: parseExposure(opts.exposure),
        form: parseColor(opts.color), noiseAwareGain: opts.noiseAwareGain, mono: parseMono(opts.mono), saturation: parseFraction('--saturation', opts.saturation),
        downscale: parseScale(opts.scale), provider: parseProvider(opts.ep),
        batch: parsePositiveInt('--batch', opts.batch, 64),
        ...(opts.threads ? { threads: parsePositiveInt('--threads', opts.threads, 256) } : {}),
        quiet: Boolean(opts.quiet),
      }, log);
      log(`enhanced ${summary.done.length} file(s) into ${opts.output}`);
      reportRun(summary);
    });

  const train = program.command('train')
    .description('train PIE (DCE-Net) from unpaired low-light inputs and normal-light positives')
    .requiredOption('--inputs <dir>', 'low-light images (unpaired)')
    .option('--positives <dir>', 'normal-light images (unpaired; BoC negatives are made from them); needed by the contrastive and triplet terms')
    .requiredOption('--out <file>', 'the model to write (.onnx); log, plot and checkpoint go beside it')
    .option('--steps <n>', 'training steps (the official schedule: 14000)', '14000')
    .option('--crop <px>', 'square crop size', '256')
    .option('--batch <n>', 'low-light crops per step', '2')
    .option('--lr <x>', 'Adam learning rate', '1e-4')
    .option('--weight-decay <x>', "Adam's L2 weight decay (PIE: 1e-4; it kills channels whose ReLU stops firing)", '1e-4')
    .option('--seed <n>', 'seed for crops, flips, negatives and initial weights', '1')
    .option('--features <name|file>', 'feature network for the contrastive and perceptual terms: blazeface (shipped), a SqueezeNet 1.1 features ONNX, or none', 'blazeface')
    .option('--init <model>', 'start from this DCE-Net model instead of random weights')
    .option('--resume', 'continue from the checkpoint beside --out')
    .option('--checkpoint-every <n>', 'steps between checkpoints', '500')
    .option('--ep <provider>', 'execution provider', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--preset <name>', `loss weights: ${Object.keys(LOSS_PRESETS).join(', ')} (pie = the official weights; pie-exposure adds Zero-DCE's exposure term; zero-dce = Zero-DCE's losses only); --w-* flags override single terms`, 'pie')
    .option('--exposure-level <x>', 'gray level the exposure term pulls 16×16 patches to', String(DEFAULT_EXPOSURE_LEVEL))
    .option('--apply <form>', 'how curves are applied while training: value (one curve on max(R,G,B), colour kept, as the enhancer runs) or rgb (per channel, as PIE)', 'value');
  for (const n of LOSS_NAMES) train.option(`--w-${n} <x>`, `weight of the ${n} loss (default: the preset's, pie: ${PIE_WEIGHTS[n]})`);
  train.action(async (opts: Record<string, string | boolean | undefined>) => {
    const str = (k: string): string => String(opts[k]);
    const num = (k: string, flag: string): number => {
      const v = Number(opts[k]);
      if (!Number.isFinite(v) || v < 0) throw new PieError('usage', `${flag} ${String(opts[k])} is not a non-negative number`, `e.g. ${flag} 1`);
      return v;
    };
    const base = parsePreset(str('preset'));
    const weights = Object.fromEntries(LOSS_NAMES.map((n) => {
      const key = `w${n[0]!.toUpperCase()}${n.slice(1)}`;
      return [n, opts[key] === undefined ? base[n] : num(key, `--w-${n}`)];
    })) as Record<LossName, number>;
    const exposureLevel = num('exposureLevel', '--exposure-level');
    if (!(exposureLevel > 0 && exposureLevel < 1)) throw new PieError('usage', `--exposure-level ${exposureLevel} must be between 0 and 1`, 'e.g. --exposure-level 0.6');
    await runTrain({
      inputs: str('inputs'), ...(opts.positives ? { positives: str('positives') } : {}), out: str('out'), exposureLevel,
      steps: parsePositiveInt('--steps', str('steps'), 10_000_000), crop: parsePositiveInt('--crop', str('crop'), 2048),
      batch: parsePositiveInt('--batch', str('batch'), 64), lr: num('lr', '--lr'), weightDecay: num('weightDecay', '--weight-decay'),
      seed: parsePositiveInt('--seed', str('seed'), 2 ** 31), features: str('features'), weights, ...(opts.init ? { init: str('init') } : {}), resume: Boolean(opts.resume),
      provider: parseProvider(str('ep')), checkpointEvery: parsePositiveInt('--checkpoint-every', str('checkpointEvery'), 10_000_000),
      segment: (img) => felzenszwalb(img, PIE_FELZENSZWALB), apply: parseColor(str('apply'), '--apply'),
      ...(opts.threads ? { threads: parsePositiveInt('--threads', str('threads'), 256) } : {}),
    }, log);
  });

  const adaptCmd = program.command('adapt')
    .description("fine-tune the base model for one camera from its own footage (no labels); keeps the camera's model if validation got worse")
    .requiredOption('--camera <name>', 'the camera (names the model: <out-dir>/<name>.onnx and its card <name>.md)')
    .requiredOption('--night <sources...>', "the camera's night footage: video files, image folders, or camera:<name> to record a configured camera live")
    .option('--day <sources...>', 'daytime footage of the same camera: the positives (videos, folders, or camera:<name>)', [])
    .option('-c, --config <file>', 'the config whose cameras camera:<name> names (default: config/default.yaml); with a cluster: section, the cluster\'s cameras, and an accepted model is published to the cluster')
    .option('--minutes <x>', 'how long to record each camera:<name> source', '5')
    .option('--positives <dir>', 'a generic normal-light folder, when there is no daytime footage')
    .option('--base <model>', 'the model to start from', 'models/pie-base.onnx')
    .option('--out-dir <dir>', 'where the camera models go', 'models/cameras')
    .option('--work-dir <dir>', 'scratch space for extracted frames', 'out/adapt')
    .option('--steps <n>', 'fine-tuning steps', '300')
    .option('--crop <px>', 'square crop size', '128')
    .option('--batch <n>', 'crops per step', '4')
    .option('--lr <x>', 'Adam learning rate', '1e-4')
    .option('--seed <n>', 'seed', '1')
    .option('--sample-fps <x>', 'frames per second taken from videos', '1')
    .option('--max-frames <n>', 'at most this many frames per source', '400')
    .option('--holdout <x>', 'fraction of night frames held out for validation', '0.2')
    .option('--features <name|file>', 'feature network (as for train)', 'blazeface')
    .option('--preset <name>', 'loss weights (as for train)', 'pie-exposure')
    .option('--exposure-level <x>', 'gray level of the exposure term', String(DEFAULT_EXPOSURE_LEVEL))
    .option('--threads <n>', 'CPU threads')
    .option('-q, --quiet', 'no progress bar');
  adaptCmd.action(async (opts: Record<string, string | string[] | boolean | undefined>) => {
    const str = (k: string): string => String(opts[k]);
    const num = (k: string, flag: string, lo: number, hi: number): number => {
      const v = Number(opts[k]);
      if (!(v > lo && v < hi)) throw new PieError('usage', `${flag} ${str(k)} must be between ${lo} and ${hi}`, `see pie-stream adapt --help`);
      return v;
    };
    const config = opts.config ? loadConfig(str('config')) : undefined;
    const live = [...(opts.night as string[]), ...(opts.day as string[])].some((x) => x.startsWith('camera:'));
    await runAdapt({
      camera: str('camera'), base: str('base'), night: opts.night as string[], day: opts.day as string[], ...(opts.positives ? { positives: str('positives') } : {}),
      outDir: str('outDir'), workDir: str('workDir'), steps: parsePositiveInt('--steps', str('steps'), 1_000_000), crop: parsePositiveInt('--crop', str('crop'), 2048),
      batch: parsePositiveInt('--batch', str('batch'), 64), lr: num('lr', '--lr', 0, 1), seed: parsePositiveInt('--seed', str('seed'), 2 ** 31),
      sampleFps: num('sampleFps', '--sample-fps', 0, 121), maxFrames: parsePositiveInt('--max-frames', str('maxFrames'), 1_000_000), holdout: num('holdout', '--holdout', 0, 0.5),
      weights: parsePreset(str('preset')), exposureLevel: num('exposureLevel', '--exposure-level', 0, 1), features: str('features'),
      segment: (img) => felzenszwalb(img, PIE_FELZENSZWALB), ...(opts.threads ? { threads: parsePositiveInt('--threads', str('threads'), 256) } : {}), quiet: Boolean(opts.quiet),
      ...(live ? { cameras: await adaptCameras(config ?? loadDefaultConfig()), recordSeconds: 60 * num('minutes', '--minutes', 0, 1440) } : {}),
      ...(config?.cluster ? { cluster: config.cluster } : {}),
    }, log);
  });

  program.command('detect')
    .description('find faces (BlazeFace) in images, folders of them and videos: <name>.faces.json and an annotated copy per input')
    .argument('<inputs...>', 'image files, video files or folders')
    .requiredOption('-o, --output <dir>', 'output folder')
    .option('--enhance', 'enhance first; detect on the raw and enhanced frames, fused (see --on)')
    .option('--model <file>', 'DCE-Net .onnx model for --enhance', DEFAULT_MODEL_PATH)
    .option('--scale <s>', 'curve-estimation scale for --enhance', '1/4')
    .option('--strength <x>', `curve strength for --enhance: 0 to ${MAX_STRENGTH}`, '1')
    .option('--on <frames>', 'detect on raw, enhanced or fused frames (default: fused with --enhance, else raw)')
    .option('--detector <model>', 'face detector: back (BlazeFace 256²; the default here: fewest false faces on this path), full-range (MediaPipe 192², distant faces; the live default) or front (close faces, 128²)', 'back')
    .option('--no-tiling', 'whole frame only: no native-resolution tiles (much faster, misses small faces)')
    .option('--upscale <n>', 'tiles scaled up n times before the detector: 1 (native) or 2 (faces under ~20 px; 4× the model runs)', '1')
    .option('--threshold <x>', 'minimum face score', '0.5')
    .option('--pose <pose>', 'frontal (faces seen from the front: their keypoints must sit as a face\'s; far fewer false faces) or any (every detection, profiles too)', 'frontal')
    .option('--min-face <px>', 'faces narrower than px pixels of the input are not reported (the live path\'s detect.minFace is 12)', '0')
    .option('--denoise <mode>', 'smoothing before detection, as strong as the noise calls for: auto (photos: BM3D; video frames: a box blur) or none', 'auto')
    .option('--video-denoise <filter>', 'temporal denoiser in the video decoder: hqdn3d, atadenoise, tmix (static cameras) or none', 'hqdn3d')
    .option('--fps <n>', 'frames per second taken from videos', '5')
    .option('--no-annotate', 'JSON only, no annotated images or videos')
    .option('--static-after <s>', 'videos: hold back faces on a part of the view unchanged for s seconds, as the live path does (detect.confirm.staticAfter); 0 = off', String(CONFIRM_DEFAULTS.staticAfter))
    .option('--confirm <rule>', 'videos: live (a face reported once seen in 2 of the last 3 detections near there, and not where one sat still for 50: the live path\'s rules), H/F (seen in H of the last F), or off (every detection)', 'live')
    .option('--fixture-after <n>', `videos: detections at one place after which faces there are held back as a fixture (default ${CONFIRM_DEFAULTS.fixtureAfter}; 0 = never)`)
    .option('--ep <provider>', 'execution provider: auto, cpu, webgpu, cuda', 'cpu')
    .option('--threads <n>', 'CPU threads for inference (default: all cores)')
    .option('--batch <n>', 'video frames per batch', '4')
    .option('-q, --quiet', 'no progress bar')
    .action(async (inputs: string[], opts: DetectFlags) => {
      const summary = await runDetect(detectOptionsFromFlags(inputs, opts, { scale: parseScale, provider: parseProvider, positiveInt: parsePositiveInt }), log);
      log(`${summary.done.reduce((n, d) => n + d.faces, 0)} face(s) in ${summary.done.length} file(s) into ${opts.output}`);
      reportRun(summary);
    });

  program.command('eval')
    .description('compare enhancers (models, built-in baselines, commands) on real low-light photos, synthetic night and videos')
    .requiredOption('-o, --out <dir>', 'where report.md, report.json and the PNG grids go')
    .option('--enhancer <spec...>', 'identity, gamma, clahe, [name=]model.onnx[,exposure=auto|model|0.45][,color=value|rgb][,nag=on|off][,scale=1/4][,strength=1], [name=]published.onnx,raw (any input→enhanced ONNX model as exported, e.g. ../shared/models/peers), or [name=]cmd:"tool {in} {out}"', ['identity', 'gamma', 'clahe', DEFAULT_MODEL_PATH])
    .option('--images <dir...>', 'real low-light photos (no reference)', [])
    .option('--synthetic <dir...>', 'normal-light photos, darkened by the physical model at each full well (PSNR/SSIM against them)', [])
    .option('--noharm <dir...>', 'normal-light photos run as they are and scored against themselves (an enhancer should leave them nearly unchanged)', [])
    .option('--video <file...>', 'static-camera clips (flicker)', [])
    .option('--full-wells <list>', 'photons at full well for the synthetic night', '100,300,1000')
    .option('--scale <s>', 'curve-estimation scale for models', '1')
    .option('--exposure <x>', "models' exposure: auto (scene-adaptive, the default), model (each model's own) or a target mean brightness (per model: ,exposure=x)")
    .option('--limit <n>', 'at most n images per folder')
    .option('--video-seconds <s>', 'seconds of each video', '6')
    .option('--seed <n>', 'seed of the synthetic noise', '1')
    .option('--threads <n>', 'CPU threads for models')
    .option('--faces [dirs...]', 'face detection on synthetic night instead: normal-light photos with faces (default ../shared/data/faces/face-api-js/images); recall, precision and AP50 of BlazeFace on raw, each .onnx enhancer and gamma, smoothed and fused; writes faces.json and faces.md in --out')
    .option('--denoise <name>', 'with --faces: smooth (default: the box blur), still (the BM3D rule pie-stream detect applies to photos), hqdn3d, nlmeans or none')
    .option('--detector <model>', 'with --faces: back (default), front or full-range; with --small a list, the first is the main one (e.g. back,full-range)')
    .option('--upscale <n>', 'with --faces: 2 for 2× upscaled tiles (default 1)')
    .option('--pose <pose>', 'with --faces or --face-video: frontal (the default: faces seen from the front only) or any (every detection)')
    .option('--small', 'with --faces: the small-face set (faces shrunk to 10–40 px, by size bucket, tune and held-out photos); writes small-faces.md/.json in --out')
    .option('--camera [frames]', 'with --faces --small: each canvas held as a fixed night camera for this many frames (default 40), fresh noise every frame, through the live path (temporal denoiser, enhancer, fused detection) and the stills paths; writes small-faces-camera.md/.json and a grid in --out')
    .option('--from-frame <n>', 'with --camera: score the detections from this clip frame on (default 10: the denoiser\'s first second is shown apart)')
    .option('--face-video [dir]', 'face recall on dark video instead (issue 12): slow pan/zoom clips of labelled group photos (default ../shared/data/faces/face-api-js/images), darkened at each full well; raw, smoothed, enhanced, fused, and behind the temporal denoiser, with the live defaults; writes face-video.md/.json and a grid in --out')
    .option('--synthetic-video <clip>', 'night video with ground truth instead: darken a normal-light fixed-camera clip frame by frame; each model per frame, behind the temporal denoiser and behind ffmpeg hqdn3d/atadenoise; writes synthetic-video.md/.json and a grid in --out')
    .option('--peers <files...>', 'with --synthetic-video: peer models (input "input" → "enhanced"), e.g. ../shared/models/peers/*.onnx', [])
    .option('--video-width <px>', 'videos are scaled to this width (default 480 with --synthetic-video, else 640)')
    .option('--denoise-strength <x>', 'with --synthetic-video: spatial strength of the temporal denoiser (0 = temporal only)')
    .option('--global-motion <mode>', 'with --face-video or --synthetic-video: what the temporal denoiser does when the view moves: shift (the default: its state follows the pan/zoom), reset, or off (the per-pixel test alone)')
    .option('-q, --quiet', 'no progress bar')
    .action(async (opts: { out: string; enhancer: string[]; images: string[]; synthetic: string[]; noharm: string[]; video: string[]; fullWells: string; scale: string; exposure?: string; limit?: string; videoSeconds: string; seed: string; threads?: string; quiet?: boolean; faces?: string[] | true; small?: boolean; denoise?: string; detector?: string; upscale?: string; syntheticVideo?: string; peers: string[]; videoWidth?: string; denoiseStrength?: string; faceVideo?: string | true; globalMotion?: string; camera?: string | true; fromFrame?: string; pose?: string }) => {
      const globalMotion = opts.globalMotion === undefined ? {} : { globalMotion: parseGlobalMotion(opts.globalMotion) };
      if (opts.faceVideo) {
        await runFaceVideoEval({
          images: opts.faceVideo === true ? path.join(defaultSharedDir(), DEFAULT_FACE_IMAGES) : opts.faceVideo,
          fullWells: opts.fullWells.split(',').map((w) => parsePositiveInt('--full-wells', w.trim(), 1_000_000)),
          seed: parsePositiveInt('--seed', opts.seed, 2 ** 31),
          ...(opts.detector ? { detector: parseDetectorList(opts.detector)[0]! } : {}), ...(opts.pose ? { pose: parsePose(opts.pose) } : {}),
          ...(opts.threads ? { threads: parsePositiveInt('--threads', opts.threads, 256) } : {}), outDir: opts.out, quiet: Boolean(opts.quiet), ...globalMotion,
        }, log);
        return;
      }
      if (opts.syntheticVideo) {
        const strength = opts.denoiseStrength === undefined ? undefined : Number(opts.denoiseStrength);
        if (strength !== undefined && !(strength >= 0 && strength <= 16)) throw new PieError('usage', `--denoise-strength ${opts.denoiseStrength} must be from 0 to 16`, 'e.g. --denoise-strength 2');
        await runSyntheticVideoCommand({
          clip: opts.syntheticVideo, out: opts.out, enhancers: opts.enhancer, peers: opts.peers,
          fullWells: opts.fullWells.split(',').map((w) => parsePositiveInt('--full-wells', w.trim(), 1_000_000)),
          seed: parsePositiveInt('--seed', opts.seed, 2 ** 31), seconds: parsePositiveInt('--video-seconds', opts.videoSeconds, 3600),
          width: parsePositiveInt('--video-width', opts.videoWidth ?? '480', 8192), downscale: parseScale(opts.scale),
          ...(opts.exposure ? { exposure: parseExposure(opts.exposure) } : {}),
          ...(strength !== undefined ? { denoiseStrength: strength } : {}), ...globalMotion,
          ...(opts.threads ? { threads: parsePositiveInt('--threads', opts.threads, 256) } : {}), quiet: Boolean(opts.quiet),
        }, log);
        return;
      }
      if (opts.faces && opts.small && opts.camera) {
        const f = faceEvalOptionsFromFlags({ ...opts, faces: opts.faces, detector: opts.detector?.split(',')[0] }, { scale: parseScale, positiveInt: parsePositiveInt });
        await runSmallFaceCameraEval({
          images: f.images, ...(opts.detector ? { detectors: parseDetectorList(opts.detector) } : {}), fullWells: f.fullWells ?? [100, 300, 1000], ...(f.pose ? { pose: f.pose } : {}),
          ...(f.seed ? { seed: f.seed } : {}), ...(f.threads ? { threads: f.threads } : {}),
          ...(opts.limit ? { limit: parsePositiveInt('--limit', opts.limit, 1_000_000) } : {}),
          ...(opts.camera !== true ? { clipFrames: parsePositiveInt('--camera', opts.camera, 10_000) } : {}),
          ...(opts.fromFrame !== undefined ? { fromFrame: parseFrameIndex(opts.fromFrame) } : {}),
          outDir: opts.out, quiet: Boolean(opts.quiet),
        }, log);
        return;
      }
      if (opts.camera) throw new PieError('usage', '--camera is a mode of the small-face eval', 'use it as eval --faces --small --camera [frames]');
      if (opts.faces && opts.small) {
        const f = faceEvalOptionsFromFlags({ ...opts, faces: opts.faces, detector: opts.detector?.split(',')[0] }, { scale: parseScale, positiveInt: parsePositiveInt });
        await runSmallFaceEval({
          images: f.images, detectors: parseDetectorList(opts.detector ?? 'back'), fullWells: f.fullWells ?? [100, 300, 1000], ...(f.downscale ? { downscale: f.downscale } : {}), ...(f.pose ? { pose: f.pose } : {}),
          ...(f.seed ? { seed: f.seed } : {}), ...(f.threads ? { threads: f.threads } : {}),
          ...(opts.limit ? { limit: parsePositiveInt('--limit', opts.limit, 1_000_000) } : {}),
          ...(opts.enhancer.find((e) => e.endsWith('.onnx')) ? { model: opts.enhancer.find((e) => e.endsWith('.onnx'))! } : {}),
          outDir: opts.out, quiet: Boolean(opts.quiet),
        }, log);
        return;
      }
      if (opts.faces) {
        await runFaceEval(faceEvalOptionsFromFlags({ ...opts, faces: opts.faces }, { scale: parseScale, positiveInt: parsePositiveInt }), log);
        return;
      }
      const wells = opts.fullWells.split(',').map((w) => parsePositiveInt('--full-wells', w.trim(), 1_000_000));
      await runEvalCommand({
        enhancers: opts.enhancer, real: opts.images, synthetic: opts.synthetic, noharm: opts.noharm, videos: opts.video, out: opts.out, fullWells: wells,
        seed: parsePositiveInt('--seed', opts.seed, 2 ** 31), downscale: parseScale(opts.scale),
        ...(opts.exposure ? { exposure: parseExposure(opts.exposure) } : {}),
        ...(opts.limit ? { limit: parsePositiveInt('--limit', opts.limit, 1_000_000) } : {}),
        videoSeconds: parsePositiveInt('--video-seconds', opts.videoSeconds, 3600),
        ...(opts.videoWidth ? { videoWidth: parsePositiveInt('--video-width', opts.videoWidth, 8192) } : {}),
        ...(opts.threads ? { threads: parsePositiveInt('--threads', opts.threads, 256) } : {}), quiet: Boolean(opts.quiet),
      }, log);
    });

  program.command('run')
    .description('run the live pipeline: cameras → enhancement → HLS and WebSocket (default: a synthetic night camera)')
    .option('-c, --config <file>', 'YAML config (see config/example.yaml); default: config/default.yaml')
    .option('-p, --port <n>', "listen on this port instead of the config's server.port (0 picks a free one)")
    .option('--host <address>', "listen on this address instead of the config's server.host (beyond loopback needs server.token)")
    .action(async (opts: { config?: string; port?: string; host?: string }) => {
      const app = await runLive(opts.config, log, { ...(opts.port !== undefined ? { port: parsePort(opts.port) } : {}), ...(opts.host !== undefined ? { host: opts.host } : {}) });
      await new Promise<void>((resolve) => {
        const stop = (): void => { log('stopping…'); resolve(); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // A closed terminal: stop cleanly too (ffmpeg children and the scratch folder).
        process.once('SIGHUP', stop);
      });
      await app.close();
    });

  addClusterCommands(program, log);

  program.command('demo')
    .description('generate a dark synthetic clip and enhance it (no input needed)')
    .option('-o, --output <dir>', 'where to write the clips and the still', 'out/demo')
    .option('--scale <s>', 'curve-estimation scale', '1/4')
    .option('--ep <provider>', 'execution provider', 'cpu')
    .option('--model <file>', 'DCE-Net .onnx model', DEFAULT_MODEL_PATH)
    .action(async (opts: { output: string; scale: string; ep: string; model: string }) => {
      const files = await runDemo({ outDir: opts.output, downscale: parseScale(opts.scale), provider: parseProvider(opts.ep), modelPath: opts.model }, log);
      log('open these:');
      for (const f of files) log(`  ${f}`);
    });

  return program;
}

/** --from-frame: a clip frame index, 0 included. */
function parseFrameIndex(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 10_000) throw new PieError('usage', `--from-frame ${s} must be an integer from 0 to 10000`, 'e.g. --from-frame 10 (score from the second second of a 10 fps clip)');
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await build().parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander printed the message
    if (isPieError(e)) {
      log(`error: ${e.message}`);
      return e.kind === 'usage' ? 2 : 1;
    }
    log(`error: ${messageOf(e)}`);
    return 1;
  }
}

