// ffmpeg command lines for the live outputs, built from typed options (go2rtc's habit): argument
// arrays, never shell strings, tested as exact lists. Pure: no IO (paths are joined as strings).

const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'error'];

export interface RawInput {
  readonly width: number;
  readonly height: number;
  /** Frames per second of the raw stream on stdin (the camera's processing rate). */
  readonly fps: number;
}

/** Packed RGB24 frames on stdin; timestamps come from the frame count at `fps`. */
function rawStdin(o: RawInput): string[] {
  return ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-framerate', String(o.fps), '-i', 'pipe:0'];
}

/** yuv420p (H.264 and MPEG-1 alike) needs even sizes: pad odd ones by a pixel rather than lose one. */
export function evenSize(width: number, height: number): { width: number; height: number } {
  return { width: width + (width % 2), height: height + (height % 2) };
}
const padArgs = (o: RawInput): string[] => (o.width % 2 || o.height % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : []);

export interface HlsOptions extends RawInput {
  /** Where the playlist goes (e.g. /var/pie/cam1/enhanced/index.m3u8); segments go beside it. */
  readonly playlist: string;
  /** File name pattern of the segments, in the playlist's folder. */
  readonly segmentPattern?: string;
  /** Target segment length in seconds; the GOP is one segment so every segment starts on a keyframe. */
  readonly segmentSeconds?: number;
  /** Segments kept in the playlist (older ones are deleted from disk). */
  readonly listSize?: number;
  readonly preset?: 'ultrafast' | 'superfast' | 'veryfast';
  readonly crf?: number;
}

/** Raw RGB24 frames on stdin → H.264 live HLS (short segments, bounded list, old segments deleted). */
export function hlsFromRawArgs(o: HlsOptions): string[] {
  const seconds = o.segmentSeconds ?? 1;
  const gop = Math.max(1, Math.round(o.fps * seconds));
  const dir = o.playlist.slice(0, o.playlist.lastIndexOf('/') + 1);
  return [...COMMON, '-y', ...rawStdin(o), ...padArgs(o),
    '-c:v', 'libx264', '-preset', o.preset ?? 'veryfast', '-tune', 'zerolatency', '-crf', String(o.crf ?? 23),
    '-pix_fmt', 'yuv420p',
    // A fixed GOP of exactly one segment and no scene-cut keyframes: segments cut on time, evenly.
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
    '-f', 'hls', '-hls_time', String(seconds), '-hls_list_size', String(o.listSize ?? 6),
    '-hls_flags', 'delete_segments+independent_segments',
    '-hls_segment_filename', dir + (o.segmentPattern ?? 'segment%06d.ts'),
    o.playlist];
}

export interface MpegTsOptions extends RawInput {
  /** Video bitrate in kbit/s; default from the size and rate (see mpeg1Kbps). */
  readonly kbps?: number;
}

/**
 * A bitrate for MPEG-1 at this size and rate: about 0.12 bits a pixel a frame (JSMpeg's own
 * example, 640×480 at 30 fps in 1000k, is 0.11), at least 128k so small streams stay watchable.
 */
export function mpeg1Kbps(width: number, height: number, fps: number): number {
  return Math.max(128, Math.round((width * height * fps * 0.12) / 1000));
}

/**
 * Raw RGB24 frames on stdin → MPEG-1 video in MPEG-TS on stdout, what node-rtsp-stream sends and
 * JSMpeg decodes. No B-frames (JSMpeg does not reorder), a keyframe every second so a viewer that
 * joins mid-stream sees a picture within a second, and packets flushed as they are made (latency).
 */
export function mpegTsFromRawArgs(o: MpegTsOptions): string[] {
  return [...COMMON, ...rawStdin(o), ...padArgs(o),
    '-f', 'mpegts', '-codec:v', 'mpeg1video', '-b:v', `${o.kbps ?? mpeg1Kbps(o.width, o.height, o.fps)}k`, '-bf', '0',
    '-g', String(Math.max(1, Math.round(o.fps))),
    // MPEG-1 officially knows only 23.976–60 fps; camera rates like 10 or 15 need ffmpeg's
    // unofficial frame-rate codes, which it writes only when told to.
    '-strict', 'unofficial',
    '-flush_packets', '1', 'pipe:1'];
}
