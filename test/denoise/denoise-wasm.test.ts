// The WebAssembly denoiser (native/denoise-kernel.c via src/denoise/denoise-wasm.ts) against the
// ONNX graph it replaces on the CPU (graph.ts, run by ONNX Runtime): the whole Denoiser both ways
// on the same darkened sequence — a still background, an object moving across it, a scene cut, a
// pan — gives the same frames within one code, the same state and the same noise reports.
import { afterAll, describe, expect, it } from 'vitest';
import { Denoiser, type DenoiserOptions } from '../../src/denoise/denoiser.js';
import { DenoiseWasm } from '../../src/denoise/denoise-wasm.js';
import { estimateGlobalMotion, jsMotionLoops, lumaOfPlanar, lumaOfRgb, type LumaPlane } from '../../src/denoise/global-motion.js';
import { darken } from '../../src/eval/synthetic-night.js';
import type { RgbImage } from '../../src/image/types.js';

/** A textured scene, a bright square at `sq` (or none), the view shifted by `pan` pixels. */
function scene(w: number, h: number, sq: number | undefined, pan = 0, cut = false): RgbImage {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const u = x + pan;
    let v = cut ? 110 + 90 * Math.sin(u / 3.1) * Math.cos(y / 4.3) : 120 + 80 * Math.sin(u / 13) * Math.cos(y / 11);
    if (sq !== undefined && x >= sq && x < sq + 12 && y >= h / 3 && y < h / 3 + 12) v = 240;
    const i = (y * w + x) * 3;
    d[i] = Math.round(v); d[i + 1] = Math.round(v * 0.9); d[i + 2] = Math.round(v * 0.7);
  }
  return { width: w, height: h, data: d };
}

const open: Denoiser[] = [];
afterAll(async () => { await Promise.all(open.map((d) => d.close())); });

async function both(o: DenoiserOptions): Promise<[Denoiser, Denoiser]> {
  const ds = await Promise.all((['wasm', 'onnx'] as const).map((kernel) => Denoiser.open({ ...o, kernel, threads: 1 })));
  open.push(...ds);
  return ds as [Denoiser, Denoiser];
}

/** Largest difference and share of differing bytes between two frames. */
function compare(a: RgbImage, b: RgbImage): { worst: number; share: number } {
  let worst = 0, n = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    if (d) n++;
    worst = Math.max(worst, d);
  }
  return { worst, share: n / a.data.length };
}

describe('the WebAssembly denoiser against the ONNX graph', () => {
  it('is what a Denoiser runs on the CPU by default, and says so', async () => {
    const d = await Denoiser.open({ mode: 'temporal', threads: 1 });
    open.push(d);
    expect(d.describe()).toMatch(/WebAssembly/);
    const auto = await Denoiser.open({ mode: 'temporal', threads: 1, provider: 'auto' });
    open.push(auto);
    if (auto.provider === 'cpu') expect(auto.describe()).toMatch(/WebAssembly/); // no GPU here: the CPU after all
    const g = await Denoiser.open({ mode: 'temporal', threads: 1, kernel: 'onnx' });
    open.push(g);
    expect(g.describe()).not.toMatch(/WebAssembly/);
  });

  for (const [w, h] of [[97, 61], [64, 48]] as const) {
    it(`temporal, ${w}×${h}: the same frames, state reports and scene cuts through stillness, motion, a cut and a pan`, async () => {
      const [wasm, onnx] = await both({ mode: 'temporal', noiseEvery: 2 });
      let worst = 0, share = 0, frames = 0;
      for (let t = 0; t < 24; t++) {
        const clean = t < 8 ? scene(w, h, undefined) : t < 14 ? scene(w, h, 4 + 5 * (t - 8)) : t < 18 ? scene(w, h, undefined, 0, true) : scene(w, h, undefined, 2 * (t - 17), true);
        const img = darken(clean, { exposure: 0.3, fullWell: 200, readNoise: 3, seed: 1000 + t });
        const [a] = await wasm.denoise([{ camera: 'c', image: img }]);
        const [b] = await onnx.denoise([{ camera: 'c', image: img }]);
        const c = compare(a!, b!);
        worst = Math.max(worst, c.worst);
        share += c.share;
        frames++;
      }
      expect(worst).toBeLessThanOrEqual(1);
      expect(share / frames).toBeLessThan(2e-3);
      const [ra, rb] = [wasm.reportOf('c')!, onnx.reportOf('c')!];
      expect(ra.sceneCuts).toBe(rb.sceneCuts);
      expect(ra.sceneCuts).toBeGreaterThan(0); // the cut was seen, both ways
      expect(ra.globalMoves).toBe(rb.globalMoves);
      expect(ra.globalMoves).toBeGreaterThan(0); // the pan moved the state, both ways
      expect(ra.noise!.gain).toBeCloseTo(rb.noise!.gain, 6);
      expect(ra.noise!.read2).toBeCloseTo(rb.noise!.read2, 8);
    });
  }

  it('two cameras interleaved keep their own state (each copied in when the other ran last)', async () => {
    const [wasm, onnx] = await both({ mode: 'temporal' });
    for (let t = 0; t < 6; t++) {
      const batch = ['a', 'b'].map((camera, k) => ({ camera, image: darken(scene(48, 32, k === 0 ? 2 * t : undefined), { exposure: 0.3, fullWell: 200, readNoise: 3, seed: 50 * k + t }) }));
      const [x, y] = [await wasm.denoise(batch), await onnx.denoise(batch)];
      for (let k = 0; k < 2; k++) expect(compare(x[k]!, y[k]!).worst).toBeLessThanOrEqual(1);
    }
  });

  it('gives the global-motion check the same luma planes as global-motion.ts, bit for bit', () => {
    const k = DenoiseWasm.create('temporal')!;
    for (const [w, h] of [[641, 363], [1280, 720], [97, 61]] as const) {
      const img = darken(scene(w, h, 10), { exposure: 0.3, fullWell: 200, readNoise: 3, seed: w });
      const planar = new Uint8Array(img.data.length);
      for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) planar[c * w * h + p] = img.data[3 * p + c]!;
      for (const [a, b] of [[k.lumaOfRgb(img.data, w, h), lumaOfRgb(img.data, w, h)], [k.lumaOfPlanar(planar, w, h), lumaOfPlanar(planar, w, h)]] as const) {
        expect([a.width, a.height, a.factor]).toEqual([b.width, b.height, b.factor]);
        expect(Buffer.compare(Buffer.from(a.data.buffer), Buffer.from(b.data.buffer)), `${w}x${h}`).toBe(0);
      }
    }
  });

  it('fits the view\'s motion as global-motion.ts does, to the bit: still, pans, a zoom, a person crossing', () => {
    const k = DenoiseWasm.create('temporal')!;
    const [w, h] = [640, 360];
    /** A textured view, panned by (dx, dy), zoomed by z about the centre, a bright block at bx. */
    const view = (dx: number, dy: number, z: number, bx: number | undefined, seed: number): LumaPlane => {
      const d = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const u = (x - w / 2) / (1 + z) + w / 2 + dx, v = (y - h / 2) / (1 + z) + h / 2 + dy;
        let l = 110 + 60 * Math.sin(u / 9.7) * Math.cos(v / 7.3) + 30 * Math.sin((u + v) / 23);
        if (bx !== undefined && x >= bx && x < bx + 40 && y > 150 && y < 260) l = 230;
        const i = (y * w + x) * 3;
        d[i] = l; d[i + 1] = l; d[i + 2] = l;
      }
      return lumaOfRgb(darken({ width: w, height: h, data: d }, { exposure: 0.4, fullWell: 300, readNoise: 3, seed }).data, w, h);
    };
    const ref = view(0, 0, 0, undefined, 1);
    const cases: [string, LumaPlane][] = [
      ['still', view(0, 0, 0, undefined, 2)], ['slow pan', view(0.4, 0, 0, undefined, 3)], ['pan', view(6, -3, 0, undefined, 4)],
      ['zoom', view(0, 0, 0.02, undefined, 5)], ['person', view(0, 0, 0, 300, 6)],
    ];
    let moved = 0;
    for (const [what, cur] of cases) {
      const js = estimateGlobalMotion(ref, cur, jsMotionLoops), wasm = estimateGlobalMotion(ref, cur, k.motionLoops);
      expect(wasm, what).toEqual(js);
      if (js.significant) moved++;
    }
    expect(moved).toBeGreaterThanOrEqual(2); // the pans and the zoom were seen: the comparison covers fits that count
  });

  it('spatial, and temporal without the spatial part or with a wider window', async () => {
    for (const o of [{ mode: 'spatial' }, { mode: 'temporal', strength: 0 }, { mode: 'temporal', radius: 2, strength: 4 }] as const) {
      const [wasm, onnx] = await both(o);
      for (let t = 0; t < 4; t++) {
        const img = darken(scene(53, 37, 3 * t), { exposure: 0.3, fullWell: 200, readNoise: 3, seed: t });
        const c = compare((await wasm.denoise([{ camera: 'c', image: img }]))[0]!, (await onnx.denoise([{ camera: 'c', image: img }]))[0]!);
        expect(c.worst, JSON.stringify(o)).toBeLessThanOrEqual(1);
        expect(c.share).toBeLessThan(3e-3);
      }
    }
  });
});
