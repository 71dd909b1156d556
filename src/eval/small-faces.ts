// The small-face set (issue 16): faces at the size a surveillance camera sees them. Labelled
// normal-light photos are shrunk (area average, as a sensor bins light) so that their faces come
// out 10–40 px, several sizes per photo, and packed onto canvases; each canvas is then darkened
// by the eval's sensor model (synthetic-night.ts) like any other still. Boxes are scaled with
// the photo and shifted to where it lands. Scoring is by face size, COCO's way: a bucket counts
// its own references, detections matched to a face of another bucket are left out of it, and an
// unmatched detection counts as a false face in the bucket of its own size. Pure.
import { iou } from '../detect/nms.js';
import type { Box } from '../detect/types.js';
import type { RgbImage } from '../image/types.js';
import { averagePrecision, matchDetections, type DetectionScores, type ReferenceBox, type ScoredBox } from './faces.js';

export interface LabelledPhoto {
  /** Where it came from (a path relative to the set), for the split and the report. */
  readonly name: string;
  readonly image: RgbImage;
  /** Face boxes in the photo's pixels. */
  readonly boxes: readonly Box[];
}

/** A face's size in pixels: the side of the square of the box's area (boxes differ in aspect). */
export const faceSize = (b: Box): number => Math.sqrt(b.width * b.height);

export interface FaceBucket {
  readonly name: string;
  /** From `min` (inclusive) to `max` (exclusive), in faceSize pixels. */
  readonly min: number;
  readonly max: number;
}

export const FACE_BUCKETS: readonly FaceBucket[] = [
  { name: '<16', min: 0, max: 16 },
  { name: '16–32', min: 16, max: 32 },
  { name: '>32', min: 32, max: Infinity },
];

/** Median face sizes a photo is shrunk to, one copy each: 10–40 px, denser where faces are hardest. */
export const SMALL_FACE_SIZES = [10, 12, 14, 17, 20, 24, 28, 33, 38] as const;

/**
 * Area-average resize to w×h: each output pixel is the mean of the input area it covers, with
 * fractional edge weights, so a shrink keeps the mean light of every region (no aliasing).
 */
export function resizeArea(img: RgbImage, w: number, h: number): RgbImage {
  if (!(Number.isInteger(w) && Number.isInteger(h) && w >= 1 && h >= 1)) throw new RangeError(`resizeArea: ${w}×${h} is not a size`);
  const sx = img.width / w, sy = img.height / h;
  // Per output column: the input columns it covers and their weights (reused by every row).
  const spans = (n: number, s: number, len: number): Array<Array<[number, number]>> => Array.from({ length: n }, (_, o) => {
    const a = o * s, b = Math.min(len, (o + 1) * s), out: Array<[number, number]> = [];
    for (let i = Math.floor(a); i < b; i++) out.push([i, Math.min(b, i + 1) - Math.max(a, i)]);
    return out;
  });
  const cols = spans(w, sx, img.width), rows = spans(h, sy, img.height);
  const d = img.data, out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0, g = 0, b = 0, wsum = 0;
      for (const [iy, wy] of rows[y]!) {
        for (const [ix, wx] of cols[x]!) {
          const k = (iy * img.width + ix) * 3, wt = wx * wy;
          r += d[k]! * wt; g += d[k + 1]! * wt; b += d[k + 2]! * wt; wsum += wt;
        }
      }
      const o = (y * w + x) * 3;
      out[o] = Math.round(r / wsum); out[o + 1] = Math.round(g / wsum); out[o + 2] = Math.round(b / wsum);
    }
  }
  return { width: w, height: h, data: out };
}

export interface SmallFaceFrame {
  readonly image: RgbImage;
  /** Face boxes in the frame's pixels. */
  readonly boxes: readonly Box[];
  /** The photos on it, with the size each was shrunk to. */
  readonly sources: readonly string[];
}

export interface SmallFaceSetOptions {
  /** Median face size of each copy of a photo. Default SMALL_FACE_SIZES. */
  readonly sizes?: readonly number[];
  /** Canvas size. Default 640×480 (a sub-stream's size; the detector tiles it like any frame). */
  readonly width?: number;
  readonly height?: number;
  /** Gap between photos and around them, in pixels. Default 4. */
  readonly gap?: number;
  /** Canvas grey level between photos (8-bit). Default 96. */
  readonly background?: number;
}

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Every photo at every size, packed in rows (shelves) onto canvases, largest copies first so the
 * shelves fill evenly. A photo without faces is skipped; one too big for a canvas at some size is
 * skipped at that size (its faces could not be 10–40 px on a frame of this size anyway).
 */
export function buildSmallFaceSet(photos: readonly LabelledPhoto[], o: SmallFaceSetOptions = {}): SmallFaceFrame[] {
  const W = o.width ?? 640, H = o.height ?? 480, gap = o.gap ?? 4, bg = o.background ?? 96;
  const copies: Array<{ photo: LabelledPhoto; scale: number; w: number; h: number; size: number }> = [];
  for (const photo of photos) {
    if (photo.boxes.length === 0) continue;
    const m = median(photo.boxes.map(faceSize));
    for (const size of o.sizes ?? SMALL_FACE_SIZES) {
      const scale = size / m;
      const w = Math.max(1, Math.round(photo.image.width * scale)), h = Math.max(1, Math.round(photo.image.height * scale));
      if (w + 2 * gap <= W && h + 2 * gap <= H) copies.push({ photo, scale, w, h, size });
    }
  }
  copies.sort((a, b) => b.h - a.h || b.w - a.w);

  interface Canvas { data: Uint8Array; boxes: Box[]; sources: string[]; x: number; y: number; shelf: number }
  const canvases: Canvas[] = [];
  const fresh = (): Canvas => {
    const c: Canvas = { data: new Uint8Array(W * H * 3).fill(bg), boxes: [], sources: [], x: gap, y: gap, shelf: 0 };
    canvases.push(c);
    return c;
  };
  for (const cp of copies) {
    // First canvas with room on its current shelf or below it.
    let c = canvases.find((k) => (k.x + cp.w + gap <= W && k.y + cp.h + gap <= H) || k.y + k.shelf + gap + cp.h + gap <= H);
    if (!c) c = fresh();
    if (c.x + cp.w + gap > W || c.y + cp.h + gap > H) { c.y += c.shelf + gap; c.x = gap; c.shelf = 0; }
    const small = resizeArea(cp.photo.image, cp.w, cp.h);
    for (let r = 0; r < cp.h; r++) c.data.set(small.data.subarray(r * cp.w * 3, (r + 1) * cp.w * 3), ((c.y + r) * W + c.x) * 3);
    // The photo's pixel (u, v) covers [u, u+1): it lands at x + u·(w / width), exactly, both axes.
    const kx = cp.w / cp.photo.image.width, ky = cp.h / cp.photo.image.height;
    for (const b of cp.photo.boxes) c.boxes.push({ x: c.x + b.x * kx, y: c.y + b.y * ky, width: b.width * kx, height: b.height * ky });
    c.sources.push(`${cp.photo.name}@${cp.size}px`);
    c.x += cp.w + gap;
    c.shelf = Math.max(c.shelf, cp.h);
  }
  return canvases.map((c) => ({ image: { width: W, height: H, data: c.data }, boxes: c.boxes, sources: c.sources }));
}

/** FNV-1a of a name: the split must not move when photos are added or reordered. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export type Split = 'tune' | 'heldout';

/** A photo's split by its name alone: about one in two held out. */
export const splitOf = (name: string): Split => (fnv1a(name) % 2 === 0 ? 'heldout' : 'tune');

export interface BucketScores extends DetectionScores {
  readonly bucket: string;
}

/**
 * Recall, precision (at `scoreThreshold`) and AP50 per face-size bucket. Matching is done once over
 * all references (VOC's greedy rule); then each bucket keeps its references, the detections that
 * matched them, and the unmatched detections of its own size.
 */
export function scoreByBucket(dets: readonly ScoredBox[], refs: readonly ReferenceBox[], o: { scoreThreshold?: number; iouThreshold?: number; buckets?: readonly FaceBucket[] } = {}): BucketScores[] {
  const thr = o.scoreThreshold ?? 0.5;
  const inB = (b: FaceBucket, s: number): boolean => s >= b.min && s < b.max;
  // Which reference each detection took: re-run the match tracking the reference itself.
  const sorted = dets.map((d, i) => ({ d, i })).sort((p, q) => q.d.score - p.d.score || p.i - q.i).map((x) => x.d);
  const m = matchDetections(sorted, refs, o.iouThreshold ?? 0.5);
  const refSizeOf = assignReferences(sorted, refs, m.tp, o.iouThreshold ?? 0.5);
  return (o.buckets ?? FACE_BUCKETS).map((b) => {
    const tp: boolean[] = [], scores: number[] = [];
    sorted.forEach((d, k) => {
      const rs = refSizeOf[k];
      if (rs !== undefined ? inB(b, rs) : inB(b, faceSize(d.box))) { tp.push(rs !== undefined); scores.push(d.score); }
    });
    const references = refs.filter((r) => inB(b, faceSize(r.box))).length;
    let t = 0, f = 0;
    scores.forEach((s, i) => { if (s >= thr) { if (tp[i]) t++; else f++; } });
    return {
      bucket: b.name, tp: t, fp: f, references,
      recall: references ? t / references : NaN,
      precision: t + f ? t / (t + f) : NaN,
      ap50: averagePrecision({ tp, references }),
    };
  });
}

/**
 * For detections already in score order with their VOC outcome, the size of the reference each
 * true positive took (the same greedy rule as matchDetections, so the two agree).
 */
function assignReferences(sorted: readonly ScoredBox[], refs: readonly ReferenceBox[], tp: readonly boolean[], iouThreshold: number): Array<number | undefined> {
  const used = new Set<ReferenceBox>();
  return sorted.map((d, k) => {
    if (!tp[k]) return undefined;
    let best: ReferenceBox | undefined, bestIou = -1;
    for (const r of refs) {
      if (r.image !== d.image) continue;
      const v = iou(d.box, r.box);
      if (v > bestIou) { bestIou = v; best = r; }
    }
    if (!best || bestIou < iouThreshold || used.has(best)) return undefined;
    used.add(best);
    return faceSize(best.box);
  });
}
