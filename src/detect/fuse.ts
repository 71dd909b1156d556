// Fusing detections on a raw frame with those on its enhanced twin. Enhancement amplifies sensor
// noise along with faces, so on dark noisy frames the detector can lose faces it found on the raw
// frame (issue 6 measured recall 0.85 raw → 0.63–0.69 enhanced). The default keeps every raw face
// as it is and adds the faces only the enhanced frame showed, if they clear a higher score: recall
// is never below raw's, and the noise-made false faces (wheels, textures) stay out. Pure.
import { DEFAULT_IOU_THRESHOLD, iou, weightedNms } from './nms.js';
import type { RgbImage } from '../image/types.js';
import type { Face } from './types.js';

export interface FuseOptions {
  /** Weighted-NMS overlap for merging the two passes; default 0.3 (MediaPipe's). */
  readonly iouThreshold?: number;
  /**
   * A face found on the enhanced frame and not on the raw one is kept only from this score up.
   * Default FUSE_ENHANCED_ONLY_MIN_SCORE; 0 keeps the plain union.
   */
  readonly enhancedOnlyMinScore?: number;
  /**
   * 'add' (default): raw faces are kept exactly as found, and enhanced faces that overlap none of
   * them are added — so the raw pass's hits can never be lost, which makes recall at least raw's by
   * construction. 'blend': every face of both passes goes through weighted NMS together (a face
   * both found becomes their score-weighted mean box, which can move it off the true face).
   */
  readonly mode?: 'add' | 'blend';
}

/**
 * Measured on synthetic night (README, "Face detection"): with gates from 0.8 up no false face of
 * the enhanced pass got through at any noise level; below it some did (precision 0.889 at 0).
 */
export const FUSE_ENHANCED_ONLY_MIN_SCORE = 0.8;

/**
 * Faces of one frame from its raw and enhanced passes, both in frame pixels, best first. A face
 * found by both passes becomes one (MediaPipe's weighted blend, the higher score).
 */
export function fuseFaces(raw: readonly Face[], enhanced: readonly Face[], o: FuseOptions = {}): Face[] {
  const thr = o.iouThreshold ?? DEFAULT_IOU_THRESHOLD;
  const gate = o.enhancedOnlyMinScore ?? FUSE_ENHANCED_ONLY_MIN_SCORE;
  const overlapsRaw = (e: Face): boolean => raw.some((r) => iou(r.box, e.box) > thr);
  if ((o.mode ?? 'add') === 'blend') return weightedNms([...raw, ...enhanced.filter((e) => e.score >= gate || overlapsRaw(e))], thr);
  const added = weightedNms(enhanced.filter((e) => e.score >= gate && !overlapsRaw(e)), thr);
  return [...raw, ...added].sort((p, q) => q.score - p.score);
}

/** What detectFused needs of a detector (FaceDetector is one). */
export interface FaceFinder {
  /** `o.whole`: per frame, the version for the whole-frame pass (FaceDetector.detect). */
  detect(frames: readonly RgbImage[], o?: { readonly whole?: readonly RgbImage[] }): Promise<Face[][]>;
}

export interface FramePair {
  readonly raw: RgbImage;
  readonly enhanced: RgbImage;
}

/**
 * Detects on each raw frame and its enhanced twin in one detector call (their tiles share model
 * runs) and fuses the two per frame.
 */
export async function detectFused(detector: FaceFinder, pairs: readonly FramePair[], o: FuseOptions = {}): Promise<Face[][]> {
  const found = await detector.detect([...pairs.map((p) => p.raw), ...pairs.map((p) => p.enhanced)]);
  return pairs.map((_, i) => fuseFaces(found[i] ?? [], found[pairs.length + i] ?? [], o));
}
