// The path a frame takes to the detector, shared by `pie-stream detect`, the eval and the live
// pipeline: which frame is looked at (raw, enhanced, or both fused) and the spatial smoothing in
// front of the detector (for detection only: what viewers see is not blurred). Pure.
import type { RgbImage } from '../image/types.js';
import { detectFused, type FaceFinder, type FuseOptions } from './fuse.js';
import { adaptiveSmooth, type AdaptiveSmoothOptions } from './smooth.js';
import type { Face } from './types.js';

/**
 * 'raw': the camera's frame; 'enhanced': the enhancer's output; 'fused': both, merged by
 * fuseFaces (the default whenever there is an enhanced frame: never worse than raw, see README).
 */
export type DetectOn = 'raw' | 'enhanced' | 'fused';
export const DETECT_ON: readonly DetectOn[] = ['raw', 'enhanced', 'fused'];

export interface DetectPathOptions {
  readonly on: DetectOn;
  /** Noise-adaptive smoothing before detection (default on); false to detect on the frames as they are. */
  readonly smooth?: AdaptiveSmoothOptions | false;
  readonly fuse?: FuseOptions;
}

export interface FrameForDetection {
  readonly raw: RgbImage;
  /** Needed for 'enhanced' and 'fused'. */
  readonly enhanced?: RgbImage;
}

/** Faces per frame along the path, in frame pixels. */
export async function detectAlong(detector: FaceFinder, frames: readonly FrameForDetection[], o: DetectPathOptions): Promise<Face[][]> {
  const prep = (img: RgbImage): RgbImage => (o.smooth === false ? img : adaptiveSmooth(img, o.smooth ?? {}));
  const enhancedOf = (f: FrameForDetection): RgbImage => {
    if (!f.enhanced) throw new Error(`detecting on '${o.on}' needs enhanced frames`);
    return f.enhanced;
  };
  switch (o.on) {
    case 'raw': return detector.detect(frames.map((f) => prep(f.raw)));
    case 'enhanced': return detector.detect(frames.map((f) => prep(enhancedOf(f))));
    case 'fused': return detectFused(detector, frames.map((f) => ({ raw: prep(f.raw), enhanced: prep(enhancedOf(f)) })), o.fuse ?? {});
  }
}
