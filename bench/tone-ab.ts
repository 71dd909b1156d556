// npm run bench -- tone-ab --baseline DIR [--lowlight DIR] [--images DIR] [--photos N] [--runs N]
// This checkout's enhancer against another build of the project (DIR: a checkout with dist/ built,
// e.g. `git archive main | tar -x -C /tmp/main && ln -s $PWD/node_modules /tmp/main/ && (cd /tmp/main
// && npm run build)`), both in this process, timed alternately: CPU time a frame on 1 thread
// (preemption by other load does not count, so it holds on a shared machine) and wall time on all
// cores (min and median: the min is the figure, the machine permitting). Then PSNR of this
// checkout's output against the baseline's on the bench frame, real low-light photos and any images
// in --images (an IR frame there is run as mono if its name contains "ir"). Default exposure
// ('auto'), value form, exact curves. Writes bench/results/tone-ab.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Enhancer } from '../src/enhance/enhancer.js';
import { psnr } from '../src/eval/metrics.js';
import { isImagePath, readImage } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';
import { darkFrame } from './frames.js';
import { describeMachine, machine } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const baselineDir = arg('baseline');
if (!baselineDir) {
  console.error('usage: npm run bench -- tone-ab --baseline DIR (a checkout of the project with dist/ built)');
  process.exit(2);
}
const lowlight = arg('lowlight', path.resolve(here, '../../shared/data/lowlight'))!;
const extraImages = arg('images');
const maxPhotos = Number(arg('photos', '12'));
const runs = Number(arg('runs', '15'));
const modelPath = path.resolve(here, '../models/pie-base.onnx');
const SIZES = [[640, 360], [1280, 720], [1920, 1080]] as const;
const SCALES = [8, 4];

type EnhancerModule = typeof import('../src/enhance/enhancer.js');
const base = (await import(pathToFileURL(path.resolve(baselineDir, 'dist/enhance/enhancer.js')).href)) as EnhancerModule;
const sides = [['baseline', base.Enhancer], ['this', Enhancer]] as const;

const m = machine();
console.log(`machine: ${describeMachine(m)}\nbaseline: ${path.resolve(baselineDir)}\nmodel: ${modelPath}\n`);

interface Times { cpuMin: number; cpuMedian: number; wallMin: number; wallMedian: number }
const stats = (xs: number[]): [number, number] => {
  const s = [...xs].sort((a, b) => a - b);
  return [+s[0]!.toFixed(1), +s[s.length >> 1]!.toFixed(1)];
};

/** CPU ms (1 thread, no spinning) and wall ms (all cores) a frame, both sides alternating. */
async function time(frame: RgbImage, k: number): Promise<Times[]> {
  const cpu = await Promise.all(sides.map(([, E]) => E.open({ modelPath, downscale: k, provider: 'cpu', threads: 1, spin: false })));
  const wall = await Promise.all(sides.map(([, E]) => E.open({ modelPath, downscale: k, provider: 'cpu' })));
  const c: number[][] = sides.map(() => []), w: number[][] = sides.map(() => []);
  for (const e of [...cpu, ...wall]) await e.enhance([frame]);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < sides.length; i++) {
      const u = process.cpuUsage();
      await cpu[i]!.enhance([frame]);
      const d = process.cpuUsage(u);
      c[i]!.push((d.user + d.system) / 1000);
      const t = performance.now();
      await wall[i]!.enhance([frame]);
      w[i]!.push(performance.now() - t);
    }
  }
  await Promise.all([...cpu, ...wall].map((e) => e.close()));
  return sides.map((_, i) => {
    const [cpuMin, cpuMedian] = stats(c[i]!);
    const [wallMin, wallMedian] = stats(w[i]!);
    return { cpuMin, cpuMedian, wallMin, wallMedian };
  });
}

console.log(`speed: ms a frame, batch 1, ${runs} runs each side alternating; CPU = 1 thread, wall = ${m.cores} threads`);
console.log('size        scale  CPU min base → this   wall min base → this   wall median base → this   CPU ratio');
const speed: Array<{ width: number; height: number; scale: string; baseline: Times; this: Times; cpuSpeedup: number; wallSpeedup: number }> = [];
for (const [w, h] of SIZES) {
  for (const k of SCALES) {
    const [b, t] = await time(darkFrame(w, h), k) as [Times, Times];
    const row = { width: w, height: h, scale: `1/${k}`, baseline: b, this: t, cpuSpeedup: +(b.cpuMin / t.cpuMin).toFixed(2), wallSpeedup: +(b.wallMin / t.wallMin).toFixed(2) };
    speed.push(row);
    console.log(`${`${w}x${h}`.padEnd(11)} ${row.scale.padStart(5)}  ${`${b.cpuMin} → ${t.cpuMin}`.padStart(18)}   ${`${b.wallMin} → ${t.wallMin}`.padStart(18)}   ${`${b.wallMedian} → ${t.wallMedian}`.padStart(22)}   ${row.cpuSpeedup.toFixed(2).padStart(8)}x`);
  }
}

// Quality: this checkout's output against the baseline's, still frames and with a carried exposure.
const named: Array<[string, RgbImage, boolean]> = [['bench dark frame 1280x720', darkFrame(1280, 720), false]];
const files = fs.existsSync(lowlight) ? fs.readdirSync(lowlight, { recursive: true }).map(String).filter(isImagePath).sort() : [];
const step = Math.max(1, Math.floor(files.length / maxPhotos));
for (const f of files.filter((_, i) => i % step === 0).slice(0, maxPhotos)) named.push([f, await readImage(path.join(lowlight, f)), false]);
if (extraImages && fs.existsSync(extraImages)) {
  for (const f of fs.readdirSync(extraImages).filter(isImagePath).sort()) named.push([f, await readImage(path.join(extraImages, f)), /(^|[^a-z])ir([^a-z]|$)/i.test(f)]);
}
if (files.length === 0) console.log(`\n(no photos under ${lowlight}: the bench frame${extraImages ? ' and --images' : ''} only)`);
const quality: Array<{ image: string; scale: string; mono: boolean; psnrStill: number; psnrCarried: number }> = [];
console.log(`\nquality: PSNR (dB, 99 = identical) of this checkout's output against the baseline's`);
for (const k of SCALES) {
  const es = await Promise.all(sides.map(([, E]) => E.open({ modelPath, downscale: k })));
  for (const [name, img, mono] of named) {
    const p = async (exposureState?: number): Promise<number> => {
      const [a, b] = await Promise.all(es.map(async (e) => (await e.enhance([img], [{ mono, ...(exposureState ? { exposureState } : {}) }])).frames[0]!));
      return +Math.min(99, psnr(b!, { ...a!, data: new Uint8Array(a!.data) })).toFixed(2);
    };
    const row = { image: name, scale: `1/${k}`, mono, psnrStill: await p(), psnrCarried: await p(0.3) };
    quality.push(row);
    console.log(`  1/${k} ${name.padEnd(34)} ${mono ? 'mono ' : ''}still ${row.psnrStill.toFixed(2)}  carried exposure ${row.psnrCarried.toFixed(2)}`);
  }
  await Promise.all(es.map((e) => e.close()));
}
const all = quality.flatMap((q) => [q.psnrStill, q.psnrCarried]);
console.log(`  min ${Math.min(...all).toFixed(2)} dB, mean ${(all.reduce((s, x) => s + x, 0) / all.length).toFixed(2)} dB over ${all.length} outputs`);
const out = path.join(here, 'results', 'tone-ab.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, baseline: path.resolve(baselineDir), runs, speed, quality }, null, 1));
console.log(`\nwrote ${out}`);
