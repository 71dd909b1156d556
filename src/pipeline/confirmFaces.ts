// Temporal confirmation of faces (issue 16): a camera sees a real face again and again, near the
// same place, while a false face made of noise, foliage or a lamp flickers in for one frame. A
// face is passed on once it has been seen in at least `hits` of the camera's last `frames`
// detected frames (this one included) near where it is now; until then it is held back. A
// one-frame ghost never reaches events, MQTT or the overlay; a face that stays shows from its
// `hits`-th frame (one detection interval late with hits 2). Causal: nothing waits for later
// frames. State is per camera, the last `frames` frames' boxes, for at most `maxCameras` cameras.
import { defer, map, type MonoTypeOperatorFunction } from 'rxjs';
import type { Box, FaceEvent } from '../detect/types.js';

export interface ConfirmOptions {
  /** The window, in detected frames (at detect.fps): 0 turns confirmation off. */
  readonly frames: number;
  /** Frames of the window, this one included, a face must be seen in. */
  readonly hits: number;
  /** Cameras tracked; the least recently seen is forgotten first. Default 256. */
  readonly maxCameras?: number;
}

/** Defaults: seen in 2 of the last 3 detections (0.6 s at 5 fps). */
export const CONFIRM_DEFAULTS: ConfirmOptions = { frames: 3, hits: 2 };

/**
 * Whether two boxes are the same face a detection or two apart: centres within one face width
 * (a walking face moves about that much in 0.2–0.4 s at the sizes a camera sees) and sizes
 * within a factor of 2.
 */
export function near(a: Box, b: Box): boolean {
  const sa = Math.max(a.width, a.height), sb = Math.max(b.width, b.height);
  if (sa > 2 * sb || sb > 2 * sa) return false;
  const dx = a.x + a.width / 2 - (b.x + b.width / 2), dy = a.y + a.height / 2 - (b.y + b.height / 2);
  return Math.hypot(dx, dy) <= Math.max(sa, sb);
}

/** Keeps, in each event, the faces seen near the same place in at least `hits` of the camera's last `frames` events. */
export function confirmFaces(o: ConfirmOptions): MonoTypeOperatorFunction<FaceEvent> {
  if (!(Number.isInteger(o.frames) && o.frames >= 0)) throw new RangeError(`confirmFaces: frames ${o.frames} is not an integer ≥ 0`);
  if (o.frames > 0 && !(Number.isInteger(o.hits) && o.hits >= 1 && o.hits <= o.frames)) throw new RangeError(`confirmFaces: hits ${o.hits} is not from 1 to frames (${o.frames})`);
  if (o.frames === 0 || o.hits === 1) return (source) => source;
  const maxCameras = o.maxCameras ?? 256;
  return (source) => defer(() => {
    // Per camera, the boxes of its last frames − 1 events (all faces found, confirmed or not).
    const history = new Map<string, Box[][]>();
    return source.pipe(map((e) => {
      const past = history.get(e.camera) ?? [];
      const faces = e.faces.filter((f) => 1 + past.filter((boxes) => boxes.some((b) => near(f.box, b))).length >= o.hits);
      history.delete(e.camera); // most recently seen last
      history.set(e.camera, [...past, e.faces.map((f) => f.box)].slice(-(o.frames - 1)));
      while (history.size > maxCameras) history.delete(history.keys().next().value!);
      return faces.length === e.faces.length ? e : { ...e, faces };
    }));
  });
}
