// Frames for the detector benches: a photo repeated across a frame, or shading without faces.
import type { RgbImage } from '../src/image/types.js';

/** The photo repeated across a w×h frame from the top-left (cropped at the right and bottom). */
export function tiledFrame(photo: RgbImage, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = y % photo.height;
    for (let x = 0; x < w; x += photo.width) {
      const n = Math.min(photo.width, w - x);
      data.set(photo.data.subarray(sy * photo.width * 3, (sy * photo.width + n) * 3), (y * w + x) * 3);
    }
  }
  return { width: w, height: h, data };
}

/** Shading and texture, no faces: for a run without ../shared. */
export function syntheticFrame(w: number, h: number): RgbImage {
  const d = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) d.fill(40 + ((i * 7) % 97), i * 3, i * 3 + 3);
  return { width: w, height: h, data: d };
}
