// Per-camera face masks: parts of a camera's view where a face is never reported — an on-screen
// clock or caption, a bush that sways in the IR light. What the still-scene gate cannot drop (the
// clock changes every second, the bush moves) a person setting up the camera can: a fixed camera's
// false faces come back at the same places (docs/quality.md, "False faces"). Pure.
import type { Face } from './types.js';

/** A rectangle in fractions of the frame (0–1), top-left origin, so it holds at any processing size. */
export interface MaskRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The faces whose box centre lies outside every rectangle of `mask`, on a `width`×`height` frame. */
export function outsideMask(faces: readonly Face[], width: number, height: number, mask: readonly MaskRect[] | undefined): Face[] {
  if (!mask?.length) return [...faces];
  return faces.filter((f) => {
    const cx = (f.box.x + f.box.width / 2) / width, cy = (f.box.y + f.box.height / 2) / height;
    return !mask.some((r) => cx >= r.x && cx < r.x + r.width && cy >= r.y && cy < r.y + r.height);
  });
}
