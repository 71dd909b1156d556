// BlazeFace's raw outputs → faces, as MediaPipe's TensorsToDetectionsCalculator decodes them:
// clipped logits through a sigmoid, box centre and keypoints as offsets from the anchor, size
// absolute, all in model-input pixels (MediaPipe's x/y/w/h_scale equal the input size).
import type { Anchor } from './anchors.js';
import { KEYPOINT_COUNT, type Face, type Point } from './types.js';

/** Values per anchor in the regressor output: box (cx, cy, w, h) then 6 keypoints (x, y). */
export const COORDS_PER_ANCHOR = 4 + 2 * KEYPOINT_COUNT;

/** One output head for one image: its logits and its regressors (COORDS_PER_ANCHOR per anchor). */
export interface RawHead {
  readonly scores: ArrayLike<number>;
  readonly boxes: ArrayLike<number>;
}

export interface DecodeOptions {
  /** Model input width and height in pixels. */
  readonly inputSize: number;
  /** Faces scoring below this are dropped. */
  readonly scoreThreshold: number;
  /** Logits are clipped to ±this before the sigmoid (MediaPipe's score_clipping_thresh). Default 100. */
  readonly scoreClip?: number;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Decodes the heads of one image; anchors are in the heads' order (anchors.ts). */
export function decodeFaces(heads: readonly RawHead[], anchors: readonly Anchor[], o: DecodeOptions): Face[] {
  const total = heads.reduce((n, h) => n + h.scores.length, 0);
  if (total !== anchors.length) throw new Error(`decode: ${total} scores for ${anchors.length} anchors`);
  const clip = o.scoreClip ?? 100;
  const s = o.inputSize;
  const faces: Face[] = [];
  let a = 0;
  for (const head of heads) {
    if (head.boxes.length !== head.scores.length * COORDS_PER_ANCHOR) {
      throw new Error(`decode: ${head.boxes.length} regressor values for ${head.scores.length} anchors (need ${COORDS_PER_ANCHOR} each)`);
    }
    for (let i = 0; i < head.scores.length; i++, a++) {
      const score = sigmoid(Math.min(clip, Math.max(-clip, head.scores[i]!)));
      if (!(score >= o.scoreThreshold)) continue;
      const an = anchors[a]!;
      const r = i * COORDS_PER_ANCHOR;
      // Regressors are in input pixels; anchors normalised: offsets scale by the anchor size.
      const cx = head.boxes[r]! * an.width + an.x * s;
      const cy = head.boxes[r + 1]! * an.height + an.y * s;
      const w = head.boxes[r + 2]! * an.width;
      const h = head.boxes[r + 3]! * an.height;
      const keypoints: Point[] = [];
      for (let k = 0; k < KEYPOINT_COUNT; k++) {
        keypoints.push({ x: head.boxes[r + 4 + 2 * k]! * an.width + an.x * s, y: head.boxes[r + 5 + 2 * k]! * an.height + an.y * s });
      }
      faces.push({ box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, score, keypoints });
    }
  }
  return faces;
}
