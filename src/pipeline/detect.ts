// Face detection on a live stream of (enhanced) frames: each camera is sampled at `fps` on its own
// clock (Frigate detects at 5 fps by default, not at the camera's rate), sampled frames of several
// cameras go to the detector together (one model run for all their tiles), and while the detector
// is busy only each camera's newest sampled frame waits (newestBatches: at most one a camera). Every
// dropped frame is counted ('fps', 'busy'). Pure composition: the detector is a function, so the
// operator runs against anything that finds faces.
import { mergeMap, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { Face, FaceEvent } from '../detect/types.js';
import type { DropSink } from './dropCounter.js';
import { newestBatches } from './newestBatches.js';
import { sampleFps } from './sampleFps.js';
import type { FrameLike } from './types.js';

/** What detectAt reads of a frame; the detect function may read more (pixels, a raw twin). */
export interface DetectableFrame extends FrameLike {
  readonly seq: number;
}

/**
 * Faces per frame, in the frames' order (FaceDetector.detect, or a fused detector); null when the
 * frames were not looked at after all (the detector was unavailable and counted them as drops):
 * no events then, since an empty event would tell consumers "no face" when nobody looked.
 */
export type DetectFn<T> = (frames: readonly T[]) => Promise<readonly (readonly Face[])[] | null>;

export interface DetectAtOptions<T = unknown> {
  readonly drops: DropSink;
  /** Sampled frames detected together: up to `maxSize` (different cameras), waiting at most `maxWaitMs`. Default 1 frame, no wait. */
  readonly batch?: { readonly maxSize: number; readonly maxWaitMs: number };
  /** Timers for the batch wait (tests pass TestScheduler's). */
  readonly scheduler?: SchedulerLike;
  /** Gets every frame once detectAt is done with it: sampled out, dropped while the detector was busy, or detected (to give back what it holds). */
  readonly discard?: (frame: T) => void;
}

/**
 * Frames → one FaceEvent per detected frame (faces may be empty: "no face now" is news too, and
 * lets a consumer clear a box). Events of one batch come out in the batch's order.
 */
export function detectAt<T extends DetectableFrame>(fps: number, detect: DetectFn<T>, o: DetectAtOptions<T>): OperatorFunction<T, FaceEvent> {
  const batch = o.batch ?? { maxSize: 1, maxWaitMs: 0 };
  const discard = o.discard;
  const toEvents = (frames: readonly T[]): Promise<FaceEvent[]> => detect(frames).then((faces) => (faces === null ? [] : frames.map((f, i) => ({
    camera: f.camera, seq: f.seq, ts: f.ptsMs, width: f.width, height: f.height, faces: faces[i] ?? [],
  })))).finally(() => { if (discard) frames.forEach(discard); });
  // Built now, not per subscription, so bad options throw at the call.
  const sample = sampleFps<T>(fps, o.drops, discard);
  // While the detector is busy each camera keeps its newest sampled frame; a free detector takes them all.
  const run = newestBatches<T, FaceEvent[]>(toEvents, {
    drops: o.drops, maxSize: batch.maxSize, maxWaitMs: batch.maxWaitMs, ...(discard ? { discard } : {}), ...(o.scheduler ? { scheduler: o.scheduler } : {}),
  });
  return (source) => source.pipe(sample, run, mergeMap((events) => events));
}
