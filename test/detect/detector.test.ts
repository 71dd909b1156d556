import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceDetector } from '../../src/detect/detector.js';
import { iou } from '../../src/detect/nms.js';
import type { Box, Face } from '../../src/detect/types.js';
import { isPieError } from '../../src/errors.js';
import { readImage } from '../../src/image/io.js';
import type { RgbImage } from '../../src/image/types.js';
import { sharedPath, skipReason } from '../helpers/shared.js';
import { isFrontal } from '../../src/detect/pose.js';

const PHOTO = 'data/faces/face-api-js/images/faces.jpg';
const BOXES = 'data/faces/face-api-js/annotations/faces_jpg_reference_boxes.json';
const skip = skipReason(PHOTO) ?? skipReason(BOXES);

async function expectPieError(p: Promise<unknown>, kind: string, message: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(isPieError(e)).toBe(true);
  expect((e as { kind: string }).kind).toBe(kind);
  expect((e as Error).message).toMatch(message);
  expect((e as Error).message).toMatch(/fix: /);
}

/** Each reference box matched by a distinct face at IoU ≥ 0.5 (greedy, best IoU first). */
function matched(faces: readonly Face[], refs: readonly Box[]): number[] {
  const used = new Set<number>();
  return refs.map((r) => {
    let best = -1, bestIou = 0;
    faces.forEach((f, i) => { const v = iou(f.box, r); if (!used.has(i) && v > bestIou) { best = i; bestIou = v; } });
    if (best >= 0) used.add(best);
    return bestIou;
  });
}

describe.skipIf(skip !== undefined)('FaceDetector on a real photo (../shared, face-api.js faces.jpg: six faces)', () => {
  let photo: RgbImage;
  let refs: Box[];
  const detectors: FaceDetector[] = [];
  beforeAll(async () => {
    photo = await readImage(sharedPath(PHOTO));
    refs = (JSON.parse(fs.readFileSync(sharedPath(BOXES), 'utf8')) as { ssdMobilenetv1: Box[] }).ssdMobilenetv1;
  });
  afterAll(async () => { await Promise.all(detectors.map((d) => d.close())); });

  it.each([
    ['back', 'tiled + whole frame', undefined],
    ['back', 'whole frame only', false],
    ['front', 'whole frame only', false],
  ] as const)('%s model, %s: every reference face found at IoU ≥ 0.5, nothing else', async (model, _label, tiling) => {
    const d = await FaceDetector.open({ model, threads: 1, ...(tiling === false ? { tiling } : {}) });
    detectors.push(d);
    const [faces] = await d.detect([photo]);
    const ious = matched(faces!, refs);
    expect(Math.min(...ious), `IoUs ${ious.map((v) => v.toFixed(2)).join(' ')}`).toBeGreaterThanOrEqual(0.5);
    expect(faces).toHaveLength(6);
    for (const f of faces!) {
      expect(f.score).toBeGreaterThan(0.8);
      const [rightEye, leftEye, nose, mouth] = f.keypoints;
      // The subject's right eye is on the image's left; eyes above the nose, the nose above the mouth.
      expect(rightEye!.x).toBeLessThan(leftEye!.x);
      expect(Math.max(rightEye!.y, leftEye!.y)).toBeLessThan(nose!.y);
      expect(nose!.y).toBeLessThan(mouth!.y);
      expect(nose!.x).toBeGreaterThan(f.box.x);
      expect(nose!.x).toBeLessThan(f.box.x + f.box.width);
    }
  });

  it.each([
    ['tiled + whole frame', {}],
    ['whole frame only', { tiling: false as const }],
    ['2× upscaled tiles', { tiling: { upscale: 2 } }],
  ])('full-range model (converted from TFLite), %s: every reference face found at IoU ≥ 0.5', async (_label, extra) => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-fr-'));
    try {
      const d = await FaceDetector.open({ model: 'full-range', threads: 1, cacheDir, ...extra });
      detectors.push(d);
      expect(d.inputSize).toBe(192);
      expect(d.describe()).toMatch(/MediaPipe full-range \(192²\)/);
      const [faces] = await d.detect([photo]);
      const ious = matched(faces!, refs);
      expect(Math.min(...ious), `IoUs ${ious.map((v) => v.toFixed(2)).join(' ')}`).toBeGreaterThanOrEqual(0.5);
      expect(faces!.length).toBeLessThanOrEqual(7);
      for (const f of faces!) {
        const [rightEye, leftEye, nose, mouth] = f.keypoints;
        expect(rightEye!.x).toBeLessThan(leftEye!.x);
        expect(nose!.y).toBeLessThan(mouth!.y);
      }
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it.each(['back', 'full-range'] as const)('%s with pose frontal keeps the six faces of a group photo (pose any: the same)', async (model) => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-fr-'));
    try {
      const any = await FaceDetector.open({ model, threads: 1, cacheDir });
      const frontal = await FaceDetector.open({ model, threads: 1, cacheDir, pose: 'frontal' });
      detectors.push(any, frontal);
      expect(frontal.describe()).toMatch(/frontal faces only/);
      const [a] = await any.detect([photo]), [f] = await frontal.detect([photo]);
      expect(f).toEqual(a!.filter((x) => isFrontal(x)));
      expect(Math.min(...matched(f!, refs))).toBeGreaterThanOrEqual(0.5);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('reports no face narrower than minFace (the frame\'s pixels), and the rest as without it', async () => {
    const all = await FaceDetector.open({ model: 'back', threads: 1 });
    detectors.push(all);
    const [a] = await all.detect([photo]);
    const widths = a!.map((f) => f.box.width).sort((x, y) => x - y);
    const cut = (widths[0]! + widths[widths.length - 1]!) / 2; // between the smallest and the largest face
    const sized = await FaceDetector.open({ model: 'back', threads: 1, minFace: cut });
    detectors.push(sized);
    expect(sized.describe()).toMatch(new RegExp(`faces ≥ ${cut} px`));
    const [s] = await sized.detect([photo]);
    expect(s).toEqual(a!.filter((f) => f.box.width >= cut));
    expect(s!.length).toBeGreaterThan(0);
    expect(s!.length).toBeLessThan(a!.length);
  });

  it('batches frames of different sizes and tiles of several frames in one call, same faces as one by one', async () => {
    const d = await FaceDetector.open({ model: 'back', threads: 1, maxBatch: 5 });
    detectors.push(d);
    // The top-left quarter, cropped: a second frame of another size.
    const w = 355, h = 236, crop = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) crop.set(photo.data.subarray(y * photo.width * 3, (y * photo.width + w) * 3), y * w * 3);
    const small: RgbImage = { width: w, height: h, data: crop };
    const [a, b] = await d.detect([photo, small]);
    const [a1] = await d.detect([photo]);
    const [b1] = await d.detect([small]);
    const boxes = (fs: readonly Face[] | undefined) => fs!.map((f) => [f.box.x, f.box.y, f.box.width, f.box.height].map((v) => Math.round(v * 100)));
    expect(boxes(a)).toEqual(boxes(a1));
    expect(boxes(b)).toEqual(boxes(b1));
    expect(b!.length).toBeGreaterThanOrEqual(2); // the two faces wholly inside the crop
  });

  it('takes another image for the whole-frame pass alone: the tiles still see the faces', async () => {
    const d = await FaceDetector.open({ model: 'back', threads: 1 });
    detectors.push(d);
    const black: RgbImage = { width: photo.width, height: photo.height, data: new Uint8Array(photo.data.length) };
    // The faces (~100 px) are whole in the 256² native tiles, so a black whole-frame pass loses none;
    // black tiles with the photo as the whole-frame pass find them too, from that pass alone.
    const [tilesOnly] = await d.detect([photo], { whole: [black] });
    const [wholeOnly] = await d.detect([black], { whole: [photo] });
    expect(Math.min(...matched(tilesOnly!, refs))).toBeGreaterThanOrEqual(0.5);
    expect(Math.min(...matched(wholeOnly!, refs))).toBeGreaterThanOrEqual(0.5);
    await expect(d.detect([photo], { whole: [] })).rejects.toThrow(/one for one/);
  });
});

describe('FaceDetector errors', () => {
  it('a missing model file is a model error that names the file', async () => {
    await expectPieError(FaceDetector.open({ modelPath: '/nonexistent/blazeface.onnx' }), 'model', /\/nonexistent\/blazeface\.onnx cannot be read/);
  });

  it('the front file opened as the back model is a model error', async () => {
    const { blazeFaceModelPath } = await import('../../src/detect/models.js');
    await expectPieError(FaceDetector.open({ model: 'back', modelPath: blazeFaceModelPath('front') }), 'model', /takes 128² inputs/);
  });

  it('a file that is not TFLite opened as the full-range model is a model error', async () => {
    const { blazeFaceModelPath } = await import('../../src/detect/models.js');
    await expectPieError(FaceDetector.open({ model: 'full-range', modelPath: blazeFaceModelPath('back'), cacheDir: os.tmpdir() }), 'model', /not a TFLite model/);
  });

  it('bad options are config errors', async () => {
    await expectPieError(FaceDetector.open({ scoreThreshold: 1.5 }), 'config', /score threshold 1.5/);
    await expectPieError(FaceDetector.open({ tiling: { overlap: -0.1 } }), 'config', /overlap -0.1/);
    // @ts-expect-error: a pose from an untyped caller (a JSON message, a config file read by hand)
    await expectPieError(FaceDetector.open({ pose: 'profile' }), 'config', /face pose 'profile'/);
    await expectPieError(FaceDetector.open({ minFace: -1 }), 'config', /minimum face size -1/);
  });

  it('a zero-size or short frame is an input error; no frames, no faces', async () => {
    const d = await FaceDetector.open({ model: 'front', threads: 1 });
    try {
      await expectPieError(d.detect([{ width: 0, height: 0, data: new Uint8Array(0) }]), 'input', /frame 0 is 0×0 pixels/);
      await expectPieError(d.detect([{ width: 4, height: 4, data: new Uint8Array(47) }]), 'input', /frame 0 holds 47 bytes/);
      expect(await d.detect([])).toEqual([]);
      expect(await d.detect([{ width: 64, height: 48, data: new Uint8Array(64 * 48 * 3) }])).toEqual([[]]); // black: no faces
    } finally {
      await d.close();
      await d.close(); // safe twice
    }
  });
});
