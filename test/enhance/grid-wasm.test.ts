// The WebAssembly build of the grid's passes (native/grid-kernel.c via src/enhance/grid-wasm.ts)
// against the TypeScript reference (grid-kernel.ts, itself pinned to the ONNX ops in
// grid.test.ts): the same measurements, the same bytes within one level of rounding, at sizes
// that are not multiples of 4 or of the cell size, and a committed .wasm that its source rebuilds.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PATH, Enhancer } from '../../src/enhance/enhancer.js';
import { applyGrid, gridConstants, gridLevels, measureFrame, smallSize } from '../../src/enhance/grid-kernel.js';
import { GRID_WASM_PATH, GridWasm } from '../../src/enhance/grid-wasm.js';
import { psnr } from '../../src/eval/metrics.js';
import type { RgbImage } from '../../src/image/types.js';
import { darkImage } from '../helpers/media.js';

function frame(width: number, height: number, seed: number): RgbImage {
  let s = seed;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) % 2 ** 31) % 97 + (i % 5) * 30;
  return { width, height, data };
}

/** Curves that lift by different amounts cell to cell, and an SNR weight that varies. */
function tables(h: number, w: number, K: number, levels: Float32Array): { table: Float32Array; signal: Float32Array } {
  const table = new Float32Array(h * w * K);
  for (let c = 0; c < h * w; c++) for (let j = 0; j < K; j++) table[c * K + j] = Math.min(1, levels[j]! ** (0.3 + 0.6 * ((c * 7) % 11) / 10));
  const signal = Float32Array.from({ length: h * w }, (_, c) => 0.5 + 0.5 * Math.cos(c));
  return { table, signal };
}

const kernel = GridWasm.create();

describe('the WebAssembly grid passes', () => {
  it('load from the committed module', () => {
    expect(fs.existsSync(GRID_WASM_PATH)).toBe(true);
    expect(kernel).toBeDefined();
  });

  it('measure a frame as the reference does: the same box means and sample, the same σ', () => {
    for (const [W, H, k] of [[37, 23, 4], [641, 363, 8], [64, 32, 2]] as const) {
      const img = frame(W, H, W);
      const a = measureFrame(img.data, W, H, k), b = kernel!.measure(img.data, W, H, k);
      expect(Array.from(b.small), `${W}x${H} 1/${k}`).toEqual(Array.from(a.small));
      expect(Array.from(b.sample)).toEqual(Array.from(a.sample));
      expect(b.sigma).toBeGreaterThan(0.01);
      expect(Math.abs(b.sigma - a.sigma) / a.sigma).toBeLessThan(1e-5);
    }
  });

  it('apply the tone as the reference does, within one level, for every closed-form saturation, colour and IR', () => {
    const levels = gridLevels(17);
    const constants = gridConstants(levels, { highlightKeep: 0.035, epsV: 1e-4, darkChroma: 0.2 });
    let bytes = 0, differing = 0, changed = 0;
    for (const [W, H, k] of [[45, 29, 8], [1283, 7, 4], [256, 144, 8]] as const) {
      const img = frame(W, H, H);
      const [h, w] = [smallSize(H, k), smallSize(W, k)];
      const t = tables(h, w, 17, levels);
      for (const saturation of [0.25, 0.5, 1, 0]) for (const mono of [false, true]) {
        expect(GridWasm.handles(saturation)).toBe(true);
        const g = { ...t, h, w, mono };
        const ref = new Uint8Array(img.data.length), got = new Uint8Array(img.data.length).fill(7);
        applyGrid(img.data, ref, W, H, g, constants, 8, saturation);
        kernel!.apply(img.data, got, W, H, g, constants, 8, saturation);
        let worst = 0;
        for (let i = 0; i < ref.length; i++) {
          const d = Math.abs(ref[i]! - got[i]!);
          worst = Math.max(worst, d);
          if (d) differing++;
          if (ref[i] !== img.data[i]) changed++;
        }
        expect(worst, `${W}x${H} saturation ${saturation} mono ${mono}`).toBeLessThanOrEqual(1);
        bytes += ref.length;
        if (mono) for (let p = 0; p < got.length; p += 3) expect(got[p] === got[p + 1] && got[p] === got[p + 2]).toBe(true);
      }
    }
    expect(changed / bytes).toBeGreaterThan(0.5); // the curves really moved the frame
    expect(differing / bytes).toBeLessThan(1e-3); // float32 against the reference's float64: rare ties
    expect(GridWasm.handles(0.3)).toBe(false);
  });

  it('grows its memory for a larger frame and stays right on a smaller one after it', () => {
    const levels = gridLevels(17);
    const constants = gridConstants(levels, { highlightKeep: 0.035, epsV: 1e-4, darkChroma: 0.2 });
    const own = GridWasm.create()!;
    for (const [W, H] of [[64, 36], [1920, 1080], [100, 50]] as const) {
      const img = frame(W, H, 3);
      const [h, w] = [smallSize(H, 8), smallSize(W, 8)];
      const g = { ...tables(h, w, 17, levels), h, w, mono: false };
      const ref = new Uint8Array(img.data.length), got = new Uint8Array(img.data.length);
      applyGrid(img.data, ref, W, H, g, constants, 8, 0.25);
      own.apply(img.data, got, W, H, g, constants, 8, 0.25);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - got[i]!));
      expect(worst, `${W}x${H}`).toBeLessThanOrEqual(1);
      expect(Array.from(own.measure(img.data, W, H, 8).small)).toEqual(Array.from(measureFrame(img.data, W, H, 8).small));
    }
  });
});

describe('the grid enhancer with the WebAssembly passes', () => {
  const open: Enhancer[] = [];
  afterAll(async () => { await Promise.all(open.map((e) => e.close())); });

  it('uses them by default and gives what the TypeScript passes give; an exponent without a closed form falls back', async () => {
    const img = darkImage(320, 180, 5);
    const [wasm, js] = await Promise.all((['wasm', 'js'] as const).map(async (gridKernel) => {
      const e = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 8, curveApply: 'grid', gridKernel, threads: 1 });
      open.push(e);
      return e;
    }));
    expect(wasm!.gridKernel).toBe('wasm');
    expect(js!.gridKernel).toBe('js');
    expect(wasm!.describe()).toMatch(/grid \(WebAssembly SIMD\)/);
    const [a, b] = [(await wasm!.enhance([img])).frames[0]!, (await js!.enhance([img])).frames[0]!];
    expect(psnr(a, b)).toBeGreaterThan(60);
    expect(psnr(a, img)).toBeLessThan(25);
    const odd = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 8, curveApply: 'grid', saturation: 0.3, threads: 1 });
    open.push(odd);
    expect(odd.gridKernel).toBe('js');
  });
});

const clang = spawnSync('clang', ['--version']).status === 0 && spawnSync('wasm-ld', ['--version']).status === 0;
describe.skipIf(!clang)('the committed module', () => {
  it('and the denoiser\'s are what their C sources build to (scripts/build-wasm.sh)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-wasm-'));
    execFileSync('bash', [path.resolve('scripts/build-wasm.sh'), dir]);
    for (const name of fs.readdirSync(dir)) {
      expect(Buffer.compare(fs.readFileSync(path.join(dir, name)), fs.readFileSync(path.join(path.dirname(GRID_WASM_PATH), name))), `native/${name} is stale: run npm run build:wasm`).toBe(0);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['denoise-kernel.wasm', 'grid-kernel.wasm']);
  });
});
if (!clang) console.warn('grid-wasm.test: clang/wasm-ld not installed (apt-get install clang lld): the rebuild check skips');
