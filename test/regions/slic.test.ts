import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/image/types.js';
import { rgbToLab, slic } from '../../src/regions/slic.js';

/** Flat rectangles of strongly different colours; returns the image and each pixel's rectangle. */
function rectangles(w: number, h: number): { img: RgbImage; region: Int32Array } {
  const colours = [[220, 40, 40], [40, 200, 60], [40, 60, 220], [240, 230, 80], [30, 30, 30]];
  const region = new Int32Array(w * h);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    // Edges off the seed grid on purpose: a vertical split at 0.37w, a horizontal one at 0.58h,
    // and an inner rectangle that crosses grid cells.
    let r = x < 0.37 * w ? 0 : y < 0.58 * h ? 1 : 2;
    if (x >= 0.55 * w && x < 0.83 * w && y >= 0.16 * h && y < 0.45 * h) r = 3;
    if (x >= 0.1 * w && x < 0.25 * w && y >= 0.65 * h && y < 0.9 * h) r = 4;
    region[y * w + x] = r;
    data.set(colours[r]!, (y * w + x) * 3);
  }
  return { img: { width: w, height: h, data }, region };
}

/** True when every label is one 4-connected set. */
function connected(labels: Int32Array, w: number, h: number, count: number): boolean {
  const seen = new Uint8Array(w * h);
  const started = new Uint8Array(count);
  const stack: number[] = [];
  for (let s = 0; s < w * h; s++) {
    if (seen[s]) continue;
    const l = labels[s]!;
    if (started[l]) return false; // a second piece of the same label
    started[l] = 1;
    seen[s] = 1;
    stack.push(s);
    while (stack.length) {
      const p = stack.pop()!, x = p % w;
      for (const q of [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, p - w, p + w]) {
        if (q >= 0 && q < w * h && !seen[q] && labels[q] === l) { seen[q] = 1; stack.push(q); }
      }
    }
  }
  return true;
}

describe('slic', () => {
  it('converts sRGB to CIELAB like skimage.color.rgb2lab', () => {
    const [L, A, B] = rgbToLab({ width: 3, height: 1, data: Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0, 0]) });
    // skimage's matrix and D65 white: white is (100, −0.00245, 0.00465), red (53.2406, 80.0923, 67.2028)
    expect(L[0]).toBeCloseTo(100, 3); expect(A[0]).toBeCloseTo(-0.00245, 4); expect(B[0]).toBeCloseTo(0.00465, 4);
    expect(L[1]).toBeCloseTo(53.2406, 3); expect(A[1]).toBeCloseTo(80.0923, 3); expect(B[1]).toBeCloseTo(67.2028, 3);
    expect(L[2]).toBe(0);
  });

  it('never lets a superpixel straddle a strong colour edge, keeps every label connected, gives about n_segments', () => {
    const w = 240, h = 160, nSegments = 60;
    const { img, region } = rectangles(w, h);
    const s = slic(img, { nSegments, compactness: 10 });
    // Boundary recall, the strict way: each superpixel lies inside one rectangle.
    const home = new Int32Array(s.count).fill(-1);
    let straddling = 0;
    for (let p = 0; p < w * h; p++) {
      const l = s.labels[p]!;
      if (home[l] === -1) home[l] = region[p]!;
      else if (home[l] !== region[p]) straddling++;
    }
    expect(straddling).toBe(0);
    expect(connected(s.labels, w, h, s.count)).toBe(true);
    expect(s.count).toBeGreaterThanOrEqual(0.7 * nSegments);
    expect(s.count).toBeLessThanOrEqual(1.3 * nSegments);
    expect(Math.max(...s.labels) + 1).toBe(s.count);
    expect(s.labels[0]).toBe(0);
  });

  it('splits a flat image into a near-regular grid of connected cells', () => {
    const w = 120, h = 90;
    const s = slic({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(128) }, { nSegments: 12 });
    expect(s.count).toBe(12);
    expect(connected(s.labels, w, h, s.count)).toBe(true);
    const sizes = new Int32Array(s.count);
    for (const l of s.labels) sizes[l]!++;
    expect(Math.min(...sizes)).toBeGreaterThan(0.5 * (w * h) / 12);
  });

  it('handles degenerate inputs', () => {
    expect(slic({ width: 0, height: 0, data: new Uint8Array(0) }, { nSegments: 5 }).count).toBe(0);
    expect(slic({ width: 1, height: 1, data: new Uint8Array(3) }, { nSegments: 5 })).toEqual({ labels: Int32Array.from([0]), count: 1 });
    expect(() => slic({ width: 2, height: 1, data: new Uint8Array(3) }, { nSegments: 1 })).toThrow(/needs 6 bytes/);
  });
});
