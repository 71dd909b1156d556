import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batchableBlazeFace, FRAMES_INPUT } from '../../src/detect/model-graph.js';
import { blazeFaceModelPath } from '../../src/detect/models.js';
import { openSession, ort } from '../../src/enhance/session.js';
import { isPieError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { inspectModel } from '../../src/onnx/inspect.js';

describe('batchableBlazeFace', () => {
  it.each([['front', 128], ['back', 256]] as const)('%s: uint8 [N,S,S,3] in, the original outputs per image out', async (model, size) => {
    const original = fs.readFileSync(blazeFaceModelPath(model));
    // What the export itself is: float32 NHWC with the batch fixed at 1.
    expect(inspectModel(original).inputs).toEqual([{ name: 'input:0', type: 'float32', shape: [1, size, size, 3] }]);
    const m = batchableBlazeFace(original, model);
    expect(m.inputSize).toBe(size);
    expect(m.heads).toEqual([
      { scores: 'Identity:0', boxes: 'Identity_2:0', anchors: 512 },
      { scores: 'Identity_1:0', boxes: 'Identity_3:0', anchors: 384 },
    ]);
    expect(inspectModel(m.bytes).inputs).toEqual([{ name: FRAMES_INPUT, type: 'uint8', shape: ['N', size, size, 3] }]);

    const n = 2, per = size * size * 3;
    const bytes = Uint8Array.from({ length: n * per }, (_, i) => (i * 7919 + (i >> 9) * 13) & 255);
    const [a, b] = await Promise.all([openSession(original, 'cpu', { threads: 1 }), openSession(m.bytes, 'cpu', { threads: 1 })]);
    const batched = await b.session.run({ [FRAMES_INPUT]: new ort.Tensor('uint8', bytes, [n, size, size, 3]) });
    for (let k = 0; k < n; k++) {
      const x = Float32Array.from(bytes.subarray(k * per, (k + 1) * per), (v) => v / 127.5 - 1); // MediaPipe's [−1, 1]
      const single = await a.session.run({ 'input:0': new ort.Tensor('float32', x, [1, size, size, 3]) });
      for (const [name, t] of Object.entries(single)) {
        const want = t.data as Float32Array, got = batched[name]!.data as Float32Array;
        expect(batched[name]!.dims).toEqual([n, ...t.dims.slice(1)]);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i]! - got[k * want.length + i]!));
        expect(worst).toBeLessThan(1e-3);
      }
    }
    await Promise.all([a.session.release(), b.session.release()]);
  });

  it('rejects bytes that are not ONNX, and an ONNX model that is not BlazeFace, as model errors', () => {
    const junk = new TextEncoder().encode('this is not a model at all');
    const g = new GraphBuilder('other');
    const x = g.input('x', 'float32', [1, 3, 8, 8]);
    g.output(g.op('Relu', [x]), 'float32', [1, 3, 8, 8]);
    for (const bytes of [junk, g.toBytes()]) {
      try { batchableBlazeFace(bytes, 'x.onnx'); expect.unreachable(); } catch (e) {
        expect(isPieError(e, 'model')).toBe(true);
        expect((e as Error).message).toMatch(/x\.onnx is not (an ONNX file|a BlazeFace detector)[\s\S]*fix: /);
      }
    }
  });
});
