import { afterAll, describe, expect, it } from 'vitest';
import { CurveApplier } from '../../src/enhance/apply-graph.js';
import { Enhancer } from '../../src/enhance/enhancer.js';
import type { RgbImage } from '../../src/image/types.js';
import { randomWeights } from './reference.js';

function scene(w: number, h: number, seed: number): RgbImage {
  const d = new Uint8Array(w * h * 3);
  let s = seed;
  for (let i = 0; i < d.length; i++) {
    s = (s * 16807) % 2147483647;
    const p = Math.floor(i / 3), x = p % w, y = Math.floor(p / w);
    d[i] = Math.min(255, 8 + ((x * 3 + y * 2) % 40) + (s % 9));
  }
  return { width: w, height: h, data: d };
}

describe('CurveApplier', () => {
  const open: { close(): Promise<void> }[] = [];
  afterAll(async () => { for (const o of open) await o.close(); });

  for (const k of [1, 4, 3]) {
    it(`applies an Enhancer's own curves to the same bytes as the Enhancer (1/${k}, odd sizes, batch 2)`, async () => {
      const weights = randomWeights(7);
      const enhancer = await Enhancer.open({ weights, downscale: k, curvesOutput: true, threads: 1 });
      const applier = await CurveApplier.open({ downscale: k, threads: 1 });
      open.push(enhancer, applier);
      const frames = [scene(37, 22, 1), scene(37, 22, 2)];
      const e = await enhancer.enhance(frames);
      const a = await applier.apply(frames, e.curves!);
      expect(a).toHaveLength(2);
      for (let i = 0; i < 2; i++) expect(Buffer.from(a[i]!.data).equals(Buffer.from(e.frames[i]!.data))).toBe(true);
    });
  }

  it('rejects curve maps that do not fit the frames', async () => {
    const applier = await CurveApplier.open({ downscale: 4, threads: 1 });
    open.push(applier);
    const f = scene(16, 8, 1);
    await expect(applier.apply([f], { dims: [1, 24, 2, 2], data: new Float32Array(96) })).rejects.toThrow(/expected \[1,24,2,4\]/);
  });
});

describe("the curves-only enhancer (the region cache's first half)", () => {
  it('estimates the same curves as the full graph, and refuses to enhance', async () => {
    const weights = randomWeights(5);
    const full = await Enhancer.open({ weights, downscale: 4, curvesOutput: true, threads: 1 });
    const only = await Enhancer.open({ weights, downscale: 4, curvesOutput: 'only', threads: 1 });
    const frames = [scene(40, 24, 1), scene(40, 24, 2)];
    const a = (await full.enhance(frames)).curves!;
    const b = await only.estimateCurves(frames);
    expect(b.dims).toEqual(a.dims);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    await expect(only.enhance(frames)).rejects.toThrow(/use estimateCurves/);
    await full.close();
    await only.close();
  });
});
