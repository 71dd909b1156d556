// Face detection on synthetic night (issue 6): does enhancement help the detector or hurt it?
// Normal-light photos are re-shot dark by the sensor model of synthetic-night.ts at each full
// well; the reference boxes are the detector's own faces on the originals (so the originals score
// 1 by construction: they are the upper bound, not a measurement); each variant of the dark frame
// (raw, enhanced, enhanced and denoised, raw and enhanced fused) is scored against them with
// recall and precision at the operating score and VOC's AP50.
// The scoring (matching, AP) is pure and tested on hand-made cases; the runner takes the detector,
// enhancers and denoiser as functions, so it does no IO of its own.
import { fuseFaces, type FuseOptions } from '../detect/fuse.js';
import { iou } from '../detect/nms.js';
import type { Box, Face } from '../detect/types.js';
import type { RgbImage } from '../image/types.js';
import { darken, exposureFor } from './synthetic-night.js';

export interface ScoredBox {
  /** Index of the image the box belongs to. */
  readonly image: number;
  readonly box: Box;
  readonly score: number;
}

export interface ReferenceBox {
  readonly image: number;
  readonly box: Box;
}

export interface Matched {
  /** Detection scores, highest first (ties in input order). */
  readonly scores: readonly number[];
  /** Whether each detection, in the same order, is a true positive. */
  readonly tp: readonly boolean[];
  readonly references: number;
}

/**
 * PASCAL VOC's matching: detections by decreasing score; each goes to the reference of its image
 * it overlaps most; at IoU ≥ `iouThreshold` it is a true positive if that reference is still
 * free, otherwise (a duplicate, or too little overlap) a false positive. VOC does not fall back
 * to a second-best free reference, and neither does this.
 */
export function matchDetections(dets: readonly ScoredBox[], refs: readonly ReferenceBox[], iouThreshold = 0.5): Matched {
  const byImage = new Map<number, Array<{ box: Box; used: boolean }>>();
  for (const r of refs) {
    const list = byImage.get(r.image) ?? [];
    list.push({ box: r.box, used: false });
    byImage.set(r.image, list);
  }
  const order = dets.map((d, i) => ({ d, i })).sort((p, q) => q.d.score - p.d.score || p.i - q.i).map((x) => x.d);
  const tp = order.map((d) => {
    let best: { box: Box; used: boolean } | undefined, bestIou = -1;
    for (const r of byImage.get(d.image) ?? []) {
      const v = iou(d.box, r.box);
      if (v > bestIou) { bestIou = v; best = r; }
    }
    if (!best || bestIou < iouThreshold || best.used) return false;
    best.used = true;
    return true;
  });
  return { scores: order.map((d) => d.score), tp, references: refs.length };
}

/**
 * VOC 2010+ average precision: the area under the precision–recall curve after precision is made
 * monotone (each point takes the best precision at any higher recall), summed at every recall
 * step ("all-point interpolation", not the 11-point VOC 2007 one). NaN without references.
 */
export function averagePrecision(m: Pick<Matched, 'tp' | 'references'>): number {
  if (m.references === 0) return NaN;
  const n = m.tp.length;
  const rec = new Float64Array(n + 2), pre = new Float64Array(n + 2);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    if (m.tp[i]) hits++;
    rec[i + 1] = hits / m.references;
    pre[i + 1] = hits / (i + 1);
  }
  rec[n + 1] = 1; // pre[n + 1] = 0: recall never reached scores nothing
  for (let i = n; i >= 0; i--) pre[i] = Math.max(pre[i]!, pre[i + 1]!);
  let ap = 0;
  for (let i = 0; i <= n; i++) if (rec[i + 1] !== rec[i]) ap += (rec[i + 1]! - rec[i]!) * pre[i + 1]!;
  return ap;
}

export interface DetectionScores {
  /** True positives among detections scoring at least the operating threshold. */
  readonly tp: number;
  readonly fp: number;
  readonly references: number;
  /** tp / references; NaN without references. */
  readonly recall: number;
  /** tp / (tp + fp); NaN with no detection at the operating threshold. */
  readonly precision: number;
  /** Over every detection given, whatever its score (the full ranking). */
  readonly ap50: number;
}

/** Recall and precision at `scoreThreshold`, AP at IoU 0.5 over all the detections. */
export function scoreDetections(dets: readonly ScoredBox[], refs: readonly ReferenceBox[], o: { scoreThreshold?: number; iouThreshold?: number } = {}): DetectionScores {
  const thr = o.scoreThreshold ?? 0.5;
  const m = matchDetections(dets, refs, o.iouThreshold ?? 0.5);
  let tp = 0, fp = 0;
  m.scores.forEach((s, i) => { if (s >= thr) { if (m.tp[i]) tp++; else fp++; } });
  return {
    tp, fp, references: m.references,
    recall: m.references ? tp / m.references : NaN,
    precision: tp + fp ? tp / (tp + fp) : NaN,
    ap50: averagePrecision(m),
  };
}

// ---- the runner ----

/** An image-to-image stage: an enhancer, a baseline, a denoiser. */
export interface ImageStage {
  readonly name: string;
  run(img: RgbImage): Promise<RgbImage>;
}

/** What the runner needs of a detector (FaceDetector is one). */
export interface FaceDetectorLike {
  detect(frames: readonly RgbImage[]): Promise<Face[][]>;
}

export interface DenoiseStage extends ImageStage {
  /**
   * 'after' (default): enhance, then denoise the brightened frame, where the noise is at the
   * levels the denoiser's strengths are meant for. 'before': denoise the dark frame first.
   */
  readonly stage?: 'before' | 'after';
}

export interface FaceEvalOptions {
  /** Normal-light photos (the originals). */
  readonly images: readonly RgbImage[];
  readonly fullWells: readonly number[];
  readonly seed: number;
  readonly enhancers: readonly ImageStage[];
  /** Should return faces down to a score below `scoreThreshold`, so AP sees the ranking past it. */
  readonly detector: FaceDetectorLike;
  readonly denoise?: DenoiseStage;
  /** The operating score: references are the originals' faces from it up. Default 0.5. */
  readonly scoreThreshold?: number;
  readonly fuse?: FuseOptions;
  readonly onProgress?: (done: number, total: number) => void;
}

export type VariantKind = 'original' | 'raw' | 'enhanced' | 'denoised' | 'fused';

export interface VariantFaces {
  readonly name: string;
  readonly kind: VariantKind;
  /** Per image. */
  readonly faces: readonly (readonly Face[])[];
}

export interface CollectedLevel {
  readonly fullWell: number;
  readonly variants: readonly VariantFaces[];
}

export interface CollectedFaces {
  readonly scoreThreshold: number;
  /** Per image: the faces on the original at scoreThreshold or above. */
  readonly references: readonly (readonly Face[])[];
  readonly original: VariantFaces;
  readonly levels: readonly CollectedLevel[];
}

export const FACE_EVAL_SEED = 1;

/** The darkening seed of image `index` at `fullWell`: its own noise per level and image. */
const noiseSeed = (seed: number, fullWell: number, index: number): number =>
  (Math.imul(seed, 0x9e3779b1) ^ Math.imul(fullWell + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;

/**
 * Runs every variant through the detector and keeps the faces (the costly part), so fusion rules
 * can be compared on the same detections without re-running anything. An image keeps the same
 * exposure at every full well: levels differ in noise alone.
 */
export async function collectFaceDetections(o: FaceEvalOptions): Promise<CollectedFaces> {
  const thr = o.scoreThreshold ?? 0.5;
  const detectOne = async (img: RgbImage): Promise<Face[]> => (await o.detector.detect([img]))[0] ?? [];
  const total = o.images.length * (1 + o.fullWells.length);
  let done = 0;
  const tick = (): void => { done++; o.onProgress?.(done, total); };

  const originalFaces: Face[][] = [];
  for (const img of o.images) {
    originalFaces.push(await detectOne(img));
    tick();
  }
  const references = originalFaces.map((fs) => fs.filter((f) => f.score >= thr));

  const dn = o.denoise, dnAfter = (dn?.stage ?? 'after') === 'after';
  const levels: CollectedLevel[] = [];
  for (const fullWell of o.fullWells) {
    const names: Array<{ name: string; kind: VariantKind }> = [{ name: 'raw', kind: 'raw' }];
    if (dn) names.push({ name: `raw+${dn.name}`, kind: 'denoised' });
    for (const e of o.enhancers) {
      names.push({ name: e.name, kind: 'enhanced' });
      if (dn) names.push({ name: `${e.name}+${dn.name}`, kind: 'denoised' });
    }
    const faces = names.map(() => [] as Face[][]);
    for (let i = 0; i < o.images.length; i++) {
      const dark = darken(o.images[i]!, { exposure: exposureFor(o.seed, i), fullWell, seed: noiseSeed(o.seed, fullWell, i) });
      let k = 0;
      faces[k++]!.push(await detectOne(dark));
      const darkDenoised = dn ? await dn.run(dark) : undefined;
      if (darkDenoised) faces[k++]!.push(await detectOne(darkDenoised));
      for (const e of o.enhancers) {
        const enhanced = await e.run(dark);
        faces[k++]!.push(await detectOne(enhanced));
        if (dn) faces[k++]!.push(await detectOne(dnAfter ? await dn.run(enhanced) : await e.run(darkDenoised!)));
      }
      tick();
    }
    levels.push({ fullWell, variants: names.map((n, j) => ({ ...n, faces: faces[j]! })) });
  }
  return { scoreThreshold: thr, references, original: { name: 'original', kind: 'original', faces: originalFaces }, levels };
}

export interface FaceEvalRow extends DetectionScores {
  readonly variant: string;
  readonly kind: VariantKind;
}

export interface FaceEvalLevel {
  readonly fullWell: number;
  readonly rows: readonly FaceEvalRow[];
}

export interface FaceEvalReport {
  readonly images: number;
  readonly references: number;
  readonly scoreThreshold: number;
  readonly levels: readonly FaceEvalLevel[];
}

const toScored = (faces: readonly (readonly Face[])[]): ScoredBox[] => faces.flatMap((fs, image) => fs.map((f) => ({ image, box: f.box, score: f.score })));

/**
 * Rows per level: originals (the upper bound, 1 by construction), raw, the denoised raw frame,
 * each enhanced variant, and each fused with raw (`raw ∪ e`, `raw+dn ∪ e+dn`; fuseFaces with `fuse`).
 */
export function scoreFaceEval(c: CollectedFaces, fuse: FuseOptions = {}): FaceEvalReport {
  const refs: ReferenceBox[] = c.references.flatMap((fs, image) => fs.map((f) => ({ image, box: f.box })));
  const score = (v: VariantFaces): FaceEvalRow => ({ variant: v.name, kind: v.kind, ...scoreDetections(toScored(v.faces), refs, { scoreThreshold: c.scoreThreshold }) });
  const levels = c.levels.map((l) => {
    // Like with like: an enhanced variant fuses with the raw frame, a denoised one with the
    // denoised raw frame (the same denoiser on both branches, as the live path runs it).
    const raw = l.variants.find((v) => v.kind === 'raw')!;
    const rawDenoised = l.variants.find((v) => v.kind === 'denoised' && v.name.startsWith('raw+'));
    const fused: VariantFaces[] = l.variants.filter((v) => v !== rawDenoised && (v.kind === 'enhanced' || v.kind === 'denoised')).map((v) => {
      const base = v.kind === 'denoised' && rawDenoised ? rawDenoised : raw;
      return { name: `${base.name} ∪ ${v.name}`, kind: 'fused', faces: v.faces.map((fs, i) => fuseFaces(base.faces[i]!, fs, fuse)) };
    });
    return { fullWell: l.fullWell, rows: [c.original, ...l.variants, ...fused].map(score) };
  });
  return { images: c.references.length, references: refs.length, scoreThreshold: c.scoreThreshold, levels };
}

/** Collects and scores in one go. */
export async function evalFaces(o: FaceEvalOptions): Promise<FaceEvalReport> {
  return scoreFaceEval(await collectFaceDetections(o), o.fuse);
}

const fmt = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(3));

/** The report as a Markdown table: one row per variant and full well. */
export function formatFaceEval(r: FaceEvalReport): string {
  const lines = [
    `${r.references} reference faces on ${r.images} images (the detector on the originals, score ≥ ${r.scoreThreshold}); recall and precision at score ≥ ${r.scoreThreshold}, AP50 over all detections`,
    '',
    '| full well (e⁻) | variant | recall | precision | AP50 | TP | FP |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const l of r.levels) {
    for (const row of l.rows) lines.push(`| ${l.fullWell} | ${row.variant} | ${fmt(row.recall)} | ${fmt(row.precision)} | ${fmt(row.ap50)} | ${row.tp} | ${row.fp} |`);
  }
  return lines.join('\n');
}
