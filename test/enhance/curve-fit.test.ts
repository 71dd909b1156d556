// The fitted-polynomial curve application (src/enhance/curve-fit.ts) against the exact 8 iterations.
import { afterAll, describe, expect, it } from 'vitest';
import { curveLevels, fitMatrix } from '../../src/enhance/curve-fit.js';
import { DEFAULT_MODEL_PATH, Enhancer } from '../../src/enhance/enhancer.js';
import { psnr } from '../../src/eval/metrics.js';
import { darkImage } from '../helpers/media.js';

describe('the polynomial fit', () => {
  it('recovers a curve of its own form exactly from the samples', () => {
    const levels = curveLevels();
    const c = [0.9, -1.3, 2.1, -0.7, 0.4];
    const r = Array.from(levels, (v) => v * (1 - v) * c.reduceRight((acc, cj) => cj + v * acc, 0));
    const p = fitMatrix(levels);
    expect(p.length).toBe(c.length * levels.length);
    for (let j = 0; j < c.length; j++) {
      let s = 0;
      for (let i = 0; i < levels.length; i++) s += p[j * levels.length + i]! * r[i]!;
      expect(s).toBeCloseTo(c[j]!, 6);
    }
  });

  it('samples denser near black, inside (0, 1)', () => {
    const l = curveLevels();
    expect(l[0]).toBeGreaterThan(0);
    expect(l.at(-1)).toBeLessThan(1);
    expect(l[1]! - l[0]!).toBeLessThan(l.at(-1)! - l.at(-2)!);
  });
});

describe('fitted against exact on the shipped model', () => {
  const open: Enhancer[] = [];
  afterAll(async () => { await Promise.all(open.map((e) => e.close())); });

  it('stays above 40 dB against the exact application at 1/4 and 1/8, lifting the same', async () => {
    const img = darkImage(256, 144, 7);
    for (const downscale of [4, 8]) {
      const [exact, fitted] = await Promise.all((['exact', 'fitted'] as const).map(async (curveApply) => {
        const e = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale, curveApply, threads: 1 });
        open.push(e);
        return (await e.enhance([img])).frames[0]!;
      }));
      expect(psnr(fitted!, exact!), `1/${downscale}`).toBeGreaterThan(40);
      expect(psnr(exact!, img)).toBeLessThan(25); // the frame was really changed
    }
  });
});
