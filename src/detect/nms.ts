// MediaPipe's weighted non-maximum suppression (NonMaxSuppressionCalculator, algorithm WEIGHTED):
// the best face absorbs every remaining face overlapping it by more than the threshold, and its
// box and keypoints become their score-weighted mean; it keeps its own (the highest) score.
// Blending steadies boxes across frames better than dropping the runners-up.
import type { Box, Face, Point } from './types.js';

/** MediaPipe's BlazeFace graphs use 0.3. */
export const DEFAULT_IOU_THRESHOLD = 0.3;

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Faces by decreasing score; ties keep their input order (a stable sort). */
export function weightedNms(faces: readonly Face[], iouThreshold = DEFAULT_IOU_THRESHOLD): Face[] {
  let remaining = [...faces].sort((p, q) => q.score - p.score);
  const out: Face[] = [];
  while (remaining.length > 0) {
    const top = remaining[0]!;
    const group: Face[] = [];
    const rest: Face[] = [];
    for (const f of remaining) (f === top || iou(f.box, top.box) > iouThreshold ? group : rest).push(f);
    out.push(group.length === 1 ? top : blend(group, top.score));
    remaining = rest;
  }
  return out;
}

function blend(group: readonly Face[], score: number): Face {
  let total = 0, x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  const n = group[0]!.keypoints.length;
  const kx = new Float64Array(n), ky = new Float64Array(n);
  for (const f of group) {
    const w = f.score;
    total += w;
    x1 += f.box.x * w;
    y1 += f.box.y * w;
    x2 += (f.box.x + f.box.width) * w;
    y2 += (f.box.y + f.box.height) * w;
    for (let k = 0; k < n; k++) { kx[k] = kx[k]! + f.keypoints[k]!.x * w; ky[k] = ky[k]! + f.keypoints[k]!.y * w; }
  }
  if (!(total > 0)) return group[0]!; // all-zero scores: nothing to weight by
  const keypoints: Point[] = Array.from({ length: n }, (_, k) => ({ x: kx[k]! / total, y: ky[k]! / total }));
  return { box: { x: x1 / total, y: y1 / total, width: (x2 - x1) / total, height: (y2 - y1) / total }, score, keypoints };
}
