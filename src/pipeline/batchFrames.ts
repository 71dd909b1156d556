// Cross-camera batching as DeepStream's nvstreammux does it: frames of one model resolution share a
// batch, which leaves when it holds `maxSize` frames or when its oldest frame has waited
// `maxWaitMs`, whichever comes first. Batching is what makes a GPU pay; the wait bounds latency.
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { DropSink } from './dropCounter.js';
import type { FrameLike } from './types.js';

/** Why a batch left: it was full, its oldest frame waited maxWaitMs, a second frame of one of its cameras came, or the source ended. */
export type BatchClose = 'full' | 'timeout' | 'same-camera' | 'complete';

export interface Batch<T> {
  /** The grouping key: `WxH`, plus `|group` when a `groupBy` is given. */
  readonly key: string;
  readonly width: number;
  readonly height: number;
  /** In arrival order; at most one frame per camera. */
  readonly frames: readonly T[];
  readonly closedBy: BatchClose;
}

interface CommonOptions<T> {
  /** Frames per batch, ≥ 1. */
  readonly maxSize: number;
  /** How long the oldest frame may wait for the batch to fill, ≥ 0. */
  readonly maxWaitMs: number;
  /** Splits batches further than by size, e.g. by model path when cameras use different models. */
  readonly groupBy?: (frame: T) => string;
  /** Timers; default asyncScheduler (TestScheduler's virtual time inside `run`). */
  readonly scheduler?: SchedulerLike;
}

/**
 * What a second frame of a camera already in the open batch does:
 * - 'close' (default): the open batch leaves now and the new frame starts the next one. Nothing is
 *   lost: batching only groups; dropping under overload is latestWins' job, in one place downstream.
 *   A camera faster than the batch cycle just makes smaller batches, and lower latency.
 * - 'replace': the newer frame takes the older one's place (the older is dropped, reason
 *   'batch-replaced'). Batches stay large at the cost of frames. The batch's deadline stays that of
 *   its first frame, so a camera that keeps replacing its own frame cannot hold the batch forever.
 */
export type BatchOptions<T> = CommonOptions<T> & ({ readonly sameCamera?: 'close' } | { readonly sameCamera: 'replace'; readonly drops: DropSink });

interface OpenBatch<T> {
  readonly frames: T[];
  timer?: Subscription;
}

/**
 * Groups frames into batches of one size (and `groupBy` group), at most one frame per camera.
 * Several batches (one per key) can be open at once; each has its own deadline. When the source
 * completes, open batches leave in the order they opened ('complete'); on an error they are
 * discarded, as RxJS's buffer operators do. Unsubscribing cancels every timer.
 */
export function batchFrames<T extends Pick<FrameLike, 'camera' | 'width' | 'height'>>(options: BatchOptions<T>): OperatorFunction<T, Batch<T>> {
  const { maxSize, maxWaitMs, groupBy, scheduler = asyncScheduler } = options;
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`batchFrames: maxSize must be an integer ≥ 1, got ${maxSize}`);
  if (!(maxWaitMs >= 0 && Number.isFinite(maxWaitMs))) throw new RangeError(`batchFrames: maxWaitMs must be a number ≥ 0, got ${maxWaitMs}`);
  const drops = options.sameCamera === 'replace' ? options.drops : undefined;

  return (source) => new Observable<Batch<T>>((subscriber) => {
    // Insertion order is opening order, which is the order to flush in on completion.
    const open = new Map<string, OpenBatch<T>>();

    const close = (key: string, closedBy: BatchClose): void => {
      const b = open.get(key);
      if (!b) return;
      open.delete(key);
      b.timer?.unsubscribe();
      const first = b.frames[0]!;
      subscriber.next({ key, width: first.width, height: first.height, frames: b.frames, closedBy });
    };

    const sub = source.subscribe({
      next: (f) => {
        const key = `${f.width}x${f.height}${groupBy ? `|${groupBy(f)}` : ''}`;
        let b = open.get(key);
        if (b) {
          const i = b.frames.findIndex((x) => x.camera === f.camera);
          if (i >= 0) {
            if (drops) {
              drops.drop(f.camera, 'batch-replaced');
              b.frames[i] = f;
              return;
            }
            close(key, 'same-camera');
            if (subscriber.closed) return; // the consumer left while taking that batch
            b = undefined;
          }
        }
        const isNew = !b;
        if (!b) open.set(key, (b = { frames: [] }));
        b.frames.push(f);
        if (b.frames.length >= maxSize) close(key, 'full');
        // The deadline starts with the batch's first frame: it is the oldest for the batch's life.
        else if (isNew) b.timer = scheduler.schedule(() => close(key, 'timeout'), maxWaitMs);
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => {
        for (const key of [...open.keys()]) close(key, 'complete');
        subscriber.complete();
      },
    });

    return () => {
      sub.unsubscribe();
      for (const b of open.values()) b.timer?.unsubscribe();
      open.clear();
    };
  });
}
