// Same-sized RGB frames ↔ one NHWC buffer for a session run, and the run's output back as
// per-frame views (no copies). Shared by the Enhancer and the CurveApplier.
import type { RgbImage } from '../image/types.js';
import { rgbBytes } from '../image/types.js';

export interface PackedFrames {
  readonly data: Uint8Array;
  readonly count: number;
  readonly width: number;
  readonly height: number;
}

/** Checks the frames share one size and packs them; a batch of one is passed through uncopied. */
export function packFrames(frames: readonly RgbImage[]): PackedFrames {
  const { width, height } = frames[0]!;
  const size = rgbBytes(width, height);
  for (const f of frames) {
    if (f.width !== width || f.height !== height || f.data.length !== size) {
      throw new RangeError(`a batch needs frames of one size: ${width}x${height} and ${f.width}x${f.height} (${f.data.length} bytes)`);
    }
  }
  // One frame goes as it is, unless it is shared memory (a worker's request slot): ONNX Runtime refuses that.
  if (frames.length === 1 && !(frames[0]!.data.buffer instanceof SharedArrayBuffer)) return { data: frames[0]!.data, count: 1, width, height };
  const data = new Uint8Array(frames.length * size);
  frames.forEach((f, i) => data.set(f.data, i * size));
  return { data, count: frames.length, width, height };
}

/** One frame per image of an NHWC uint8 output, as views into it. */
export function unpackFrames(data: Uint8Array, count: number, width: number, height: number): RgbImage[] {
  const size = rgbBytes(width, height);
  return Array.from({ length: count }, (_, i) => ({ width, height, data: data.subarray(i * size, (i + 1) * size) }));
}
