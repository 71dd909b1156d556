// `pie-stream eval --synthetic-video <clip>`: night video with ground truth. A normal-light clip
// from a fixed camera is darkened frame by frame by the physical model (synthetic-night.ts: one
// exposure for the clip, fresh shot and read noise per frame), then every enhancer runs on the
// whole sequence — per-frame enhancers frame by frame, pie-stream's temporal path with its state
// carried from frame to frame as the live pipeline carries it — and is scored against the clean
// frames: overall, on static pixels and on moving pixels, flicker against the clean clip's own.
import fs from 'node:fs';
import path from 'node:path';
import { Denoiser } from '../denoise/denoiser.js';
import type { TemporalDenoiseOptions } from '../denoise/graph.js';
import type { GlobalMotionMode } from '../denoise/global-motion.js';
import { openSession, ort } from '../enhance/session.js';
import { meanAbsFrameDiff } from '../enhance/flicker.js';
import { PieError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { filterRawArgs, type Denoise } from '../ingest/ffmpeg-args.js';
import { FfmpegProcess, lastLine } from '../ingest/ffmpeg-process.js';
import { rawFrames } from '../ingest/frame-splitter.js';
import { videoFrames } from '../ingest/video-frames.js';
import { fromNchw, toNchw } from '../train/data.js';
import type { EvalStage } from './enhancers.js';
import { colorfulness, meanBrightness, ssim } from './metrics.js';
import { writeGrid } from './report.js';
import { darken, DEFAULT_READ_NOISE, exposureFor, FULL_WELLS } from './synthetic-night.js';

/** A pixel is static when the clean clip's temporal std there is under this many 8-bit levels (its own codec noise). */
export const STATIC_STD_LEVELS = 2;

export interface SyntheticVideoOptions {
  readonly clip: string;
  readonly out: string;
  /** Per-frame enhancers: each also runs behind the temporal denoiser and behind ffmpeg's video denoisers. */
  readonly models: readonly EvalStage[];
  /** Peers (input 'input' → 'enhanced'), per frame only. */
  readonly peers: readonly string[];
  readonly fullWells?: readonly number[];
  readonly seed: number;
  readonly seconds: number;
  readonly width: number;
  readonly denoise?: TemporalDenoiseOptions & { readonly globalMotion?: GlobalMotionMode };
  readonly threads?: number;
  readonly onProgress?: (done: number, total: number, note: string) => void;
}

export interface VideoFigures {
  readonly psnr: number;
  readonly ssim: number;
  readonly psnrStatic: number;
  readonly psnrMoving: number;
  /** Mean |frame difference| of the output over the clean clip's. */
  readonly flicker: number;
  readonly brightness: number;
  readonly colorfulness: number;
  readonly msPerFrame: number;
}

export interface SyntheticVideoLevel {
  readonly fullWell: number;
  readonly exposure: number;
  readonly input: VideoFigures;
  readonly rows: Readonly<Record<string, VideoFigures>>;
}

export interface SyntheticVideoReport {
  readonly date: string;
  readonly clip: string;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly staticFraction: number;
  readonly clean: { readonly brightness: number; readonly colorfulness: number };
  readonly rows: ReadonlyArray<{ name: string; description: string }>;
  readonly levels: readonly SyntheticVideoLevel[];
  readonly grid: string;
}

/** Per pixel: 1 where the clean clip's temporal std (max over channels) is under STATIC_STD_LEVELS. */
export function staticMask(frames: readonly RgbImage[]): Uint8Array {
  const f0 = frames[0]!, n = f0.width * f0.height, len = n * 3;
  const s = new Float64Array(len), s2 = new Float64Array(len);
  for (const f of frames) for (let i = 0; i < len; i++) { const v = f.data[i]!; s[i] = s[i]! + v; s2[i] = s2[i]! + v * v; }
  const mask = new Uint8Array(n).fill(1);
  const k = frames.length;
  for (let i = 0; i < len; i++) {
    const variance = s2[i]! / k - (s[i]! / k) ** 2;
    if (variance >= STATIC_STD_LEVELS ** 2) mask[Math.floor(i / 3)] = 0;
  }
  return mask;
}

const psnrOf = (se: number, n: number): number => (n === 0 ? NaN : se === 0 ? 100 : Math.min(100, 10 * Math.log10((255 * 255 * n) / se)));

/** Scores a sequence against the clean one. */
export function scoreSequence(out: readonly RgbImage[], clean: readonly RgbImage[], mask: Uint8Array, msPerFrame: number): VideoFigures {
  let seAll = 0, seS = 0, seM = 0, nS = 0, nM = 0, ss = 0, br = 0, col = 0;
  for (let f = 0; f < out.length; f++) {
    const a = out[f]!.data, b = clean[f]!.data;
    for (let p = 0; p < mask.length; p++) {
      let e = 0;
      for (let c = 0; c < 3; c++) { const d = a[p * 3 + c]! - b[p * 3 + c]!; e += d * d; }
      if (mask[p]) { seS += e; nS += 3; } else { seM += e; nM += 3; }
    }
    ss += ssim(out[f]!, clean[f]!); br += meanBrightness(out[f]!); col += colorfulness(out[f]!);
  }
  seAll = seS + seM;
  const k = Math.max(out.length, 1);
  const cleanDiff = meanAbsFrameDiff(clean);
  return {
    psnr: psnrOf(seAll, nS + nM), ssim: ss / k, psnrStatic: psnrOf(seS, nS), psnrMoving: psnrOf(seM, nM),
    flicker: cleanDiff > 0 ? meanAbsFrameDiff(out) / cleanDiff : NaN, brightness: br / k, colorfulness: col / k, msPerFrame,
  };
}

/** A peer model (input 'input' float NCHW RGB [0,1] → 'enhanced'), frame by frame. */
async function openPeer(file: string, threads?: number): Promise<EvalStage> {
  if (!fs.existsSync(file)) throw new PieError('usage', `--peer ${file} does not exist`, 'pass peer .onnx files (input "input" → "enhanced"), e.g. ../shared/models/peers/sci-medium.onnx');
  const s = await openSession(fs.readFileSync(file), 'cpu', threads ? { threads } : {});
  return {
    name: path.basename(file, '.onnx'), description: `peer ${file}, frame by frame`,
    run: async (img) => {
      const out = await s.session.run({ input: new ort.Tensor('float32', toNchw([img]), [1, 3, img.height, img.width]) });
      return fromNchw(out.enhanced!.data as Float32Array, 0, img.width, img.height);
    },
    close: () => s.session.release(),
  };
}

/** A whole sequence through one of ffmpeg's video denoisers (frames in memory, in order). */
export async function ffmpegDenoiseSequence(frames: readonly RgbImage[], d: Denoise): Promise<RgbImage[]> {
  const { width, height } = frames[0]!;
  const p = await FfmpegProcess.start(filterRawArgs({ width, height, denoise: d }), { stdin: true });
  const writing = (async () => {
    for (const f of frames) if (!p.stdin!.write(f.data)) await new Promise((r) => p.stdin!.once('drain', r));
    p.stdin!.end();
  })();
  const out: RgbImage[] = [];
  for await (const data of rawFrames(p.stdout, width * height * 3)) out.push({ width, height, data: Uint8Array.from(data) });
  await writing;
  const exit = await p.exited;
  if (exit.code !== 0 || out.length !== frames.length) {
    throw new PieError('ffmpeg-failed', `${d.filter} on ${frames.length} frames gave ${out.length}: ${lastLine(exit.stderrTail)}`, 'check that ffmpeg has the filter (ffmpeg -filters)');
  }
  return out;
}

/** The video denoisers compared before the enhancer, at the settings the README measured for static cameras. */
export const VIDEO_BASELINES: ReadonlyArray<{ name: string; denoise: Denoise }> = [
  { name: 'hqdn3d', denoise: { filter: 'hqdn3d' } },
  { name: 'atadenoise', denoise: { filter: 'atadenoise', frames: 9 } },
];

/** The square of side `size` centred on (cx, cy), kept inside the frame. */
function cropAt(img: RgbImage, cx: number, cy: number, size: number): RgbImage {
  const s = Math.min(size, img.width, img.height);
  const x0 = Math.max(0, Math.min(img.width - s, Math.round(cx - s / 2))), y0 = Math.max(0, Math.min(img.height - s, Math.round(cy - s / 2)));
  const data = new Uint8Array(s * s * 3);
  for (let y = 0; y < s; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + s) * 3), y * s * 3);
  return { width: s, height: s, data };
}

/** Where the most moves at frame `f` (a walking person, on a fixed camera): the centre of the busiest block. */
function busiestBlock(clean: readonly RgbImage[], f: number, block: number): [number, number] {
  const a = clean[f]!, b = clean[Math.max(0, f - 2)]!;
  let best = -1, at: [number, number] = [a.width / 2, a.height / 2];
  for (let y0 = 0; y0 + block <= a.height; y0 += block / 4) {
    for (let x0 = 0; x0 + block <= a.width; x0 += block / 4) {
      let s = 0;
      for (let y = y0; y < y0 + block; y += 2) for (let x = x0; x < x0 + block; x += 2) { const i = (y * a.width + x) * 3 + 1; s += Math.abs(a.data[i]! - b.data[i]!); }
      if (s > best) { best = s; at = [x0 + block / 2, y0 + block / 2]; }
    }
  }
  return at;
}

export async function runSyntheticVideo(o: SyntheticVideoOptions): Promise<SyntheticVideoReport> {
  fs.mkdirSync(o.out, { recursive: true });
  const clean: RgbImage[] = [];
  for await (const f of videoFrames(o.clip, { maxWidth: o.width, seconds: o.seconds })) clean.push(f);
  if (clean.length < 2) throw new PieError('input', `${o.clip}: ${clean.length} frame(s) in the first ${o.seconds} s`, 'give a video clip of a few seconds');
  const { width, height } = clean[0]!;
  const mask = staticMask(clean);
  const staticFraction = mask.reduce((a, b) => a + b, 0) / mask.length;
  const peers: EvalStage[] = [];
  const wells = o.fullWells ?? FULL_WELLS;
  const rowsPerLevel = o.models.length * (2 + VIDEO_BASELINES.length) + o.peers.length;
  const total = wells.length * rowsPerLevel * clean.length;
  let done = 0;
  const tick = (note: string): void => { o.onProgress?.(++done, total, note); };
  const descriptions = new Map<string, string>();
  const gridFrame = Math.floor(clean.length * 0.6);
  const [cx, cy] = busiestBlock(clean, gridFrame, Math.min(64, (Math.min(width, height) >> 2) * 2));
  const CROP = Math.min(128, width, height);
  const gridRows: RgbImage[][] = [];
  const columns = ['clean', 'dark'];
  try {
    for (const p of o.peers) peers.push(await openPeer(p, o.threads));
    const levels: SyntheticVideoLevel[] = [];
    for (const fw of wells) {
      const exposure = exposureFor(o.seed, 0);
      const dark = clean.map((f, i) => darken(f, { exposure, fullWell: fw, readNoise: DEFAULT_READ_NOISE, seed: o.seed * 7919 + i }));
      const rows: Record<string, VideoFigures> = {};
      const gridRow = [cropAt(clean[gridFrame]!, cx, cy, CROP), cropAt(dark[gridFrame]!, cx, cy, CROP)];
      const record = (name: string, description: string, outs: readonly RgbImage[], ms: number): void => {
        rows[name] = scoreSequence(outs, clean, mask, ms / outs.length);
        descriptions.set(name, description);
        gridRow.push(cropAt(outs[gridFrame]!, cx, cy, CROP));
        if (levels.length === 0) columns.push(name);
      };
      const perFrame = async (st: EvalStage, input: readonly RgbImage[], note: string): Promise<RgbImage[]> => {
        const outs: RgbImage[] = [];
        for (const f of input) { outs.push(await st.run(f)); tick(`fw ${fw}: ${note}`); }
        return outs;
      };
      for (const st of o.models) {
        let t = performance.now();
        record(st.name, `${st.description}, frame by frame`, await perFrame(st, dark, st.name), performance.now() - t);
        // The live path: one camera's frames in order, state carried from frame to frame.
        const den = await Denoiser.open({ mode: 'temporal', ...o.denoise, ...(o.threads ? { threads: o.threads } : {}) });
        try {
          t = performance.now();
          const outs: RgbImage[] = [];
          for (const f of dark) {
            const [y] = await den.denoise([{ camera: 'clip', image: f }]);
            outs.push(await st.run(y!));
            tick(`fw ${fw}: ${st.name}+temporal`);
          }
          record(`${st.name}+temporal`, `pie-stream's temporal denoiser (state per camera) before ${st.name}`, outs, performance.now() - t);
        } finally {
          await den.close();
        }
        for (const v of VIDEO_BASELINES) {
          t = performance.now();
          const pre = await ffmpegDenoiseSequence(dark, v.denoise);
          record(`${st.name}+${v.name}`, `ffmpeg ${v.name} on the dark video before ${st.name}`, await perFrame(st, pre, `${st.name}+${v.name}`), performance.now() - t);
        }
      }
      for (const p of peers) {
        const t = performance.now();
        record(p.name, p.description, await perFrame(p, dark, p.name), performance.now() - t);
      }
      gridRows.push(gridRow);
      levels.push({ fullWell: fw, exposure, input: scoreSequence(dark, clean, mask, 0), rows });
    }
    const grid = path.join(o.out, 'grid-synthetic-video.png');
    await writeGrid(grid, columns, gridRows);
    const report: SyntheticVideoReport = {
      date: new Date().toISOString(), clip: o.clip, frames: clean.length, width, height, staticFraction,
      clean: { brightness: clean.reduce((s, f) => s + meanBrightness(f), 0) / clean.length, colorfulness: clean.reduce((s, f) => s + colorfulness(f), 0) / clean.length },
      rows: [...descriptions].map(([name, description]) => ({ name, description })), levels, grid: path.basename(grid),
    };
    fs.writeFileSync(path.join(o.out, 'synthetic-video.json'), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(o.out, 'synthetic-video.md'), syntheticVideoMarkdown(report));
    return report;
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
}

const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '–');

export function syntheticVideoMarkdown(r: SyntheticVideoReport): string {
  const out = [
    `# Synthetic night video: ${path.basename(r.clip)}`, '',
    `${r.frames} frames at ${r.width}x${r.height}; static pixels (clean temporal std < ${STATIC_STD_LEVELS} levels): ${(100 * r.staticFraction).toFixed(1)}%. Clean clip: brightness ${f(r.clean.brightness, 3)}, colorfulness ${f(r.clean.colorfulness, 1)}. ${r.date}.`, '',
  ];
  for (const row of r.rows) out.push(`- **${row.name}**: ${row.description}`);
  for (const l of r.levels) {
    out.push('', `## Full well ${l.fullWell} e⁻ (exposure ${f(l.exposure, 3)}, read noise ${DEFAULT_READ_NOISE} e⁻)`, '',
      '| | PSNR | SSIM | PSNR static | PSNR moving | flicker × clean | brightness | colorfulness | ms/frame |', '|---|---|---|---|---|---|---|---|---|');
    const line = (name: string, v: VideoFigures): string => `| ${name} | ${f(v.psnr)} | ${f(v.ssim, 3)} | ${f(v.psnrStatic)} | ${f(v.psnrMoving)} | ${f(v.flicker)} | ${f(v.brightness, 3)} | ${f(v.colorfulness, 1)} | ${f(v.msPerFrame, 0)} |`;
    out.push(line('dark input', l.input));
    for (const [name, v] of Object.entries(l.rows)) out.push(line(name, v));
  }
  out.push('', `![grid](${r.grid})`, '');
  return out.join('\n');
}
