// Splits SICE part 1 (../shared/data/train/sice, mixed exposures) into low-light inputs and
// normal-light positives by exposure, and writes them resized for training:
//   npx tsx scripts/split-sice.ts ../shared/data/train/sice out/sice [size=256]
// Rule: the mean of RGB/255 over a 32×32 thumbnail; below 0.2 → low/, 0.4–0.6 → normal/, the rest
// (in between, or over-exposed) unused. Resized to `size` on the long side (JPEG q90): DCE-Net sees
// 128-px crops, and a smaller image puts more of the scene in each crop (Zero-DCE trains at 256²).
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const [src, dst, sizeArg = '256'] = process.argv.slice(2);
if (!src || !dst) throw new Error('usage: npx tsx scripts/split-sice.ts <sice dir> <out dir> [size]');
const size = Number(sizeArg);
const counts = { low: 0, normal: 0, unused: 0 };
for (const d of ['low', 'normal']) fs.mkdirSync(path.join(dst, d), { recursive: true });
for (const f of fs.readdirSync(src).filter((x) => /\.(jpe?g|png)$/i.test(x)).sort()) {
  const file = path.join(src, f);
  const thumb = await sharp(file).removeAlpha().resize(32, 32, { fit: 'fill' }).raw().toBuffer();
  const mean = thumb.reduce((s, v) => s + v, 0) / thumb.length / 255;
  const to = mean < 0.2 ? 'low' : mean >= 0.4 && mean <= 0.6 ? 'normal' : undefined;
  if (!to) { counts.unused++; continue; }
  counts[to]++;
  await sharp(file).resize(size, size, { fit: 'inside' }).jpeg({ quality: 90 }).toFile(path.join(dst, to, f.replace(/\.\w+$/, '.jpg')));
}
console.log(`${counts.low} low-light inputs, ${counts.normal} normal-light positives, ${counts.unused} unused → ${dst}`);
