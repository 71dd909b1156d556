// ffmpeg command lines built from typed options (go2rtc's habit): argument arrays, never shell
// strings, tested as exact lists. Pure: no IO.

export interface DecodeOptions {
  readonly input: string;
  /** Output size; omitted = the source size. */
  readonly size?: { readonly width: number; readonly height: number };
  /** Output frame rate; omitted = every source frame. */
  readonly fps?: number;
  /** Restart a file from the start at its end (a file played as a camera). */
  readonly loop?: boolean;
  /** Read a file at its native rate instead of as fast as possible. */
  readonly realtime?: boolean;
  readonly rtspTransport?: 'tcp' | 'udp';
  /** How long ffmpeg probes the input before the first frame (µs); ffmpeg's default is 5 s. */
  readonly analyzeDurationUs?: number;
  /** lavfi source graph instead of a file/URL. */
  readonly lavfi?: boolean;
  /** Extra filters appended after scaling (e.g. a denoiser). */
  readonly filters?: readonly string[];
}

const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'error'];

/** Decode anything ffmpeg reads to packed RGB24 frames on stdout. */
export function decodeToRawArgs(o: DecodeOptions): string[] {
  const args = [...COMMON];
  if (o.rtspTransport) args.push('-rtsp_transport', o.rtspTransport);
  if (o.analyzeDurationUs !== undefined) args.push('-analyzeduration', String(o.analyzeDurationUs));
  if (o.loop) args.push('-stream_loop', '-1');
  if (o.realtime) args.push('-re');
  if (o.lavfi) args.push('-f', 'lavfi');
  args.push('-i', o.input, '-map', '0:v:0', '-an', '-sn', '-dn');
  const vf: string[] = [];
  if (o.fps !== undefined) vf.push(`fps=${o.fps}`);
  if (o.size) vf.push(`scale=${o.size.width}:${o.size.height}`);
  vf.push(...(o.filters ?? []));
  if (vf.length) args.push('-vf', vf.join(','));
  // passthrough: one raw frame per decoded (or fps-filtered) frame, no duplicates/drops by the muxer
  args.push('-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return args;
}

export interface EncodeOptions {
  readonly width: number;
  readonly height: number;
  /** Frame rate as a rational string ffmpeg accepts ("30000/1001", "25"). */
  readonly fps: string;
  readonly output: string;
  /** Copy (or transcode) the audio of this file into the output. */
  readonly audioFrom?: string;
  /** Audio codec for audioFrom: 'copy' or an encoder name. */
  readonly audioCodec?: string;
  readonly crf?: number;
  readonly preset?: string;
  /** Container, when the output name does not say (e.g. a .partial temp file). */
  readonly format?: string;
}

/** Raw RGB24 frames on stdin → H.264 (yuv420p) file, with the source's audio when asked. */
export function encodeFromRawArgs(o: EncodeOptions): string[] {
  const args = [...COMMON, '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-framerate', o.fps, '-i', 'pipe:0'];
  if (o.audioFrom) args.push('-i', o.audioFrom, '-map', '0:v:0', '-map', '1:a?', '-c:a', o.audioCodec ?? 'copy');
  // yuv420p needs even sizes: pad odd ones by a pixel rather than lose one.
  const vf = o.width % 2 || o.height % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : [];
  args.push(...vf, '-c:v', 'libx264', '-preset', o.preset ?? 'veryfast', '-crf', String(o.crf ?? 18), '-pix_fmt', 'yuv420p');
  if (o.format) args.push('-f', o.format);
  if (o.format === 'mp4' || /\.(mp4|mov|m4v)$/i.test(o.output)) args.push('-movflags', '+faststart');
  args.push(o.output);
  return args;
}
