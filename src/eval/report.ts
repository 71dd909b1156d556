// `pie-stream eval`: every enhancer over every dataset, in the order a reader checks them —
// real low-light photos (no reference: brightness, clipping, lightness order, colour), synthetic
// night made from normal-light photos (PSNR/SSIM against the original at each noise level), and
// videos (flicker). One Markdown and one JSON report, and a PNG grid of the same crops per dataset.
import fs from 'node:fs';
import path from 'node:path';
import { encodeImage, readImage, writeSvgPng } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { videoFrames } from '../ingest/video-frames.js';
import { listImages } from '../train/data.js';
import type { EvalStage } from './enhancers.js';
import { clippedFraction, colorfulness, flicker, loe, meanBrightness, neutralCast, psnr, ssim } from './metrics.js';
import { darken, DEFAULT_READ_NOISE, exposureFor, FULL_WELLS } from './synthetic-night.js';

export interface EvalOptions {
  readonly stages: readonly EvalStage[];
  /** Real low-light image folders (no reference). */
  readonly real: readonly string[];
  /** Folders of normal-light photos to darken into synthetic night pairs. */
  readonly synthetic: readonly string[];
  /** Folders of normal-light photos run as they are, scored against themselves ("do no harm"). */
  readonly noharm?: readonly string[];
  readonly videos: readonly string[];
  readonly out: string;
  readonly seed: number;
  readonly fullWells?: readonly number[];
  /** At most this many images per folder (sorted by name); default all. */
  readonly limit?: number;
  /** Seconds of each video, and the width it is scaled to (aspect kept). */
  readonly videoSeconds?: number;
  readonly videoWidth?: number;
  /** Rows in each PNG grid. */
  readonly gridRows?: number;
  readonly onProgress?: (done: number, total: number, note: string) => void;
}

/** Means over a dataset's images for one enhancer; absent figures were not measurable there. */
export interface StageFigures {
  readonly brightness: number;
  readonly clipped: number;
  readonly loe: number;
  readonly colorfulness: number;
  /** Mean (a*, b*) drift of the input's neutral pixels, CIELAB (metrics.ts neutralCast). */
  readonly cast: number;
  readonly psnr?: number;
  readonly ssim?: number;
  readonly flicker?: number;
  readonly msPerImage: number;
}

export interface DatasetReport {
  readonly name: string;
  readonly kind: 'real' | 'synthetic' | 'noharm' | 'video';
  readonly source: string;
  readonly images: number;
  /** Input figures (the dark frames) for comparison; PSNR/SSIM of the dark input itself. */
  readonly input: StageFigures;
  readonly stages: Readonly<Record<string, StageFigures>>;
  readonly grid?: string;
}

export interface EvalReport {
  readonly date: string;
  readonly stages: ReadonlyArray<{ name: string; description: string }>;
  readonly seed: number;
  readonly datasets: readonly DatasetReport[];
}

interface Sample { readonly input: RgbImage; readonly reference?: RgbImage; readonly label: string }

/** Accumulates means of figures. */
class Means {
  private readonly sums = new Map<string, number>();
  private n = 0;
  add(f: Readonly<Record<string, number>>): void {
    for (const [k, v] of Object.entries(f)) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
    this.n++;
  }
  result(): StageFigures {
    const get = (k: string): number | undefined => (this.sums.has(k) ? this.sums.get(k)! / Math.max(this.n, 1) : undefined);
    const base = { brightness: get('brightness') ?? 0, clipped: get('clipped') ?? 0, loe: get('loe') ?? 0, colorfulness: get('colorfulness') ?? 0, cast: get('cast') ?? 0, msPerImage: get('ms') ?? 0 };
    const opt = (['psnr', 'ssim', 'flicker'] as const).flatMap((k) => (get(k) !== undefined ? [[k, get(k)!]] : []));
    return { ...base, ...Object.fromEntries(opt) };
  }
}

function figures(input: RgbImage, output: RgbImage, reference: RgbImage | undefined, ms: number): Record<string, number> {
  const f: Record<string, number> = {
    brightness: meanBrightness(output), clipped: clippedFraction(output).highlights, loe: loe(input, output), colorfulness: colorfulness(output),
    cast: neutralCast(input, output), ms,
  };
  if (reference) {
    // PSNR is capped at 100 dB so an identical pair cannot make a mean infinite.
    f.psnr = Math.min(psnr(output, reference), 100);
    f.ssim = ssim(output, reference);
  }
  return f;
}

/** The centre square of side `size` (or the whole short side), for the grids. */
function centreCrop(img: RgbImage, size: number): RgbImage {
  const s = Math.min(size, img.width, img.height);
  const x0 = Math.floor((img.width - s) / 2), y0 = Math.floor((img.height - s) / 2);
  const data = new Uint8Array(s * s * 3);
  for (let y = 0; y < s; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + s) * 3), y * s * 3);
  return { width: s, height: s, data };
}

const CELL = 176;

/** Rows of crops (input, reference?, each enhancer) with column titles, as one PNG. */
export async function writeGrid(file: string, columns: readonly string[], rows: readonly RgbImage[][]): Promise<void> {
  const head = 28;
  const width = columns.length * CELL, height = head + rows.length * CELL;
  const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}">`, `<rect width="100%" height="100%" fill="#111"/>`];
  columns.forEach((c, i) => parts.push(`<text x="${i * CELL + CELL / 2}" y="19" fill="#eee" font-family="sans-serif" font-size="13" text-anchor="middle">${esc(c)}</text>`));
  for (const [r, row] of rows.entries()) {
    for (const [c, img] of row.entries()) {
      const png = Buffer.from(await encodeImage(img, 'x.png')).toString('base64');
      parts.push(`<image x="${c * CELL}" y="${head + r * CELL}" width="${CELL}" height="${CELL}" xlink:href="data:image/png;base64,${png}"/>`);
    }
  }
  parts.push('</svg>');
  await writeSvgPng(parts.join(''), file, { palette: true });
}

/** Runs every stage over the samples; keeps the first `gridRows` crops for the grid. */
async function evaluate(
  name: string, kind: DatasetReport['kind'], source: string, samples: readonly Sample[], o: EvalOptions, tick: (note: string) => void,
): Promise<DatasetReport> {
  const input = new Means();
  const per = new Map(o.stages.map((s) => [s.name, new Means()]));
  const gridRows: RgbImage[][] = [];
  const rows = o.gridRows ?? 3;
  for (const [i, s] of samples.entries()) {
    input.add(figures(s.input, s.input, s.reference, 0));
    const row = [centreCrop(s.input, CELL), ...(s.reference && kind !== 'noharm' ? [centreCrop(s.reference, CELL)] : [])];
    for (const st of o.stages) {
      const t = performance.now();
      const out = await st.run(s.input);
      per.get(st.name)!.add(figures(s.input, out, s.reference, performance.now() - t));
      if (i < rows) row.push(centreCrop(out, CELL));
      tick(`${name}: ${s.label}`);
    }
    if (i < rows) gridRows.push(row);
  }
  const grid = path.join(o.out, `grid-${name}.png`);
  await writeGrid(grid, [kind === 'synthetic' ? 'dark input' : 'input', ...(samples[0]?.reference && kind !== 'noharm' ? ['reference'] : []), ...o.stages.map((s) => s.name)], gridRows);
  return {
    name, kind, source, images: samples.length, input: input.result(),
    stages: Object.fromEntries([...per].map(([k, m]) => [k, m.result()])), grid: path.basename(grid),
  };
}

async function readFolder(dir: string, limit: number | undefined): Promise<RgbImage[]> {
  const files = listImages(dir, 'images').slice(0, limit ?? Infinity);
  return Promise.all(files.map((f) => readImage(f)));
}

/** The first seconds of a video at most `width` wide. */
async function readVideo(file: string, seconds: number, width: number): Promise<RgbImage[]> {
  const frames: RgbImage[] = [];
  for await (const f of videoFrames(file, { maxWidth: width, seconds })) frames.push(f);
  return frames;
}

export async function runEval(o: EvalOptions): Promise<EvalReport> {
  fs.mkdirSync(o.out, { recursive: true });
  const wells = o.fullWells ?? FULL_WELLS;
  const realSets = await Promise.all(o.real.map(async (d) => ({ dir: d, images: await readFolder(d, o.limit) })));
  const synthSets = await Promise.all(o.synthetic.map(async (d) => ({ dir: d, images: await readFolder(d, o.limit) })));
  const noharmSets = await Promise.all((o.noharm ?? []).map(async (d) => ({ dir: d, images: await readFolder(d, o.limit) })));
  const videos = await Promise.all(o.videos.map(async (v) => ({ file: v, frames: await readVideo(v, o.videoSeconds ?? 6, o.videoWidth ?? 640) })));
  const total = o.stages.length * (realSets.reduce((s, r) => s + r.images.length, 0)
    + synthSets.reduce((s, r) => s + r.images.length, 0) * wells.length + noharmSets.reduce((s, r) => s + r.images.length, 0)
    + videos.reduce((s, v) => s + v.frames.length, 0));
  let done = 0;
  const tick = (note: string): void => { o.onProgress?.(++done, total, note); };

  const datasets: DatasetReport[] = [];
  for (const r of realSets) {
    datasets.push(await evaluate(path.basename(r.dir), 'real', r.dir, r.images.map((img, i) => ({ input: img, label: `#${i + 1}` })), o, tick));
  }
  for (const s of synthSets) {
    for (const fw of wells) {
      // Each image keeps its exposure across noise levels, so levels differ only in noise.
      const samples = s.images.map((img, i) => ({ input: darken(img, { exposure: exposureFor(o.seed, i), fullWell: fw, seed: o.seed * 7919 + i, readNoise: DEFAULT_READ_NOISE }), reference: img, label: `#${i + 1}` }));
      datasets.push(await evaluate(`${path.basename(s.dir)}-night-fw${fw}`, 'synthetic', `${s.dir}, darkened (full well ${fw} e⁻, read noise ${DEFAULT_READ_NOISE} e⁻)`, samples, o, tick));
    }
  }
  for (const r of noharmSets) {
    const samples = r.images.map((img, i) => ({ input: img, reference: img, label: `#${i + 1}` }));
    datasets.push(await evaluate(`${path.basename(r.dir)}-noharm`, 'noharm', `${r.dir}, normal-light photos scored against themselves`, samples, o, tick));
  }
  for (const v of videos) {
    const outs = new Map<string, RgbImage[]>();
    const ms = new Map<string, number>();
    for (const st of o.stages) {
      const t = performance.now();
      const frames: RgbImage[] = [];
      // A clip is one camera: stages that carry state across frames (exposure, IR mode) do so.
      const run = st.sequence ? st.sequence() : (x: RgbImage) => st.run(x);
      for (const f of v.frames) { frames.push(await run(f)); tick(`${path.basename(v.file)}: ${st.name}`); }
      ms.set(st.name, (performance.now() - t) / Math.max(v.frames.length, 1));
      outs.set(st.name, frames);
    }
    const mid = Math.floor(v.frames.length / 2);
    const mean = (frames: readonly RgbImage[], f: (x: RgbImage) => number): number => frames.reduce((s, x) => s + f(x), 0) / Math.max(frames.length, 1);
    const fig = (frames: readonly RgbImage[], msPer: number): StageFigures => ({
      brightness: mean(frames, meanBrightness), clipped: mean(frames, (x) => clippedFraction(x).highlights),
      loe: frames.length ? loe(v.frames[0]!, frames[0]!) : 0, colorfulness: mean(frames, colorfulness),
      cast: frames.length ? neutralCast(v.frames[mid]!, frames[mid]!) : 0,
      flicker: flicker(v.frames, frames).ratio, msPerImage: msPer,
    });
    const name = path.basename(v.file, path.extname(v.file));
    const grid = path.join(o.out, `grid-${name}.png`);
    await writeGrid(grid, ['input', ...o.stages.map((s) => s.name)], [[v.frames[mid]!, ...o.stages.map((s) => outs.get(s.name)![mid]!)].map((f) => centreCrop(f, CELL))]);
    datasets.push({
      name, kind: 'video', source: `${v.file}, first ${o.videoSeconds ?? 6} s at ${v.frames[0]?.width}x${v.frames[0]?.height}`, images: v.frames.length,
      input: fig(v.frames, 0), stages: Object.fromEntries(o.stages.map((s) => [s.name, fig(outs.get(s.name)!, ms.get(s.name)!)])), grid: path.basename(grid),
    });
  }
  const report: EvalReport = { date: new Date().toISOString(), stages: o.stages.map((s) => ({ name: s.name, description: s.description })), seed: o.seed, datasets };
  fs.writeFileSync(path.join(o.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(o.out, 'report.md'), reportMarkdown(report));
  return report;
}

const f2 = (x: number | undefined, d = 2): string => (x === undefined ? '–' : x.toFixed(d));

/** The report as Markdown: one table per dataset, the grid under it. */
export function reportMarkdown(r: EvalReport): string {
  const out: string[] = ['# pie-stream eval', '', `Seed ${r.seed}, ${r.date}.`, '', 'Enhancers:', ''];
  for (const s of r.stages) out.push(`- **${s.name}**: ${s.description}`);
  out.push('', 'Brightness: mean of RGB in [0,1]. Clipped: fraction of pixels with a channel at 255. LOE: lightness order error against the input (0 = order kept; on a 50-px grid). Colorfulness: Hasler–Süsstrunk. Cast: over the input\'s neutral pixels (CIELAB chroma < 6, L* > 3), the distance of the output\'s mean (a*, b*) from the input\'s (about 2 is just noticeable; videos: the middle frame). Flicker: mean |frame difference| of the output over that of the input. Do-no-harm sets: PSNR/SSIM of the output against the (normal-light) input itself.', '');
  for (const d of r.datasets) {
    out.push(`## ${d.name} (${d.kind}, ${d.images} ${d.kind === 'video' ? 'frames' : 'images'})`, '', d.source, '');
    const ref = d.kind === 'synthetic' || d.kind === 'noharm';
    const vid = d.kind === 'video';
    const cols = ['', 'brightness', 'clipped %', 'LOE', 'colorfulness', 'cast', ...(ref ? ['PSNR dB', 'SSIM'] : []), ...(vid ? ['flicker'] : []), 'ms/image'];
    out.push(`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`);
    const row = (name: string, f: StageFigures, isInput = false): string => `| ${[name, f2(f.brightness, 3), f2(100 * f.clipped), f2(f.loe, 1), f2(f.colorfulness, 1), isInput ? '–' : f2(f.cast, 2), ...(ref ? [f2(f.psnr), f2(f.ssim, 3)] : []), ...(vid ? [isInput ? '1' : f2(f.flicker)] : []), isInput ? '–' : f2(f.msPerImage, 0)].join(' | ')} |`;
    out.push(row(ref ? 'dark input' : 'input', d.input, true));
    for (const [name, f] of Object.entries(d.stages)) out.push(row(name, f));
    if (d.grid) out.push('', `![${d.name}](${d.grid})`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
