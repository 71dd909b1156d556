import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Face, FaceEvent } from '../../src/detect/types.js';
import { confirmFaces, FORGET_AFTER, near, still, type ConfirmOptions } from '../../src/pipeline/confirmFaces.js';

const face = (x: number, y: number, s = 20, score = 0.9): Face => ({ box: { x, y, width: s, height: s }, score, keypoints: [] });
const ev = (seq: number, faces: Face[], camera = 'cam'): FaceEvent => ({ camera, seq, ts: seq * 200, width: 640, height: 480, faces });
const run = (events: FaceEvent[], o: ConfirmOptions): Promise<FaceEvent[]> => firstValueFrom(from(events).pipe(confirmFaces(o), toArray()));
const xs = (e: FaceEvent): number[] => e.faces.map((f) => f.box.x);

describe('confirmFaces', () => {
  it('drops a one-frame ghost and keeps a face that stays, from its second frame', async () => {
    // A face at x 100 in every frame, moving 5 px a frame; a ghost at x 400 in frame 2 only.
    const events = [0, 1, 2, 3, 4].map((i) => ev(i, [face(100 + 5 * i, 50), ...(i === 2 ? [face(400, 300, 24, 0.6)] : [])]));
    const out = await run(events, { frames: 3, hits: 2 });
    expect(out.map(xs)).toEqual([[], [105], [110], [115], [120]]);
    expect(out.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]); // every event still goes out: "no face now" is news
  });

  it('drops a ghost that comes back somewhere else each time (foliage, a lamp flicker)', async () => {
    const events = [0, 1, 2, 3].map((i) => ev(i, [face(50 + 150 * i, 200)]));
    expect((await run(events, { frames: 3, hits: 2 })).map(xs)).toEqual([[], [], [], []]);
  });

  it('forgets a face once it is out of the window', async () => {
    // Seen at 0, gone for 3 frames, back at 4: with a window of 3 the frame-0 sighting no longer counts.
    const events = [ev(0, [face(100, 100)]), ev(1, []), ev(2, []), ev(3, []), ev(4, [face(100, 100)]), ev(5, [face(102, 100)])];
    expect((await run(events, { frames: 3, hits: 2 })).map(xs)).toEqual([[], [], [], [], [], [102]]);
    // A wider window remembers it.
    expect((await run(events, { frames: 5, hits: 2 })).map(xs)).toEqual([[], [], [], [], [100], [102]]);
  });

  it('keeps each camera apart', async () => {
    const events = [ev(0, [face(100, 100)], 'a'), ev(0, [face(100, 100)], 'b'), ev(1, [face(100, 100)], 'b'), ev(1, [], 'a')];
    expect((await run(events, { frames: 3, hits: 2 })).map((e) => `${e.camera}:${xs(e).join(',')}`)).toEqual(['a:', 'b:', 'b:100', 'a:']);
  });

  it('passes everything with frames 0 (off) and rejects a window it cannot fill', async () => {
    const events = [ev(0, [face(1, 1)])];
    expect((await run(events, { frames: 0, hits: 2 })).map(xs)).toEqual([[1]]);
    expect(() => confirmFaces({ frames: 2, hits: 3 })).toThrow(/hits 3/);
  });

  it('calls boxes near when the centres are within 1.5 face widths and the sizes within 2×', () => {
    expect(near(face(0, 0).box, face(30, 0).box)).toBe(true);
    expect(near(face(0, 0).box, face(31, 0).box)).toBe(false);
    expect(near(face(0, 0, 20).box, face(0, 0, 41).box)).toBe(false);
  });
});

describe('confirmFaces: fixtures', () => {
  it('stops reporting a face that sits still at one place for fixtureAfter detections, and keeps one that moves', async () => {
    // A caption-like false face at x 300 in every frame (jitter under a pixel); a person walking from x 20, 8 px a frame.
    const events = Array.from({ length: 12 }, (_, i) => ev(i, [face(300 + (i % 2) * 0.5, 400, 14), face(20 + 8 * i, 100, 24)]));
    const out = await run(events, { frames: 3, hits: 2, fixtureAfter: 5 });
    const caption = out.map((e) => e.faces.some((f) => f.box.x >= 299));
    // Confirmed from frame 1, a fixture from its 5th sighting (frame 4) on.
    expect(caption).toEqual([false, true, true, true, false, false, false, false, false, false, false, false]);
    expect(out.slice(1).every((e) => e.faces.some((f) => f.box.x < 299))).toBe(true);
  });

  it('keeps a fixture learnt across gaps (false faces come and go) and forgets it after FORGET_AFTER detections without it', async () => {
    const at = (i: number, here: boolean): FaceEvent => ev(i, here ? [face(300 + (i % 3), 400, 14)] : []);
    // Episodes of 3 sightings with gaps of 5: the sightings add up to a fixture on the 4th (frame 9).
    const seq = [1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1];
    const out = await run(seq.map((h, i) => at(i, h === 1)), { frames: 3, hits: 2, fixtureAfter: 4 });
    expect(out.map((e) => e.faces.length)).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // After FORGET_AFTER empty detections the place is new again: confirmed, then learnt anew.
    const long = [...seq.map((h, i) => at(i, h === 1)), ...Array.from({ length: FORGET_AFTER + 1 }, (_, k) => at(seq.length + k, false)), at(9000, true), at(9001, true)];
    expect((await run(long, { frames: 3, hits: 2, fixtureAfter: 4 })).slice(-2).map((e) => e.faces.length)).toEqual([0, 1]);
  });

  it('tells still from near: centres within half the size, sizes within 1.5×', () => {
    expect(still(face(0, 0, 20).box, face(10, 0, 20).box)).toBe(true);
    expect(still(face(0, 0, 20).box, face(11, 0, 20).box)).toBe(false);
    expect(still(face(0, 0, 20).box, face(0, 0, 31).box)).toBe(false);
  });

  it('learns a fixture from faces the still gate marked, and never reports a marked face', async () => {
    // A caption at x 300: marked still by the gate in frames 0–5 (its part of the view was still),
    // then unmarked from frame 6 on (a view change let it through the gate).
    const caption = (i: number): Face => ({ ...face(300 + (i % 2) * 0.5, 400, 14), ...(i < 6 ? { still: true as const } : {}) });
    const events = Array.from({ length: 10 }, (_, i) => ev(i, [caption(i)]));
    const out = await run(events, { frames: 3, hits: 2, fixtureAfter: 5 });
    // Learnt from the 5 marked sightings: never reported, neither while marked nor after.
    expect(out.map((e) => e.faces.length)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Without the fixture rule, the unmarked ones are confirmed as usual (marked sightings do not count as hits).
    expect((await run(events, { frames: 3, hits: 2 })).map((e) => e.faces.length)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    // Confirmation and fixtures off: marked faces are still never reported.
    expect((await run(events, { frames: 0, hits: 1 })).map((e) => e.faces.length)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  });
});
