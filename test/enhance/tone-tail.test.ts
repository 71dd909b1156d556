// The value form's full-resolution tail as the graph computes it for speed (x·A + luma·B with the
// IR select folded into A, luma by one MatMul, bytes out by QuantizeLinear: tone.ts, graph.ts)
// against the plain formulas in float64: 8 iterations on V, headroom, gain cap, then
// luma·g + (x − luma)·c with c = g^s faded to 1 below V = DARK_CHROMA, or luma·g on an IR frame. At scale 1 with exposure 'model' and no noise
// gate the output depends on nothing else, so per-pixel random curve maps test every pixel's path.
import { afterAll, describe, expect, it } from 'vitest';
import { CurveApplier } from '../../src/enhance/apply-graph.js';
import { CURVE_CHANNELS, EPS_V, ITERATIONS } from '../../src/enhance/dcenet.js';
import { DARK_CHROMA, DEFAULT_SATURATION, HIGHLIGHT_KEEP, LUMA_WEIGHTS, MAX_GAIN } from '../../src/enhance/tone.js';
import type { RgbImage } from '../../src/image/types.js';

const W = 40, H = 24;

/** A seeded frame with black, white, saturated and dark pixels. */
function frame(seed: number): RgbImage {
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const kind = i % 7;
    for (let c = 0; c < 3; c++) {
      data[i * 3 + c] = kind === 0 ? 0 : kind === 1 ? 255 : kind === 2 ? (c === 0 ? 250 : 5) : Math.floor(rnd() * (kind === 3 ? 256 : 48));
    }
  }
  return { width: W, height: H, data };
}

function curveMaps(seed: number): Float32Array {
  const d = new Float32Array(CURVE_CHANNELS * W * H);
  for (let i = 0; i < d.length; i++) d[i] = Math.sin(seed + i * 0.7) * 0.9;
  return d;
}

/** The tone stage's value form with exposure 'model' and no noise gate, in float64, rounded like ONNX (half to even). */
function reference(img: RgbImage, maps: Float32Array, mono: boolean): Uint8Array {
  const out = new Uint8Array(img.data.length);
  const n = W * H;
  const roundEven = (v: number): number => { const f = Math.floor(v); const d = v - f; return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f; };
  for (let p = 0; p < n; p++) {
    const x = [0, 1, 2].map((c) => img.data[p * 3 + c]! / 255);
    const v = Math.max(...x);
    let y = v;
    for (let i = 0; i < ITERATIONS; i++) {
      const r = (maps[(3 * i) * n + p]! + maps[(3 * i + 1) * n + p]! + maps[(3 * i + 2) * n + p]!) / 3;
      y += r * y * (y - 1);
    }
    y = Math.min(y, 1 - HIGHLIGHT_KEEP * Math.sqrt(1 - v));
    const g = Math.min(y / Math.max(v, EPS_V), MAX_GAIN);
    const luma = x[0]! * LUMA_WEIGHTS[0] + x[1]! * LUMA_WEIGHTS[1] + x[2]! * LUMA_WEIGHTS[2];
    const chromaGain = 1 + (g ** DEFAULT_SATURATION - 1) * Math.min(1, v / DARK_CHROMA);
    for (let c = 0; c < 3; c++) {
      const o = mono ? luma * g : luma * g + (x[c]! - luma) * chromaGain;
      out[p * 3 + c] = roundEven(Math.min(255, Math.max(0, o * 255)));
    }
  }
  return out;
}

describe('the fused value-form tail on a real session', () => {
  const open: CurveApplier[] = [];
  afterAll(async () => { await Promise.all(open.map((a) => a.close())); });

  it('equals the plain formulas within one level, colour and IR frames in one batch; IR exactly grey', async () => {
    const a = await CurveApplier.open({ downscale: 1, exposure: 'model', noiseAwareGain: false, threads: 1 });
    open.push(a);
    const frames = [frame(3), frame(11)];
    const maps = [curveMaps(1), curveMaps(2)];
    const data = new Float32Array(maps[0]!.length * 2);
    data.set(maps[0]!); data.set(maps[1]!, maps[0]!.length);
    const out = await a.apply(frames, { data, dims: [2, CURVE_CHANNELS, H, W] }, [{ mono: false }, { mono: true }]);
    let off = 0, exact = 0, total = 0;
    out.forEach((img, f) => {
      const ref = reference(frames[f]!, maps[f]!, f === 1);
      for (let i = 0; i < ref.length; i++) {
        const d = Math.abs(img.data[i]! - ref[i]!);
        off = Math.max(off, d);
        if (d === 0) exact++;
        total++;
      }
    });
    // float32 against float64: a value within rounding of .5 may land on either side, nothing more.
    expect(off).toBeLessThanOrEqual(1);
    expect(exact / total).toBeGreaterThan(0.99);
    const ir = out[1]!.data;
    for (let i = 0; i < ir.length; i += 3) expect(ir[i] === ir[i + 1] && ir[i] === ir[i + 2]).toBe(true);
    // The frame was really changed (random curves lift or darken most pixels).
    let changed = 0;
    for (let i = 0; i < frames[0]!.data.length; i++) if (out[0]!.data[i] !== frames[0]!.data[i]) changed++;
    expect(changed / frames[0]!.data.length).toBeGreaterThan(0.5);
  });
});
