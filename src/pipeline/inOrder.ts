// A camera's stream never steps back. Its frames can finish out of order when two inference
// workers run them (a camera that keeps no state in a worker goes to whichever is free: measured
// live, 2 cameras × 720p with the denoiser off, 50 of 543 enhanced frames came after a newer one of
// their camera). A frame that arrives after a newer one of its camera was passed on is dropped,
// counted 'late': it is stale, and writing it would show the picture jumping back.
import { defer, map, type OperatorFunction } from 'rxjs';
import type { DropSink } from './dropCounter.js';
import type { FrameLike } from './types.js';

/** Cameras remembered (the least recently seen forgotten first): a bound, far above a node's cameras. */
const MAX_CAMERAS = 4096;

/** Per batch of frames: those that are newer than everything already passed on for their camera (by seq); `discard` gets the others. */
export function inOrder<T extends Pick<FrameLike, 'camera' | 'seq'>>(drops: DropSink, discard?: (frame: T) => void): OperatorFunction<readonly T[], T[]> {
  // defer: each subscription keeps its own newest seqs.
  return (source) => defer(() => {
    const newest = new Map<string, number>();
    return source.pipe(map((frames) => frames.filter((f) => {
      const last = newest.get(f.camera);
      if (last !== undefined && f.seq <= last) {
        drops.drop(f.camera, 'late');
        discard?.(f);
        return false;
      }
      newest.delete(f.camera); // most recently seen last
      newest.set(f.camera, f.seq);
      if (newest.size > MAX_CAMERAS) newest.delete(newest.keys().next().value!);
      return true;
    })));
  });
}
