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
  /**
   * Hand the input to ffmpeg on stdin, in a one-entry ffconcat script (inputScript()), instead of on
   * the command line: any local user can read a process's arguments (ps, /proc/<pid>/cmdline), and
   * a camera URL carries its password. The RTSP options travel in the script too.
   */
  readonly inputOnStdin?: boolean;
  /** lavfi source graph instead of a file/URL. */
  readonly lavfi?: boolean;
  /** Extra filters appended after scaling (e.g. a denoiser). */
  readonly filters?: readonly string[];
  /**
   * A denoiser, first in the chain: before `fps`, so a temporal one averages consecutive source
   * frames (at a sampled rate things move further between frames and ghost), and at the source
   * size, before any downscaling averages the noise into the picture.
   */
  readonly denoise?: Denoise;
}

/**
 * ffmpeg's denoisers, typed. Strengths are ffmpeg's own units; an option left out takes ffmpeg's
 * default. `hqdn3d`: fast spatial + temporal low-pass (spatial alone on a single image);
 * `atadenoise`: adaptive temporal averaging over `frames` frames (video only: it waits for frames);
 * `nlmeans`: non-local means, spatial, sharper and about 5–10× slower than hqdn3d; `tmix`: the
 * plain mean of the last `frames` frames — the strongest on a static scene, and it smears motion;
 * `bm3d`: block-matching 3D (collaborative filtering of similar blocks), spatial, `sigma` its
 * strength (not the noise's σ in levels: see stillDenoiseFor) — the strongest of these on one image,
 * and the slowest (~0.4 s at 640×480). `stages: 2` runs BM3D's second, Wiener step on the first's
 * estimate (ffmpeg's estim=final with a reference stream; ~0.7 s); `yuv` filters in YUV 4:4:4
 * instead of the input's RGB planes, so luma carries the structure and each chroma plane, with less
 * of the noise, is not filtered as if it had all of it.
 */
export type Denoise =
  | { readonly filter: 'hqdn3d'; readonly lumaSpatial?: number; readonly chromaSpatial?: number; readonly lumaTemporal?: number; readonly chromaTemporal?: number }
  | { readonly filter: 'atadenoise'; readonly frames?: number; readonly thresholdA?: number; readonly thresholdB?: number }
  | { readonly filter: 'nlmeans'; readonly strength?: number; readonly patch?: number; readonly research?: number }
  | { readonly filter: 'tmix'; readonly frames?: number }
  | { readonly filter: 'bm3d'; readonly sigma?: number; readonly block?: number; readonly bstep?: number; readonly group?: number; readonly range?: number; readonly stages?: 1 | 2; readonly yuv?: boolean };

function checkNumber(name: string, v: number | undefined, lo: number, hi: number, odd = false): void {
  if (v === undefined) return;
  if (!(Number.isFinite(v) && v >= lo && v <= hi) || (odd && (!Number.isInteger(v) || v % 2 === 0))) {
    throw new RangeError(`denoise ${name} ${v} must be ${odd ? 'an odd integer' : 'a number'} from ${lo} to ${hi}`);
  }
}

/** The ffmpeg filter for a denoiser, options by name (so an omitted one keeps ffmpeg's default). */
export function denoiseFilter(d: Denoise): string {
  const opts: string[] = [];
  const put = (key: string, v: number | undefined): void => { if (v !== undefined) opts.push(`${key}=${v}`); };
  let prefix = ''; // a pixel format the filter must see
  switch (d.filter) {
    case 'hqdn3d':
      for (const [n, v] of [['lumaSpatial', d.lumaSpatial], ['chromaSpatial', d.chromaSpatial], ['lumaTemporal', d.lumaTemporal], ['chromaTemporal', d.chromaTemporal]] as const) checkNumber(n, v, 0, 255);
      put('luma_spatial', d.lumaSpatial); put('chroma_spatial', d.chromaSpatial);
      put('luma_tmp', d.lumaTemporal); put('chroma_tmp', d.chromaTemporal);
      break;
    case 'atadenoise':
      checkNumber('frames', d.frames, 5, 129, true); checkNumber('thresholdA', d.thresholdA, 0, 0.3); checkNumber('thresholdB', d.thresholdB, 0, 5);
      // The same thresholds on all three planes.
      for (const p of [0, 1, 2]) put(`${p}a`, d.thresholdA);
      for (const p of [0, 1, 2]) put(`${p}b`, d.thresholdB);
      put('s', d.frames);
      break;
    case 'nlmeans':
      checkNumber('strength', d.strength, 1, 30); checkNumber('patch', d.patch, 1, 99, true); checkNumber('research', d.research, 1, 99, true);
      put('s', d.strength); put('p', d.patch); put('r', d.research);
      break;
    case 'bm3d':
      checkNumber('sigma', d.sigma, 0, 999); checkNumber('block', d.block, 4, 6); checkNumber('bstep', d.bstep, 1, 64); checkNumber('group', d.group, 1, 256); checkNumber('range', d.range, 1, 99);
      put('sigma', d.sigma); put('block', d.block); put('bstep', d.bstep); put('group', d.group); put('range', d.range);
      if (d.stages !== undefined && d.stages !== 1 && d.stages !== 2) throw new RangeError(`denoise stages ${String(d.stages)} must be 1 or 2`);
      if (d.yuv) prefix = 'format=yuv444p,';
      // Two stages: a filtergraph of its own inside the -vf chain (one input, one output); the
      // second stage filters the noisy frame again, with the first stage's estimate as its reference.
      if (d.stages === 2) return `${prefix}split[bm3d_in][bm3d_src];[bm3d_in]bm3d=${[...opts, 'estim=basic'].join(':')}[bm3d_ref];[bm3d_src][bm3d_ref]bm3d=${[...opts, 'estim=final', 'ref=1'].join(':')}`;
      break;
    case 'tmix':
      checkNumber('frames', d.frames, 2, 1024);
      if (d.frames !== undefined && !Number.isInteger(d.frames)) throw new RangeError(`denoise frames ${d.frames} must be an integer`);
      put('frames', d.frames);
      break;
  }
  return `${prefix}${opts.length ? `${d.filter}=${opts.join(':')}` : d.filter}`;
}

const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'error'];

/** What the script on stdin may open: itself, then network cameras. */
const STDIN_PROTOCOLS = 'pipe,rtsp,rtsps,rtp,srtp,tcp,udp,tls,http,https,crypto';

/** The ffconcat script that names the input when inputOnStdin is set: one file entry and its options. */
export function inputScript(o: DecodeOptions): string {
  if (/[\r\n]/.test(o.input)) throw new RangeError('an input URL must be one line');
  const lines = ['ffconcat version 1.0', `file '${o.input.replace(/'/g, "'\\''")}'`];
  if (o.rtspTransport) lines.push(`option rtsp_transport ${o.rtspTransport}`);
  if (o.analyzeDurationUs !== undefined) lines.push(`option analyzeduration ${o.analyzeDurationUs}`);
  return `${lines.join('\n')}\n`;
}

/** Decode anything ffmpeg reads to packed RGB24 frames on stdout. */
export function decodeToRawArgs(o: DecodeOptions): string[] {
  const args = [...COMMON];
  if (!o.inputOnStdin && o.rtspTransport) args.push('-rtsp_transport', o.rtspTransport);
  if (o.analyzeDurationUs !== undefined) args.push('-analyzeduration', String(o.analyzeDurationUs));
  if (o.loop) args.push('-stream_loop', '-1');
  if (o.realtime) args.push('-re');
  if (o.lavfi) args.push('-f', 'lavfi');
  // -nostdin stops ffmpeg's keyboard commands only; pipe:0 still reads the script.
  if (o.inputOnStdin) args.push('-f', 'concat', '-safe', '0', '-protocol_whitelist', STDIN_PROTOCOLS, '-i', 'pipe:0');
  else args.push('-i', o.input);
  args.push('-map', '0:v:0', '-an', '-sn', '-dn');
  const vf: string[] = [];
  if (o.denoise) vf.push(denoiseFilter(o.denoise));
  if (o.fps !== undefined) vf.push(`fps=${o.fps}`);
  if (o.size) vf.push(`scale=${o.size.width}:${o.size.height}`);
  vf.push(...(o.filters ?? []));
  if (vf.length) args.push('-vf', vf.join(','));
  // passthrough: one raw frame per decoded (or fps-filtered) frame, no duplicates/drops by the muxer
  args.push('-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return args;
}

/**
 * Raw RGB24 frames on stdin → a filter (a denoiser) → raw RGB24 frames on stdout, same size: a
 * video-denoiser baseline run on frames already in memory (eval --synthetic-video).
 */
export function filterRawArgs(o: { readonly width: number; readonly height: number; readonly denoise: Denoise }): string[] {
  return [...COMMON, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-framerate', '25', '-i', 'pipe:0',
    '-vf', denoiseFilter(o.denoise), '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
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
