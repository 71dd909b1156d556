// Image files ↔ RgbImage. The one place that imports sharp. JPEG, PNG and WebP go through sharp
// (libvips); BMP is read through ffmpeg (libvips has no BMP loader) and written by bmp.ts.
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { PieError, messageOf } from '../errors.js';
import { runTool } from '../ingest/ffmpeg-process.js';
import { probeMedia } from '../ingest/probe.js';
import { encodeBmp } from './bmp.js';
import { rgbBytes, type RgbImage } from './types.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.webp'] as const;
export const isImagePath = (p: string): boolean => (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(p).toLowerCase());

const FIX = 'check that the file is a complete jpg, png, bmp or webp image';

export async function readImage(file: string): Promise<RgbImage> {
  if (path.extname(file).toLowerCase() === '.bmp') return readViaFfmpeg(file);
  try {
    // autoOrient: pixels as a viewer shows them (EXIF rotation applied).
    const { data, info } = await sharp(file, { failOn: 'error' }).autoOrient().removeAlpha().toColourspace('srgb').raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    if (/pixel limit/i.test(messageOf(e))) {
      // Not a damaged file: libvips refuses to decode more than this many pixels.
      const size = await imageSize(file).then((d) => `${d.width}x${d.height}, `, () => '');
      throw new PieError('input', `${file}: the image is too large to decode (${size}over ${DECODE_PIXEL_LIMIT} pixels)`,
        'downscale it first, e.g. ffmpeg -i big.png -vf scale=4096:-2 smaller.png', { cause: e });
    }
    throw new PieError('input', `${file}: cannot decode as an image (${messageOf(e)})`, FIX, { cause: e });
  }
}

/** sharp's default limitInputPixels (0x3FFF²): larger images are refused before decoding. */
const DECODE_PIXEL_LIMIT = 0x3fff * 0x3fff;

async function readViaFfmpeg(file: string): Promise<RgbImage> {
  try {
    const info = await probeMedia(file);
    const raw = await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    if (raw.length !== rgbBytes(info.width, info.height)) throw new Error(`decoded ${raw.length} bytes for ${info.width}x${info.height}`);
    return { width: info.width, height: info.height, data: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) };
  } catch (e) {
    if (e instanceof PieError && e.kind === 'ffmpeg-missing') throw e;
    throw new PieError('input', `${file}: cannot decode as an image (${messageOf(e)})`, FIX, { cause: e });
  }
}

/** Encodes by the extension of `file` (jpg/png/webp/bmp). */
export async function encodeImage(img: RgbImage, file: string): Promise<Uint8Array> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.bmp') return encodeBmp(img);
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  switch (ext) {
    case '.jpg': case '.jpeg': return s.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
    case '.png': return s.png().toBuffer();
    case '.webp': return s.webp({ quality: 95 }).toBuffer();
    default: throw new PieError('output', `${file}: unknown image extension '${ext}'`, `name the output with one of ${IMAGE_EXTENSIONS.join(' ')}`);
  }
}

/** Writes atomically (temp file + rename), so a failed run leaves no half-written image. */
export async function writeImage(img: RgbImage, file: string): Promise<void> {
  const bytes = await encodeImage(img, file);
  const tmp = `${file}.partial-${process.pid}`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw new PieError('output', `cannot write ${file}: ${messageOf(e)}`, 'check the output folder exists and is writable', { cause: e });
  }
}

/** Width and height from the file header, without decoding the pixels. */
export async function imageSize(file: string): Promise<{ width: number; height: number }> {
  if (path.extname(file).toLowerCase() === '.bmp') {
    const info = await probeMedia(file);
    return { width: info.width, height: info.height };
  }
  try {
    // The header only: no pixel limit applies to reading it.
    const m = await sharp(file, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) throw new Error('no size in header');
    // EXIF orientations 5–8 swap the axes once auto-oriented.
    return (m.orientation ?? 1) >= 5 ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
  } catch (e) {
    throw new PieError('input', `${file}: cannot decode as an image (header: ${messageOf(e)})`, FIX, { cause: e });
  }
}

export interface CropSpec { readonly left: number; readonly top: number; readonly size: number; readonly flip: boolean }

/** A square crop, optionally mirrored left–right, decoded by libvips (no per-pixel JavaScript). */
export async function readImageCrop(file: string, c: CropSpec): Promise<RgbImage> {
  if (path.extname(file).toLowerCase() === '.bmp') {
    const full = await readImage(file);
    const data = new Uint8Array(c.size * c.size * 3);
    for (let y = 0; y < c.size; y++) {
      for (let x = 0; x < c.size; x++) {
        const sx = c.left + (c.flip ? c.size - 1 - x : x);
        data.set(full.data.subarray(((c.top + y) * full.width + sx) * 3, ((c.top + y) * full.width + sx) * 3 + 3), (y * c.size + x) * 3);
      }
    }
    return { width: c.size, height: c.size, data };
  }
  try {
    let s = sharp(file, { failOn: 'error' }).autoOrient().removeAlpha().toColourspace('srgb').extract({ left: c.left, top: c.top, width: c.size, height: c.size });
    if (c.flip) s = s.flop();
    const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== c.size) throw new Error(`decoded ${info.width}x${info.height}x${info.channels}`);
    return { width: c.size, height: c.size, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new PieError('input', `${file}: cannot decode a crop (${messageOf(e)})`, FIX, { cause: e });
  }
}

/**
 * Rasterises an SVG document to a PNG file (librsvg inside sharp). `palette`: 256-colour
 * quantised PNG, about a third of the size, for picture grids committed to docs.
 */
export async function writeSvgPng(svg: string, file: string, o: { palette?: boolean } = {}): Promise<void> {
  try {
    await sharp(Buffer.from(svg)).png(o.palette ? { palette: true, quality: 90, effort: 8 } : {}).toFile(file);
  } catch (e) {
    throw new PieError('output', `cannot write ${file}: ${messageOf(e)}`, 'check the output folder exists and is writable', { cause: e });
  }
}

export interface ClaheOptions {
  /** Window width in pixels (default an eighth of the image width; clamped to the image). */
  readonly width?: number;
  /** Window height in pixels (default an eighth of the image height; clamped to the image). */
  readonly height?: number;
  /** Cap on the cumulative histogram's slope, the most a region is brightened; 0 = plain AHE (default 3). */
  readonly maxSlope?: number;
}

/**
 * Contrast-limited adaptive histogram equalisation by libvips (sharp's clahe(), vips_hist_local):
 * a sliding window centred on each pixel (edges mirrored), not OpenCV's interpolated tiles, and
 * each band equalised on its own — on RGB that shifts hues, so callers wanting luminance-only
 * CLAHE pass a grey image (R = G = B) and recombine colour themselves.
 */
export async function claheImage(img: RgbImage, o: ClaheOptions = {}): Promise<RgbImage> {
  const clampSide = (v: number | undefined, side: number): number => Math.max(1, Math.min(side, Math.round(v ?? side / 8)));
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .clahe({ width: clampSide(o.width, img.width), height: clampSide(o.height, img.height), maxSlope: o.maxSlope ?? 3 })
    .raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== img.width || info.height !== img.height) throw new Error(`clahe: got ${info.width}x${info.height}x${info.channels}`);
  return { width: img.width, height: img.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
