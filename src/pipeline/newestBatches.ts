// A stage that takes the newest frame of each camera while it is busy, and all of them as one batch
// when it is free. What detection wants: each camera is looked at as recently as the stage allows,
// and what waits is bounded by the cameras, one frame each. (batchFrames + latestWins with a lane
// per camera set kept a batch per combination of cameras: at 720p ×4 with a 3 s detector, about 30
// frames and their raw twins waited, most of them stale.)
import { asyncScheduler, from, Observable, type ObservableInput, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { DropReason, DropSink } from './dropCounter.js';

export interface NewestBatchesOptions<T> {
  readonly drops: DropSink;
  /** Frames a batch, ≥ 1 (different cameras). */
  readonly maxSize: number;
  /** How long a frame that finds the stage free waits for others to fill its batch, ≥ 0 (0: it goes at once). */
  readonly maxWaitMs: number;
  /** Recorded for a frame replaced by a newer one of its camera. Default 'busy'. */
  readonly reason?: DropReason;
  /** Gets every frame that will not run: replaced, or still waiting at unsubscribe (to give back what it holds). */
  readonly discard?: (frame: T) => void;
  /** Timers; default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Runs `run` on batches of frames, one batch at a time. A frame waits while the stage is busy; a
 * newer frame of the same camera replaces it (the older is dropped and counted) and keeps its place
 * in line. When the stage is free, the waiting frames go, oldest first, up to `maxSize`; a frame that
 * finds the stage free and alone waits up to `maxWaitMs` for more. When the source completes, what
 * waits still runs, then the output completes. An error of `run` errors the output.
 */
export function newestBatches<T extends { readonly camera: string }, R>(run: (frames: readonly T[]) => ObservableInput<R>, o: NewestBatchesOptions<T>): OperatorFunction<T, R> {
  const { drops, maxSize, maxWaitMs, reason = 'busy', discard, scheduler = asyncScheduler } = o;
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`newestBatches: maxSize must be an integer ≥ 1, got ${maxSize}`);
  if (!(maxWaitMs >= 0 && Number.isFinite(maxWaitMs))) throw new RangeError(`newestBatches: maxWaitMs must be a number ≥ 0, got ${maxWaitMs}`);

  return (source) => new Observable<R>((subscriber) => {
    const waiting = new Map<string, T>(); // by camera, in the order the cameras started waiting
    let inner: Subscription | undefined;
    let busy = false;
    let timer: Subscription | undefined;
    let sourceDone = false;

    const launch = (): void => {
      timer?.unsubscribe();
      timer = undefined;
      const batch: T[] = [];
      for (const [camera, f] of waiting) {
        if (batch.length >= maxSize) break;
        batch.push(f);
        waiting.delete(camera);
      }
      if (batch.length === 0) {
        if (sourceDone) subscriber.complete();
        return;
      }
      busy = true;
      let input: ObservableInput<R>;
      try {
        input = run(batch);
      } catch (e) {
        subscriber.error(e);
        return;
      }
      let finished = false;
      const sub = from(input).subscribe({
        next: (r) => subscriber.next(r),
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          finished = true;
          busy = false;
          inner = undefined;
          // What waited, waited long enough: it goes at once.
          if (waiting.size > 0 || sourceDone) launch();
        },
      });
      if (!finished) inner = sub;
    };

    const sub = source.subscribe({
      next: (f) => {
        const old = waiting.get(f.camera);
        if (old !== undefined) {
          drops.drop(f.camera, reason);
          discard?.(old);
        }
        waiting.set(f.camera, f); // an existing key keeps its place
        if (busy) return;
        if (waiting.size >= maxSize || maxWaitMs === 0) launch();
        else timer ??= scheduler.schedule(launch, maxWaitMs);
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => {
        sourceDone = true;
        if (!busy) launch();
      },
    });

    return () => {
      sub.unsubscribe();
      timer?.unsubscribe();
      inner?.unsubscribe();
      if (discard) for (const f of waiting.values()) discard(f);
      waiting.clear();
    };
  });
}
