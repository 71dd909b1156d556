import { describe, expect, it } from 'vitest';
import { detectFused, fuseFaces } from '../../src/detect/fuse.js';
import type { Face } from '../../src/detect/types.js';
import type { RgbImage } from '../../src/image/types.js';

const face = (x: number, score: number): Face => ({ box: { x, y: 0, width: 10, height: 10 }, score, keypoints: [{ x: x + 5, y: 5 }] });

describe('fuseFaces', () => {
  it('keeps every raw face as found and adds only the enhanced faces that are new and clear the gate', () => {
    const raw = [face(0, 0.6), face(100, 0.55)];
    const enhanced = [face(1, 0.9), face(200, 0.7), face(300, 0.95), face(301, 0.85)];
    const out = fuseFaces(raw, enhanced, { enhancedOnlyMinScore: 0.8 });
    // Best first: the new 300 (its 301 duplicate merged into it), raw 0 untouched (the enhanced 1 overlaps it), raw 100; 200 is under the gate.
    expect(out.map((f) => Math.round(f.box.x))).toEqual([300, 0, 100]);
    expect(out[1]).toBe(raw[0]);
    expect(out[0]!.score).toBe(0.95);
  });

  it("'blend' merges a face both passes found into their weighted mean, with the higher score", () => {
    const out = fuseFaces([face(0, 0.6)], [face(1, 0.9), face(200, 0.7)], { enhancedOnlyMinScore: 0.8, mode: 'blend' });
    expect(out).toHaveLength(1);
    expect(out[0]!.score).toBe(0.9);
    expect(out[0]!.box.x).toBeCloseTo((0 * 0.6 + 1 * 0.9) / 1.5, 12); // MediaPipe's weighted blend
  });

  it('gate 0 is the plain union; an empty pass returns the other (raw always, enhanced above the gate)', () => {
    expect(fuseFaces([face(0, 0.6)], [face(50, 0.51)], { enhancedOnlyMinScore: 0 })).toHaveLength(2);
    expect(fuseFaces([], [face(0, 0.9), face(50, 0.5)], { enhancedOnlyMinScore: 0.8 }).map((f) => f.score)).toEqual([0.9]);
    expect(fuseFaces([face(0, 0.6)], [])).toEqual([face(0, 0.6)]);
  });
});

describe('detectFused', () => {
  it('sends raw and enhanced frames in one detector call and fuses each frame with its own twin', async () => {
    const frame = (tag: number): RgbImage => ({ width: 1, height: 1, data: Uint8Array.of(tag, 0, 0) });
    const calls: number[][] = [];
    const detector = {
      detect: async (fs: readonly RgbImage[]): Promise<Face[][]> => {
        calls.push(fs.map((f) => f.data[0]!));
        return fs.map((f) => [face(f.data[0]! % 10 * 100, f.data[0]! >= 10 ? 0.95 : 0.6)]);
      },
    };
    const out = await detectFused(detector, [{ raw: frame(1), enhanced: frame(11) }, { raw: frame(2), enhanced: frame(13) }]);
    expect(calls).toEqual([[1, 2, 11, 13]]);
    expect(out[0]!.map((f) => f.box.x)).toEqual([100]); // raw 100 and enhanced 100 merged
    expect(out[1]!.map((f) => f.box.x).sort((a, b) => a - b)).toEqual([200, 300]); // raw 200, enhanced-only 300 at 0.95
  });
});
