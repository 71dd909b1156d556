// A video file as a stream of frames for offline tools (eval, adapt): probed, scaled to at most a
// width (even sizes, aspect kept), optionally sampled and cut, decoded by one supervised ffmpeg
// that is closed when the consumer stops early or fails.
import type { RgbImage } from '../image/types.js';
import { decodeToRawArgs } from './ffmpeg-args.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import { rawFrames } from './frame-splitter.js';
import { probeMedia } from './probe.js';

export interface VideoFramesOptions {
  readonly maxWidth: number;
  /** Frames per second taken; omitted = every frame. */
  readonly fps?: number;
  /** Only the first seconds; omitted = the whole file. */
  readonly seconds?: number;
}

export async function* videoFrames(file: string, o: VideoFramesOptions): AsyncGenerator<RgbImage> {
  const info = await probeMedia(file);
  const width = Math.min(o.maxWidth, info.width) & ~1;
  const height = Math.round((info.height * width) / info.width) & ~1;
  const p = await FfmpegProcess.start(decodeToRawArgs({
    input: file, size: { width, height }, ...(o.fps !== undefined ? { fps: o.fps } : {}),
    ...(o.seconds !== undefined ? { filters: [`trim=duration=${o.seconds}`] } : {}),
  }));
  try {
    // Copied: the splitter's chunks may share one buffer.
    for await (const data of rawFrames(p.stdout, width * height * 3)) yield { width, height, data: Uint8Array.from(data) };
  } finally {
    await p.close();
  }
}
