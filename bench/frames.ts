// Frames for the benches: a photo repeated across a frame, shading without faces, a dark textured frame.
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

/** A dark frame with texture and smooth shading, so the enhancer sees an image, not a flat field. */
export function darkFrame(w: number, h: number, seed = 0): RgbImage {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = 10 + 30 * (0.5 + 0.5 * Math.sin((x + seed * 13) / 37) * Math.cos(y / 23)) + ((x * 7 + y * 13 + seed) % 11);
      const i = (y * w + x) * 3;
      d[i] = v; d[i + 1] = v * 0.85; d[i + 2] = v * 0.7;
    }
  }
  return { width: w, height: h, data: d };
}
