import { describe, expect, it } from 'vitest';
import { drawFaces } from '../../src/detect/draw.js';
import type { Face } from '../../src/detect/types.js';
import type { RgbImage } from '../../src/image/types.js';

const grey = (w: number, h: number): RgbImage => ({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(50) });
const px = (img: RgbImage, x: number, y: number): number[] => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];

describe('drawFaces', () => {
  it('outlines the box inside its edges, dots the keypoints, and leaves the rest and the input alone', () => {
    const img = grey(40, 30);
    const f: Face = { box: { x: 10, y: 5, width: 20, height: 15 }, score: 0.9, keypoints: [{ x: 15, y: 10 }, { x: 25, y: 10 }, { x: 20, y: 13 }] };
    const out = drawFaces(img, [f], { thickness: 1 });
    expect(px(out, 10, 5)).toEqual([0, 255, 0]); // top-left corner
    expect(px(out, 29, 19)).toEqual([0, 255, 0]); // bottom-right corner, inside the box
    expect(px(out, 30, 20)).toEqual([50, 50, 50]); // just outside
    expect(px(out, 20, 5)).toEqual([0, 255, 0]); // top edge
    expect(px(out, 15, 10)).toEqual([0, 160, 255]); // right eye
    expect(px(out, 20, 13)).toEqual([255, 0, 0]); // nose
    expect(px(out, 12, 17)).toEqual([50, 50, 50]); // inside the box, away from keypoints
    expect(img.data.every((v) => v === 50)).toBe(true);
  });

  it('clips boxes and keypoints that leave the frame instead of failing', () => {
    const out = drawFaces(grey(20, 20), [{ box: { x: -5, y: 15, width: 30, height: 30 }, score: 1, keypoints: [{ x: -1, y: 25 }] }], { thickness: 2 });
    expect(px(out, 0, 15)).toEqual([0, 255, 0]);
    expect(px(out, 19, 16)).toEqual([0, 255, 0]);
    expect(px(out, 10, 10)).toEqual([50, 50, 50]);
  });

  it('scales the line width with the frame: 3 px on 1080p', () => {
    const big = drawFaces(grey(1920, 1080), [{ box: { x: 100, y: 100, width: 50, height: 50 }, score: 1, keypoints: [] }]);
    expect(px(big, 120, 102)).toEqual([0, 255, 0]);
    expect(px(big, 120, 103)).toEqual([50, 50, 50]);
  });
});
