// `pie-stream enhance <inputs…> -o <out>`: images, folders of images and videos through the
// enhancer. A folder run goes on past a bad file and lists the failures at the end; an input is
// never overwritten; outputs are written atomically.
import fs from 'node:fs';
import path from 'node:path';
import { Enhancer } from '../enhance/enhancer.js';
import { checkOutputs, expandInputs, type InputFailure } from './inputs.js';
import type { MonoMode } from '../enhance/camera-tone.js';
import type { ProviderChoice } from '../enhance/session.js';
import type { CurveForm, ExposureSetting } from '../enhance/tone.js';
import { enhanceVideo, isVideoPath } from '../enhance/video-file.js';
import { PieError, messageOf } from '../errors.js';
import { DEFAULT_DENOISE, type DenoiseSetting } from '../config/schema.js';
import { Denoiser } from '../denoise/denoiser.js';
import type { DenoiseMode } from '../denoise/graph.js';
import { imageSize, isImagePath, readImage, writeImage } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { Progress } from './progress.js';

export interface EnhanceCommandOptions {
  readonly inputs: readonly string[];
  readonly output: string;
  readonly modelPath?: string;
  readonly downscale: number;
  readonly provider: ProviderChoice;
  readonly batch: number;
  readonly strength?: number;
  readonly exposure?: ExposureSetting;
  readonly form?: CurveForm;
  readonly noiseAwareGain?: boolean;
  readonly saturation?: number;
  /** Monochrome output: 'on' for every input; 'auto' detects it in videos (camera-tone.ts). */
  readonly mono?: MonoMode;
  readonly threads?: number;
  /** Before the curves: videos temporal (state carried frame to frame) or spatial, images spatial; 'off' = none. */
  readonly denoise?: DenoiseSetting;
  readonly denoiseStrength?: number;
  readonly quiet?: boolean;
}

export interface Job { readonly kind: 'image' | 'video'; readonly input: string; readonly output: string }
export type Failure = InputFailure;
export interface EnhanceSummary { readonly done: readonly Job[]; readonly failed: readonly Failure[]; readonly skipped: readonly string[] }

function kindOf(file: string): Job['kind'] | undefined {
  if (isImagePath(file)) return 'image';
  if (isVideoPath(file)) return 'video';
  return undefined;
}

/** A video keeps its container when we can write it, else becomes .mp4. */
function outputName(kind: Job['kind'], file: string): string {
  const base = path.basename(file);
  if (kind === 'image') return base;
  const ext = path.extname(base).toLowerCase();
  return ['.mp4', '.mkv', '.mov', '.m4v'].includes(ext) ? base : `${path.basename(base, path.extname(base))}.mp4`;
}

/**
 * Turns the command line into jobs. Unreadable inputs become failures (a run over many inputs
 * goes on); a plan that would overwrite an input is refused whole.
 */
export function planJobs(inputs: readonly string[], output: string): { jobs: Job[]; failed: Failure[]; skipped: string[] } {
  const jobs: Job[] = [];
  const failed: Failure[] = [];
  const single = inputs.length === 1 && fs.existsSync(inputs[0]!) && fs.statSync(inputs[0]!).isFile();
  const outIsFile = single && kindOf(output) !== undefined;
  const expanded = expandInputs(inputs, (f) => kindOf(f) !== undefined);
  failed.push(...expanded.failed);
  for (const f of expanded.files) {
    const kind = kindOf(f.file)!;
    jobs.push({ kind, input: f.file, output: outIsFile ? output : path.join(output, outputName(kind, f.file)) });
  }
  if (outIsFile && jobs[0] && kindOf(output) !== jobs[0].kind) {
    throw new PieError('usage', `${output}: the output's extension does not fit the ${jobs[0].kind} input ${jobs[0].input}`, `give -o a ${jobs[0].kind === 'image' ? '.jpg/.png/.webp/.bmp' : '.mp4/.mkv/.mov'} name, or a folder`);
  }
  checkOutputs(jobs.map((j) => ({ input: j.input, outputs: [j.output] })), 'enhance', 'enhanced/');
  return { jobs, failed, skipped: expanded.skipped };
}

export async function runEnhance(o: EnhanceCommandOptions, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<EnhanceSummary> {
  const { jobs, failed, skipped } = planJobs(o.inputs, o.output);
  if (jobs.length === 0) {
    return { done: [], skipped, failed: failed.length ? failed : [{ input: o.inputs.join(' '), message: 'no images or videos to enhance' }] };
  }
  const enhancer = await Enhancer.open({
    downscale: o.downscale, provider: o.provider, strength: o.strength ?? 1,
    ...(o.exposure !== undefined ? { exposure: o.exposure } : {}),
    ...(o.form ? { form: o.form } : {}), ...(o.noiseAwareGain !== undefined ? { noiseAwareGain: o.noiseAwareGain } : {}),
    ...(o.saturation !== undefined ? { saturation: o.saturation } : {}),
    ...(o.modelPath ? { modelPath: o.modelPath } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
  });
  log(enhancer.describe());
  const denoise = o.denoise ?? DEFAULT_DENOISE;
  const denoiserOf = (mode: DenoiseMode): Promise<Denoiser> => Denoiser.open({
    mode, provider: o.provider, ...(o.threads ? { threads: o.threads } : {}), ...(o.denoiseStrength !== undefined ? { strength: o.denoiseStrength } : {}),
  });
  // A still has no frames before it: 'temporal' denoises images spatially (its first frame would anyway).
  const stills = denoise === 'off' ? undefined : await denoiserOf('spatial');
  const video = denoise === 'temporal' ? await denoiserOf('temporal') : stills;
  if (video) log(video.describe());
  const done: Job[] = [];
  const mkOutDir = (file: string): void => { fs.mkdirSync(path.dirname(file), { recursive: true }); };
  try {
    const images = jobs.filter((j) => j.kind === 'image');
    const videos = jobs.filter((j) => j.kind === 'video');
    if (images.length) {
      const bar = new Progress('images', images.length, process.stderr, o.quiet || images.length < 2);
      // Consecutive images of one size share a batch.
      let pending: Array<{ job: Job; img: RgbImage }> = [];
      let count = 0;
      const flush = async (): Promise<void> => {
        if (!pending.length) return;
        const batch = pending;
        pending = [];
        try {
          // Each image is its own camera, forgotten after: its noise is its own.
          const imgs = stills ? await stills.denoise(batch.map((p, i) => ({ camera: `image-${count + i}`, image: p.img }))) : batch.map((p) => p.img);
          stills?.reset();
          const out = await enhancer.enhance(imgs, batch.map(() => ({ mono: o.mono === 'on' })));
          for (let i = 0; i < batch.length; i++) {
            const { job } = batch[i]!;
            try {
              mkOutDir(job.output);
              await writeImage(out.frames[i]!, job.output);
              done.push(job);
            } catch (e) {
              failed.push({ input: job.input, message: messageOf(e) });
            }
          }
        } catch (e) {
          for (const { job } of batch) failed.push({ input: job.input, message: messageOf(e) });
        }
        count += batch.length;
        bar.update(count);
      };
      for (const job of images) {
        let img: RgbImage;
        try {
          // From the header, before decoding: a frame over the memory budget is refused by name.
          const size = await imageSize(job.input);
          enhancer.checkFits(size.width, size.height, job.input);
          img = await readImage(job.input);
        } catch (e) {
          failed.push({ input: job.input, message: messageOf(e) });
          bar.update(++count);
          continue;
        }
        const head = pending[0]?.img;
        if (head && (head.width !== img.width || head.height !== img.height)) await flush();
        pending.push({ job, img });
        if (pending.length >= o.batch) await flush();
      }
      await flush();
      bar.done();
    }
    for (const job of videos) {
      const bar = new Progress(path.basename(job.input), 1, process.stderr, o.quiet);
      try {
        mkOutDir(job.output);
        const r = await enhanceVideo(enhancer, job.input, job.output, { batch: o.batch, mono: o.mono ?? 'auto', ...(video ? { denoiser: video } : {}), onProgress: (p) => bar.update(p.done, p.total) });
        bar.done();
        log(`${job.output}: ${r.frames} frames ${r.info.width}x${r.info.height} in ${r.seconds.toFixed(1)} s (${(r.frames / r.seconds).toFixed(1)} fps)`);
        done.push(job);
      } catch (e) {
        bar.done();
        failed.push({ input: job.input, message: messageOf(e) });
      }
    }
  } finally {
    await Promise.all([enhancer.close(), stills?.close(), video !== stills ? video?.close() : undefined]);
  }
  return { done, failed, skipped };
}
