// The path a frame takes to the detector, shared by `pie-stream detect`, the eval and the live
// pipeline: which frame is looked at (raw, enhanced, or both fused) and the spatial smoothing in
// front of the detector (for detection only: what viewers see is not blurred). Pure.
import type { RgbImage } from '../image/types.js';
import { detectFused, type FaceFinder, type FuseOptions } from './fuse.js';
import { estimateNoise, smoothFor, type AdaptiveSmoothOptions } from './smooth.js';
import type { Face } from './types.js';

/**
 * 'raw': the camera's frame; 'enhanced': the enhancer's output; 'fused': both, merged by
 * fuseFaces (the default whenever there is an enhanced frame: never worse than raw, see README).
 */
export type DetectOn = 'raw' | 'enhanced' | 'fused';
export const DETECT_ON: readonly DetectOn[] = ['raw', 'enhanced', 'fused'];

export interface DetectPathOptions {
  readonly on: DetectOn;
  /** Noise-adaptive smoothing before detection (default on, radius ≤ 1 from the raw frame's noise); false to detect on the frames as they are. */
  readonly smooth?: AdaptiveSmoothOptions | false;
  readonly fuse?: FuseOptions;
}

export interface FrameForDetection {
  readonly raw: RgbImage;
  /**
   * The raw frame as the still path prepared it (denoise.ts stillDenoiseFor: BM3D, or the frame
   * itself when clean), looked at instead of the smoothed raw frame; the smoothing of the enhanced
   * frame still follows the raw frame's noise.
   */
  readonly rawDenoised?: RgbImage;
  /** Needed for 'enhanced' and 'fused'. */
  readonly enhanced?: RgbImage;
}

/**
 * Faces per frame along the path, in frame pixels. The smoothing radius comes from the raw frame's
 * noise, also for the enhanced frame: the enhancer amplifies the noise, and a radius chosen from
 * that erased the faces (issue 16: enhanced-only recall 0.165 where raw had 0.784).
 */
export async function detectAlong(detector: FaceFinder, frames: readonly FrameForDetection[], o: DetectPathOptions): Promise<Face[][]> {
  const smooth = o.smooth;
  const sigmas = smooth === false ? [] : frames.map((f) => estimateNoise(f.raw));
  const prep = (img: RgbImage, i: number): RgbImage => (smooth === false ? img : smoothFor(img, sigmas[i]!, smooth ?? {}));
  const enhancedOf = (f: FrameForDetection): RgbImage => {
    if (!f.enhanced) throw new Error(`detecting on '${o.on}' needs enhanced frames`);
    return f.enhanced;
  };
  const rawOf = (f: FrameForDetection, i: number): RgbImage => f.rawDenoised ?? prep(f.raw, i);
  switch (o.on) {
    case 'raw': return detector.detect(frames.map(rawOf));
    case 'enhanced': return detector.detect(frames.map((f, i) => prep(enhancedOf(f), i)));
    case 'fused': return detectFused(detector, frames.map((f, i) => ({ raw: rawOf(f, i), enhanced: prep(enhancedOf(f), i) })), o.fuse ?? {});
  }
}
