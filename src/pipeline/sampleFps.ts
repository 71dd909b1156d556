// Overload policy: frames above a camera's processing rate are dropped (reason 'fps') and counted.
// Time is the frames' own timestamps, never the wall clock, so the result does not depend on how
// late frames arrive and tests need no timers.
import { defer, filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { DropSink } from './dropCounter.js';
import type { FrameLike } from './types.js';

interface Clock {
  /** pts of the frame the slot grid starts at. */
  origin: number;
  /** Index of the last slot a frame was kept in. */
  slot: number;
  lastPts: number;
}

// Slot boundaries computed from float pts (e.g. k·1000/30) may land a hair below the integer.
const EPS = 1e-6;

/**
 * Keeps at most `fps` frames per second per camera: time is cut into slots of 1/fps s from the
 * camera's first frame and the first frame of each slot is kept. A grid (rather than "at least
 * 1/fps since the last kept frame") keeps the exact average rate for any source rate: 15 → 10 fps
 * keeps 10 a second, where a minimum gap would keep 7.5. A timestamp that goes backwards (the
 * source restarted its clock) starts a new grid.
 */
export function sampleFps<T extends Pick<FrameLike, 'camera' | 'ptsMs'>>(fps: number, drops: DropSink, discard?: (frame: T) => void): MonoTypeOperatorFunction<T> {
  if (!(fps > 0 && Number.isFinite(fps))) throw new RangeError(`sampleFps: fps must be a positive number, got ${fps}`);
  // defer: each subscription keeps its own clocks.
  return (source) => defer(() => {
    const clocks = new Map<string, Clock>();
    return source.pipe(filter((f) => {
      const c = clocks.get(f.camera);
      if (!c || f.ptsMs < c.lastPts) {
        clocks.set(f.camera, { origin: f.ptsMs, slot: 0, lastPts: f.ptsMs });
        return true;
      }
      c.lastPts = f.ptsMs;
      const slot = Math.floor(((f.ptsMs - c.origin) * fps) / 1000 + EPS);
      if (slot > c.slot) {
        c.slot = slot;
        return true;
      }
      drops.drop(f.camera, 'fps');
      discard?.(f);
      return false;
    }));
  });
}
