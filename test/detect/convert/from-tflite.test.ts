import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_ANCHORS, generateAnchors } from '../../../src/detect/anchors.js';
import { tfliteDetectorToOnnx } from '../../../src/detect/convert/from-tflite.js';
import { readTflite } from '../../../src/detect/convert/tflite.js';
import { fillTile } from '../../../src/detect/crop.js';
import { COORDS_PER_ANCHOR, decodeFaces } from '../../../src/detect/decode.js';
import { FRAMES_INPUT } from '../../../src/detect/model-graph.js';
import { fullRangeModel, fullRangeTflitePath } from '../../../src/detect/models.js';
import { letterbox } from '../../../src/detect/tiling.js';
import { ort } from '../../../src/enhance/session.js';
import { isPieError } from '../../../src/errors.js';
import { readImage } from '../../../src/image/io.js';
import { tfliteReference, type TfliteReference } from '../../helpers/litert.js';
import { sharedPath, skipReason } from '../../helpers/shared.js';

const S = 192;
const PHOTO = 'data/faces/face-api-js/images/faces.jpg';

/** A deterministic 192² image: gradients plus a hash texture, every byte value used. */
function deterministicImage(): Uint8Array {
  const img = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) {
    const i = (y * S + x) * 3 + c;
    img[i] = (x * (c + 1) + y * 2 + ((i * 2654435761) >>> 27)) & 255;
  }
  return img;
}

/** MediaPipe's input: bytes mapped to [−1, 1]. */
const toFloat = (img: Uint8Array): Float32Array => Float32Array.from(img, (v) => (v * 2) / 255 - 1);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('the full-range TFLite model converted to ONNX, against LiteRT running the original', () => {
  let tflite: Uint8Array;
  let session: ort.InferenceSession;
  let reference: TfliteReference;
  let heads: ReturnType<typeof tfliteDetectorToOnnx>['heads'];
  beforeAll(async () => {
    tflite = new Uint8Array(fs.readFileSync(fullRangeTflitePath()));
    const converted = tfliteDetectorToOnnx(tflite, 'full-range');
    heads = converted.heads;
    session = await ort.InferenceSession.create(converted.bytes, { intraOpNumThreads: 1 });
    reference = await tfliteReference(tflite);
  });
  afterAll(async () => { await session?.release(); });

  async function compare(img: Uint8Array): Promise<{ scores: Float32Array; boxes: Float32Array }> {
    const want = await reference.run(toFloat(img), [1, S, S, 3]);
    const out = await session.run({ [FRAMES_INPUT]: new ort.Tensor('uint8', img, [1, S, S, 3]) });
    const [head] = heads;
    const scores = out[head!.scores]!.data as Float32Array, boxes = out[head!.boxes]!.data as Float32Array;
    expect(maxAbsDiff(scores, want.get(head!.scores)!)).toBeLessThan(1e-3);
    expect(maxAbsDiff(boxes, want.get(head!.boxes)!)).toBeLessThan(1e-3);
    return { scores, boxes };
  }

  it('has one head of 2,304 anchors: [N,2304,1] logits and [N,2304,16] regressors', () => {
    expect(heads).toEqual([{ scores: 'reshaped_classifier_face_4', boxes: 'reshaped_regressor_face_4', anchors: 2304 }]);
  });

  it('reproduces every output of the original on a deterministic image within 1e-3', async () => {
    const { boxes } = await compare(deterministicImage());
    // Not a vacuous match: the regressors span tens of pixels.
    expect(Math.max(...boxes.map(Math.abs))).toBeGreaterThan(10);
  });

  it('runs a batch: the second image of a batch gives what it gives alone', async () => {
    const a = deterministicImage(), b = a.map((v) => 255 - v);
    const both = new Uint8Array(2 * a.length);
    both.set(a); both.set(b, a.length);
    const out = await session.run({ [FRAMES_INPUT]: new ort.Tensor('uint8', both, [2, S, S, 3]) });
    const alone = await session.run({ [FRAMES_INPUT]: new ort.Tensor('uint8', b, [1, S, S, 3]) });
    const key = heads[0]!.boxes;
    expect(maxAbsDiff((out[key]!.data as Float32Array).subarray(2304 * COORDS_PER_ANCHOR), alone[key]!.data as Float32Array)).toBeLessThan(1e-4);
  });

  const skip = skipReason(PHOTO);
  it.skipIf(skip !== undefined)('reproduces the original on a photo of six faces (../shared faces.jpg, letterboxed) and both find them', async () => {
    // @mediapipe/face_detection ships no test image; face-api.js's faces.jpg stands in.
    const photo = await readImage(sharedPath(PHOTO));
    const img = new Uint8Array(S * S * 3);
    fillTile(photo, letterbox(photo.width, photo.height, S), S, img);
    const { scores, boxes } = await compare(img);
    const faces = decodeFaces([{ scores, boxes }], generateAnchors(FACE_ANCHORS['full-range']), { inputSize: S, scoreThreshold: 0.5 });
    expect(faces.length).toBeGreaterThanOrEqual(6); // before NMS: several anchors per face
  });
});

describe('the TFLite reader and the conversion cache', () => {
  const dirs: string[] = [];
  const tmp = (): string => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-fr-')); dirs.push(d); return d; };
  afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

  it('reads the model: fp16 weights, the op set the converter knows', () => {
    const m = readTflite(new Uint8Array(fs.readFileSync(fullRangeTflitePath())), 'full-range');
    expect(m.tensors[m.inputs[0]!]!.shape).toEqual([1, 192, 192, 3]);
    expect(m.tensors.some((t) => t.type === 1 && t.data instanceof Float32Array)).toBe(true);
    expect(new Set(m.operators.map((o) => o.code))).toEqual(new Set([0, 3, 4, 6, 17, 19, 22, 23, 34]));
  });

  it('rejects a file that is not TFLite, and the sparse variant, with errors that say the fix', () => {
    const bad = (f: () => unknown, re: RegExp): void => {
      const e = (() => { try { f(); return undefined; } catch (err) { return err; } })();
      expect(isPieError(e, 'model')).toBe(true);
      expect((e as Error).message).toMatch(re);
      expect((e as Error).message).toMatch(/fix: /);
    };
    bad(() => readTflite(new TextEncoder().encode('not a model at all'), 'x.tflite'), /not a TFLite model/);
    const sparse = path.join(path.dirname(fullRangeTflitePath()), 'face_detection_full_range_sparse.tflite');
    bad(() => tfliteDetectorToOnnx(new Uint8Array(fs.readFileSync(sparse)), sparse), /sparse|DENSIFY|not supported/);
    bad(() => fullRangeModel({ tflitePath: path.join(tmp(), 'missing.tflite'), cacheDir: tmp() }), /cannot be read/);
  });

  it('converts once: the second open reads the cached file; a corrupt cache is converted again', () => {
    const dir = tmp();
    const first = fullRangeModel({ cacheDir: dir });
    expect(first.converted).toBe(true);
    expect(first.cached).toMatch(/face_detection_full_range-[0-9a-f]{16}\.onnx$/);
    const second = fullRangeModel({ cacheDir: dir });
    expect(second.converted).toBe(false);
    expect(second.heads).toEqual(first.heads);
    expect(second.inputSize).toBe(192);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    fs.writeFileSync(first.cached!, 'truncated');
    expect(fullRangeModel({ cacheDir: dir }).converted).toBe(true);
    // A cache folder that cannot be made (a file is in the way): converted in memory, no failure.
    const blocked = path.join(tmp(), 'file');
    fs.writeFileSync(blocked, '');
    const mem = fullRangeModel({ cacheDir: path.join(blocked, 'sub') });
    expect(mem.cached).toBeUndefined();
    expect(mem.heads).toEqual(first.heads);
  });
});
