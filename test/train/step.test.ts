import { describe, expect, it } from 'vitest';
import { openSession, ort } from '../../src/enhance/session.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { f32 } from '../../src/onnx/tensor.js';
import type { FeatureNetSpec } from '../../src/train/features.js';
import { adamScalars, PIE_ADAM } from '../../src/train/optim.js';
import { buildTrainStep, IO, LOSS_NAMES, PARAMS, PIE_WEIGHTS, type StepConfig } from '../../src/train/step.js';
import { seeded } from './gradcheck.js';

/** A tiny two-tap feature network, so the tests need nothing from outside the project. */
function tinyFeatures(): FeatureNetSpec {
  const b = new GraphBuilder('tiny');
  const x = b.input('img', 'float32', ['N', 3, 'H', 'W']);
  const w1 = b.initializer('w1', f32([4, 3, 3, 3], seeded(108, 3, -0.5, 0.5, 0)));
  const c1 = b.relu(b.conv(x, w1, b.initializer('b1', f32([4], [0.1, 0, -0.1, 0.05])), { pads: [1, 1, 1, 1] }));
  b.output(c1, 'float32', undefined, 'tap1');
  const pool = b.op('MaxPool', [c1], { kernel_shape: [2, 2], strides: [2, 2] });
  const c2 = b.relu(b.conv(pool, b.initializer('w2', f32([6, 4, 3, 3], seeded(216, 4, -0.4, 0.4, 0))), undefined, { pads: [1, 1, 1, 1] }));
  b.output(c2, 'float32', undefined, 'tap2');
  return { name: 'tiny', model: b.toBytes(), input: 'img', gramTaps: ['tap1', 'tap2'], perceptualTap: 'tap2', gramScale: 1, perceptualScale: 1, preprocess: { weight: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], bias: [0, 0, 0] } };
}

const CROP = 16, B = 2;
const base: Omit<StepConfig, 'lossOnly'> = { batch: B, crop: CROP, positives: 2, negatives: 2, maxSegments: 4, weights: { ...PIE_WEIGHTS, spatial: 1, exposure: 10 }, features: tinyFeatures() };

function batchData(seed: number) {
  const img = (n: number, lo: number, hi: number, s: number) => Float32Array.from(seeded(n * 3 * CROP * CROP, s, lo, hi, 0));
  // Two regions per crop (left and right halves), numbered across the batch.
  const labels = BigInt64Array.from({ length: B * CROP * CROP }, (_, i) => BigInt(Math.floor(i / (CROP * CROP)) * 2 + ((i % CROP) < CROP / 2 ? 0 : 1)));
  return {
    [IO.low]: new ort.Tensor('float32', img(B, 0.02, 0.2, seed), [B, 3, CROP, CROP]),
    [IO.pos]: new ort.Tensor('float32', img(2, 0.3, 0.8, seed + 1), [2, 3, CROP, CROP]),
    [IO.neg]: new ort.Tensor('float32', img(2, 0.0, 0.1, seed + 2), [2, 3, CROP, CROP]),
    [IO.labels]: new ort.Tensor('int64', labels, [labels.length]),
    [IO.counts]: new ort.Tensor('float32', Float32Array.from([128, 128, 128, 128]), [4]),
  };
}

function initParams(seed: number): Map<string, Float32Array> {
  return new Map(PARAMS.map((p, i) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const fanIn = p.shape.length === 4 ? p.shape[1]! * 9 : 1;
    return [p.name, Float32Array.from(seeded(n, seed + i, -1, 1, 0).map((v) => (v * 0.5) / Math.sqrt(fanIn)))];
  }));
}

const paramFeeds = (ps: Map<string, Float32Array>) => Object.fromEntries(PARAMS.map((p) => [IO.param(p.name), new ort.Tensor('float32', ps.get(p.name)!, [...p.shape])]));

describe('the PIE training step', () => {
  it.each(['rgb', 'value'] as const)('gradients of the whole weighted loss (PIE\'s six terms and Zero-DCE\'s two) match finite differences, curves applied %s', async (apply) => {
    const { session } = await openSession(buildTrainStep({ ...base, lossOnly: true, apply }).bytes, 'cpu');
    const data = batchData(1);
    const ps = initParams(10);
    const run = async (q: Map<string, Float32Array>, names: string[]) => session.run({ ...data, ...paramFeeds(q) }, names);
    const out = await run(ps, [IO.loss('total'), ...LOSS_NAMES.map((n) => IO.loss(n)), ...PARAMS.map((p) => IO.grad(p.name))]);
    for (const n of LOSS_NAMES) expect(Number.isFinite(out[IO.loss(n)]!.data[0] as number), n).toBe(true);
    // Directional derivative along a random direction over all 79,416 parameters.
    const dir = new Map(PARAMS.map((p, i) => [p.name, Float32Array.from(seeded(ps.get(p.name)!.length, 500 + i, -1, 1, 0))]));
    const shifted = (s: number) => new Map(PARAMS.map((p) => [p.name, ps.get(p.name)!.map((v, k) => v + s * dir.get(p.name)![k]!)]));
    const eps = 1e-3;
    const lp = (await run(shifted(eps), [IO.loss('total')]))[IO.loss('total')]!.data[0] as number;
    const lm = (await run(shifted(-eps), [IO.loss('total')]))[IO.loss('total')]!.data[0] as number;
    let analytic = 0;
    for (const p of PARAMS) {
      const g = out[IO.grad(p.name)]!.data as Float32Array;
      const d = dir.get(p.name)!;
      for (let k = 0; k < g.length; k++) analytic += g[k]! * d[k]!;
    }
    const fd = (lp - lm) / (2 * eps);
    expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
    expect(Math.abs(analytic - fd) / Math.abs(fd)).toBeLessThan(0.02);
    // And single parameters: conv7's bias (every curve map) and a conv1 weight.
    for (const [name, k] of [['e_conv7.bias', 5], ['e_conv7.bias', 17], ['e_conv1.weight', 40]] as const) {
      const g = (out[IO.grad(name)]!.data as Float32Array)[k]!;
      const one = (s: number) => new Map([...ps].map(([n, v]) => [n, n === name ? v.map((x, i) => (i === k ? x + s : x)) : v]));
      const e2 = 1e-2;
      const a = (await run(one(e2), [IO.loss('total')]))[IO.loss('total')]!.data[0] as number;
      const b = (await run(one(-e2), [IO.loss('total')]))[IO.loss('total')]!.data[0] as number;
      expect(Math.abs(g - (a - b) / (2 * e2)), `${name}[${k}]`).toBeLessThan(0.03 * Math.abs(g) + 2e-3);
    }
  }, 60_000);

  it('applies Adam exactly as PyTorch: weight decay, clipping by global norm, bias correction', async () => {
    const lossOnly = (await openSession(buildTrainStep({ ...base, lossOnly: true }).bytes, 'cpu')).session;
    const full = (await openSession(buildTrainStep(base).bytes, 'cpu')).session;
    const data = batchData(2);
    const ps = initParams(20);
    const m = new Map(PARAMS.map((p, i) => [p.name, Float32Array.from(seeded(ps.get(p.name)!.length, 900 + i, -1e-3, 1e-3, 0))]));
    const v = new Map(PARAMS.map((p, i) => [p.name, Float32Array.from(seeded(ps.get(p.name)!.length, 950 + i, 0, 1e-4, 0))]));
    const step = 3, lr = 1e-4;
    const { lrT, epsT } = adamScalars(lr, step, PIE_ADAM);
    const grads = await lossOnly.run({ ...data, ...paramFeeds(ps) }, PARAMS.map((p) => IO.grad(p.name)));
    const feeds: Record<string, ort.Tensor> = { ...data, ...paramFeeds(ps), [IO.lrT]: new ort.Tensor('float32', [lrT], []), [IO.epsT]: new ort.Tensor('float32', [epsT], []) };
    for (const p of PARAMS) {
      feeds[IO.m(p.name)] = new ort.Tensor('float32', m.get(p.name)!, [...p.shape]);
      feeds[IO.v(p.name)] = new ort.Tensor('float32', v.get(p.name)!, [...p.shape]);
    }
    const out = await full.run(feeds);
    // The reference: torch.nn.utils.clip_grad_norm_ then torch.optim.Adam.step, in float64.
    let sq = 0;
    for (const p of PARAMS) for (const g of grads[IO.grad(p.name)]!.data as Float32Array) sq += g * g;
    const norm = Math.sqrt(sq);
    expect(out[IO.gradNorm]!.data[0] as number).toBeCloseTo(norm, 3);
    const coef = Math.min(1, 0.1 / (norm + 1e-6));
    let worst = 0;
    for (const p of PARAMS) {
      const g = grads[IO.grad(p.name)]!.data as Float32Array;
      const next = out[IO.nextParam(p.name)]!.data as Float32Array;
      for (let k = 0; k < g.length; k++) {
        const th = ps.get(p.name)![k]!;
        const gk = g[k]! * coef + 1e-4 * th;
        const mk = 0.9 * m.get(p.name)![k]! + 0.1 * gk;
        const vk = 0.999 * v.get(p.name)![k]! + 0.001 * gk * gk;
        const ref = th - (lr * (mk / (1 - 0.9 ** step))) / (Math.sqrt(vk / (1 - 0.999 ** step)) + 1e-8);
        worst = Math.max(worst, Math.abs(next[k]! - ref) / lr);
      }
    }
    expect(worst).toBeLessThan(1e-3); // in units of the learning rate
  }, 60_000);

  it('a short training run lowers the loss', async () => {
    const { session } = await openSession(buildTrainStep(base).bytes, 'cpu');
    let ps: Map<string, Float32Array> = initParams(30);
    let m: Map<string, Float32Array> = new Map(PARAMS.map((p) => [p.name, new Float32Array(ps.get(p.name)!.length)]));
    let v: Map<string, Float32Array> = new Map(PARAMS.map((p) => [p.name, new Float32Array(ps.get(p.name)!.length)]));
    const losses: number[] = [];
    const data = batchData(3);
    for (let step = 1; step <= 40; step++) {
      const { lrT, epsT } = adamScalars(3e-3, step, PIE_ADAM);
      const feeds: Record<string, ort.Tensor> = { ...data, ...paramFeeds(ps), [IO.lrT]: new ort.Tensor('float32', [lrT], []), [IO.epsT]: new ort.Tensor('float32', [epsT], []) };
      for (const p of PARAMS) {
        feeds[IO.m(p.name)] = new ort.Tensor('float32', m.get(p.name)!, [...p.shape]);
        feeds[IO.v(p.name)] = new ort.Tensor('float32', v.get(p.name)!, [...p.shape]);
      }
      const out = await session.run(feeds);
      losses.push(out[IO.loss('total')]!.data[0] as number);
      ps = new Map(PARAMS.map((p) => [p.name, out[IO.nextParam(p.name)]!.data as Float32Array]));
      m = new Map(PARAMS.map((p) => [p.name, out[IO.nextM(p.name)]!.data as Float32Array]));
      v = new Map(PARAMS.map((p) => [p.name, out[IO.nextV(p.name)]!.data as Float32Array]));
    }
    const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(last).toBeLessThan(0.8 * first);
  }, 60_000);
});
