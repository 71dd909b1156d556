import { describe, expect, it } from 'vitest';
import { iou, weightedNms } from '../../src/detect/nms.js';
import type { Face } from '../../src/detect/types.js';

const face = (x: number, y: number, w: number, score: number, kp = 0): Face => ({
  box: { x, y, width: w, height: w },
  score,
  keypoints: [{ x: x + kp, y: y + kp }],
});

describe('iou', () => {
  it('is intersection over union, 0 for disjoint or touching boxes', () => {
    expect(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 })).toBeCloseTo(50 / 150, 12);
    expect(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 10, y: 0, width: 10, height: 10 })).toBe(0);
    expect(iou({ x: 0, y: 0, width: 0, height: 0 }, { x: 0, y: 0, width: 0, height: 0 })).toBe(0);
  });
});

describe('weightedNms (MediaPipe WEIGHTED)', () => {
  it('blends overlapping faces by score, keeps the best score, leaves distant faces alone', () => {
    const a = face(0, 0, 10, 0.9, 2), b = face(1, 1, 10, 0.6, 4), far = face(50, 50, 10, 0.7);
    const out = weightedNms([b, far, a]);
    expect(out).toHaveLength(2);
    const [m, f] = out;
    expect(m!.score).toBe(0.9);
    // corners weighted 0.9 : 0.6 → x1 = (0·0.9 + 1·0.6)/1.5 = 0.4, x2 = (10·0.9 + 11·0.6)/1.5 = 10.4
    expect(m!.box.x).toBeCloseTo(0.4, 12);
    expect(m!.box.y).toBeCloseTo(0.4, 12);
    expect(m!.box.width).toBeCloseTo(10, 12);
    expect(m!.keypoints[0]!.x).toBeCloseTo((2 * 0.9 + 5 * 0.6) / 1.5, 12);
    expect(f).toBe(far);
  });

  it('suppresses only above the threshold, and only against the current best (no chaining)', () => {
    // a–b IoU = 600/1200 = 0.5, b–c 0.5, a–c 300/1500 = 0.2: b joins a; c survives though it overlaps b.
    const a = face(0, 0, 30, 0.9), b = face(10, 0, 30, 0.8), c = face(20, 0, 30, 0.7);
    expect(weightedNms([a, b, c], 0.3).map((f) => f.score)).toEqual([0.9, 0.7]);
    const third = face(20, 0, 30, 0.5); // IoU with a: 300/1500 = 0.2, exactly the threshold below
    expect(weightedNms([a, third], 0.2)).toHaveLength(2); // not strictly above: kept apart
    expect(weightedNms([a, third], 0.19)).toHaveLength(1);
  });

  it('returns nothing for nothing, and faces best first', () => {
    expect(weightedNms([])).toEqual([]);
    const out = weightedNms([face(0, 0, 5, 0.2), face(100, 0, 5, 0.9), face(200, 0, 5, 0.5)]);
    expect(out.map((f) => f.score)).toEqual([0.9, 0.5, 0.2]);
  });
});
