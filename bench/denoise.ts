// npm run bench -- denoise [--quick] [--stills DIR]
// What the denoiser adds to enhancement at 720p on this machine's CPU: ms per frame of the
// enhancer (curve scales 1/4 and 1/8, the live pipeline's range) against the temporal and the
// spatial denoiser, batch 1 and 4, each on its WebAssembly kernel and on the ONNX graph. The aim
// (issue 12): at most +25% of enhancement time.
// With --stills DIR (normal-light photos): the still-image denoisers compared on synthetic night
// (each photo darkened at full wells 100/300/1000, denoised, enhanced by the shipped model at
// exposure 0.45): PSNR against the photo and ms per image. Writes bench/results/denoise.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Denoiser } from '../src/denoise/denoiser.js';
import { estimateGlobalMotion, lumaOfPlanar, lumaOfRgb, remapPlanes } from '../src/denoise/global-motion.js';
import { Enhancer } from '../src/enhance/enhancer.js';
import { denoiseImage, parseStillDenoise } from '../src/detect/denoise.js';
import { adaptiveSmooth } from '../src/detect/smooth.js';
import { psnr } from '../src/eval/metrics.js';
import { darken, exposureFor } from '../src/eval/synthetic-night.js';
import { isImagePath, readImage } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';
import { describeMachine, machine, timeIt } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const [W, H] = [1280, 720];
const BATCHES = quick ? [1] : [1, 4];
const skipSpeed = process.argv.includes('--stills-only');

/** A shaded scene, re-shot dark with fresh noise per frame (full well 300). */
function frame(seed: number, dx = 0): RgbImage {
  const d = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = 128 + 100 * Math.sin((x + dx) / 37) * Math.cos(y / 23), i = (y * W + x) * 3;
      d[i] = v; d[i + 1] = v * 0.85; d[i + 2] = v * 0.7;
    }
  }
  return darken({ width: W, height: H, data: d }, { exposure: 0.1, fullWell: 300, seed });
}

const m = machine();
console.log(`machine: ${describeMachine(m)}\n`);
const frames = Array.from({ length: 4 }, (_, i) => frame(i + 1));
/** A pan of 3 px a frame, forward then back, so a cycled sequence keeps moving (each frame is a fresh shot). */
const panned = [0, 3, 6, 9, 12, 9, 6, 3].map((dx, i) => frame(i + 11, dx));
interface Row { what: string; batch: number; msPerFrame: number; ofEnhance: Record<string, number>; cpuMsPerFrame?: number }
/** timeIt, plus the process' CPU time (all threads) per run: on a loaded machine wall time mostly measures waiting. */
async function timed(fn: () => Promise<unknown>): Promise<{ medianMs: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t = await timeIt(fn, 3, 2);
  const c = process.cpuUsage(c0);
  return { medianMs: t.medianMs, cpuMs: (c.user + c.system) / 1000 / (t.runs + 1) };
}
const rows: Row[] = [];
const enhanceMs = new Map<string, number>(), enhanceCpu = new Map<string, number>();
for (const batch of skipSpeed ? [] : BATCHES) {
  const input = frames.slice(0, batch);
  for (const k of [4, 8]) {
    const e = await Enhancer.open({ downscale: k, provider: 'cpu' });
    const t = await timed(() => e.enhance(input));
    await e.close();
    enhanceMs.set(`${batch}/${k}`, t.medianMs / batch);
    enhanceCpu.set(`${batch}/${k}`, t.cpuMs / batch);
    rows.push({ what: `enhance, curves at 1/${k}`, batch, msPerFrame: +(t.medianMs / batch).toFixed(1), ofEnhance: {}, cpuMsPerFrame: +(t.cpuMs / batch).toFixed(1) });
  }
  // Temporal as live runs it (global motion 'shift': the view's motion estimated every frame, the
  // state moved when it moved), without the estimate ('off'), and on a pan (the state moved every frame).
  // Each on the WebAssembly kernel (the CPU default, one thread) and on ONNX Runtime (the graph,
  // the machine's threads), in turn in the same run.
  const variants = [
    { what: 'denoise temporal', mode: 'temporal', globalMotion: 'shift', seq: frames, kernel: 'wasm' },
    { what: 'denoise temporal', mode: 'temporal', globalMotion: 'shift', seq: frames, kernel: 'onnx' },
    { what: 'denoise temporal, gm off', mode: 'temporal', globalMotion: 'off', seq: frames, kernel: 'wasm' },
    { what: 'denoise temporal, gm off', mode: 'temporal', globalMotion: 'off', seq: frames, kernel: 'onnx' },
    { what: 'denoise temporal, a pan', mode: 'temporal', globalMotion: 'shift', seq: panned, kernel: 'wasm' },
    { what: 'denoise spatial', mode: 'spatial', globalMotion: 'off', seq: frames, kernel: 'wasm' },
    { what: 'denoise spatial', mode: 'spatial', globalMotion: 'off', seq: frames, kernel: 'onnx' },
  ] as const;
  for (const v of variants) {
    const d = await Denoiser.open({ mode: v.mode, globalMotion: v.globalMotion, provider: 'cpu', kernel: v.kernel });
    let n = 0;
    // Cameras c0..c(batch-1), each fed its next frame: state carried as in the live pipeline.
    const t = await timed(() => d.denoise(input.map((_, i) => ({ camera: `c${i}`, image: v.seq[(n++ + i) % v.seq.length]! }))));
    const moves = d.report().reduce((s, r) => s + r.globalMoves, 0);
    await d.close();
    const ms = t.medianMs / batch;
    rows.push({ what: `${v.what}, ${v.kernel}${v.globalMotion === 'shift' ? ` (${moves} moves)` : ''}`, batch, msPerFrame: +ms.toFixed(1), ofEnhance: Object.fromEntries([4, 8].map((k) => [`1/${k}`, +(ms / enhanceMs.get(`${batch}/${k}`)!).toFixed(2)])), cpuMsPerFrame: +(t.cpuMs / batch).toFixed(1) });
  }
  // The global-motion work alone (JavaScript, one 720p frame): the luma planes and the fit, and moving the state.
  {
    const px = W * H, shown = new Uint8Array(3 * px), est = new Float32Array(3 * px), cnt = new Float32Array(px);
    const src = panned[0]!;
    for (let p = 0; p < px; p++) for (let c = 0; c < 3; c++) shown[c * px + p] = src.data[3 * p + c]!;
    const fit = await timed(async () => estimateGlobalMotion(lumaOfPlanar(shown, W, H), lumaOfRgb(panned[1]!.data, W, H)));
    const m = estimateGlobalMotion(lumaOfPlanar(shown, W, H), lumaOfRgb(panned[1]!.data, W, H));
    const move = await timed(async () => { remapPlanes(est, 3, W, H, m, 0); remapPlanes(cnt, 1, W, H, m, 0); remapPlanes(shown, 3, W, H, m, 0); });
    for (const [what, t] of [[`global motion fit (JS; found tx ${m.tx.toFixed(2)})`, fit], ['state moved by a pan (JS)', move]] as const) {
      rows.push({ what, batch, msPerFrame: +t.medianMs.toFixed(1), ofEnhance: Object.fromEntries([4, 8].map((k) => [`1/${k}`, +(t.cpuMs / enhanceCpu.get(`${batch}/${k}`)!).toFixed(3)])), cpuMsPerFrame: +t.cpuMs.toFixed(1) });
    }
  }
}
console.log(`${W}x${H}, CPU, median wall ms per frame after warm-up, and CPU ms per frame (all threads); "× enhance" = denoise time / enhance time at that curve scale (for the JS rows: CPU time over the enhancer's CPU time)`);
for (const r of rows) console.log(`  batch ${r.batch}  ${r.what.padEnd(40)} ${r.msPerFrame.toFixed(1).padStart(7)} ms${r.cpuMsPerFrame !== undefined ? ` (CPU ${r.cpuMsPerFrame.toFixed(1)} ms)` : ''}${Object.keys(r.ofEnhance).length ? `   × enhance: ${Object.entries(r.ofEnhance).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`);

interface StillRow { denoiser: string; fullWell: number; psnr: number; msPerImage: number }
const stills: StillRow[] = [];
const stillDir = process.argv.includes('--stills') ? process.argv[process.argv.indexOf('--stills') + 1] : undefined;
if (stillDir) {
  const files = fs.readdirSync(stillDir).filter(isImagePath).sort().slice(0, quick ? 3 : 8);
  const photos = await Promise.all(files.map((f) => readImage(path.join(stillDir, f))));
  const enhancer = await Enhancer.open({ downscale: 4, provider: 'cpu', exposure: 0.45 });
  const guided = await Promise.all([1, 2, 4].map((strength) => Denoiser.open({ mode: 'spatial', provider: 'cpu', strength })));
  const candidates: Array<[string, (img: RgbImage) => Promise<RgbImage>]> = [
    ['none', async (x) => x],
    ['box blur (detect/smooth.ts)', async (x) => adaptiveSmooth(x)],
    ...guided.map((d, i): [string, (img: RgbImage) => Promise<RgbImage>] => [`guided, strength ${[1, 2, 4][i]}`, async (x) => (await d.denoise([{ camera: 'still', image: x }]))[0]!]),
    ['ffmpeg hqdn3d (still default)', (x) => denoiseImage(x)],
    ['ffmpeg nlmeans', (x) => denoiseImage(x, parseStillDenoise('nlmeans')!)],
  ];
  console.log(`\nstills: ${photos.length} photos from ${stillDir}, darkened (exposure per photo, read noise 3 e⁻), denoised, pie-base at exposure 0.45, curves 1/4`);
  for (const fw of [100, 300, 1000]) {
    const dark = photos.map((p, i) => darken(p, { exposure: exposureFor(1, i), fullWell: fw, seed: 7919 + i }));
    for (const [name, run] of candidates) {
      let ms = 0, sum = 0;
      for (const [i, d] of dark.entries()) {
        for (const g of guided) g.reset();
        const t = performance.now();
        const y = await run(d);
        ms += performance.now() - t;
        sum += Math.min(100, psnr((await enhancer.enhance([y])).frames[0]!, photos[i]!));
      }
      const row = { denoiser: name, fullWell: fw, psnr: +(sum / dark.length).toFixed(2), msPerImage: +(ms / dark.length).toFixed(1) };
      stills.push(row);
      console.log(`  full well ${String(fw).padStart(4)}  ${name.padEnd(30)} PSNR ${row.psnr.toFixed(2).padStart(6)} dB  ${row.msPerImage.toFixed(1).padStart(7)} ms/image`);
    }
  }
  await Promise.all([enhancer.close(), ...guided.map((g) => g.close())]);
}

const out = path.join(here, 'results', quick ? 'denoise-quick.json' : 'denoise.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, size: `${W}x${H}`, rows, stills }, null, 1));
console.log(`\nwrote ${out}`);
