// What a media file holds, from ffprobe's JSON.
import { PieError } from '../errors.js';
import { runTool, type SpawnOptions } from './ffmpeg-process.js';

export interface MediaInfo {
  readonly width: number;
  readonly height: number;
  /** Frame rate as ffprobe gives it ("30000/1001"). */
  readonly fps: string;
  readonly fpsValue: number;
  /** Estimated frame count (0 when unknown). */
  readonly frames: number;
  readonly durationS: number;
  readonly audioCodec: string | undefined;
  readonly videoCodec: string;
}

interface ProbeStream {
  codec_type?: string; codec_name?: string; width?: number; height?: number;
  avg_frame_rate?: string; r_frame_rate?: string; nb_frames?: string; duration?: string;
}
interface ProbeJson { streams?: ProbeStream[]; format?: { duration?: string } }

const rate = (r: string | undefined): number => {
  if (!r) return 0;
  const [n, d] = r.split('/').map(Number);
  return d ? n! / d : n ?? 0;
};

export async function probeMedia(file: string, o: SpawnOptions = {}): Promise<MediaInfo> {
  let json: ProbeJson;
  try {
    const out = await runTool(['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], { ...o, tool: 'ffprobe' });
    json = JSON.parse(out.toString('utf8')) as ProbeJson;
  } catch (e) {
    if (e instanceof PieError && e.kind === 'ffmpeg-missing') throw e;
    throw new PieError('input', `${file}: not a readable video (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`,
      'check the file plays (ffprobe FILE) and is not truncated', { cause: e });
  }
  const v = json.streams?.find((s) => s.codec_type === 'video');
  if (!v || !v.width || !v.height) {
    throw new PieError('input', `${file}: has no video stream`, 'pass a video file, an image, or a folder of images');
  }
  const a = json.streams?.find((s) => s.codec_type === 'audio');
  const fpsStr = v.avg_frame_rate && rate(v.avg_frame_rate) > 0 ? v.avg_frame_rate : v.r_frame_rate ?? '25';
  const fpsValue = rate(fpsStr) || 25;
  const durationS = Number(v.duration ?? json.format?.duration ?? 0) || 0;
  const frames = Number(v.nb_frames ?? 0) || Math.round(durationS * fpsValue);
  return { width: v.width, height: v.height, fps: fpsStr, fpsValue, frames, durationS, audioCodec: a?.codec_name, videoCodec: v.codec_name ?? '?' };
}

/**
 * A decode that ended well short of what the probe announced is a truncated or damaged file, even
 * when ffmpeg exits 0 (it does, after "partial file"). `expected` 0 = unknown: nothing to compare.
 * A few frames of slack for rate conversion and edit lists.
 */
export function checkDecodedFrames(file: string, decoded: number, expected: number, stderrTail = ''): void {
  if (expected <= 0 || decoded >= expected - Math.max(2, Math.ceil(expected * 0.02))) return;
  const why = stderrTail.split('\n').map((l) => l.trim()).filter(Boolean).pop();
  throw new PieError('input', `${file}: only ${decoded} of ${expected} frames could be decoded: the file is truncated or damaged${why ? ` (${why})` : ''}`,
    'check the file plays to its end (ffprobe -count_frames FILE); re-copy or re-export it');
}
