// PIE's losses (DESIGN.md §1) on the tape, each a function of graph values; weights applied by
// the caller. Shapes: images [B,3,H,W] in [0,1]; curve maps [B,24,H,W].
import type { Tape } from './autodiff/tape.js';

/** Zero-DCE's total variation on the curve maps: 2·(Σ dh²/count_h + Σ dw²/count_w)/B, sums over all channels. */
export function tvLoss(t: Tape, a: string): string {
  const [b, , h, w] = t.shape(a) as [number, number, number, number];
  const dh = t.sub(t.slice(a, [1], [h], [2]), t.slice(a, [0], [h - 1], [2]));
  const dw = t.sub(t.slice(a, [1], [w], [3]), t.slice(a, [0], [w - 1], [3]));
  const hTv = t.mul(t.sum(t.square(dh)), t.scalar(1 / ((h - 1) * w)));
  const wTv = t.mul(t.sum(t.square(dw)), t.scalar(1 / (h * (w - 1))));
  return t.mul(t.add(hTv, wTv), t.scalar(2 / b));
}

/** Zero-DCE's color constancy: k = sqrt(Σ over channel pairs ((m_a − m_b)²)²), mean over the batch. */
export function colorLoss(t: Tape, e: string): string {
  const m = t.reduceMean(e, [2, 3], true); // [B,3,1,1]
  const [r, g, b] = t.split(m, 1, [1, 1, 1]) as [string, string, string];
  const d = (x: string, y: string): string => t.square(t.square(t.sub(x, y)));
  // + tiny: sqrt's gradient at exactly 0 (a perfectly grey batch) would be infinite.
  const k = t.sqrt(t.add(t.add(t.add(d(r, g), d(r, b)), d(g, b)), t.scalar(1e-12)));
  return t.mean(k);
}

/** Mean over channels: [B,3,H,W] → [B,1,H,W]. */
export const gray = (t: Tape, x: string): string => t.reduceMean(x, [1], true);

/**
 * max(L1(gray E, gray P) − L1(gray E, gray N) + margin, 0), each L1 a mean absolute difference over
 * every (enhanced, reference) pair — the official code pairs by batch index, which needs as many
 * positives as inputs; over all pairs is the same expectation with any counts.
 */
export function grayTripletLoss(t: Tape, e: string, p: string, n: string, margin = 0.3): string {
  const [b, , h, w] = t.shape(e) as [number, number, number, number];
  const ge = t.reshape(gray(t, e), [b, 1, h * w]);
  const l1 = (x: string): string => {
    const k = t.shape(x)[0]!;
    return t.mean(t.abs(t.sub(ge, t.reshape(gray(t, x), [1, k, h * w]))));
  };
  return t.maximum(t.add(t.sub(l1(p), l1(n)), t.scalar(margin)), t.scalar(0));
}

/** Gram matrices G = F·Fᵀ/(C·H·W) of features [B,C,H,W] → [B,C,C]. */
export function gram(t: Tape, f: string): string {
  const [b, c, h, w] = t.shape(f) as [number, number, number, number];
  const flat = t.reshape(f, [b, c, h * w]);
  return t.mul(t.matmul(flat, t.transpose(flat, [0, 2, 1])), t.scalar(1 / (c * h * w)));
}

/** D[i,j] = Σ (Ga_i − Gb_j)² over the C×C entries, for Grams [A,C,C] and [B,C,C] → [A,B]. */
export function gramDistances(t: Tape, ga: string, gb: string): string {
  const [a, c] = t.shape(ga) as [number, number];
  const bn = t.shape(gb)[0]!;
  const diff = t.sub(t.reshape(ga, [a, 1, c, c]), t.reshape(gb, [1, bn, c, c]));
  return t.reduceSum(t.square(diff), [2, 3]);
}

/**
 * Gram-InfoNCE: D(·,·) summed over the Gram taps; softplus(D(E,P) − D(E,N)) averaged over every
 * (enhanced, positive, negative) triple — with one negative that is InfoNCE's −log softmax.
 */
export function gramInfoNceLoss(t: Tape, eTaps: readonly string[], pTaps: readonly string[], nTaps: readonly string[], scale = 1): string {
  let dp: string | undefined;
  let dn: string | undefined;
  eTaps.forEach((e, i) => {
    const ge = gram(t, e);
    const p = gramDistances(t, ge, gram(t, pTaps[i]!));
    const n = gramDistances(t, ge, gram(t, nTaps[i]!));
    dp = dp ? t.add(dp, p) : p;
    dn = dn ? t.add(dn, n) : n;
  });
  const [a, bp] = t.shape(dp!) as [number, number];
  const bn = t.shape(dn!)[1]!;
  const diff = t.sub(t.reshape(dp!, [a, bp, 1]), t.reshape(dn!, [a, 1, bn]));
  return t.mean(t.softplus(scale === 1 ? diff : t.mul(diff, t.scalar(scale))));
}

/** Feature preservation: mean squared difference of the deep features of input and output. */
export function perceptualLoss(t: Tape, fIn: string, fOut: string): string {
  return t.mean(t.square(t.sub(fOut, fIn)));
}

/**
 * Regional brightness consistency, the clean definition: Σ_regions Σ_{p∈R} (Y_p − mean_R Y)² / N
 * with Y the gray enhanced image. `labels` [B·H·W] int64 numbers segments across the whole batch
 * (0..K−1); `counts` [K] their pixel counts (≥ 1; unused slots padded with 1).
 * (The official code broadcasts over the batch, dilutes means and uses only labels < 100.)
 */
export function regionLoss(t: Tape, e: string, labels: string, counts: string): string {
  const y = t.reshape(gray(t, e), [-1]);
  const k = t.shape(counts)[0]!;
  const means = t.div(t.scatterAdd(t.zeros([k]), labels, y), counts);
  return t.mean(t.square(t.sub(y, t.gather(means, labels))));
}

/**
 * Zero-DCE's spatial consistency: on 4×4-pooled gray images, the differences to the four
 * neighbours (zero padding at the border, as its convolutions do) should match between input
 * and enhanced. Σ over the four directions, mean over [B,1,h,w].
 */
export function spatialConsistencyLoss(t: Tape, input: string, e: string): string {
  const pool = (x: string): string => t.avgPool(gray(t, x), { kernel: [4, 4], strides: [4, 4] });
  const po = pool(input);
  const pe = pool(e);
  const [b, , h, w] = t.shape(po) as [number, number, number, number];
  const d = t.sub(po, pe); // differences of differences = differences of d
  const sq = (x: string): string => t.sum(t.square(x));
  // Interior: left and right (up and down) see the same neighbour pairs, so each counts twice.
  const dh = t.sub(t.slice(d, [1], [h], [2]), t.slice(d, [0], [h - 1], [2]));
  const dw = t.sub(t.slice(d, [1], [w], [3]), t.slice(d, [0], [w - 1], [3]));
  let total = t.mul(t.add(sq(dh), sq(dw)), t.scalar(2));
  // Border: the zero pad makes the difference the value itself.
  for (const [start, axis] of [[0, 2], [h - 1, 2], [0, 3], [w - 1, 3]] as const) total = t.add(total, sq(t.slice(d, [start], [start + 1], [axis])));
  return t.mul(total, t.scalar(1 / (b * h * w)));
}

/** Zero-DCE's exposure control: mean over 16×16 patches of (patch gray mean − level)². */
export function exposureLoss(t: Tape, e: string, level: number, patch = 16): string {
  const p = t.avgPool(gray(t, e), { kernel: [patch, patch], strides: [patch, patch] });
  return t.mean(t.square(t.sub(p, t.scalar(level))));
}
