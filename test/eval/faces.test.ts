import { describe, expect, it } from 'vitest';
import { parsePositiveInt, parseScale } from '../../src/cli/args.js';
import { faceEvalOptionsFromFlags } from '../../src/cli/eval-faces.js';
import { FaceDetector } from '../../src/detect/detector.js';
import { isPieError } from '../../src/errors.js';
import type { Box, Face } from '../../src/detect/types.js';
import {
  averagePrecision, collectFaceDetections, evalFaces, formatFaceEval, matchDetections, scoreDetections, scoreFaceEval,
  type CollectedFaces, type ReferenceBox, type ScoredBox,
} from '../../src/eval/faces.js';
import { readImage } from '../../src/image/io.js';
import { sharedPath, skipReason } from '../helpers/shared.js';

const box = (x: number, y: number, w = 10, h = w): Box => ({ x, y, width: w, height: h });
const det = (image: number, x: number, score: number, y = 0): ScoredBox => ({ image, box: box(x, y), score });
const ref = (image: number, x: number, y = 0): ReferenceBox => ({ image, box: box(x, y) });
const face = (x: number, score: number): Face => ({ box: box(x, 0), score, keypoints: [] });

describe('matchDetections (PASCAL VOC)', () => {
  it('sorts by score and marks the first hit on each reference a TP, a duplicate and a miss FP', () => {
    const m = matchDetections([det(0, 1, 0.6), det(0, 0, 0.9), det(0, 50, 0.8), det(1, 0, 0.7)], [ref(0, 0), ref(1, 0)]);
    expect(m.scores).toEqual([0.9, 0.8, 0.7, 0.6]);
    // 0.9 on ref 0; 0.8 nowhere; 0.7 on image 1's ref; 0.6 a duplicate of ref 0 (IoU 0.82).
    expect(m.tp).toEqual([true, false, true, false]);
    expect(m.references).toBe(2);
  });

  it('needs IoU ≥ 0.5 and the same image', () => {
    // x shift 4 on 10×10: IoU 60/140 = 0.43; shift 3: 70/130 = 0.54.
    expect(matchDetections([det(0, 4, 0.9)], [ref(0, 0)]).tp).toEqual([false]);
    expect(matchDetections([det(0, 3, 0.9)], [ref(0, 0)]).tp).toEqual([true]);
    expect(matchDetections([det(1, 0, 0.9)], [ref(0, 0)]).tp).toEqual([false]);
  });

  it('does not fall back to a second free reference when the best one is taken (VOC)', () => {
    // Refs at x 0 and x 6 (IoU with each other 0.25). The second detection (x 2) overlaps ref 0
    // most (0.67) — taken — and ref 6 by 0.43 < 0.5 anyway; one at x 3 overlaps ref 0 0.54, ref 6 0.54:
    // the first maximum (ref 0) is taken, so it is an FP even though ref 6 is free at IoU ≥ 0.5.
    const m = matchDetections([det(0, 0, 0.9), det(0, 3, 0.8)], [ref(0, 0), ref(0, 6)]);
    expect(m.tp).toEqual([true, false]);
  });
});

describe('averagePrecision (VOC all-point interpolation)', () => {
  it('is 1 when every reference is found before any false positive', () => {
    expect(averagePrecision({ tp: [true, true, false, false], references: 2 })).toBe(1);
  });

  it('takes the best precision at any higher recall: TP FP TP over 2 refs = 0.5·1 + 0.5·2/3', () => {
    expect(averagePrecision({ tp: [true, false, true], references: 2 })).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
  });

  it('interpolates a dip: TP FP FP TP TP over 4 refs = 0.25·1 + 0.5·0.6', () => {
    // precisions 1, .5, .33, .5, .6 at recalls .25, .25, .25, .5, .75; the envelope at .5 and .75 is 0.6.
    expect(averagePrecision({ tp: [true, false, false, true, true], references: 4 })).toBeCloseTo(0.25 * 1 + 0.5 * 0.6, 12);
  });

  it('counts references never found as recall never reached', () => {
    expect(averagePrecision({ tp: [true, true], references: 3 })).toBeCloseTo(2 / 3, 12);
    expect(averagePrecision({ tp: [], references: 3 })).toBe(0);
    expect(averagePrecision({ tp: [false], references: 0 })).toBeNaN();
  });
});

describe('scoreDetections', () => {
  it('gives recall and precision at the operating score and AP over every detection', () => {
    const dets = [det(0, 0, 0.9), det(0, 50, 0.7), det(1, 0, 0.4)];
    const s = scoreDetections(dets, [ref(0, 0), ref(1, 0)], { scoreThreshold: 0.5 });
    expect(s).toMatchObject({ tp: 1, fp: 1, references: 2, recall: 0.5, precision: 0.5 });
    expect(s.ap50).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12); // the 0.4 hit still ranks
    expect(scoreDetections([], [ref(0, 0)])).toMatchObject({ recall: 0, ap50: 0 });
    expect(scoreDetections([], [ref(0, 0)]).precision).toBeNaN();
  });
});

describe('scoreFaceEval', () => {
  it('scores each variant, the originals at 1 by construction, and fuses raw with each enhanced variant', () => {
    const c: CollectedFaces = {
      scoreThreshold: 0.5,
      references: [[face(0, 0.9)], [face(0, 0.8)]],
      original: { name: 'original', kind: 'original', faces: [[face(0, 0.9)], [face(0, 0.8), face(60, 0.3)]] },
      levels: [{
        fullWell: 100,
        variants: [
          { name: 'raw', kind: 'raw', faces: [[face(0, 0.8)], []] },
          { name: 'e', kind: 'enhanced', faces: [[face(1, 0.6)], [face(0, 0.9), face(80, 0.95)]] },
        ],
      }],
    };
    const r = scoreFaceEval(c, { enhancedOnlyMinScore: 0.92 });
    const rows = Object.fromEntries(r.levels[0]!.rows.map((x) => [x.variant, x]));
    expect(Object.keys(rows)).toEqual(['original', 'raw', 'e', 'raw ∪ e']);
    expect(rows.original).toMatchObject({ recall: 1, precision: 1, ap50: 1 });
    expect(rows.raw).toMatchObject({ recall: 0.5, precision: 1, tp: 1, fp: 0 });
    expect(rows.e).toMatchObject({ recall: 1, tp: 2, fp: 1 });
    // Fused: image 0 raw+e merge; image 1: the 0.9 face is enhanced-only below the gate (dropped),
    // the 0.95 false face clears it (kept).
    expect(rows['raw ∪ e']).toMatchObject({ tp: 1, fp: 1, recall: 0.5 });
    expect(formatFaceEval(r)).toMatch(/\| 100 \| raw ∪ e \| 0\.500 \| 0\.500 \|/);
  });
});

describe('eval --faces flags', () => {
  const parse = { shared: '/sh', scale: parseScale, positiveInt: parsePositiveInt };
  const base = { faces: true as const, enhancer: ['identity', 'gamma', 'clahe', 'm/a.onnx', 'b=m/b.onnx', 'c=m/c.onnx,scale=1/2'], out: 'rep', fullWells: '100,300', scale: '1/4', seed: '2' };
  it('takes the plain and named .onnx enhancers and gamma, the photos from ../shared by default, and writes faces.json in the out folder', () => {
    expect(faceEvalOptionsFromFlags(base, parse)).toEqual({
      images: ['/sh/data/faces/face-api-js/images'], models: ['m/a.onnx', 'b=m/b.onnx'], gamma: true, downscale: 4, fullWells: [100, 300], seed: 2,
      denoise: 'smooth', detectorModel: 'back', pose: 'frontal', quiet: false, out: 'rep/faces.json',
    });
    expect(faceEvalOptionsFromFlags({ ...base, pose: 'any' }, parse)).toMatchObject({ pose: 'any' });
    expect(faceEvalOptionsFromFlags({ ...base, faces: ['x/'], enhancer: ['identity'] }, parse)).toMatchObject({ images: ['x/'], models: [], gamma: false });
    expect(faceEvalOptionsFromFlags({ ...base, detector: 'full-range', upscale: '2' }, parse)).toMatchObject({ detectorModel: 'full-range', upscale: 2 });
    expect(faceEvalOptionsFromFlags({ ...base, denoise: 'still' }, parse)).toMatchObject({ denoise: 'still' });
  });

  it('bad values are usage errors', () => {
    for (const [f, re] of [[{ fullWells: '100,-3' }, /--full-wells/], [{ denoise: 'bm3d' }, /--denoise bm3d/], [{ detector: 'side' }, /--detector side/], [{ upscale: '3' }, /--upscale 3/], [{ pose: 'side' }, /--pose side/]] as const) {
      const e = (() => { try { faceEvalOptionsFromFlags({ ...base, ...f }, parse); return undefined; } catch (err) { return err; } })();
      expect(isPieError(e, 'usage')).toBe(true);
      expect((e as Error).message).toMatch(re);
    }
  });
});

const DIR = 'data/faces/face-api-js/images';
const skip = skipReason(DIR);

describe.skipIf(skip !== undefined)('evalFaces on real photos (../shared face-api.js)', () => {
  it('an identity "enhancer" scores exactly as raw; darker is worse; originals are the upper bound', async () => {
    const images = await Promise.all(['faces.jpg', 'bbt2.jpg', 'happy.jpg'].map((f) => readImage(sharedPath(`${DIR}/${f}`))));
    const detector = await FaceDetector.open({ threads: 1, scoreThreshold: 0.25 });
    try {
      const o = { images, fullWells: [100, 3000], seed: 1, detector, enhancers: [{ name: 'identity', run: async (img: typeof images[0]) => img }] };
      const c = await collectFaceDetections(o);
      expect(c.references.flat().length).toBeGreaterThanOrEqual(8); // 6 + bbt2's + happy's
      const r = scoreFaceEval(c);
      for (const l of r.levels) {
        const rows = Object.fromEntries(l.rows.map((x) => [x.variant, x]));
        expect(rows.original).toMatchObject({ recall: 1, precision: 1, ap50: 1 });
        expect(rows.identity!.recall).toBe(rows.raw!.recall);
        expect(rows.identity!.ap50).toBe(rows.raw!.ap50);
      }
      const recall = (w: number): number => r.levels.find((l) => l.fullWell === w)!.rows.find((x) => x.variant === 'raw')!.recall;
      expect(recall(100)).toBeLessThan(recall(3000));
      expect(recall(3000)).toBeGreaterThan(0.7);
      // Same seed, same result: the darkening is reproducible.
      expect(scoreFaceEval(await collectFaceDetections(o))).toEqual(r);
      expect((await evalFaces(o)).levels[0]!.rows.length).toBe(4);
    } finally {
      await detector.close();
    }
  }, 120_000);
});

