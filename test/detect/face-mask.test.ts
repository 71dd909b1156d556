import { describe, expect, it } from 'vitest';
import { outsideMask } from '../../src/detect/face-mask.js';
import type { Face } from '../../src/detect/types.js';

const face = (x: number, y: number, size: number): Face => ({ box: { x, y, width: size, height: size }, score: 0.9, keypoints: [] });

describe('per-camera face masks', () => {
  // A 960×1088 IR frame: its clock at the top left, masked.
  const clock = [{ x: 0, y: 0.04, width: 0.33, height: 0.05 }];

  it('drops a face whose centre is in a masked rectangle and keeps the others', () => {
    const onClock = face(287, 32, 44), below = face(287, 300, 44), straddling = face(300, 40, 60);
    // Centres: (309, 54) inside; (309, 322) below; (330, 70): x 0.344 is past the mask's right edge (0.33).
    expect(outsideMask([onClock, below, straddling], 960, 1088, clock)).toEqual([below, straddling]);
  });

  it('holds at any processing size: the rectangle is in fractions of the frame', () => {
    expect(outsideMask([face(143, 16, 22)], 480, 544, clock)).toEqual([]);
    expect(outsideMask([face(143, 160, 22)], 480, 544, clock)).toHaveLength(1);
  });

  it('without a mask, every face is kept (a copy)', () => {
    const faces = [face(10, 10, 20)];
    const out = outsideMask(faces, 100, 100, undefined);
    expect(out).toEqual(faces);
    expect(out).not.toBe(faces);
    expect(outsideMask(faces, 100, 100, [])).toEqual(faces);
  });
});
