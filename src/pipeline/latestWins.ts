// Backpressure for an async stage (inference, a send to a viewer): at most `concurrency` items in
// flight; while all are busy only the newest `queue` waiting items are kept (default 1), and every
// item pushed out is dropped and counted. Memory is bounded whatever the producer does: in flight +
// `queue` waiting items per lane. The newest win because a live view wants the present, not a backlog.
import { from, Observable, type ObservableInput, type OperatorFunction, type Subscription } from 'rxjs';
import type { DropReason, DropSink } from './dropCounter.js';

/** Items whose cameras latestWins can name by itself: a frame, or a batch of frames. */
export type Attributable = { readonly camera: string } | { readonly frames: readonly { readonly camera: string }[] };

export interface LatestWinsOptions<T> {
  readonly drops: DropSink;
  /** Items run at once, ≥ 1. Default 1. Results come in completion order, as with mergeMap. */
  readonly concurrency?: number;
  /** Reason recorded for a dropped item. Default 'busy'; a per-viewer sender uses 'slow-client'. */
  readonly reason?: DropReason;
  /**
   * One waiting slot per lane (e.g. per camera), and lanes are served in the order they started
   * waiting. Without lanes there is one slot: right for batches, but with interleaved cameras the one
   * that arrives last before each finish would always win and the others starve.
   */
  readonly laneOf?: (item: T) => string;
  /**
   * Items kept waiting per lane while all are busy, ≥ 1 (default 1): a second one rides out a stall
   * of the stage as long as one item takes, at the price of that much latency; the oldest waiting
   * item is the one dropped when a new one comes.
   */
  readonly queue?: number;
  /** Called with each item that will not run: dropped for a newer one, or still waiting at unsubscribe (to give back what it holds). */
  readonly discard?: (item: T) => void;
}

/** The cameras a dropped item counts against; optional for a frame (its `camera`) or a batch (its frames' cameras). */
export interface CamerasOf<T> {
  readonly camerasOf: (item: T) => readonly string[];
}

const camerasOfAttributable = (x: Attributable): readonly string[] => ('camera' in x ? [x.camera] : x.frames.map((f) => f.camera));

const ONE_LANE = '';

/**
 * Runs `project` (a Promise or an Observable per item) with at most `concurrency` in flight. When
 * the source completes, what is in flight and waiting still runs, then the output completes. An
 * error from `project` errors the output (catch inside `project` to go on). Unsubscribing
 * unsubscribes in-flight Observables; a Promise cannot be cancelled, its result is ignored.
 */
export function latestWins<T, R>(project: (item: T) => ObservableInput<R>, options: LatestWinsOptions<T> & CamerasOf<T>): OperatorFunction<T, R>;
export function latestWins<T extends Attributable, R>(project: (item: T) => ObservableInput<R>, options: LatestWinsOptions<T> & Partial<CamerasOf<T>>): OperatorFunction<T, R>;
export function latestWins<T, R>(project: (item: T) => ObservableInput<R>, options: LatestWinsOptions<T> & Partial<CamerasOf<T>>): OperatorFunction<T, R> {
  const { drops, concurrency = 1, reason = 'busy', laneOf, queue = 1, discard } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`latestWins: concurrency must be an integer ≥ 1, got ${concurrency}`);
  if (!Number.isInteger(queue) || queue < 1) throw new RangeError(`latestWins: queue must be an integer ≥ 1, got ${queue}`);
  // The overloads guarantee T is Attributable whenever camerasOf is absent.
  const camerasOf = options.camerasOf ?? (camerasOfAttributable as (x: T) => readonly string[]);

  return (source) => new Observable<R>((subscriber) => {
    // A Map keeps a lane's place in line when its items are replaced: lanes are served oldest-waiting
    // first, and a lane with more waiting goes to the back of the line after each item it gives.
    const waiting = new Map<string, T[]>();
    const inFlight = new Set<Subscription>();
    let active = 0;
    let sourceDone = false;

    const maybeComplete = (): void => {
      if (sourceDone && active === 0 && waiting.size === 0) subscriber.complete();
    };

    const pump = (): void => {
      while (active < concurrency && !subscriber.closed) {
        const next = waiting.entries().next();
        if (next.done) break;
        const [lane, items] = next.value;
        waiting.delete(lane);
        const item = items.shift() as T;
        if (items.length) waiting.set(lane, items);
        run(item);
      }
      maybeComplete();
    };

    const run = (item: T): void => {
      active++;
      let finished = false;
      let inner: Subscription | undefined;
      let input: ObservableInput<R>;
      try {
        input = project(item);
      } catch (e) {
        subscriber.error(e);
        return;
      }
      inner = from(input).subscribe({
        next: (r) => subscriber.next(r),
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          finished = true;
          active--;
          if (inner) inFlight.delete(inner);
          pump();
        },
      });
      if (!finished) inFlight.add(inner); // an inner that completed synchronously holds nothing
    };

    const sub = source.subscribe({
      next: (item) => {
        if (active < concurrency) return run(item);
        const lane = laneOf ? laneOf(item) : ONE_LANE;
        const items = waiting.get(lane);
        if (!items) return void waiting.set(lane, [item]);
        items.push(item); // a lane keeps its place in line
        if (items.length > queue) {
          const dropped = items.shift() as T;
          for (const cam of camerasOf(dropped)) drops.drop(cam, reason);
          discard?.(dropped);
        }
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => {
        sourceDone = true;
        maybeComplete();
      },
    });

    return () => {
      sub.unsubscribe();
      for (const s of inFlight) s.unsubscribe();
      inFlight.clear();
      if (discard) for (const items of waiting.values()) items.forEach(discard);
      waiting.clear();
    };
  });
}
