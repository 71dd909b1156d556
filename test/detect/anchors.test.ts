import { describe, expect, it } from 'vitest';
import { BLAZEFACE_ANCHORS, FACE_ANCHORS, generateAnchors } from '../../src/detect/anchors.js';

describe('BlazeFace anchors', () => {
  it.each(['front', 'back'] as const)('%s: 16×16×2 + 8×8×6 = 896 anchors of size 1, in the heads\' order', (model) => {
    const a = generateAnchors(BLAZEFACE_ANCHORS[model]);
    expect(a).toHaveLength(896);
    expect(a.every((x) => x.width === 1 && x.height === 1)).toBe(true);
    // First head: a 16×16 grid, two anchors per cell, row-major.
    expect(a[0]).toEqual({ x: 0.5 / 16, y: 0.5 / 16, width: 1, height: 1 });
    expect(a[1]).toEqual(a[0]);
    expect(a[2]).toMatchObject({ x: 1.5 / 16, y: 0.5 / 16 });
    expect(a[32]).toMatchObject({ x: 0.5 / 16, y: 1.5 / 16 });
    expect(a[511]).toMatchObject({ x: 15.5 / 16, y: 15.5 / 16 });
    // Second head: the three layers of one stride share an 8×8 grid, six anchors per cell.
    expect(a[512]).toMatchObject({ x: 0.5 / 8, y: 0.5 / 8 });
    expect(a[517]).toMatchObject({ x: 0.5 / 8, y: 0.5 / 8 });
    expect(a[518]).toMatchObject({ x: 1.5 / 8, y: 0.5 / 8 });
    expect(a[895]).toMatchObject({ x: 7.5 / 8, y: 7.5 / 8 });
  });

  it('sizes follow the layer scales when anchors are not fixed (MediaPipe\'s interpolated scale)', () => {
    const o = { ...BLAZEFACE_ANCHORS.front, fixedAnchorSize: false };
    const a = generateAnchors(o);
    const scale = (l: number): number => o.minScale + ((o.maxScale - o.minScale) * l) / 3;
    expect(a[0]!.width).toBeCloseTo(scale(0), 6);
    expect(a[1]!.width).toBeCloseTo(Math.sqrt(scale(0) * scale(1)), 6);
    expect(a[512]!.width).toBeCloseTo(scale(1), 6);
    expect(a[517]!.width).toBeCloseTo(Math.sqrt(scale(3) * 1), 6); // the last layer interpolates towards 1
  });

  it('full range: one 48×48 grid of stride 4 on 192², one anchor per cell, 2,304 in all, row-major', () => {
    const a = generateAnchors(FACE_ANCHORS['full-range']);
    expect(a).toHaveLength(2304);
    expect(a.every((x) => x.width === 1 && x.height === 1)).toBe(true);
    expect(a[0]).toEqual({ x: 0.5 / 48, y: 0.5 / 48, width: 1, height: 1 });
    expect(a[1]).toEqual({ x: 1.5 / 48, y: 0.5 / 48, width: 1, height: 1 }); // no second anchor per cell
    expect(a[48]).toMatchObject({ x: 0.5 / 48, y: 1.5 / 48 });
    expect(a[48 * 20 + 7]).toMatchObject({ x: 7.5 / 48, y: 20.5 / 48 });
    expect(a[2303]).toMatchObject({ x: 47.5 / 48, y: 47.5 / 48 });
    // Centres 4 input pixels apart: (x + 0.5)·stride.
    expect(a[5]!.x * 192).toBeCloseTo(22, 9);
  });

  it('full range with sizes: the single layer takes the mean of min and max scale (SsdAnchorsCalculator)', () => {
    const o = { ...FACE_ANCHORS['full-range'], fixedAnchorSize: false };
    const a = generateAnchors(o);
    expect(a).toHaveLength(2304); // interpolatedScaleAspectRatio 0: no extra anchor
    expect(a[0]!.width).toBeCloseTo((o.minScale + o.maxScale) / 2, 9);
  });
});
