import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addCurveIterations, addDceNet, addDceNetWeights, LAYER_NAMES, PARAMETER_COUNT, type DceNetWeights } from '../../src/enhance/dcenet.js';
import { bytesPerFrame, Enhancer } from '../../src/enhance/enhancer.js';
import { dceNetModelBytes, flushDeadWeights, loadDceNetModel, shownModelPath } from '../../src/enhance/model-file.js';
import { openSession, ort } from '../../src/enhance/session.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { f32 } from '../../src/onnx/tensor.js';
import { readF32, sharedPath, skipReason } from '../helpers/shared.js';
import { randomWeights, referenceEnhanceScaled, referenceForward, type Chw } from './reference.js';

/** The curves applied as PIE's code does: per channel, no exposure control, no gain limit (tone.ts). */
const AS_PUBLISHED = { form: 'rgb', exposure: 'model', noiseAwareGain: false } as const;

/** A float graph with the intermediate outputs the fixtures hold. */
async function runFloatGraph(w: DceNetWeights, input: Float32Array, dims: number[]) {
  const b = new GraphBuilder('dcenet_probe');
  addDceNetWeights(b, w);
  const x = b.input('x', 'float32', ['N', 3, 'H', 'W']);
  const curves = addDceNet(b, x);
  const ys = addCurveIterations(b, x, curves);
  b.output(ys[3]!, 'float32', undefined, 'after4');
  b.output(ys[7]!, 'float32', undefined, 'enhanced');
  b.output(curves, 'float32', undefined, 'curves');
  const { session } = await openSession(b.toBytes(), 'cpu');
  const out = await session.run({ x: new ort.Tensor('float32', input, dims) });
  const get = (k: string) => out[k]!.data as Float32Array;
  return { after4: get('after4'), enhanced: get('enhanced'), curves: get('curves') };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

function seededImage(h: number, w: number, seed: number, max = 1): Chw {
  let s = seed;
  const data = Float64Array.from({ length: 3 * h * w }, () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * max;
  });
  return { c: 3, h, w, data };
}

describe('shownModelPath', () => {
  it('names a model relative to the working folder inside it, by its file name outside it, never by an absolute path', () => {
    expect(shownModelPath(path.join(process.cwd(), 'models', 'pie-base.onnx'))).toBe(path.join('models', 'pie-base.onnx'));
    expect(shownModelPath('models/pie-base.onnx')).toBe(path.join('models', 'pie-base.onnx'));
    expect(shownModelPath('/srv/site-models/yard.onnx')).toBe('yard.onnx');
    expect(shownModelPath(path.join(process.cwd(), '..', 'other', 'm.onnx'))).toBe('m.onnx');
  });
});

describe('DCE-Net', () => {
  it('has the 79,416 parameters of the paper', () => {
    expect(PARAMETER_COUNT).toBe(79416);
  });

  const fixtureSkip = skipReason('fixtures/dcenet/manifest.json');
  it.skipIf(fixtureSkip)('reproduces the float64 PyTorch reference in ../shared/fixtures/dcenet to 1e-5', async () => {
    const dir = sharedPath('fixtures/dcenet');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const weights = Object.fromEntries(LAYER_NAMES.map((l) => {
      const p = (k: string) => manifest.params[k];
      return [l, {
        weight: f32(p(`${l}.weight`).shape, readF32(path.join(dir, p(`${l}.weight`).file))),
        bias: f32(p(`${l}.bias`).shape, readF32(path.join(dir, p(`${l}.bias`).file))),
      }];
    })) as DceNetWeights;
    const t = (k: string) => readF32(path.join(dir, manifest.tensors[k].file));
    const got = await runFloatGraph(weights, t('input'), manifest.tensors.input.shape);
    expect(maxAbsDiff(got.curves, t('curve_maps'))).toBeLessThan(1e-5);
    expect(maxAbsDiff(got.after4, t('after4'))).toBeLessThan(1e-5);
    expect(maxAbsDiff(got.enhanced, t('enhanced'))).toBeLessThan(1e-5);
  });

  it('matches a plain TypeScript reference on small random weights', async () => {
    const w = randomWeights(7);
    const img = seededImage(9, 11, 42);
    const ref = referenceForward(w, img);
    const got = await runFloatGraph(w, Float32Array.from(img.data), [1, 3, 9, 11]);
    expect(maxAbsDiff(got.curves, ref.curves.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got.after4, ref.ys[3]!.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got.enhanced, ref.ys[7]!.data)).toBeLessThan(1e-5);
    // The weights are not a no-op: the curves move pixels.
    expect(maxAbsDiff(ref.ys[7]!.data, img.data)).toBeGreaterThan(0.01);
  });

  it('the uint8 NHWC pipeline graph at scale 1 equals the reference rounded to 8 bits', async () => {
    const w = randomWeights(11);
    const H = 7, W = 10;
    // An 8-bit image, and its float version as the graph sees it (v/255).
    const bytes = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 37 + 11) % 256);
    const chw = new Float64Array(3 * H * W);
    for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) chw[c * H * W + p] = bytes[p * 3 + c]! / 255;
    const ref = referenceForward(w, { c: 3, h: H, w: W, data: chw }).ys[7]!.data;
    const enh = await Enhancer.open({ weights: w, downscale: 1, ...AS_PUBLISHED });
    const [out] = (await enh.enhance([{ width: W, height: H, data: bytes }])).frames;
    await enh.close();
    let worst = 0;
    for (let p = 0; p < H * W; p++) {
      for (let c = 0; c < 3; c++) {
        worst = Math.max(worst, Math.abs(out!.data[p * 3 + c]! - Math.min(255, Math.max(0, ref[c * H * W + p]! * 255))));
      }
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
  });

  it.each([2, 4, 5])('at curve scale 1/%i matches the reference (box down, bilinear up) on a frame k does not divide', async (k) => {
    const w = randomWeights(13);
    const H = 13, W = 22;
    const bytes = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 53 + (i % 7) * 19) % 256);
    const chw = new Float64Array(3 * H * W);
    for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) chw[c * H * W + p] = bytes[p * 3 + c]! / 255;
    const ref = referenceEnhanceScaled(w, { c: 3, h: H, w: W, data: chw }, k);
    const enh = await Enhancer.open({ weights: w, downscale: k, curvesOutput: true, ...AS_PUBLISHED });
    const out = await enh.enhance([{ width: W, height: H, data: bytes }]);
    await enh.close();
    expect(out.curves!.dims).toEqual([1, 24, Math.ceil(H / k), Math.ceil(W / k)]);
    expect(maxAbsDiff(out.curves!.data, ref.curvesSmall.data)).toBeLessThan(1e-5);
    let worst = 0;
    for (let p = 0; p < H * W; p++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(out.frames[0]!.data[p * 3 + c]! - ref.y[c * H * W + p]! * 255));
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
  });

  it('a batch gives the same frames as one at a time', async () => {
    const enh = await Enhancer.open({ weights: randomWeights(3), downscale: 2 });
    const frames = [1, 2, 3].map((s) => ({ width: 12, height: 8, data: Uint8Array.from({ length: 288 }, (_, i) => (i * s * 7) % 256) }));
    const batch = await enh.enhance(frames);
    for (let i = 0; i < frames.length; i++) {
      const single = await enh.enhance([frames[i]!]);
      expect(Array.from(batch.frames[i]!.data)).toEqual(Array.from(single.frames[0]!.data));
    }
    await enh.close();
  });

  it('splits a batch that would exceed the memory budget into runs, with the same result', async () => {
    const frames = [1, 2, 3, 4, 5].map((s) => ({ width: 40, height: 30, data: Uint8Array.from({ length: 3600 }, (_, i) => (i * s * 5) % 256) }));
    const whole = await Enhancer.open({ weights: randomWeights(3), downscale: 2, curvesOutput: true });
    // A budget that fits two of these frames a run.
    const budgetMiB = (2.5 * bytesPerFrame(40, 30, 2)) / 2 ** 20;
    const split = await Enhancer.open({ weights: randomWeights(3), downscale: 2, curvesOutput: true, memoryBudgetMiB: budgetMiB });
    expect(split.framesPerRun(40, 30)).toBe(2);
    expect(whole.framesPerRun(40, 30)).toBeGreaterThan(5);
    const a = await whole.enhance(frames);
    const b = await split.enhance(frames);
    expect(b.frames.map((f) => Array.from(f.data))).toEqual(a.frames.map((f) => Array.from(f.data)));
    expect(b.curves!.dims).toEqual([5, 24, 15, 20]);
    expect(maxAbsDiff(b.curves!.data, a.curves!.data)).toBe(0);
    await Promise.all([whole.close(), split.close()]);
  });

  it('strength scales the curves: 0 is the identity, more is brighter, monotonic in between', async () => {
    const frame = { width: 16, height: 12, data: Uint8Array.from({ length: 576 }, (_, i) => 10 + (i % 50)) };
    const means: number[] = [];
    for (const strength of [0, 0.5, 1, 2]) {
      const e = await Enhancer.open({ downscale: 2, strength, ...AS_PUBLISHED });
      const [out] = (await e.enhance([frame])).frames;
      if (strength === 0) expect(Array.from(out!.data)).toEqual(Array.from(frame.data));
      means.push(out!.data.reduce((a, b) => a + b, 0));
      await e.close();
    }
    expect(means[1]).toBeGreaterThan(means[0]!);
    expect(means[2]).toBeGreaterThan(means[1]!);
    expect(means[3]).toBeGreaterThan(means[2]!);
    await expect(Enhancer.open({ strength: 9 })).rejects.toThrow(/strength must be from 0 to 4/);
  });

  it('round-trips weights through the model file format', async () => {
    const w = randomWeights(5);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pie-')), 'm.onnx');
    fs.writeFileSync(file, dceNetModelBytes(w, { note: 'test' }));
    const loaded = await loadDceNetModel(file);
    expect(loaded.metadata.note).toBe('test');
    for (const l of LAYER_NAMES) {
      expect(Array.from(loaded.weights[l].weight.data)).toEqual(Array.from(w[l].weight.data));
      expect(Array.from(loaded.weights[l].bias.data)).toEqual(Array.from(w[l].bias.data));
    }
  });

  it('reads a dead channel\'s decayed weights (under 1e-20: subnormal products) as zeros, and enhances the same', async () => {
    const w = randomWeights(6);
    // A channel of e_conv3 decayed into the subnormal range, as weight decay leaves a dead ReLU's.
    const dead = Float32Array.from(w.e_conv3.weight.data);
    for (let i = 0; i < 32 * 9; i++) dead[i] = (i % 2 ? 1 : -1) * 3e-39 * (1 + (i % 5));
    const decayed: DceNetWeights = { ...w, e_conv3: { weight: { ...w.e_conv3.weight, data: dead }, bias: w.e_conv3.bias } };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pie-')), 'm.onnx');
    fs.writeFileSync(file, dceNetModelBytes(decayed));
    const loaded = await loadDceNetModel(file);
    expect(Array.from(loaded.weights.e_conv3.weight.data.subarray(0, 32 * 9)).every((x) => x === 0)).toBe(true);
    expect(Array.from(loaded.weights.e_conv3.weight.data.subarray(32 * 9))).toEqual(Array.from(dead.subarray(32 * 9)));
    expect(Array.from(loaded.weights.e_conv4.weight.data)).toEqual(Array.from(w.e_conv4.weight.data));
    // What they contributed was below float32's resolution of any output.
    const img = seededImage(16, 24, 3);
    const input = Float32Array.from(img.data);
    const a = await runFloatGraph(decayed, input, [1, 3, 16, 24]), b = await runFloatGraph(loaded.weights, input, [1, 3, 16, 24]);
    expect(maxAbsDiff(a.enhanced, b.enhanced)).toBeLessThan(1e-6);
    expect(flushDeadWeights(Float32Array.from([1e-21, -1e-25, 1e-19, 0, 0.5]))).toBe(2);
  });
});
