// Which detections sit like a face seen from the front (issue 16's false faces). The detector
// regresses six keypoints with every box; on a real face they sit where a face's features are, on
// a bush or an insect in the IR light they do not. Measured on the IR clip with no people: its
// false faces have their eyes a median 0.23 box widths apart and their ears 0.53 (often swapped),
// where the true faces of the small-face set, at every noise level, have eyes 0.35–0.46 apart and
// ears 0.79–0.97 (5th–95th percentile). The price: a face turned well away from the camera (a profile)
// has its eyes close together too and is not reported. Pure.
import type { Face } from './types.js';

/** 'frontal': only faces whose keypoints sit as a face's seen from the front; 'any': every detection. */
export const FACE_POSES = ['frontal', 'any'] as const;
export type FacePose = typeof FACE_POSES[number];

export interface FrontalRule {
  /** Least distance between the eyes, in box widths. */
  readonly minEyes: number;
  /** Least span from the right ear to the left along the eye line, in box widths (negative: swapped). */
  readonly minEars: number;
}

export const FRONTAL_RULE: FrontalRule = { minEyes: 0.3, minEars: 0.65 };

/** The face's eye distance and ear span along the eye line, in box widths: unchanged when the head tilts sideways. */
export function faceGeometry(f: Face): { eyes: number; ears: number } {
  const [re, le, , , rr, lr] = f.keypoints;
  if (!re || !le || !rr || !lr || !(f.box.width > 0)) return { eyes: 0, ears: 0 };
  const ex = le.x - re.x, ey = le.y - re.y, d = Math.hypot(ex, ey);
  if (d === 0) return { eyes: 0, ears: 0 };
  return { eyes: d / f.box.width, ears: ((lr.x - rr.x) * ex + (lr.y - rr.y) * ey) / d / f.box.width };
}

export function isFrontal(f: Face, rule: FrontalRule = FRONTAL_RULE): boolean {
  const g = faceGeometry(f);
  return g.eyes >= rule.minEyes && g.ears >= rule.minEars;
}

/** The faces the pose setting reports. */
export function byPose(faces: readonly Face[], pose: FacePose, rule: FrontalRule = FRONTAL_RULE): Face[] {
  return pose === 'any' ? [...faces] : faces.filter((f) => isFrontal(f, rule));
}
