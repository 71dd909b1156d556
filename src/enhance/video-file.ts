// A video file through the enhancer: ffmpeg decodes to raw RGB, frames go through the enhancer
// in batches, a second ffmpeg encodes H.264 and copies the source's audio. Decoder, inference and
// encoder overlap (two processes plus ORT's threads); memory holds one batch plus pipe buffers.
import fs from 'node:fs/promises';
import path from 'node:path';
import { PieError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { rgbBytes } from '../image/types.js';
import { decodeToRawArgs, encodeFromRawArgs } from '../ingest/ffmpeg-args.js';
import { FfmpegProcess, lastLine } from '../ingest/ffmpeg-process.js';
import { rawFrames } from '../ingest/frame-splitter.js';
import { checkDecodedFrames, probeMedia, type MediaInfo } from '../ingest/probe.js';
import { CameraTone, type MonoMode } from './camera-tone.js';
import type { Denoiser } from '../denoise/denoiser.js';
import type { Enhancer } from './enhancer.js';

export const VIDEO_EXTENSIONS = ['.mp4', '.mkv', '.mov', '.avi', '.webm', '.ts', '.m4v', '.flv'] as const;
export const isVideoPath = (p: string): boolean => (VIDEO_EXTENSIONS as readonly string[]).includes(path.extname(p).toLowerCase());

const CONTAINER: Record<string, string> = { '.mp4': 'mp4', '.m4v': 'mp4', '.mov': 'mov', '.mkv': 'matroska' };
/** Audio codecs that go into the container unchanged; anything else is re-encoded to AAC. */
const COPYABLE_AUDIO: Record<string, readonly string[]> = {
  mp4: ['aac', 'mp3', 'ac3', 'eac3', 'opus', 'alac'],
  mov: ['aac', 'mp3', 'ac3', 'alac', 'pcm_s16le'],
  matroska: ['aac', 'mp3', 'ac3', 'eac3', 'opus', 'vorbis', 'flac', 'pcm_s16le'],
};

export interface VideoProgress { readonly done: number; readonly total: number }

export interface EnhanceVideoOptions {
  readonly batch?: number;
  /** Monochrome (IR) mode: detected along the clip with hysteresis ('auto', the default), or forced. */
  readonly mono?: MonoMode;
  /** Denoises each frame before the enhancer, the clip's frames in order as one camera (state carried). */
  readonly denoiser?: Denoiser;
  readonly onProgress?: (p: VideoProgress) => void;
}

export interface EnhanceVideoResult {
  readonly frames: number;
  readonly info: MediaInfo;
  readonly seconds: number;
}

/** Output container for a path: its extension's, else mp4. */
export function outputContainer(out: string): string {
  return CONTAINER[path.extname(out).toLowerCase()] ?? 'mp4';
}

export async function enhanceVideo(enhancer: Enhancer, input: string, output: string, o: EnhanceVideoOptions = {}): Promise<EnhanceVideoResult> {
  const t0 = performance.now();
  const info = await probeMedia(input);
  const batchSize = Math.max(1, o.batch ?? 1);
  const format = outputContainer(output);
  const audioCodec = info.audioCodec && (COPYABLE_AUDIO[format] ?? []).includes(info.audioCodec) ? 'copy' : 'aac';
  const tmp = `${output}.partial-${process.pid}`;

  const decoder = await FfmpegProcess.start(decodeToRawArgs({ input }));
  const encoder = await FfmpegProcess.start(encodeFromRawArgs({
    width: info.width, height: info.height, fps: info.fps, output: tmp, format,
    ...(info.audioCodec ? { audioFrom: input, audioCodec } : {}),
  }), { stdin: true });

  const write = (img: RgbImage): Promise<void> => new Promise((resolve, reject) => {
    // Respect the pipe's backpressure: wait for drain rather than buffer frames in memory.
    const ok = encoder.stdin!.write(img.data, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else encoder.stdin!.once('drain', resolve);
  });

  let done = 0;
  try {
    let batch: RgbImage[] = [];
    // A clip is one camera: its exposure is smoothed and its IR mode tracked as the live pipeline does.
    const tone = new CameraTone(o.mono ?? 'auto');
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const clean = o.denoiser ? await o.denoiser.denoise(batch.map((image) => ({ camera: input, image }))) : batch;
      const t = tone.next();
      const out = await enhancer.enhance(clean, clean.map(() => t));
      for (const r of out.tone) tone.observe(r);
      for (const f of out.frames) await write(f);
      done += batch.length;
      batch = [];
      o.onProgress?.({ done, total: Math.max(info.frames, done) });
    };
    for await (const data of rawFrames(decoder.stdout, rgbBytes(info.width, info.height))) {
      if (!encoder.running) break;
      batch.push({ width: info.width, height: info.height, data });
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    encoder.stdin!.end();
    const [dec, enc] = await Promise.all([decoder.exited, encoder.exited]);
    if (dec.code !== 0 || done === 0) {
      throw new PieError('input', `${input}: ffmpeg could not decode it after ${done} frames: ${lastLine(dec.stderrTail)}`,
        'check the file plays (ffplay/ffprobe) and is not truncated');
    }
    checkDecodedFrames(input, done, info.frames, dec.stderrTail);
    if (enc.code !== 0) {
      throw new PieError('ffmpeg-failed', `encoding ${output} failed: ${lastLine(enc.stderrTail)}`, 'check the output path and free disk space');
    }
    o.denoiser?.reset(input);
    await fs.rename(tmp, output);
    return { frames: done, info, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    o.denoiser?.reset(input);
    await Promise.all([decoder.close(), encoder.close()]);
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
