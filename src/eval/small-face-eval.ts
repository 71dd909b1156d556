// The small-face eval's runner (issue 16): every frame of the small-face set (small-faces.ts) at
// normal light (the upper bound) and darkened at each full well, through each detection path —
// which detector and tiling, which smoothing in front of it, raw or enhanced frame, and the two
// fused — scored per face-size bucket. Noise is measured once per dark frame, on the raw frame,
// and handed to every smoothing, also the one in front of the enhanced frame (whose own noise is
// the amplified one). Detections are kept, so fusion rules are compared without re-running.
// No IO: detectors, enhancer and denoiser come in as functions.
import { fuseFaces, type FaceFinder, type FuseOptions } from '../detect/fuse.js';
import { estimateNoise } from '../detect/smooth.js';
import type { Face } from '../detect/types.js';
import type { RgbImage } from '../image/types.js';
import { scoreDetections, type DetectionScores, type ImageStage, type ReferenceBox, type ScoredBox } from './faces.js';
import { scoreByBucket, type BucketScores, type SmallFaceFrame, type Split } from './small-faces.js';
import { darken, exposureFor } from './synthetic-night.js';

/** A detection input: the image for the native tiles and, if different, the one for the whole-frame pass. */
export interface DetectionInput {
  readonly tiles: RgbImage;
  readonly whole?: RgbImage;
}

export interface SmoothingChoice {
  readonly name: string;
  /** `rawNoise`: Immerkær σ (8-bit levels) of the raw dark frame, whatever `img` is. */
  prep(img: RgbImage, rawNoise: number): Promise<DetectionInput> | DetectionInput;
}

export interface NamedFinder {
  readonly name: string;
  readonly finder: FaceFinder;
}

export interface SmallFaceEvalOptions {
  readonly frames: readonly (SmallFaceFrame & { readonly split: Split })[];
  readonly fullWells: readonly number[];
  readonly seed: number;
  /** The first is the main one: every smoothing and the enhanced and fused paths run on it. */
  readonly detectors: readonly NamedFinder[];
  readonly smoothings: readonly SmoothingChoice[];
  /** Smoothings (by name) that the other detectors run too, and the enhanced pass runs. */
  readonly crossSmoothings: readonly string[];
  readonly enhancer?: ImageStage;
  readonly onProgress?: (done: number, total: number) => void;
}

export type PathKind = 'raw' | 'enhanced' | 'fused';

export interface CollectedVariant {
  readonly name: string;
  readonly detector: string;
  readonly kind: PathKind;
  readonly smoothing: string;
  /** Per frame. */
  readonly faces: Face[][];
}

export interface CollectedSmallFaces {
  /** 0 stands for normal light (the originals, shrunk): the upper bound. */
  readonly levels: ReadonlyArray<{ readonly fullWell: number; readonly variants: readonly CollectedVariant[]; readonly noise: readonly number[] }>;
  readonly frames: readonly (SmallFaceFrame & { readonly split: Split })[];
}

export const variantName = (detector: string, kind: 'raw' | 'enhanced', smoothing: string): string => `${detector} ${kind} ${smoothing}`;

const seedOf = (seed: number, fullWell: number, index: number): number =>
  (Math.imul(seed, 0x9e3779b1) ^ Math.imul(fullWell + 7, 0x85ebca6b) ^ Math.imul(index + 13, 0xc2b2ae35)) >>> 0;

/** Frame `index` of the set darkened at `fullWell`, exactly as collectSmallFaces darkens it. */
export const darkFrame = (img: RgbImage, seed: number, fullWell: number, index: number): RgbImage =>
  darken(img, { exposure: exposureFor(seed, index), fullWell, seed: seedOf(seed, fullWell, index) });

async function detectInput(f: FaceFinder, x: DetectionInput): Promise<Face[]> {
  return (await f.detect([x.tiles], x.whole ? { whole: [x.whole] } : {}))[0] ?? [];
}

/** Runs every path on every frame at every level (normal light first); the costly part. */
export async function collectSmallFaces(o: SmallFaceEvalOptions): Promise<CollectedSmallFaces> {
  const [main, ...others] = o.detectors;
  if (!main) throw new Error('collectSmallFaces: no detector');
  const cross = o.smoothings.filter((s) => o.crossSmoothings.includes(s.name));
  const total = o.frames.length * (1 + o.fullWells.length);
  let done = 0;
  const levels: Array<{ fullWell: number; variants: CollectedVariant[]; noise: number[] }> = [];

  // Normal light: each detector on the clean frame, unsmoothed and as each cross smoothing leaves it.
  {
    const variants = o.detectors.flatMap((d) => cross.map((s) => ({ name: variantName(d.name, 'raw', s.name), detector: d.name, kind: 'raw' as const, smoothing: s.name, faces: [] as Face[][] })));
    const noise: number[] = [];
    for (const fr of o.frames) {
      const sigma = estimateNoise(fr.image);
      noise.push(sigma);
      let k = 0;
      for (const d of o.detectors) for (const s of cross) variants[k++]!.faces.push(await detectInput(d.finder, await s.prep(fr.image, sigma)));
      o.onProgress?.(++done, total);
    }
    levels.push({ fullWell: 0, variants, noise });
  }

  for (const fullWell of o.fullWells) {
    const variants: CollectedVariant[] = [];
    const add = (detector: string, kind: 'raw' | 'enhanced', smoothing: string): CollectedVariant => {
      const v = { name: variantName(detector, kind, smoothing), detector, kind, smoothing, faces: [] as Face[][] };
      variants.push(v);
      return v;
    };
    const mainRaw = o.smoothings.map((s) => ({ s, v: add(main.name, 'raw', s.name) }));
    const otherRaw = others.flatMap((d) => cross.map((s) => ({ d, s, v: add(d.name, 'raw', s.name) })));
    const enh = o.enhancer ? cross.map((s) => ({ s, v: add(main.name, 'enhanced', s.name) })) : [];
    const noise: number[] = [];
    for (let i = 0; i < o.frames.length; i++) {
      const fr = o.frames[i]!;
      const dark = darkFrame(fr.image, o.seed, fullWell, i);
      const sigma = estimateNoise(dark);
      noise.push(sigma);
      const prepared = new Map<string, DetectionInput>();
      const prepRaw = async (s: SmoothingChoice): Promise<DetectionInput> => {
        let x = prepared.get(s.name);
        if (!x) prepared.set(s.name, x = await s.prep(dark, sigma));
        return x;
      };
      for (const { s, v } of mainRaw) v.faces.push(await detectInput(main.finder, await prepRaw(s)));
      for (const { d, s, v } of otherRaw) v.faces.push(await detectInput(d.finder, await prepRaw(s)));
      if (o.enhancer && enh.length) {
        const enhanced = await o.enhancer.run(dark);
        for (const { s, v } of enh) v.faces.push(await detectInput(main.finder, await s.prep(enhanced, sigma)));
      }
      o.onProgress?.(++done, total);
    }
    levels.push({ fullWell, variants, noise });
  }
  return { levels, frames: o.frames };
}

export interface SmallFaceRow {
  readonly variant: string;
  readonly detector: string;
  readonly kind: PathKind;
  readonly smoothing: string;
  readonly all: DetectionScores;
  readonly buckets: readonly BucketScores[];
}

export interface SmallFaceLevel {
  readonly fullWell: number;
  /** Mean Immerkær σ of the frames (raw, 8-bit levels). */
  readonly noise: number;
  readonly rows: readonly SmallFaceRow[];
}

export interface SmallFaceReport {
  readonly split: Split | 'all';
  readonly frames: number;
  readonly references: number;
  readonly referencesByBucket: Readonly<Record<string, number>>;
  readonly scoreThreshold: number;
  readonly levels: readonly SmallFaceLevel[];
}

/**
 * A fused row from two raw passes: `first`'s faces (a smoothing, by name) plus the faces only `second`
 * found (another smoothing, usually 'none') from `minScore` — what a second pass on the unsmoothed
 * frame would add to the smoothed one, in place of the enhanced pass.
 */
export interface RawPairRule {
  readonly first: string;
  readonly second: string;
  readonly minScore: number;
}

/**
 * Scores the frames of one split (or all). Fused rows: for each smoothing the enhanced pass ran,
 * the raw and enhanced faces of that smoothing through fuseFaces with `fuse`; with `rawPair`, that rule's row too.
 */
export function scoreSmallFaces(c: CollectedSmallFaces, o: { split: Split | 'all'; scoreThreshold?: number; fuse?: FuseOptions; fusedName?: string; rawPair?: RawPairRule }): SmallFaceReport {
  const thr = o.scoreThreshold ?? 0.5;
  const keep = c.frames.map((f, i) => ({ f, i })).filter(({ f }) => o.split === 'all' || f.split === o.split);
  const refs: ReferenceBox[] = keep.flatMap(({ f, i }) => f.boxes.map((box) => ({ image: i, box })));
  const toScored = (faces: Face[][]): ScoredBox[] => keep.flatMap(({ i }) => (faces[i] ?? []).map((f) => ({ image: i, box: f.box, score: f.score })));
  const row = (v: Omit<CollectedVariant, 'faces'>, faces: Face[][]): SmallFaceRow => {
    const dets = toScored(faces);
    return { variant: v.name, detector: v.detector, kind: v.kind, smoothing: v.smoothing, all: scoreDetections(dets, refs, { scoreThreshold: thr }), buckets: scoreByBucket(dets, refs, { scoreThreshold: thr }) };
  };
  const levels = c.levels.map((l) => {
    const rows = l.variants.map((v) => row(v, v.faces));
    for (const e of l.variants.filter((v) => v.kind === 'enhanced')) {
      const r = l.variants.find((v) => v.kind === 'raw' && v.detector === e.detector && v.smoothing === e.smoothing);
      if (!r) continue;
      const name = `${e.detector} fused${o.fusedName ? ` (${o.fusedName})` : ''} ${e.smoothing}`;
      rows.push(row({ name, detector: e.detector, kind: 'fused', smoothing: e.smoothing }, r.faces.map((fs, i) => fuseFaces(fs, e.faces[i] ?? [], o.fuse ?? {}))));
    }
    const rp = o.rawPair;
    if (rp) {
      for (const a of l.variants.filter((v) => v.kind === 'raw' && v.smoothing === rp.first)) {
        const b = l.variants.find((v) => v.kind === 'raw' && v.detector === a.detector && v.smoothing === rp.second);
        if (!b) continue;
        const name = `${a.detector} fused (${rp.first} + ${rp.second}-only from ${rp.minScore}) raw`;
        rows.push(row({ name, detector: a.detector, kind: 'fused', smoothing: `${rp.first}+${rp.second}` }, a.faces.map((fs, i) => fuseFaces(fs, b.faces[i] ?? [], { enhancedOnlyMinScore: rp.minScore }))));
      }
    }
    const ns = keep.map(({ i }) => l.noise[i]!);
    return { fullWell: l.fullWell, noise: ns.reduce((a, b) => a + b, 0) / Math.max(1, ns.length), rows };
  });
  const byBucket = scoreByBucket([], refs);
  return {
    split: o.split, frames: keep.length, references: refs.length,
    referencesByBucket: Object.fromEntries(byBucket.map((b) => [b.bucket, b.references])),
    scoreThreshold: thr, levels,
  };
}

const f3 = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(2));

/** One Markdown table: a row per level and variant, recall / precision / AP50 per bucket and overall. */
export function formatSmallFaces(r: SmallFaceReport): string {
  const buckets = Object.keys(r.referencesByBucket);
  const lines = [
    `Split ${r.split}: ${r.frames} frames, ${r.references} faces (${buckets.map((b) => `${b} px: ${r.referencesByBucket[b]}`).join(', ')}); recall / precision at score ≥ ${r.scoreThreshold} / AP50; full well 0 = normal light (the upper bound)`,
    '',
    `| full well (σ) | path | ${buckets.map((b) => `${b} px`).join(' | ')} | all |`,
    `| --- | --- | ${buckets.map(() => '---').join(' | ')} | --- |`,
  ];
  for (const l of r.levels) {
    for (const row of l.rows) {
      const cells = row.buckets.map((b) => `${f3(b.recall)} / ${f3(b.precision)} / ${f3(b.ap50)}`);
      lines.push(`| ${l.fullWell || 'normal'} (${l.noise.toFixed(1)}) | ${row.variant} | ${cells.join(' | ')} | ${f3(row.all.recall)} / ${f3(row.all.precision)} / ${f3(row.all.ap50)} |`);
    }
  }
  return lines.join('\n');
}

/** Fusion rules compared: the `add` rule at each gate, and `blend`. */
export const FUSE_RULES: ReadonlyArray<{ readonly name: string; readonly fuse: FuseOptions }> = [
  ...[0, 0.5, 0.6, 0.7, 0.8, 0.9].map((g) => ({ name: `add, enhanced-only from ${g}`, fuse: { enhancedOnlyMinScore: g } })),
  { name: 'blend, enhanced-only from 0.8', fuse: { mode: 'blend', enhancedOnlyMinScore: 0.8 } },
];

/**
 * What each fusion rule gives over the raw pass alone (same detector and smoothing), from the
 * saved detections: a Markdown table of hits and false faces at every level, on one split.
 */
export function formatFuseSweep(c: CollectedSmallFaces, o: { split: Split | 'all'; detector: string; smoothing: string; scoreThreshold?: number }): string {
  const lines = [
    `Fusion rules on the ${o.split} split (${o.detector}, smoothing ${o.smoothing}): hits / false faces / recall / precision at score ≥ ${o.scoreThreshold ?? 0.5}, all sizes`,
    '',
    '| full well | raw alone | enhanced alone | ' + FUSE_RULES.map((r) => r.name).join(' | ') + ' |',
    '| --- | --- | --- | ' + FUSE_RULES.map(() => '---').join(' | ') + ' |',
  ];
  for (const l of c.levels) {
    const raw = l.variants.find((v) => v.detector === o.detector && v.kind === 'raw' && v.smoothing === o.smoothing);
    const enh = l.variants.find((v) => v.detector === o.detector && v.kind === 'enhanced' && v.smoothing === o.smoothing);
    if (!raw || !enh) continue;
    const variants: CollectedVariant[] = [raw, enh, ...FUSE_RULES.map((r) => ({ ...raw, name: r.name, faces: raw.faces.map((fs, i) => fuseFaces(fs, enh.faces[i] ?? [], r.fuse)) }))];
    const one: CollectedSmallFaces = { frames: c.frames, levels: [{ fullWell: l.fullWell, noise: l.noise, variants }] };
    const rows = scoreSmallFaces(one, { split: o.split, ...(o.scoreThreshold !== undefined ? { scoreThreshold: o.scoreThreshold } : {}) }).levels[0]!.rows.slice(0, variants.length);
    lines.push(`| ${l.fullWell} | ${rows.map((r) => `${r.all.tp} / ${r.all.fp} / ${f3(r.all.recall)} / ${f3(r.all.precision)}`).join(' | ')} |`);
  }
  return lines.join('\n');
}
