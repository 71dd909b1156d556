// npx tsx scripts/curve-grid-picture.ts [LOWLIGHT_DIR]
// docs/quality/curve-grid-vs-exact.png: on three real low-light photos, the crop where the curve
// grid (WebAssembly, the live default on the CPU) and the exact 8-iteration application differ
// most, side by side with the difference ×32. Curves at 1/8 as live.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Enhancer } from '../src/enhance/enhancer.js';
import { readImage } from '../src/image/io.js';
import { writeGrid } from '../src/eval/report.js';
import { psnr } from '../src/eval/metrics.js';
import type { RgbImage } from '../src/image/types.js';
const here = path.dirname(fileURLToPath(import.meta.url));
const lowlight = process.argv[2] ?? path.resolve(here, '../../shared/data/lowlight');
const files = ['dicm/30.jpg', 'dicm/01.jpg', 'lime/1.bmp'];
const crop = (img: RgbImage, cx: number, cy: number, s: number): RgbImage => { const d = new Uint8Array(s * s * 3); const x0 = Math.max(0, Math.min(img.width - s, Math.round(cx - s / 2))), y0 = Math.max(0, Math.min(img.height - s, Math.round(cy - s / 2))); for (let y = 0; y < s; y++) d.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + s) * 3), y * s * 3); return { width: s, height: s, data: d }; };
const ex = await Enhancer.open({ downscale: 8 }), gr = await Enhancer.open({ downscale: 8, curveApply: 'grid' });
const rows: RgbImage[][] = [];
for (const f of files) {
  let img: RgbImage;
  try { img = await readImage(path.join(lowlight, f)); } catch { continue; }
  const a = (await ex.enhance([img])).frames[0]!, b = (await gr.enhance([img])).frames[0]!;
  // The crop where the two differ most (a 176 px window around the largest difference).
  let worst = 0, at = 0; for (let i = 0; i < a.data.length; i++) { const d = Math.abs(a.data[i]! - b.data[i]!); if (d > worst) { worst = d; at = i; } }
  const p = Math.floor(at / 3), cx = p % img.width, cy = Math.floor(p / img.width);
  const diff = { width: img.width, height: img.height, data: a.data.map((v, i) => Math.min(255, 32 * Math.abs(v - b.data[i]!))) };
  console.log(f, img.width, img.height, 'psnr', psnr(b, a).toFixed(2), 'max diff', worst, 'at', cx, cy);
  rows.push([crop(img, cx, cy, 176), crop(a, cx, cy, 176), crop(b, cx, cy, 176), crop(diff, cx, cy, 176)]);
}
await writeGrid(path.resolve(here, '../docs/quality/curve-grid-vs-exact.png'), ['input', 'exact (8 iterations)', 'grid (WebAssembly)', '|difference| × 32'], rows);
await ex.close(); await gr.close();
