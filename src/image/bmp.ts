// A 24-bit uncompressed BMP writer (libvips, under sharp, has no BMP encoder). Pure.
import type { RgbImage } from './types.js';

export function encodeBmp(img: RgbImage): Uint8Array {
  const { width: w, height: h, data } = img;
  const stride = (w * 3 + 3) & ~3; // rows pad to 4 bytes
  const size = 54 + stride * h;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out[0] = 0x42; out[1] = 0x4d; // 'BM'
  dv.setUint32(2, size, true);
  dv.setUint32(10, 54, true); // pixel data offset
  dv.setUint32(14, 40, true); // BITMAPINFOHEADER
  dv.setInt32(18, w, true);
  dv.setInt32(22, h, true); // positive: bottom-up rows
  dv.setUint16(26, 1, true);
  dv.setUint16(28, 24, true);
  dv.setUint32(34, stride * h, true);
  for (let y = 0; y < h; y++) {
    const row = 54 + (h - 1 - y) * stride;
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      out[row + x * 3] = data[s + 2]!; // BGR order
      out[row + x * 3 + 1] = data[s + 1]!;
      out[row + x * 3 + 2] = data[s]!;
    }
  }
  return out;
}
