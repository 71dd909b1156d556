// Spatial denoising of a still by one of ffmpeg's denoisers: the image goes to ffmpeg's stdin as a
// BMP (the decode builder reads it like any input, so the same typed `denoise` option serves
// stills and video) and comes back as raw RGB. On the detection path for photos: BM3D
// (stillDenoiseFor, below). hqdn3d and nlmeans are kept for comparison (`eval --faces --denoise
// hqdn3d|nlmeans`): on night noise both left BlazeFace's recall where it was (0.04 → 0.06 at a
// 100 e⁻ full well).
import { PieError } from '../errors.js';
import { encodeBmp } from '../image/bmp.js';
import { rgbBytes, type RgbImage } from '../image/types.js';
import { decodeToRawArgs, type Denoise } from '../ingest/ffmpeg-args.js';
import { FfmpegProcess, lastLine } from '../ingest/ffmpeg-process.js';
import { estimateNoise } from './smooth.js';

/**
 * The still-image default: hqdn3d's spatial part at 1.5× ffmpeg's default luma strength (4) and
 * chroma at its default ratio. Night noise after enhancement is mostly coarse and colourful, which
 * a low-pass removes; see the README for the strengths that were compared.
 */
export const DEFAULT_STILL_DENOISE: Denoise = { filter: 'hqdn3d', lumaSpatial: 6, chromaSpatial: 4.5 };

/** Denoises one image with ffmpeg; the result has the same size. */
export async function denoiseImage(img: RgbImage, d: Denoise = DEFAULT_STILL_DENOISE): Promise<RgbImage> {
  if (d.filter === 'atadenoise' || d.filter === 'tmix') {
    // Temporal: nothing to average on one image (and atadenoise, which buffers frames before it
    // emits any, never returns on a single one in ffmpeg 5.1).
    throw new PieError('config', `${d.filter} is temporal and cannot denoise a single image`, 'use hqdn3d or nlmeans for images; atadenoise or tmix for video');
  }
  const p = await FfmpegProcess.start(decodeToRawArgs({ input: 'pipe:0', denoise: d }), { stdin: true });
  const chunks: Buffer[] = [];
  p.stdout.on('data', (c: Buffer) => chunks.push(c));
  p.stdin!.end(encodeBmp(img));
  const exit = await p.exited;
  const out = Buffer.concat(chunks);
  if (exit.code !== 0 || out.length !== rgbBytes(img.width, img.height)) {
    throw new PieError('ffmpeg-failed', `denoising a ${img.width}×${img.height} image with ${d.filter} failed: ${exit.code !== 0 ? lastLine(exit.stderrTail) : `${out.length} bytes back`}`, 'check that ffmpeg has the filter (ffmpeg -filters)');
  }
  return { width: img.width, height: img.height, data: new Uint8Array(out.buffer, out.byteOffset, out.byteLength) };
}

/**
 * The still path's denoiser (issue 16): ffmpeg's BM3D, both stages, in YUV 4:4:4, for a photo whose
 * raw noise σ (Immerkær, 8-bit levels) is above STILL_CLEAN_BELOW; undefined for a cleaner one (the
 * detector gets it as it is). ffmpeg's sigma is a strength, not the noise's σ in levels: 3.5σ from
 * σ 8 (full wells 100 and 300 on the small-face set, σ 10–17), 2.5σ below (full wells 500–1000,
 * σ 5–7.5), where 3.5σ found more faces of 16 px and over but fewer under 16 px than the unsmoothed
 * photo. Measured on the small-face set, four noise seeds, both splits (README, session 15): above
 * unsmoothed raw on faces ≥ 16 px in every cell; the box blur this replaces (radius 1 from σ 5.5) was
 * below raw on faces < 16 px at σ 6–7.5 in every cell. 0.7 s for 640×480, 3.6 s for 1920×1080.
 */
export const STILL_CLEAN_BELOW = 4.5;
export const STILL_BM3D_STRONG_FROM_SIGMA = 8;
export function stillDenoiseFor(sigma: number): Denoise | undefined {
  if (!(sigma > STILL_CLEAN_BELOW)) return undefined;
  const k = sigma >= STILL_BM3D_STRONG_FROM_SIGMA ? 3.5 : 2.5;
  return { filter: 'bm3d', sigma: Math.min(999, Math.round(k * sigma * 100) / 100), stages: 2, yuv: true };
}

/** A photo as the still path hands it to the detector: through stillDenoiseFor's BM3D, or as it is when clean. */
export async function denoiseStill(img: RgbImage, sigma = estimateNoise(img)): Promise<RgbImage> {
  const d = stillDenoiseFor(sigma);
  return d ? denoiseImage(img, d) : img;
}

/** A still denoiser by name, as the CLI and eval take it: 'hqdn3d', 'nlmeans', or 'none'. */
export function parseStillDenoise(name: string): Denoise | undefined {
  switch (name) {
    case 'none': return undefined;
    case 'hqdn3d': return DEFAULT_STILL_DENOISE;
    case 'nlmeans': return { filter: 'nlmeans', strength: 3, patch: 5, research: 9 };
    default: throw new PieError('usage', `--denoise ${name} is not a still denoiser`, 'use --denoise hqdn3d (fast), nlmeans (slow, sharper) or none');
  }
}
