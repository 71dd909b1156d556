import { concatMap, delay, from, lastValueFrom, of, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceDetector } from '../../src/detect/detector.js';
import { iou } from '../../src/detect/nms.js';
import type { Face, FaceEvent } from '../../src/detect/types.js';
import { readImage } from '../../src/image/io.js';
import type { RgbImage } from '../../src/image/types.js';
import { detectAt } from '../../src/pipeline/detect.js';
import { DropCounter } from '../../src/pipeline/dropCounter.js';
import { sharedPath, skipReason } from '../helpers/shared.js';

interface CamFrame extends RgbImage {
  readonly camera: string;
  readonly seq: number;
  readonly ptsMs: number;
}

/** `n` frames of a camera at `rate` fps showing `img`, paced `gapMs` apart in real time. */
const camera = (name: string, img: RgbImage, rate: number, n: number): CamFrame[] =>
  Array.from({ length: n }, (_, seq) => ({ ...img, camera: name, seq, ptsMs: 1_000_000 + (seq * 1000) / rate }));

const interleave = <T>(...lists: T[][]): T[] => lists[0]!.flatMap((_, i) => lists.map((l) => l[i]!).filter((x) => x !== undefined));

const paced = <T>(items: readonly T[], gapMs: number) => from(items).pipe(concatMap((x) => of(x).pipe(delay(gapMs))));

const black = (w: number, h: number): RgbImage => ({ width: w, height: h, data: new Uint8Array(w * h * 3) });

describe('detectAt', () => {
  it('samples each camera at fps on its own clock and turns every sampled frame into an event', async () => {
    const drops = new DropCounter();
    const calls: string[][] = [];
    // A detector that answers at once: one face whose width is the frame's seq.
    const detect = async (fs: readonly CamFrame[]): Promise<Face[][]> => {
      calls.push(fs.map((f) => `${f.camera}${f.seq}`));
      return fs.map((f) => [{ box: { x: 0, y: 0, width: f.seq, height: 1 }, score: 0.9, keypoints: [] }]);
    };
    const img = black(8, 4);
    const frames = interleave(camera('a', img, 10, 10), camera('b', img, 20, 10)); // 1 s of a, 0.5 s of b
    const events = await lastValueFrom(paced(frames, 2).pipe(detectAt(5, detect, { drops }), toArray()));
    expect(events.filter((e) => e.camera === 'a').map((e) => e.seq)).toEqual([0, 2, 4, 6, 8]); // 10 → 5 fps
    expect(events.filter((e) => e.camera === 'b').map((e) => e.seq)).toEqual([0, 4, 8]); // 20 → 5 fps
    expect(events[0]).toEqual({ camera: 'a', seq: 0, ts: 1_000_000, width: 8, height: 4, faces: [{ box: { x: 0, y: 0, width: 0, height: 1 }, score: 0.9, keypoints: [] }] });
    expect(events.every((e) => e.faces[0]!.box.width === e.seq)).toBe(true);
    expect(calls).toHaveLength(8); // one frame per call by default
    expect([drops.count('a', 'fps'), drops.count('b', 'fps'), drops.count('a', 'busy')]).toEqual([5, 7, 0]);
  });

  it('a slow detector loses older sampled frames per camera (counted busy), never the newest', async () => {
    const drops = new DropCounter();
    const detect = async (fs: readonly CamFrame[]): Promise<Face[][]> => {
      await new Promise((r) => setTimeout(r, 30));
      return fs.map(() => []);
    };
    const frames = camera('a', black(8, 4), 10, 20);
    const events = await lastValueFrom(from(frames).pipe(detectAt(10, detect, { drops }), toArray())); // all at once
    const seqs = events.map((e) => e.seq);
    expect(seqs[0]).toBe(0);
    expect(seqs.at(-1)).toBe(19);
    expect(seqs.length + drops.count('a', 'busy')).toBe(20); // every sampled frame detected or counted
    expect(drops.count('a', 'busy')).toBeGreaterThan(0);
  });

  it('rejects a non-positive fps', () => {
    expect(() => detectAt(0, async () => [], { drops: new DropCounter() })).toThrow(RangeError);
  });
});

const PHOTO = 'data/faces/face-api-js/images/faces.jpg';
const skip = skipReason(PHOTO);

describe.skipIf(skip !== undefined)('detectAt with the real detector on real frames (../shared faces.jpg)', () => {
  let photo: RgbImage;
  let detector: FaceDetector;
  beforeAll(async () => {
    photo = await readImage(sharedPath(PHOTO));
    detector = await FaceDetector.open({ threads: 1 });
  });
  afterAll(async () => { await detector.close(); });

  it('two cameras batched into one detector call: six faces on the photo camera, none on the dark one', async () => {
    const drops = new DropCounter();
    const batches: number[] = [];
    const reference = (await detector.detect([photo]))[0]!;
    const detect = async (fs: readonly CamFrame[]): Promise<Face[][]> => {
      batches.push(fs.length);
      return detector.detect(fs);
    };
    // Two 4 fps cameras for 1 s, sampled at 2 fps: frames 0 and 2 of each.
    const frames = interleave(camera('door', photo, 4, 4), camera('yard', black(photo.width, photo.height), 4, 4));
    const events: FaceEvent[] = await lastValueFrom(paced(frames, 1).pipe(
      detectAt(2, detect, { drops, batch: { maxSize: 2, maxWaitMs: 50 } }), toArray()));
    const door = events.filter((e) => e.camera === 'door'), yard = events.filter((e) => e.camera === 'yard');
    expect(door.length + drops.count('door', 'busy')).toBe(2);
    expect(door.at(-1)!.seq).toBe(2);
    expect(yard.at(-1)!.seq).toBe(2);
    for (const e of door) {
      expect(e.faces).toHaveLength(6);
      for (const f of e.faces) expect(Math.max(...reference.map((r) => iou(r.box, f.box)))).toBeGreaterThan(0.99);
    }
    for (const e of yard) expect(e.faces).toEqual([]);
    expect(batches[0]).toBe(2); // the two cameras' first sampled frames went to the model together
    expect(door[0]).toMatchObject({ width: photo.width, height: photo.height });
  });
});
