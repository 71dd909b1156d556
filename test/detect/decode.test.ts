import { describe, expect, it } from 'vitest';
import { BLAZEFACE_ANCHORS, FACE_ANCHORS, generateAnchors } from '../../src/detect/anchors.js';
import { COORDS_PER_ANCHOR, decodeFaces, sigmoid, type RawHead } from '../../src/detect/decode.js';

const anchors = generateAnchors(BLAZEFACE_ANCHORS.front);

/** Front-model outputs with every logit at −10 (score ≈ 0). */
function blankHeads(): { heads: RawHead[]; scores: Float32Array[]; boxes: Float32Array[] } {
  const scores = [new Float32Array(512).fill(-10), new Float32Array(384).fill(-10)];
  const boxes = [new Float32Array(512 * COORDS_PER_ANCHOR), new Float32Array(384 * COORDS_PER_ANCHOR)];
  return { heads: [{ scores: scores[0]!, boxes: boxes[0]! }, { scores: scores[1]!, boxes: boxes[1]! }], scores, boxes };
}

describe('decodeFaces', () => {
  it('decodes a hand-made raw output: offsets from the anchor in input pixels, size absolute', () => {
    const { heads, scores, boxes } = blankHeads();
    // Second head, cell (x 5, y 3) of the 8×8 grid, its third anchor: anchor centre (88, 56) px.
    const i = (3 * 8 + 5) * 6 + 2;
    scores[1]![i] = 2;
    boxes[1]!.set([4, -2, 20, 24, -5, -4, 5, -4, 0, 1, 0, 6, -9, -1, 9, -1], i * COORDS_PER_ANCHOR);
    const faces = decodeFaces(heads, anchors, { inputSize: 128, scoreThreshold: 0.5 });
    expect(faces).toHaveLength(1);
    const [f] = faces;
    expect(f!.score).toBeCloseTo(sigmoid(2), 6);
    expect(f!.box).toEqual({ x: 82, y: 42, width: 20, height: 24 }); // centre (92, 54)
    expect(f!.keypoints).toEqual([
      { x: 83, y: 52 }, { x: 93, y: 52 }, { x: 88, y: 57 }, { x: 88, y: 62 }, { x: 79, y: 55 }, { x: 97, y: 55 },
    ]);
  });

  it('the first head maps to the first 512 anchors', () => {
    const { heads, scores } = blankHeads();
    scores[0]![0] = 3;
    const [f] = decodeFaces(heads, anchors, { inputSize: 128, scoreThreshold: 0.5 });
    expect(f!.box).toEqual({ x: 4, y: 4, width: 0, height: 0 }); // anchor (0.5/16)·128 = 4 px, zero regressors
  });

  it('clips logits as MediaPipe before the sigmoid and applies the threshold', () => {
    const { heads, scores } = blankHeads();
    scores[0]![10] = 1e30;
    scores[0]![11] = Number.NaN; // a broken output must not pass the threshold
    scores[1]![0] = 0.4; // sigmoid 0.599
    const all = decodeFaces(heads, anchors, { inputSize: 128, scoreThreshold: 0.5 });
    expect(all.map((f) => f.score)).toEqual([sigmoid(100), sigmoid(Math.fround(0.4))]);
    expect(decodeFaces(heads, anchors, { inputSize: 128, scoreThreshold: 0.6 })).toHaveLength(1);
  });

  it('rejects outputs that do not match the anchors', () => {
    const { heads } = blankHeads();
    expect(() => decodeFaces(heads.slice(0, 1), anchors, { inputSize: 128, scoreThreshold: 0.5 })).toThrow(/512 scores for 896 anchors/);
    expect(() => decodeFaces([heads[0]!, { scores: heads[1]!.scores, boxes: new Float32Array(3) }], anchors, { inputSize: 128, scoreThreshold: 0.5 })).toThrow(/regressor/);
  });

  it('full range: one head of 2,304 anchors, box and six keypoints offset from the 4-px grid in 192² pixels', () => {
    const full = generateAnchors(FACE_ANCHORS['full-range']);
    const scores = new Float32Array(2304).fill(-10);
    const boxes = new Float32Array(2304 * COORDS_PER_ANCHOR);
    // Cell (x 30, y 11): anchor centre (122, 46) px.
    const i = 11 * 48 + 30;
    scores[i] = 1.5;
    boxes.set([-2, 3, 12, 14, -3, -2, 3, -2, 0, 1, 0, 4, -6, 0, 6, 0], i * COORDS_PER_ANCHOR);
    // A second anchor below the threshold is dropped.
    scores[i + 1] = -1;
    const faces = decodeFaces([{ scores, boxes }], full, { inputSize: 192, scoreThreshold: 0.5 });
    expect(faces).toHaveLength(1);
    expect(faces[0]!.score).toBeCloseTo(sigmoid(1.5), 6);
    expect(faces[0]!.box).toEqual({ x: 114, y: 42, width: 12, height: 14 }); // centre (120, 49)
    expect(faces[0]!.keypoints).toEqual([
      { x: 119, y: 44 }, { x: 125, y: 44 }, { x: 122, y: 47 }, { x: 122, y: 50 }, { x: 116, y: 46 }, { x: 128, y: 46 },
    ]);
    expect(() => decodeFaces([{ scores: scores.subarray(0, 896), boxes: boxes.subarray(0, 896 * COORDS_PER_ANCHOR) }], full, { inputSize: 192, scoreThreshold: 0.5 })).toThrow(/896 scores for 2304 anchors/);
  });
});
