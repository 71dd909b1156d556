// Cuts a byte stream of packed raw frames into whole frames. Bounded: it holds at most one
// partial frame; the stream is read only as fast as the consumer pulls (async iteration).
import type { Readable } from 'node:stream';

export async function* rawFrames(stream: Readable, frameBytes: number, take: () => Uint8Array = () => new Uint8Array(frameBytes)): AsyncGenerator<Uint8Array> {
  if (!(frameBytes > 0)) throw new RangeError(`frame size must be positive, got ${frameBytes}`);
  let frame = take();
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(frameBytes - filled, chunk.length - off);
      frame.set(chunk.subarray(off, off + n), filled);
      filled += n;
      off += n;
      if (filled === frameBytes) {
        yield frame;
        frame = take(); // the consumer keeps the yielded one
        filled = 0;
      }
    }
  }
  // A trailing partial frame is a truncated stream: dropped (ffmpeg writes whole frames).
}

/**
 * `it`, reading one item ahead from now on: an async generator only starts when first asked, and a
 * child whose stdout nobody listens to yet when it exits has that output thrown away by Node (its
 * flushStdio resumes unread stdio streams) — a short clip's decoder can finish while the caller is
 * still starting another process. At most one item is held ahead.
 */
export function readAhead<T>(it: AsyncIterator<T>): AsyncIterableIterator<T> & { return(): Promise<IteratorResult<T>> } {
  // A read ahead that fails while nobody waits on it must not be an unhandled rejection: the next next() throws it.
  const ahead = (): Promise<IteratorResult<T>> => { const p = it.next(); p.catch(() => {}); return p; };
  let pending: Promise<IteratorResult<T>> | undefined = ahead();
  return {
    async next(): Promise<IteratorResult<T>> {
      const r = await (pending ?? it.next());
      pending = r.done ? undefined : ahead();
      return r;
    },
    async return(): Promise<IteratorResult<T>> {
      pending = undefined;
      return (await it.return?.(undefined)) ?? { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() { return this; },
  };
}
