import { describe, expect, it } from 'vitest';
import { fillTile } from '../../src/detect/crop.js';
import { letterbox, planTiles } from '../../src/detect/tiling.js';
import type { RgbImage } from '../../src/image/types.js';

/** Pixel (x, y) holds (x, y, 7). */
function ramp(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3);
  return { width, height, data };
}

const px = (buf: Uint8Array, size: number, x: number, y: number, offset = 0): number[] => Array.from(buf.subarray(offset + (y * size + x) * 3, offset + (y * size + x) * 3 + 3));

describe('fillTile', () => {
  it('copies a native tile byte for byte at its place in the batch', () => {
    const img = ramp(20, 12);
    const tiles = planTiles(20, 12, 8, { overlap: 0.25, wholeFrame: false });
    const last = tiles.at(-1)!;
    expect(last.src).toMatchObject({ x: 12, y: 4 });
    const out = new Uint8Array(2 * 8 * 8 * 3);
    fillTile(img, last, 8, out, 8 * 8 * 3);
    expect(px(out, 8, 0, 0, 192)).toEqual([12, 4, 7]);
    expect(px(out, 8, 7, 7, 192)).toEqual([19, 11, 7]);
    expect(out.subarray(0, 192).every((v) => v === 0)).toBe(true); // the other slot untouched
  });

  it('pads a frame smaller than the input with black on the right and bottom', () => {
    const out = new Uint8Array(8 * 8 * 3);
    fillTile(ramp(5, 3), planTiles(5, 3, 8)[0]!, 8, out);
    expect(px(out, 8, 4, 2)).toEqual([4, 2, 7]);
    expect(px(out, 8, 5, 2)).toEqual([0, 0, 0]);
    expect(px(out, 8, 4, 3)).toEqual([0, 0, 0]);
  });

  it('letterboxes by bilinear resampling, centred, black around', () => {
    const img = ramp(16, 8);
    const lb = letterbox(16, 8, 8); // content 8×4 at y 2
    const out = new Uint8Array(8 * 8 * 3);
    fillTile(img, lb, 8, out);
    expect(px(out, 8, 3, 1)).toEqual([0, 0, 0]);
    expect(px(out, 8, 3, 6)).toEqual([0, 0, 0]);
    // output pixel i samples source x = 2i + 0.5: the mean of 2i and 2i+1 (rounded half up)
    expect(px(out, 8, 0, 2)).toEqual([1, 1, 7]);
    expect(px(out, 8, 7, 5)).toEqual([15, 7, 7]);
  });
});
