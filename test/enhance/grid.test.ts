// The 'grid' curve application (src/enhance/grid-kernel.ts, tone-grid.ts): its JavaScript passes
// against the ONNX ops they stand in for (AveragePool, the Immerkær σ, Resize half_pixel) run in a
// real session, its application against known tables, and the whole enhancer against the exact form.
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PATH, Enhancer } from '../../src/enhance/enhancer.js';
import { applyGrid, gridConstants, gridLevels, halfPixelAxis, measureFrame, sampleSize, smallSize } from '../../src/enhance/grid-kernel.js';
import { openSession, ort } from '../../src/enhance/session.js';
import { addDownscale, addLuma, addNoiseSigma } from '../../src/enhance/tone.js';
import { psnr } from '../../src/eval/metrics.js';
import type { RgbImage } from '../../src/image/types.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { darkImage } from '../helpers/media.js';

/** A seeded frame whose sides are not multiples of the downscale (edge windows are partial). */
function frame(width: number, height: number, seed: number): RgbImage {
  let s = seed;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) % 2 ** 31) % 97 + (i % 5) * 30;
  return { width, height, data };
}

describe('the measuring pass against the ops it replaces', () => {
  it('gives the box downscale, the stride-4 sample and the noise σ the exact graph computes', async () => {
    const [W, H, k] = [37, 23, 4];
    const img = frame(W, H, 5);
    const b = new GraphBuilder('measure_probe');
    const x = b.input('x', 'float32', [1, 3, H, W]);
    b.output(addDownscale(b, x, k), 'float32', [1, 3, smallSize(H, k), smallSize(W, k)], 'small');
    b.output(b.op('Reshape', [addNoiseSigma(b, addLuma(b, x)), b.ints([-1])]), 'float32', [1], 'sigma');
    const { session } = await openSession(b.toBytes(), 'cpu');
    const planar = new Float32Array(3 * W * H);
    for (let p = 0; p < W * H; p++) for (let c = 0; c < 3; c++) planar[c * W * H + p] = img.data[p * 3 + c]! / 255;
    const out = await session.run({ x: new ort.Tensor('float32', planar, [1, 3, H, W]) });
    await session.release();
    const m = measureFrame(img.data, W, H, k);
    const small = out.small!.data as Float32Array;
    expect(m.small.length).toBe(small.length);
    for (let i = 0; i < small.length; i++) expect(m.small[i]).toBeCloseTo(small[i]!, 5);
    expect(m.sigma).toBeGreaterThan(0.01);
    expect(m.sigma).toBeCloseTo((out.sigma!.data as Float32Array)[0]!, 5);
    const [ws, hs] = [sampleSize(W), sampleSize(H)];
    for (let y = 0; y < hs; y++) for (let xx = 0; xx < ws; xx++) for (let c = 0; c < 3; c++) {
      expect(m.sample[c * ws * hs + y * ws + xx]).toBeCloseTo(img.data[(4 * y * W + 4 * xx) * 3 + c]! / 255, 6);
    }
  });

  it('places full-resolution pixels between cells as ONNX Resize linear half_pixel does', async () => {
    const [h, w, H, W] = [5, 7, 37, 53];
    const b = new GraphBuilder('resize_probe');
    const x = b.input('x', 'float32', [1, 1, h, w]);
    b.output(b.op('Resize', [x, '', '', b.ints([1, 1, H, W])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }), 'float32', [1, 1, H, W], 'y');
    const { session } = await openSession(b.toBytes(), 'cpu');
    const small = Float32Array.from({ length: h * w }, (_, i) => Math.sin(i * 1.7) * 3);
    const y = (await session.run({ x: new ort.Tensor('float32', small, [1, 1, h, w]) })).y!.data as Float32Array;
    await session.release();
    const rows = halfPixelAxis(H, h), cols = halfPixelAxis(W, w);
    const at = (r: number, c: number): number => small[r * w + c]!;
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
      const top = at(rows.lo[i]!, cols.lo[j]!) * (1 - cols.f[j]!) + at(rows.lo[i]!, cols.hi[j]!) * cols.f[j]!;
      const bottom = at(rows.hi[i]!, cols.lo[j]!) * (1 - cols.f[j]!) + at(rows.hi[i]!, cols.hi[j]!) * cols.f[j]!;
      expect(top * (1 - rows.f[i]!) + bottom * rows.f[i]!).toBeCloseTo(y[i * W + j]!, 5);
    }
  });
});

describe('the application pass', () => {
  const [W, H, k, K] = [45, 29, 8, 17];
  const [h, w] = [smallSize(H, k), smallSize(W, k)];
  const levels = gridLevels(K);
  const constants = gridConstants(levels, { highlightKeep: 0.035, epsV: 1e-4, darkChroma: 0.2 });

  it('returns the frame unchanged through identity curves', () => {
    const img = frame(W, H, 9);
    const table = new Float32Array(h * w * K);
    for (let c = 0; c < h * w; c++) table.set(levels, c * K);
    const out = new Uint8Array(img.data.length);
    applyGrid(img.data, out, W, H, { table, signal: new Float32Array(h * w).fill(1), h, w, mono: false }, constants, 8, 0.25);
    expect(Array.from(out)).toEqual(Array.from(img.data));
  });

  it('lifts where the curves lift, not where the SNR weight is 0, and an IR frame comes out exactly grey', () => {
    const img = frame(W, H, 11);
    const table = new Float32Array(h * w * K);
    for (let c = 0; c < h * w; c++) for (let j = 0; j < K; j++) table[c * K + j] = Math.sqrt(levels[j]!);
    const signal = Float32Array.from({ length: h * w }, (_, c) => (c % w < w / 2 ? 0 : 1));
    const out = new Uint8Array(img.data.length);
    applyGrid(img.data, out, W, H, { table, signal, h, w, mono: false }, constants, 8, 0.25);
    let lifted = 0, kept = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 3;
      if (x < 12 && out[p] === img.data[p] && out[p + 1] === img.data[p + 1]) kept++;
      if (x > W - 12 && out[p]! + out[p + 1]! + out[p + 2]! > img.data[p]! + img.data[p + 1]! + img.data[p + 2]!) lifted++;
    }
    expect(kept).toBe(12 * H); // the left cells' weight is 0 and no interpolation reaches x < 12
    expect(lifted).toBeGreaterThan(0.9 * 11 * H);
    applyGrid(img.data, out, W, H, { table, signal, h, w, mono: true }, constants, 8, 0.25);
    for (let p = 0; p < out.length; p += 3) expect(out[p] === out[p + 1] && out[p] === out[p + 2]).toBe(true);
  });
});

describe('the grid enhancer against the exact one on the shipped model', () => {
  const open: Enhancer[] = [];
  afterAll(async () => { await Promise.all(open.map((e) => e.close())); });

  it('stays above 45 dB against the exact application at 1/4 and 1/8, with the same exposure decisions', async () => {
    const img = darkImage(256, 144, 7);
    for (const downscale of [4, 8]) {
      const [exact, grid] = await Promise.all((['exact', 'grid'] as const).map(async (curveApply) => {
        const e = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale, curveApply, threads: 1 });
        open.push(e);
        return e.enhance([img]);
      }));
      expect(psnr(grid!.frames[0]!, exact!.frames[0]!), `1/${downscale}`).toBeGreaterThan(45);
      expect(psnr(exact!.frames[0]!, img)).toBeLessThan(25); // the frame was really changed
      const [a, b] = [exact!.tone[0]!, grid!.tone[0]!];
      expect(b.exposure).toBeCloseTo(a.exposure, 4);
      expect(b.strength).toBe(a.strength);
      expect(b.gamma).toBeCloseTo(a.gamma, 2);
    }
  });

  it('gives an IR frame exactly grey, and refuses what it cannot do with the fix in the message', async () => {
    const e = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 8, curveApply: 'grid', threads: 1 });
    open.push(e);
    const img = darkImage(96, 64, 3);
    const out = (await e.enhance([img], [{ mono: true }])).frames[0]!;
    for (let p = 0; p < out.data.length; p += 3) expect(out.data[p] === out.data[p + 1] && out.data[p] === out.data[p + 2]).toBe(true);
    await expect(Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 1, curveApply: 'grid' })).rejects.toThrow(/downscale ≥ 2/);
    await expect(Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 8, curveApply: 'grid', form: 'rgb' })).rejects.toThrow(/value form/);
  });
});
