// Filling a model input from a tile: a row copy for native tiles (the usual case: no per-pixel
// arithmetic in JS; the graph casts and normalises), a bilinear resample for the letterboxed
// whole-frame pass. The cost of the resample is fixed by the input size (65k pixels at 256²),
// not the frame's, and it matches MediaPipe's CPU path (warpAffine, bilinear, no prefilter).
import type { RgbImage } from '../image/types.js';
import type { Tile } from './tiling.js';

/**
 * Writes `tile` of `frame` into `out` at byte `offset` as inputSize² RGB bytes. The area outside
 * tile.dst is left as it is: pass a zeroed buffer for black padding.
 */
export function fillTile(frame: RgbImage, tile: Tile, inputSize: number, out: Uint8Array, offset = 0): void {
  const { src, dst } = tile;
  const fw = frame.width, d = frame.data;
  if (src.width === dst.width && src.height === dst.height) {
    const rowBytes = src.width * 3;
    for (let r = 0; r < src.height; r++) {
      const from = ((src.y + r) * fw + src.x) * 3;
      out.set(d.subarray(from, from + rowBytes), offset + ((dst.y + r) * inputSize + dst.x) * 3);
    }
    return;
  }
  // Half-pixel centres, as OpenCV and ONNX Resize use, clamped at the region's edges.
  const sx = src.width / dst.width, sy = src.height / dst.height;
  const maxX = src.x + src.width - 1, maxY = src.y + src.height - 1;
  for (let j = 0; j < dst.height; j++) {
    const fy = Math.min(maxY, Math.max(src.y, src.y + (j + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(maxY, y0 + 1), wy = fy - y0;
    const row0 = y0 * fw, row1 = y1 * fw;
    let o = offset + ((dst.y + j) * inputSize + dst.x) * 3;
    for (let i = 0; i < dst.width; i++) {
      const fx = Math.min(maxX, Math.max(src.x, src.x + (i + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(maxX, x0 + 1), wx = fx - x0;
      const a = (row0 + x0) * 3, b = (row0 + x1) * 3, c = (row1 + x0) * 3, e = (row1 + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = d[a + ch]! + (d[b + ch]! - d[a + ch]!) * wx;
        const bottom = d[c + ch]! + (d[e + ch]! - d[c + ch]!) * wx;
        out[o++] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
}
