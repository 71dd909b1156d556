// Spatial denoising of a still by one of ffmpeg's denoisers: the image goes to ffmpeg's stdin as a
// BMP (the decode builder reads it like any input, so the same typed `denoise` option serves
// stills and video) and comes back as raw RGB. Kept for comparison (`eval --faces --denoise
// hqdn3d|nlmeans`), not on the detection path: on a 1366×768 still it costs 80–250 ms (hqdn3d,
// mostly starting ffmpeg) or 0.4–1 s (nlmeans), and on night noise both left BlazeFace's recall
// where it was (0.04 → 0.06 at a 100 e⁻ full well), where smooth.ts's box blur took it to 0.67
// in 15–40 ms without a process.
import { PieError } from '../errors.js';
import { encodeBmp } from '../image/bmp.js';
import { rgbBytes, type RgbImage } from '../image/types.js';
import { decodeToRawArgs, type Denoise } from '../ingest/ffmpeg-args.js';
import { FfmpegProcess, lastLine } from '../ingest/ffmpeg-process.js';

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
 * The still path's denoiser on a noisy image (issue 16): ffmpeg's BM3D, both stages, in YUV 4:4:4,
 * when the raw image's noise σ (Immerkær, 8-bit levels) is at least STILL_BM3D_FROM_SIGMA, at
 * strength STILL_BM3D_STRENGTH·σ (ffmpeg's sigma is not the noise's σ in levels); below it
 * undefined (the box blur's rule, radius ≤ 1, stays). Session 14 took the first stage on RGB at 4σ;
 * session 15 measured the second stage and YUV (2σ–6σ; 3.5σ best) on the small-face set at three
 * more noise seeds, and it found more faces of 16 px and over at full wells 100 and 300 in every
 * run, both splits. Below σ 8 (full well 1000, σ ≈ 5) BM3D found more faces of 16 px and over but
 * lost some under 16 px and, on held-out photos, precision (0.94 → 0.77 in one seed): hence the
 * threshold. ~0.6 s for a 640×480 image.
 */
export const STILL_BM3D_FROM_SIGMA = 8;
export const STILL_BM3D_STRENGTH = 3.5;
export function stillDenoiseFor(sigma: number): Denoise | undefined {
  return sigma >= STILL_BM3D_FROM_SIGMA ? { filter: 'bm3d', sigma: Math.min(999, Math.round(STILL_BM3D_STRENGTH * sigma * 100) / 100), stages: 2, yuv: true } : undefined;
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
