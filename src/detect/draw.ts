// Faces drawn onto a frame: box outlines and keypoint dots, in TypeScript on the RGB bytes (a few
// hundred pixels per face: no image library needed, and the same code can mark live frames).
// Pure: returns a new image; the input is not touched. Shapes are clipped to the frame.
import type { RgbImage } from '../image/types.js';
import type { Face } from './types.js';

export type Rgb = readonly [number, number, number];

export interface DrawOptions {
  readonly boxColor?: Rgb;
  /** One colour per keypoint, in KEYPOINT_NAMES order (eyes, nose, mouth, ears). */
  readonly keypointColors?: readonly Rgb[];
  /** Line width in pixels; default 1 per 360 px of the shorter side, at least 1. */
  readonly thickness?: number;
}

const GREEN: Rgb = [0, 255, 0];
const KEYPOINT_COLORS: readonly Rgb[] = [[0, 160, 255], [0, 160, 255], [255, 0, 0], [255, 255, 0], [255, 0, 255], [255, 0, 255]];

/** Fills the rectangle [x0, x1) × [y0, y1), clipped to the image. */
function fillRect(img: { width: number; height: number; data: Uint8Array }, x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
  const xa = Math.max(0, Math.round(x0)), xb = Math.min(img.width, Math.round(x1));
  const ya = Math.max(0, Math.round(y0)), yb = Math.min(img.height, Math.round(y1));
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const i = (y * img.width + x) * 3;
      img.data[i] = c[0]; img.data[i + 1] = c[1]; img.data[i + 2] = c[2];
    }
  }
}

export function drawFaces(img: RgbImage, faces: readonly Face[], o: DrawOptions = {}): RgbImage {
  const out = { width: img.width, height: img.height, data: new Uint8Array(img.data) };
  const t = o.thickness ?? Math.max(1, Math.round(Math.min(img.width, img.height) / 360));
  const box = o.boxColor ?? GREEN, kpc = o.keypointColors ?? KEYPOINT_COLORS;
  for (const f of faces) {
    const { x, y, width: w, height: h } = f.box;
    // The outline lies inside the box, so a box at the frame's edge stays visible.
    fillRect(out, x, y, x + w, y + t, box);
    fillRect(out, x, y + h - t, x + w, y + h, box);
    fillRect(out, x, y, x + t, y + h, box);
    fillRect(out, x + w - t, y, x + w, y + h, box);
    const r = t + 1;
    f.keypoints.forEach((p, k) => fillRect(out, p.x - r, p.y - r, p.x + r + 1, p.y + r + 1, kpc[k % kpc.length]!));
  }
  return out;
}
