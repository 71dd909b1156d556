// node scripts/flicker-strip.mjs CLIP OUT.png [START] [CX] [CY] [FPS]   (after npm run build; STEP=n env: frames n apart)
// A clip's first 6 s at 640 px wide through pie-base (curves 1/4, exposure auto, state carried) with
// and without the temporal denoiser in front, as the live path runs them: prints flicker (mean
// |frame difference| over frames 10–end, past the denoiser's first frames) against the input's, and
// brightness; writes a strip of three frames (rows: input, pie-base, pie-base + temporal) and the
// |difference| of two consecutive ones ×4 (what flicker is made of), crops of 176² at (CX, CY).
import { Denoiser } from '../dist/denoise/denoiser.js';
import { Enhancer, DEFAULT_MODEL_PATH } from '../dist/enhance/enhancer.js';
import { CameraTone } from '../dist/enhance/camera-tone.js';
import { videoFrames } from '../dist/ingest/video-frames.js';
import { writeGrid } from '../dist/eval/report.js';
import { meanAbsFrameDiff, frameBrightness } from '../dist/enhance/flicker.js';

const [file, out, startArg, cxArg, cyArg, fpsArg] = process.argv.slice(2);
const start = Number(startArg ?? 40), C = 176;
const frames = [];
for await (const f of videoFrames(file, { maxWidth: 640, seconds: 6, ...(fpsArg ? { fps: Number(fpsArg) } : {}) })) frames.push(f);
const e = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
const d = await Denoiser.open({ mode: 'temporal' });
const run = async (denoise) => {
  const tone = new CameraTone('auto'), outs = [];
  for (const x of frames) {
    const clean = denoise ? (await d.denoise([{ camera: 'c', image: x }]))[0] : x;
    const r = await e.enhance([clean], [tone.next()]);
    tone.observe(r.tone[0]);
    outs.push({ width: r.frames[0].width, height: r.frames[0].height, data: Uint8Array.from(r.frames[0].data) });
  }
  return outs;
};
const off = await run(false), on = await run(true);
const w = frames[0].width, h = frames[0].height;
const cx = Number(cxArg ?? w / 2), cy = Number(cyArg ?? h / 2);
const crop = (img) => {
  const x0 = Math.max(0, Math.min(w - C, Math.round(cx - C / 2))), y0 = Math.max(0, Math.min(h - C, Math.round(cy - C / 2)));
  const data = new Uint8Array(C * C * 3);
  for (let y = 0; y < C; y++) data.set(img.data.subarray(((y0 + y) * w + x0) * 3, ((y0 + y) * w + x0 + C) * 3), y * C * 3);
  return { width: C, height: C, data };
};
const diff = (a, b) => ({ width: a.width, height: a.height, data: a.data.map((v, i) => Math.min(255, 4 * Math.abs(v - b.data[i]))) });
const S = Number(process.env.STEP ?? 1);
const row = (seq) => [0, S, 2 * S].map((k) => crop(seq[start + k])).concat([diff(crop(seq[start + 1]), crop(seq[start]))]);
await writeGrid(out, [`frame ${start}`, `frame ${start + S}`, `frame ${start + 2 * S}`, `|${start + 1} − ${start}| ×4`], [row(frames), row(off), row(on)]);
const steady = (s) => s.slice(10);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fin = meanAbsFrameDiff(steady(frames));
for (const [name, s] of [['input', frames], ['pie-base', off], ['pie-base + temporal', on]]) {
  const f = meanAbsFrameDiff(steady(s));
  console.log(`${name.padEnd(20)} flicker ${f.toFixed(3)} levels (×${(f / fin).toFixed(2)} input), brightness ${(mean([...frameBrightness(steady(s))]) / 255).toFixed(3)}`);
}
console.log(`${frames.length} frames ${w}x${h}, flicker over frames 10–${frames.length - 1}; rows of ${out}: input, pie-base, pie-base + temporal`);
await Promise.all([e.close(), d.close()]);
