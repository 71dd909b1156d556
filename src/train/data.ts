// Training data: folders of unpaired images sampled as random square crops with random
// left–right flips, deterministic for a seed. Unreadable files and images smaller than the crop
// are skipped and counted, never fatal, unless nothing usable is left.
import fs from 'node:fs';
import path from 'node:path';
import { PieError, messageOf } from '../errors.js';
import { imageSize, isImagePath, readImageCrop } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import type { Rng } from './boc.js';

export interface SkipCounts { unreadable: number; tooSmall: number }

export function listImages(dir: string, what: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir, { recursive: true }).map(String);
  } catch (e) {
    throw new PieError('input', `${what} folder ${dir} cannot be read: ${messageOf(e)}`, `pass an existing folder of images to --${what}`);
  }
  const files = entries.filter(isImagePath).sort().map((f) => path.join(dir, f));
  if (files.length === 0) throw new PieError('input', `${what} folder ${dir} has no images (jpg, png, bmp, webp)`, `put images in it or point --${what} elsewhere`);
  return files;
}

/** Samples crops from a list of files. Sizes are read once per file (header only) and cached. */
export class CropSampler {
  private readonly sizes = new Map<string, { width: number; height: number } | null>();
  readonly skipped: SkipCounts = { unreadable: 0, tooSmall: 0 };
  private readonly bad = new Set<string>();

  constructor(readonly files: readonly string[], readonly crop: number, private readonly what: string) {}

  private async size(file: string): Promise<{ width: number; height: number } | null> {
    if (!this.sizes.has(file)) {
      try {
        this.sizes.set(file, await imageSize(file));
      } catch {
        this.sizes.set(file, null);
      }
    }
    return this.sizes.get(file)!;
  }

  private skip(file: string, why: keyof SkipCounts): void {
    if (this.bad.has(file)) return;
    this.bad.add(file);
    this.skipped[why]++;
  }

  /** `n` crops; all randomness (file, position, flip) comes from `rng`, so a step is reproducible. */
  async sample(n: number, rng: Rng): Promise<RgbImage[]> {
    const out: RgbImage[] = [];
    while (out.length < n) {
      if (this.bad.size >= this.files.length) {
        throw new PieError('input', `no usable ${this.what} images: ${this.skipped.unreadable} unreadable, ${this.skipped.tooSmall} smaller than the ${this.crop}px crop`,
          `use a smaller --crop or add images at least ${this.crop}×${this.crop}`);
      }
      const file = this.files[Math.floor(rng() * this.files.length)]!;
      if (this.bad.has(file)) continue;
      const s = await this.size(file);
      if (!s) { this.skip(file, 'unreadable'); continue; }
      if (s.width < this.crop || s.height < this.crop) { this.skip(file, 'tooSmall'); continue; }
      const left = Math.floor(rng() * (s.width - this.crop + 1));
      const top = Math.floor(rng() * (s.height - this.crop + 1));
      const flip = rng() < 0.5;
      try {
        out.push(await readImageCrop(file, { left, top, size: this.crop, flip }));
      } catch {
        this.skip(file, 'unreadable');
      }
    }
    return out;
  }
}

/** Packed RGB crops → float NCHW in [0,1], the layout the training graph takes. */
export function toNchw(images: readonly RgbImage[]): Float32Array {
  const { width: w, height: h } = images[0]!;
  const plane = w * h;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((img, n) => {
    const base = n * 3 * plane;
    for (let p = 0; p < plane; p++) {
      out[base + p] = img.data[p * 3]! / 255;
      out[base + plane + p] = img.data[p * 3 + 1]! / 255;
      out[base + 2 * plane + p] = img.data[p * 3 + 2]! / 255;
    }
  });
  return out;
}

/** Float NCHW [0,1] (one image of a batch) → packed RGB bytes, for segmentation and previews. */
export function fromNchw(data: Float32Array, index: number, width: number, height: number): RgbImage {
  const plane = width * height;
  const base = index * 3 * plane;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(Math.min(1, Math.max(0, data[base + c * plane + p]!)) * 255);
  }
  return { width, height, data: out };
}
