import { describe, expect, it } from 'vitest';
import type { FaceFinder } from '../../src/detect/fuse.js';
import { estimateNoise } from '../../src/detect/smooth.js';
import type { Box, Face } from '../../src/detect/types.js';
import type { RgbImage } from '../../src/image/types.js';
import { collectSmallFaceCamera, darkCameraFrame, detectedFrames, recallOverTime, scoreSmallFaceCamera } from '../../src/eval/small-face-camera.js';
import { darkFrame } from '../../src/eval/small-face-eval.js';
import type { SmallFaceFrame, Split } from '../../src/eval/small-faces.js';

/** A flat grey canvas (no noise of its own) with a face of 12, 20 and 40 px: one per bucket. */
const boxes: Box[] = [{ x: 20, y: 20, width: 12, height: 12 }, { x: 80, y: 20, width: 20, height: 20 }, { x: 20, y: 80, width: 40, height: 40 }];
const canvas = (split: Split): SmallFaceFrame & { split: Split } => ({ image: { width: 160, height: 128, data: new Uint8Array(160 * 128 * 3).fill(128) }, boxes, sources: ['flat'], split });

/**
 * A detector that sees faces only on the clean picture: every face of the canvas when the frame is
 * the flat canvas itself, nothing on a dark one. What is under test is the clip's plumbing and scoring.
 */
const cleanOnly: FaceFinder = {
  detect: async (frames: readonly RgbImage[]) => frames.map((f) => (f.data.every((v) => v === 128) ? boxes.map((box): Face => ({ box, score: 0.9, keypoints: [] })) : [])),
};

describe('the small-face set as fixed cameras', () => {
  it('starts each clip on the stills eval\'s dark frame and draws fresh noise for every later frame at the same exposure', () => {
    const img = canvas('tune').image;
    expect(darkCameraFrame(img, 1, 100, 3, 0).data).toEqual(darkFrame(img, 1, 100, 3).data);
    const a = darkCameraFrame(img, 1, 100, 3, 1), b = darkCameraFrame(img, 1, 100, 3, 2);
    expect(a.data).not.toEqual(b.data);
    const mean = (x: RgbImage): number => x.data.reduce((s, v) => s + v, 0) / x.data.length;
    expect(Math.abs(mean(a) - mean(b))).toBeLessThan(0.02 * mean(a));
    expect(estimateNoise(a)).toBeGreaterThan(5);
  });

  it('detects every n-th frame', () => {
    expect(detectedFrames(7, 2)).toEqual([0, 2, 4, 6]);
    expect(detectedFrames(4, 1)).toEqual([0, 1, 2, 3]);
    expect(() => detectedFrames(0, 2)).toThrow(RangeError);
  });

  it('feeds the denoiser every frame in order, detects every n-th, forgets each camera, and scores frames from the warm-up on', async () => {
    const seen: string[] = [], forgotten: string[] = [];
    const count = new Map<string, number>();
    const frames = [canvas('tune'), canvas('heldout')];
    const c = await collectSmallFaceCamera({
      frames, fullWells: [100], seed: 1, clipFrames: 7, every: 2, detector: cleanOnly,
      enhance: async (img) => img,
      // A denoiser whose picture is clean from a camera's fourth frame on (t = 3).
      denoise: async (camera, img) => {
        const n = (count.get(camera) ?? 0) + 1;
        count.set(camera, n);
        seen.push(`${camera}:${n}`);
        return n >= 4 ? frames[Number(camera.slice(6, 7))]!.image : img;
      },
      forget: (camera) => forgotten.push(camera),
    });
    expect(seen).toEqual([0, 1].flatMap((ci) => Array.from({ length: 7 }, (_, t) => `canvas${ci}@100:${t + 1}`)));
    expect(forgotten).toEqual(['canvas0@100', 'canvas1@100']);
    expect(c.detected).toEqual([0, 2, 4, 6]);
    const level = c.levels[0]!;
    for (const p of ['raw', 'smoothed raw'] as const) expect(level.paths[p][0]!.map((fs) => fs.length)).toEqual([0, 0, 0, 0]);
    expect(level.paths.denoised[0]!.map((fs) => fs.length)).toEqual([0, 0, 3, 3]);
    expect(level.paths['fused (denoised)'][1]!.map((fs) => fs.length)).toEqual([0, 0, 3, 3]);
    expect(c.normal).toEqual([expect.any(Array), expect.any(Array)]);
    expect(c.normal[0]!.length).toBe(3);

    // From frame 4 on the denoised paths find every face; raw finds none; each split counts its own canvas.
    const r = scoreSmallFaceCamera(c, { split: 'heldout', fromFrame: 4 });
    expect(r.canvases).toBe(1);
    expect(r.scoredFrames).toEqual([4, 6]);
    const row = (p: string) => r.levels[0]!.rows.find((x) => x.path === p)!.buckets;
    expect(row('fused (denoised)').map((b) => [b.bucket, b.references, b.tp, b.recall])).toEqual([['<16', 2, 2, 1], ['16–32', 2, 2, 1], ['>32', 2, 2, 1], ['≥16', 4, 4, 1]]);
    expect(row('raw').every((b) => b.tp === 0 && b.fp === 0)).toBe(true);
    expect(r.normal.find((b) => b.bucket === '≥16')!.recall).toBe(1);
    // With the warm-up scored too, half the detections come before the denoiser is clean.
    const all = scoreSmallFaceCamera(c, { split: 'all', fromFrame: 0 });
    expect(all.levels[0]!.rows.find((x) => x.path === 'denoised')!.buckets.find((b) => b.bucket === '≥16')!.recall).toBe(0.5);
    expect(recallOverTime(c, { split: 'all', path: 'fused (denoised)' })).toEqual([{ fullWell: 100, recall: [0, 0, 1, 1] }]);
    expect(() => scoreSmallFaceCamera(c, { split: 'all', fromFrame: 7 })).toThrow(RangeError);
  });
});
