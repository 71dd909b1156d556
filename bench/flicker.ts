// npm run bench -- flicker --video PATH [--seconds 10] [--size 640x360] [--scale 4] [--model FILE]
//                          [--alpha 0.2] [--mix 0] [--hold 0] [--segmenter slic|felzenszwalb] [--batch 8]
//                          [--denoise temporal|spatial|off]
// (or: npx tsx bench/flicker.ts --video PATH …)
// Flicker of the enhancer on a clip (issue 5's figure: mean absolute frame-to-frame change of the
// output over that of the input), without and with the region cache, plus what the cache costs
// per frame and per keyframe. Meant for static cameras: on a moving scene the ratio mixes motion in.
// Streams the clip (decoder → denoiser → enhancer → cache + applier), keeping one batch in memory.
// As the live path runs a camera: the denoiser (default temporal, the live default) with its state,
// and each path's exposure target carried frame to frame (CameraTone), so frames go one at a time
// when a denoiser or the tone state is in play (--batch applies with --denoise off only).
import { Denoiser } from '../src/denoise/denoiser.js';
import { CurveApplier } from '../src/enhance/apply-graph.js';
import { CameraTone } from '../src/enhance/camera-tone.js';
import { DEFAULT_MODEL_PATH, Enhancer } from '../src/enhance/enhancer.js';
import { FlickerMeter, type FlickerReport } from '../src/enhance/flicker.js';
import type { RgbImage } from '../src/image/types.js';
import { rgbBytes } from '../src/image/types.js';
import { decodeToRawArgs } from '../src/ingest/ffmpeg-args.js';
import { FfmpegProcess } from '../src/ingest/ffmpeg-process.js';
import { rawFrames } from '../src/ingest/frame-splitter.js';
import { probeMedia } from '../src/ingest/probe.js';
import { RegionCache } from '../src/pipeline/regionCache.js';
import { felzenszwalb } from '../src/regions/felzenszwalb.js';
import { describeMachine, machine } from './machine.js';

const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const video = arg('video');
if (!video) {
  console.error('usage: npx tsx bench/flicker.ts --video PATH [--seconds 10] [--size WxH] [--scale 4] [--model FILE] [--alpha A] [--mix M] [--hold H] [--segmenter slic|felzenszwalb] [--batch 8] [--denoise temporal|spatial|off]');
  process.exit(2);
}
const seconds = Number(arg('seconds', '10'));
const k = Number(arg('scale', '4'));
const batchSize = Number(arg('batch', '8'));
const modelPath = arg('model', DEFAULT_MODEL_PATH)!;
const alpha = Number(arg('alpha', '0.2'));
const mix = Number(arg('mix', '0'));
const hold = Number(arg('hold', '0'));
const segmenter = arg('segmenter', 'slic');
const sizeArg = arg('size');
const denoise = arg('denoise', 'temporal');
if (denoise !== 'temporal' && denoise !== 'spatial' && denoise !== 'off') {
  console.error('--denoise: temporal, spatial or off');
  process.exit(2);
}

const info = await probeMedia(video);
const [width, height] = sizeArg ? sizeArg.split('x').map(Number) as [number, number] : [info.width, info.height];
console.log(`machine: ${describeMachine(machine())}`);
console.log(`clip: ${video} (${info.width}x${info.height} @ ${info.fpsValue.toFixed(2)} fps), first ${seconds} s at ${width}x${height}`);

const enhancer = await Enhancer.open({ modelPath, downscale: k, curvesOutput: true });
const applier = await CurveApplier.open({ downscale: k });
const denoiser = denoise === 'off' ? undefined : await Denoiser.open({ mode: denoise, spin: false });
console.log(`${denoiser ? `${denoiser.describe()} → ` : ''}${enhancer.describe()}`);
// One exposure state per path: the cached path's curves differ, so does the target it settles on.
const toneDirect = new CameraTone(), toneCached = new CameraTone();
const cache = new RegionCache({
  downscale: k, alpha, mix, hold,
  // Felzenszwalb on the same curve-resolution thumbnail, min size one region's worth of pixels.
  ...(segmenter === 'felzenszwalb' ? { segment: (img: RgbImage) => felzenszwalb(img, { scale: 100, sigma: 0.5, minSize: 64 }) } : {}),
});
console.log(`region cache: ${segmenter}, alpha ${alpha}, mix ${mix}, hold ${hold}, curves at 1/${k}`);

const direct = new FlickerMeter(), cached = new FlickerMeter();
let denoiseMs = 0, enhanceMs = 0, cacheMs = 0, keyMs = 0, applyMs = 0, keyframes = 0, regions = 0;
const keyReasons: Record<string, number> = {};

const decoder = await FfmpegProcess.start(decodeToRawArgs({ input: video, size: { width, height }, filters: [`trim=duration=${seconds}`] }));
let batch: RgbImage[] = [];
const flush = async (): Promise<void> => {
  if (batch.length === 0) return;
  let t = performance.now();
  const raw = batch;
  if (denoiser) batch = await denoiser.denoise(batch.map((image) => ({ camera: 'clip', image })));
  denoiseMs += performance.now() - t;
  t = performance.now();
  const e = await enhancer.enhance(batch, batch.map(() => toneDirect.next()));
  enhanceMs += performance.now() - t;
  e.tone.forEach((r) => toneDirect.observe(r));
  // Frame by frame so keyframe cost can be told apart from the per-frame pooling cost.
  const [, c, h, w] = e.curves!.dims;
  const per = c * h * w, smooth = new Float32Array(e.curves!.data.length);
  batch.forEach((f, i) => {
    t = performance.now();
    const r = cache.update(f, { dims: [c, h, w], data: e.curves!.data.subarray(i * per, (i + 1) * per) });
    const dt = performance.now() - t;
    if (r.keyframe) { keyframes++; keyMs += dt; keyReasons[r.keyframe] = (keyReasons[r.keyframe] ?? 0) + 1; } else cacheMs += dt;
    regions = r.regions;
    smooth.set(r.data, i * per);
  });
  t = performance.now();
  const out = await applier.applyWithTone(batch, { data: smooth, dims: e.curves!.dims }, batch.map(() => toneCached.next()));
  applyMs += performance.now() - t;
  out.tone.forEach((r) => toneCached.observe(r));
  // Flicker against the camera's own frames (the denoiser's output is part of what is measured).
  raw.forEach((f, i) => { direct.push(f, e.frames[i]!); cached.push(f, out.frames[i]!); });
  batch = [];
};
for await (const data of rawFrames(decoder.stdout, rgbBytes(width, height))) {
  batch.push({ width, height, data });
  if (batch.length >= (denoiser ? 1 : batchSize)) await flush();
}
await flush();
await decoder.exited;

const n = direct.frames;
const fmt = (r: FlickerReport): string =>
  `flicker ${r.flicker.toFixed(3)}  (output Δ ${r.outputDiff.toFixed(2)} / input Δ ${r.inputDiff.toFixed(2)} levels)  brightness std ${r.outputBrightnessStd.toFixed(3)} (×${r.brightnessFlicker.toFixed(2)} the input's)`;
const a = direct.report(), b = cached.report();
console.log(`\n${n} frames`);
console.log(`without cache: ${fmt(a)}`);
console.log(`with cache:    ${fmt(b)}`);
console.log(`ratio with/without: flicker ${(b.flicker / a.flicker).toFixed(3)}, brightness std ${(b.outputBrightnessStd / Math.max(1e-12, a.outputBrightnessStd)).toFixed(3)}`);
console.log(`cost: ${denoiser ? `denoise ${(denoiseMs / n).toFixed(1)} ms/frame; ` : ''}enhance ${(enhanceMs / n).toFixed(1)} ms/frame; cache ${(cacheMs / Math.max(1, n - keyframes)).toFixed(2)} ms/frame, keyframe ${(keyMs / Math.max(1, keyframes)).toFixed(1)} ms (${keyframes}: ${JSON.stringify(keyReasons)}), ${regions} regions; curve application ${(applyMs / n).toFixed(1)} ms/frame`);
await denoiser?.close();
await enhancer.close();
await applier.close();
