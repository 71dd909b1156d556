// Temporal confirmation of faces (issue 16): a camera sees a real face again and again, near the
// same place, while a false face made of noise, foliage or a lamp flickers in for one frame. A
// face is passed on once it has been seen in at least `hits` of the camera's last `frames`
// detected frames (this one included) near where it is now; until then it is held back. A
// one-frame ghost never reaches events, MQTT or the overlay; a face that stays shows from its
// `hits`-th frame (one detection interval late with hits 2). A false face that does not flicker —
// a caption, a lamp, a shape in the foliage — sits still: once a face has stayed at one place and
// size in `fixtureAfter` detections (over minutes), faces there are dropped; faces the still-scene
// gate marked `still` are never reported but count towards fixtures. Causal: nothing
// waits for later frames. State is per camera (the last `frames` frames' boxes, at most 64
// places), for at most `maxCameras` cameras.
import { defer, map, type MonoTypeOperatorFunction } from 'rxjs';
import type { Box, Face, FaceEvent } from '../detect/types.js';

export interface ConfirmOptions {
  /** The window, in detected frames (at detect.fps): 0 turns confirmation off. */
  readonly frames: number;
  /** Frames of the window, this one included, a face must be seen in. */
  readonly hits: number;
  /**
   * A face found at the same place and size (a fixture: a sign, a lamp, the camera's own caption)
   * in this many detections in all (gaps under FORGET_AFTER) is no longer reported there; 0 keeps
   * reporting it. A person who stays at one spot that long is dropped too: the price.
   */
  readonly fixtureAfter?: number;
  /**
   * Seconds a face's box must have seen no change in the camera's view (src/detect/static-scene.ts,
   * run in the detection worker on the raw frame) to be dropped as part of the still background —
   * a caption, a shape in the foliage; 0 = off. Applied before this operator; here for the config.
   */
  readonly staticAfter?: number;
  /** Cameras tracked; the least recently seen is forgotten first. Default 256. */
  readonly maxCameras?: number;
}

/** Defaults: seen in 2 of the last 3 detections (0.6 s at 5 fps); at one place in 50 detections (10 s at 5 fps): a fixture; on a part of the view still for 10 s: background. */
export const CONFIRM_DEFAULTS: Required<Pick<ConfirmOptions, 'frames' | 'hits' | 'fixtureAfter' | 'staticAfter'>> = { frames: 3, hits: 2, fixtureAfter: 50, staticAfter: 10 };

/** Places a camera keeps watching for fixtures: a bound; the least seen are dropped first, so passers-by never push out a fixture. */
const MAX_PLACES = 64;

/**
 * A place is forgotten after this many detections without a face there (10 min at 5 fps): false
 * faces come and go with the light and the wind (on the IR clip, episodes of 3–25 s with long
 * gaps), so sightings add up over minutes, and a learnt fixture stays learnt between episodes.
 */
export const FORGET_AFTER = 3000;

/**
 * Whether two boxes are the same face a detection or two apart: centres within 1.5 face widths
 * and sizes within a factor of 2. One width was too tight: on the night-walk clip a person
 * walking towards the camera moved 1.1–1.3 face widths between detections at 5 fps.
 */
export function near(a: Box, b: Box): boolean {
  const sa = Math.max(a.width, a.height), sb = Math.max(b.width, b.height);
  if (sa > 2 * sb || sb > 2 * sa) return false;
  const dx = a.x + a.width / 2 - (b.x + b.width / 2), dy = a.y + a.height / 2 - (b.y + b.height / 2);
  return Math.hypot(dx, dy) <= 1.5 * Math.max(sa, sb);
}

/**
 * Whether two boxes are the same still thing: centres within half its size, sizes within 1.5×.
 * Looser than it sounds is needed: a false face's box jitters by a few pixels and a few pixels
 * of size from frame to frame (a 12 px caption glyph measured 11–14 px, x ± 3 px).
 */
export function still(a: Box, b: Box): boolean {
  const sa = Math.max(a.width, a.height), sb = Math.max(b.width, b.height);
  if (sa > 1.5 * sb || sb > 1.5 * sa) return false;
  const dx = a.x + a.width / 2 - (b.x + b.width / 2), dy = a.y + a.height / 2 - (b.y + b.height / 2);
  return Math.hypot(dx, dy) <= 0.5 * Math.max(sa, sb);
}

/** A place follows its face's jitter (a running mean), so it does not drift away from a fixture seen at slightly different boxes. */
const follow = (p: Box, f: Box): Box => ({ x: p.x + 0.2 * (f.x - p.x), y: p.y + 0.2 * (f.y - p.y), width: p.width + 0.2 * (f.width - p.width), height: p.height + 0.2 * (f.height - p.height) });

interface Place { box: Box; seen: number; last: number }

interface CameraState {
  /** The boxes of the last frames − 1 events (all faces found, confirmed or not). */
  past: Box[][];
  /** Candidate fixtures, by where they were first seen. */
  places: Place[];
  /** The camera's detection count. */
  n: number;
}

/** Why a found face was not reported: on a still part of the view (the gate's mark), not yet seen often enough near there, or at a fixture's place. */
export type HeldReason = 'still' | 'unconfirmed' | 'fixture';

/** One event through the rules: the faces reported, and the others with the reason each was held back. */
export interface Confirmed {
  readonly faces: readonly Face[];
  readonly held: ReadonlyArray<{ readonly face: Face; readonly why: HeldReason }>;
}

/** Refuses options no rule could run with (RangeError, naming the option). */
function checkConfirmOptions(o: ConfirmOptions): void {
  if (!(Number.isInteger(o.frames) && o.frames >= 0)) throw new RangeError(`confirmFaces: frames ${o.frames} is not an integer ≥ 0`);
  if (o.frames > 0 && !(Number.isInteger(o.hits) && o.hits >= 1 && o.hits <= o.frames)) throw new RangeError(`confirmFaces: hits ${o.hits} is not from 1 to frames (${o.frames})`);
  const fixtureAfter = o.fixtureAfter ?? 0;
  if (!(Number.isInteger(fixtureAfter) && fixtureAfter >= 0)) throw new RangeError(`confirmFaces: fixtureAfter ${fixtureAfter} is not an integer ≥ 0`);
}

/**
 * The rules over one stream of events, synchronously: per camera, the last `frames` − 1 events'
 * boxes and the candidate fixtures. The live path runs it as an operator (confirmFaces);
 * `pie-stream detect` feeds it a video's detections one by one.
 */
export class FaceConfirmer {
  private readonly cameras = new Map<string, CameraState>();
  private readonly confirming: boolean;
  private readonly fixtureAfter: number;
  private readonly maxCameras: number;

  constructor(private readonly o: ConfirmOptions) {
    checkConfirmOptions(o);
    this.fixtureAfter = o.fixtureAfter ?? 0;
    this.confirming = o.frames > 0 && o.hits > 1;
    this.maxCameras = o.maxCameras ?? 256;
  }

  /** Whether any rule beyond the still marks is on (else push only drops the marked faces). */
  get active(): boolean { return this.confirming || this.fixtureAfter > 0; }

  /** The next event of `e.camera`, in order: which of its faces are reported. */
  push(e: Pick<FaceEvent, 'camera' | 'faces'>): Confirmed {
    const held: Array<{ face: Face; why: HeldReason }> = e.faces.filter((f) => f.still).map((face) => ({ face, why: 'still' as const }));
    const found = e.faces.filter((f) => !f.still);
    if (!this.active) return { faces: found, held };
    const s = this.cameras.get(e.camera) ?? { past: [], places: [], n: 0 };
    s.n++;
    let faces = found;
    if (this.confirming) {
      faces = [];
      for (const f of found) {
        if (1 + s.past.filter((boxes) => boxes.some((b) => near(f.box, b))).length >= this.o.hits) faces.push(f);
        else held.push({ face: f, why: 'unconfirmed' });
      }
    }
    if (this.fixtureAfter > 0) {
      s.places = s.places.filter((p) => s.n - p.last <= FORGET_AFTER);
      // Still-marked faces too: the gate drops a caption while its part of the view is still, and
      // the fixture rule must have learnt it by the time a view change lets it through (IR clip:
      // 17.6 → 14.8 false faces per 10 min, README "Still-scene gate").
      for (const f of e.faces) {
        const p = s.places.find((q) => still(q.box, f.box));
        if (p) { if (p.last !== s.n) { p.seen++; p.last = s.n; p.box = follow(p.box, f.box); } } else s.places.push({ box: f.box, seen: 1, last: s.n });
      }
      if (s.places.length > MAX_PLACES) s.places = s.places.sort((a, b) => b.seen - a.seen || b.last - a.last).slice(0, MAX_PLACES);
      const fixed = (f: Face): boolean => s.places.some((p) => p.seen >= this.fixtureAfter && still(p.box, f.box));
      for (const f of faces) if (fixed(f)) held.push({ face: f, why: 'fixture' });
      faces = faces.filter((f) => !fixed(f));
    }
    s.past = this.o.frames > 1 ? [...s.past, found.map((f) => f.box)].slice(-(this.o.frames - 1)) : [];
    this.cameras.delete(e.camera); // most recently seen last
    this.cameras.set(e.camera, s);
    while (this.cameras.size > this.maxCameras) this.cameras.delete(this.cameras.keys().next().value!);
    return { faces, held };
  }
}

/**
 * Keeps, in each event, the faces seen near the same place in at least `hits` of the camera's
 * last `frames` events, and drops those at a place where a face has sat still for
 * `fixtureAfter` detections (and those the still-scene gate marked).
 */
export function confirmFaces(o: ConfirmOptions): MonoTypeOperatorFunction<FaceEvent> {
  checkConfirmOptions(o); // when the operator is made, not on its first event
  return (source) => defer(() => {
    const rules = new FaceConfirmer(o);
    return source.pipe(map((e) => {
      const { faces } = rules.push(e);
      return faces.length === e.faces.length ? e : { ...e, faces };
    }));
  });
}
