// Face recall on dark video (issue 12): a labelled group photo becomes a short clip, a 640×360
// window panning across it or zooming into it a few pixels a frame, with the face boxes carried
// through the same transform; the clip is darkened by the eval's sensor model (one exposure for
// the clip, fresh shot and read noise every frame) and each frame goes, in order, through the
// detection paths the live pipeline has had: the camera's frame raw and smoothed, enhanced, fused,
// and the same behind the temporal denoiser with one camera's state carried along the clip.
// Detector, enhancer and denoiser come in as functions; the rest is pure.
import { detectAlong } from '../detect/path.js';
import { fuseFaces, type FaceFinder, type FuseOptions } from '../detect/fuse.js';
import { iou } from '../detect/nms.js';
import { estimateNoise, smoothFor } from '../detect/smooth.js';
import type { Box, Face } from '../detect/types.js';
import type { RgbImage } from '../image/types.js';
import { scoreDetections, type DetectionScores, type ReferenceBox, type ScoredBox } from './faces.js';
import { resizeArea, type LabelledPhoto } from './small-faces.js';
import { darken, DEFAULT_READ_NOISE, exposureFor } from './synthetic-night.js';

/** A rectangle of the photo, in its pixels, that fills the whole output frame. */
export interface Window {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface ClipMotion {
  /** 'still': the window holds (the fixed camera the temporal denoiser is made for; a control). */
  readonly kind: 'pan' | 'zoom' | 'still';
  readonly from: Window;
  readonly to: Window;
}

/** A face must show at least this share of its box inside the frame to count; less is left out of the score. */
export const MIN_VISIBLE = 0.6;

export interface FaceVideoFrame {
  readonly image: RgbImage;
  /** Faces at least MIN_VISIBLE inside the frame, clipped to it. */
  readonly boxes: readonly Box[];
  /** Faces cut by the frame's edge: detections on them are neither hits nor false faces. */
  readonly ignore: readonly Box[];
}

/** The window of frame `i` of `n`: linear from `from` to `to` (both ends included). */
export function windowAt(m: ClipMotion, i: number, n: number): Window {
  const t = n > 1 ? i / (n - 1) : 0, lerp = (a: number, b: number): number => a + (b - a) * t;
  return { x: lerp(m.from.x, m.to.x), y: lerp(m.from.y, m.to.y), width: lerp(m.from.width, m.to.width), height: lerp(m.from.height, m.to.height) };
}

/** A photo box in the frame that shows `win` at outW×outH. */
export function transformBox(b: Box, win: Window, outW: number, outH: number): Box {
  const kx = outW / win.width, ky = outH / win.height;
  return { x: (b.x - win.x) * kx, y: (b.y - win.y) * ky, width: b.width * kx, height: b.height * ky };
}

/** The part of `b` inside [0, w)×[0, h), or undefined when none is. */
function clipBox(b: Box, w: number, h: number): Box | undefined {
  const x0 = Math.max(0, b.x), y0 = Math.max(0, b.y), x1 = Math.min(w, b.x + b.width), y1 = Math.min(h, b.y + b.height);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : undefined;
}

/** The largest window of the output's aspect that fits the photo, times `scale` (≤ 1), centred on (cx, cy) and kept inside. */
function fitWindow(pw: number, ph: number, aspect: number, scale: number, cx = pw / 2, cy = ph / 2): Window {
  const w0 = Math.min(pw, ph * aspect), width = w0 * scale, height = width / aspect;
  return { x: Math.min(pw - width, Math.max(0, cx - width / 2)), y: Math.min(ph - height, Math.max(0, cy - height / 2)), width, height };
}

/**
 * A slow pan: a window of `scale` × the largest that fits moves left to right (or down, for a
 * tall photo) at about `pxPerFrame` output pixels a frame, centred on the faces across the other axis.
 */
export function panMotion(photo: LabelledPhoto, o: { width: number; height: number; frames: number; scale?: number; pxPerFrame?: number }): ClipMotion {
  const { width: pw, height: ph } = photo.image, aspect = o.width / o.height;
  const cy = photo.boxes.reduce((s, b) => s + b.y + b.height / 2, 0) / Math.max(1, photo.boxes.length) || ph / 2;
  const w = fitWindow(pw, ph, aspect, o.scale ?? 0.8, pw / 2, cy);
  const horizontal = pw - w.width >= ph - w.height;
  // The travel in photo pixels: pxPerFrame output pixels a frame, at most what the photo allows.
  const travel = Math.min(horizontal ? pw - w.width : ph - w.height, ((o.pxPerFrame ?? 3) * (o.frames - 1) * w.width) / o.width);
  const from = horizontal ? { ...w, x: Math.max(0, w.x - travel / 2) } : { ...w, y: Math.max(0, w.y - travel / 2) };
  const to = horizontal ? { ...from, x: from.x + travel } : { ...from, y: from.y + travel };
  return { kind: 'pan', from, to };
}

/** A slow zoom: from the largest window that fits to one `zoom`× smaller around the faces' centre. */
export function zoomMotion(photo: LabelledPhoto, o: { width: number; height: number; zoom?: number }): ClipMotion {
  const { width: pw, height: ph } = photo.image, aspect = o.width / o.height, n = Math.max(1, photo.boxes.length);
  const cx = photo.boxes.reduce((s, b) => s + b.x + b.width / 2, 0) / n, cy = photo.boxes.reduce((s, b) => s + b.y + b.height / 2, 0) / n;
  return { kind: 'zoom', from: fitWindow(pw, ph, aspect, 1), to: fitWindow(pw, ph, aspect, 1 / (o.zoom ?? 1.25), cx, cy) };
}

/** The first window of `m` held for the whole clip: the same scene with no motion. */
export const stillMotion = (m: ClipMotion): ClipMotion => ({ kind: 'still', from: m.from, to: m.from });

/**
 * Frame `i` of the clip: the photo area-averaged to the window's scale (as a sensor bins light),
 * then the window sampled bilinearly at its sub-pixel offset. Output pixel x covers photo
 * [win.x + x·win.width/outW, …), the same map transformBox uses, so the boxes follow exactly.
 */
export function renderFrame(photo: LabelledPhoto, win: Window, outW: number, outH: number, cache?: Map<string, RgbImage>): FaceVideoFrame {
  const { width: pw, height: ph } = photo.image;
  const rw = Math.max(1, Math.round((pw * outW) / win.width)), rh = Math.max(1, Math.round((ph * outH) / win.height));
  const key = `${rw}x${rh}`;
  let stage = cache?.get(key);
  if (!stage) { stage = resizeArea(photo.image, rw, rh); cache?.set(key, stage); }
  const kx = rw / pw, ky = rh / ph, step = (win.width * kx) / outW, stepY = (win.height * ky) / outH;
  const d = stage.data, out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    // Pixel centres: output (y + 0.5) ↔ stage win.y·ky + (y + 0.5)·stepY, whose pixel centres sit at +0.5.
    const fy = Math.min(rh - 1, Math.max(0, win.y * ky + (y + 0.5) * stepY - 0.5)), y0 = Math.floor(fy), y1 = Math.min(rh - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(rw - 1, Math.max(0, win.x * kx + (x + 0.5) * step - 0.5)), x0 = Math.floor(fx), x1 = Math.min(rw - 1, x0 + 1), wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const a = d[(y0 * rw + x0) * 3 + c]!, b = d[(y0 * rw + x1) * 3 + c]!, e = d[(y1 * rw + x0) * 3 + c]!, g = d[(y1 * rw + x1) * 3 + c]!;
        out[(y * outW + x) * 3 + c] = Math.round((a + (b - a) * wx) * (1 - wy) + (e + (g - e) * wx) * wy);
      }
    }
  }
  const boxes: Box[] = [], ignore: Box[] = [];
  for (const b of photo.boxes) {
    const t = transformBox(b, win, outW, outH), c = clipBox(t, outW, outH);
    if (!c) continue;
    (c.width * c.height >= MIN_VISIBLE * t.width * t.height ? boxes : ignore).push(c);
  }
  return { image: { width: outW, height: outH, data: out }, boxes, ignore };
}

export interface FaceClip {
  readonly name: string;
  /** The photo it was made from: clips of one photo share its exposure. */
  readonly photo: string;
  readonly motion: ClipMotion;
  readonly frames: readonly FaceVideoFrame[];
}

export function buildFaceClip(photo: LabelledPhoto, motion: ClipMotion, o: { width: number; height: number; frames: number }): FaceClip {
  const cache = new Map<string, RgbImage>();
  const frames = Array.from({ length: o.frames }, (_, i) => renderFrame(photo, windowAt(motion, i, o.frames), o.width, o.height, cache));
  return { name: `${photo.name} (${motion.kind})`, photo: photo.name, motion, frames };
}

/**
 * The clip at `fullWell`: one exposure for the clip (drawn for index `exposureIndex`, default its
 * index `clip` in the run), fresh noise per frame (seeded by the clip's index).
 */
export function darkClip(frames: readonly RgbImage[], o: { seed: number; clip: number; fullWell: number; exposureIndex?: number }): RgbImage[] {
  const exposure = exposureFor(o.seed, o.exposureIndex ?? o.clip);
  return frames.map((f, i) => darken(f, { exposure, fullWell: o.fullWell, readNoise: DEFAULT_READ_NOISE, seed: (Math.imul(o.seed, 7919) + Math.imul(o.clip + 1, 104729) + Math.imul(o.fullWell, 31) + i) >>> 0 }));
}

// ---- the runner ----

/** The paths, in table order. `denoised …`: behind the temporal denoiser, as the live pipeline runs now. */
export const FACE_VIDEO_PATHS = ['raw', 'smoothed raw', 'enhanced', 'fused', 'denoised', 'denoised+enhanced', 'fused (denoised)'] as const;
export type FaceVideoPath = typeof FACE_VIDEO_PATHS[number];

export interface FaceVideoStages {
  readonly detector: FaceFinder;
  readonly enhance: (img: RgbImage) => Promise<RgbImage>;
  /** One camera's temporal denoiser: frames of `camera` in order, its state carried. */
  readonly denoise: (camera: string, img: RgbImage) => Promise<RgbImage>;
  readonly fuse?: FuseOptions;
}

/** The images the detector looked at on one frame (after its smoothing), for the grid. */
export interface KeptFrame {
  readonly clip: number;
  readonly frame: number;
  readonly fullWell: number;
  readonly images: Readonly<Record<'dark' | 'smoothed raw' | 'denoised' | 'denoised+enhanced', RgbImage>>;
}

export interface CollectedFaceVideo {
  /** Per level (0 = normal light: the clean clip, raw only), per path, per clip, per frame. */
  readonly levels: ReadonlyArray<{ readonly fullWell: number; readonly noise: number; readonly paths: Readonly<Partial<Record<FaceVideoPath, Face[][][]>>> }>;
  readonly kept: readonly KeptFrame[];
}

/**
 * Every clip through every path at every full well, frames in order. The live detection path
 * (detectAlong) does the smoothing: radius from the noise of the frame the detector takes as raw
 * (the denoised one behind the denoiser), also for the enhanced frame. Fused = fuseFaces over the
 * smoothed raw and the enhanced passes, which is detectFused's rule on the same passes.
 */
export async function collectFaceVideo(clips: readonly FaceClip[], o: FaceVideoStages & { fullWells: readonly number[]; seed: number; keepFrame?: number; onProgress?: (done: number, total: number) => void }): Promise<CollectedFaceVideo> {
  const total = clips.reduce((n, c) => n + c.frames.length, 0) * (1 + o.fullWells.length);
  let done = 0;
  const levels: Array<CollectedFaceVideo['levels'][number]> = [];
  const kept: KeptFrame[] = [];
  const one = async (img: RgbImage, on: 'raw' | 'enhanced', smooth: boolean, enhanced?: RgbImage): Promise<Face[]> =>
    (await detectAlong(o.detector, [{ raw: img, ...(enhanced ? { enhanced } : {}) }], { on, ...(smooth ? {} : { smooth: false }) }))[0] ?? [];
  const clean: Face[][][] = [];
  for (const c of clips) {
    const per: Face[][] = [];
    for (const f of c.frames) { per.push(await one(f.image, 'raw', false)); o.onProgress?.(++done, total); }
    clean.push(per);
  }
  levels.push({ fullWell: 0, noise: 0, paths: { raw: clean } });
  for (const fullWell of o.fullWells) {
    const paths = Object.fromEntries(FACE_VIDEO_PATHS.map((p) => [p, [] as Face[][][]])) as Record<FaceVideoPath, Face[][][]>;
    let noise = 0, frames = 0;
    for (const [ci, c] of clips.entries()) {
      // Clips of one photo (a pan and its still control) at the same light: the first one's exposure.
      const dark = darkClip(c.frames.map((f) => f.image), { seed: o.seed, clip: ci, fullWell, exposureIndex: clips.findIndex((x) => x.photo === c.photo) });
      const per = Object.fromEntries(FACE_VIDEO_PATHS.map((p) => [p, [] as Face[][]])) as Record<FaceVideoPath, Face[][]>;
      const camera = `clip${ci}@${fullWell}`;
      for (const [i, d] of dark.entries()) {
        const sigma = estimateNoise(d);
        noise += sigma; frames++;
        const enh = await o.enhance(d);
        const den = await o.denoise(camera, d);
        const denEnh = await o.enhance(den);
        per.raw.push(await one(d, 'raw', false));
        per['smoothed raw'].push(await one(d, 'raw', true));
        per.enhanced.push(await one(d, 'enhanced', true, enh));
        per.fused.push(fuseFaces(per['smoothed raw'][i]!, per.enhanced[i]!, o.fuse ?? {}));
        per.denoised.push(await one(den, 'raw', true));
        per['denoised+enhanced'].push(await one(den, 'enhanced', true, denEnh));
        per['fused (denoised)'].push(fuseFaces(per.denoised[i]!, per['denoised+enhanced'][i]!, o.fuse ?? {}));
        if (i === (o.keepFrame ?? -1)) {
          const sd = estimateNoise(den);
          kept.push({ clip: ci, frame: i, fullWell, images: { dark: d, 'smoothed raw': smoothFor(d, sigma), denoised: smoothFor(den, sd), 'denoised+enhanced': smoothFor(denEnh, sd) } });
        }
        o.onProgress?.(++done, total);
      }
      for (const p of FACE_VIDEO_PATHS) paths[p].push(per[p]);
    }
    levels.push({ fullWell, noise: noise / Math.max(1, frames), paths });
  }
  return { levels, kept };
}

export interface FaceVideoRow extends DetectionScores {
  readonly path: FaceVideoPath;
}

export interface FaceVideoReport {
  readonly clips: ReadonlyArray<{ readonly name: string; readonly frames: number; readonly faces: number }>;
  readonly references: number;
  readonly scoreThreshold: number;
  readonly levels: ReadonlyArray<{ readonly fullWell: number; readonly noise: number; readonly rows: readonly FaceVideoRow[] }>;
}

/** A detection on a face the frame's edge cuts (an ignore box) is left out: neither hit nor false face. */
function onIgnored(d: Box, f: FaceVideoFrame): boolean {
  return f.ignore.some((g) => iou(d, g) >= 0.3);
}

/**
 * Recall and precision (IoU 0.5, score ≥ `scoreThreshold`) over all frames of the clips `only`
 * keeps (default all), per path and level.
 */
export function scoreFaceVideo(clips: readonly FaceClip[], c: CollectedFaceVideo, scoreThreshold = 0.5, only: (clip: FaceClip, index: number) => boolean = () => true): FaceVideoReport {
  const refs: ReferenceBox[] = [];
  const frameIds: Array<{ ci: number; fi: number; id: number }> = [];
  let id = 0;
  for (const [ci, cl] of clips.entries()) if (only(cl, ci)) for (const [fi, f] of cl.frames.entries()) { for (const box of f.boxes) refs.push({ image: id, box }); frameIds.push({ ci, fi, id: id++ }); }
  const levels = c.levels.map((l) => ({
    fullWell: l.fullWell, noise: l.noise,
    rows: FACE_VIDEO_PATHS.flatMap((p) => {
      const faces = l.paths[p];
      if (!faces) return [];
      const dets: ScoredBox[] = frameIds.flatMap(({ ci, fi, id: image }) => (faces[ci]?.[fi] ?? []).filter((f) => !onIgnored(f.box, clips[ci]!.frames[fi]!)).map((f) => ({ image, box: f.box, score: f.score })));
      return [{ path: p, ...scoreDetections(dets, refs, { scoreThreshold }) }];
    }),
  }));
  return { clips: clips.filter(only).map((cl) => ({ name: cl.name, frames: cl.frames.length, faces: cl.frames.reduce((n, f) => n + f.boxes.length, 0) })), references: refs.length, scoreThreshold, levels };
}

const f2 = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(2));

/** Recall of every path on each clip alone: a row per clip and full well. */
export function formatPerClip(clips: readonly FaceClip[], c: CollectedFaceVideo, scoreThreshold = 0.5): string {
  const lines = [
    `Recall per clip (score ≥ ${scoreThreshold}, IoU 0.5):`, '',
    `| clip | full well | ${FACE_VIDEO_PATHS.join(' | ')} |`,
    `| --- | --- | ${FACE_VIDEO_PATHS.map(() => '---').join(' | ')} |`,
  ];
  for (const [ci, cl] of clips.entries()) {
    const r = scoreFaceVideo(clips, c, scoreThreshold, (_, i) => i === ci);
    for (const l of r.levels.filter((x) => x.fullWell > 0)) lines.push(`| ${cl.name} | ${l.fullWell} | ${FACE_VIDEO_PATHS.map((p) => f2(l.rows.find((row) => row.path === p)?.recall ?? NaN)).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** A Markdown table: a row per path, recall / precision (hits / false faces) per full well. */
export function formatFaceVideo(r: FaceVideoReport): string {
  const dark = r.levels.filter((l) => l.fullWell > 0), normal = r.levels.find((l) => l.fullWell === 0);
  const lines = [
    `${r.clips.map((c) => `${c.name}: ${c.frames} frames, ${c.faces} faces`).join('; ')}. ${r.references} faces in all; recall / precision (hits / false faces) at score ≥ ${r.scoreThreshold}, IoU 0.5.${normal ? ` Normal light, raw: ${f2(normal.rows[0]!.recall)} / ${f2(normal.rows[0]!.precision)}.` : ''}`,
    '',
    `| path | ${dark.map((l) => `full well ${l.fullWell} (σ ${l.noise.toFixed(1)})`).join(' | ')} |`,
    `| --- | ${dark.map(() => '---').join(' | ')} |`,
  ];
  for (const p of FACE_VIDEO_PATHS) {
    lines.push(`| ${p} | ${dark.map((l) => { const x = l.rows.find((row) => row.path === p); return x ? `${f2(x.recall)} / ${f2(x.precision)} (${x.tp} / ${x.fp})` : '—'; }).join(' | ')} |`);
  }
  return lines.join('\n');
}
