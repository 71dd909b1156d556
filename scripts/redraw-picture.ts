// npx tsx scripts/redraw-picture.ts OUT.png   (after `npm run bench -- false-faces --path live`, which caches the frames)
// What the still gate (src/detect/static-scene.ts) takes for change in a frame, with and without the
// re-draw rule (StaticSceneOptions.refreshSpread; the first panel also without followLight, as session 11's gate): the IR clip's encoder refresh at 5 s (frame 25 of
// the 5-fps frames the live gate is fed) and the night walk's person close to the camera (frame 92,
// a re-draw for the rule at 0.3 of the blocks, not at the default 0.5). Red: cells marked changed;
// the frame 2× brightened underneath. The frames are the live path's denoised ones, cached by the bench.
import fs from 'node:fs';
import path from 'node:path';
import { StaticScene, type StaticSceneOptions } from '../src/detect/static-scene.js';
import { encodeImage, writeSvgPng } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';

const outFile = process.argv[2];
if (!outFile) throw new Error('usage: npx tsx scripts/redraw-picture.ts OUT.png');
const cache = path.resolve('out/false-faces/live');
/** A clip's cached denoised frames and their size (from the bench's meta file beside them). */
const cached = (stem: string): { file: string; width: number; height: number } => {
  const meta = path.join(cache, `${stem}.denoised.meta.json`);
  if (!fs.existsSync(meta)) throw new Error(`${meta} is missing: run npm run bench -- false-faces --path live first`);
  const { width, height } = JSON.parse(fs.readFileSync(meta, 'utf8')) as { width: number; height: number };
  return { file: path.join(cache, `${stem}.denoised.rgb`), width, height };
};
const clips = { ir: cached('ir_cctv_night_65s'), walk: cached('person_walking_night_1080p') };
const panels: Array<{ clip: keyof typeof clips; frame: number; o: StaticSceneOptions; label: string }> = [
  { clip: 'ir', frame: 25, o: { refreshSpread: 0, followLight: false }, label: 'IR clip at 5 s, an encoder refresh; session 11\'s gate' },
  { clip: 'ir', frame: 25, o: {}, label: 'the same frame, the re-draw rule (default 0.5)' },
  { clip: 'walk', frame: 92, o: {}, label: 'night walk, frame 92, default' },
  { clip: 'walk', frame: 92, o: { refreshSpread: 0.3 }, label: 'the rule at 0.3: dense cells only' },
];
const W = 480;
const parts: string[] = [];
let y = 0;
for (const [k, p] of panels.entries()) {
  const c = clips[p.clip];
  const bytes = c.width * c.height * 3, fd = fs.openSync(c.file, 'r'), buf = Buffer.alloc(bytes);
  const s = new StaticScene(p.o);
  let before = 0;
  for (let j = 0; j <= p.frame; j++) {
    fs.readSync(fd, buf, 0, bytes, j * bytes);
    before = s.refreshes;
    s.update({ width: c.width, height: c.height, data: buf }, j * 200);
  }
  fs.closeSync(fd);
  const changed = s.changedNow(), g = s.grid, H = Math.round((W * c.height) / c.width), k2 = W / c.width;
  const shown: RgbImage = { width: c.width, height: c.height, data: Uint8Array.from(buf, (v) => Math.min(255, 2 * v)) };
  const png = Buffer.from(await encodeImage(shown, 'x.png')).toString('base64');
  const x0 = (k % 2) * (W + 8), y0 = y + 22;
  let n = 0;
  const cells: string[] = [];
  for (let i = 0; i < changed.length; i++) {
    if (!changed[i]) continue;
    n++;
    const cx = (i % g.width) * g.cell * k2, cy = Math.floor(i / g.width) * g.cell * k2;
    cells.push(`<rect x="${(x0 + cx).toFixed(1)}" y="${(y0 + cy).toFixed(1)}" width="${(g.cell * k2).toFixed(1)}" height="${(g.cell * k2).toFixed(1)}" fill="#f00" fill-opacity="0.7"/>`);
  }
  const tag = s.refreshes > before ? 'a re-draw' : 'no re-draw';
  parts.push(`<text x="${x0}" y="${y0 - 6}" fill="#fff">${p.label}: ${tag}, ${n} cells changed</text>`,
    `<image x="${x0}" y="${y0}" width="${W}" height="${H}" xlink:href="data:image/png;base64,${png}"/>`, ...cells);
  if (k % 2 === 1) y = y0 + H + 8;
}
const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${2 * W + 8}" height="${y}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="#222"/>${parts.join('')}</svg>`;
await writeSvgPng(svg, outFile);
console.log(outFile);
