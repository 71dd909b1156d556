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
