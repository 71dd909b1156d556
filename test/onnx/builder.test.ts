import { describe, expect, it } from 'vitest';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { inspectModel } from '../../src/onnx/inspect.js';
import { decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { f32, fromTensorProto, i64, toTensorProto, u8 } from '../../src/onnx/tensor.js';
import { openSession, ort } from '../../src/enhance/session.js';

describe('GraphBuilder', () => {
  it('builds a model ONNX Runtime runs: broadcasting arithmetic, MatMul, attributes', async () => {
    const b = new GraphBuilder('probe');
    const x = b.input('x', 'float32', ['N', 2, 3]);
    const w = b.constant(f32([3, 2], [1, 2, 3, 4, 5, 6]));
    const y = b.op('MatMul', [b.add(x, b.scalar(1)), w]); // (x+1)·W
    const z = b.op('LeakyRelu', [b.sub(y, b.scalar(30))], { alpha: 0.5 });
    const t = b.transpose(z, [0, 2, 1]);
    b.output(t, 'float32', ['N', 2, 2], 'out');
    const { session } = await openSession(b.toBytes(), 'cpu');
    const xs = [0, 1, 2, 3, 4, 5];
    const out = (await session.run({ x: new ort.Tensor('float32', Float32Array.from(xs), [1, 2, 3]) })).out!;
    // by hand: rows [1,2,3],[4,5,6] · [[1,2],[3,4],[5,6]] = [22,28],[49,64]; −30 → [-8,-2],[19,34]; leaky 0.5
    expect(Array.from(out.data as Float32Array)).toEqual([-4, 19, -1, 34]);
    expect(out.dims).toEqual([1, 2, 2]);
  });

  it('renames an output in place instead of copying it, unless the value is an input or already an output', async () => {
    const b = new GraphBuilder('rename');
    const x = b.input('x', 'float32', [3]);
    const y = b.add(x, b.scalar(1));
    const z = b.mul(y, b.scalar(2)); // y is used after it became an output: the rename must reach this node
    b.output(y, 'float32', [3], 'plus_one');
    b.output(z, 'float32', [3], 'doubled');
    b.output(z, 'float32', [3], 'doubled_again'); // z already renamed once: this one stays a copy
    b.output(x, 'float32', [3], 'echo'); // an input cannot be renamed
    const g = decodeModel(b.toBytes()).graph;
    const identities = g.node.filter((n) => n.opType === 'Identity').map((n) => [n.input[0], n.output[0]]);
    expect(identities).toEqual([['doubled', 'doubled_again'], ['x', 'echo']]);
    expect(g.node.find((n) => n.opType === 'Mul')!.input[0]).toBe('plus_one');
    const { session } = await openSession(b.toBytes(), 'cpu');
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([0, 1, 2]), [3]) });
    expect(Array.from(out.plus_one!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(Array.from(out.doubled!.data as Float32Array)).toEqual([2, 4, 6]);
    expect(Array.from(out.doubled_again!.data as Float32Array)).toEqual([2, 4, 6]);
    expect(Array.from(out.echo!.data as Float32Array)).toEqual([0, 1, 2]);
  });

  it('types attributes: integers as INT, others as FLOAT, attr.float forces FLOAT', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1]);
    b.op('Dummy', [x], { i: 3, f: 0.5, forced: attr.float(2), is: [1, 2], fs: [0.5, 1], s: 'linear', ss: ['a', 'b'] });
    const [node] = decodeModel(b.toBytes()).graph.node;
    const a = Object.fromEntries(node!.attribute.map((at) => [at.name, at]));
    expect(a.i!.type).toBe(2);
    expect(a.i!.i).toBe(3);
    expect(a.f!.type).toBe(1);
    expect(a.f!.f).toBeCloseTo(0.5);
    expect(a.forced!.type).toBe(1);
    expect(a.is!.ints).toEqual([1, 2]);
    expect(a.fs!.floats).toEqual([0.5, 1]);
    expect(new TextDecoder().decode(a.s!.s)).toBe('linear');
    expect(a.ss!.strings!.map((s) => new TextDecoder().decode(s))).toEqual(['a', 'b']);
  });

  it('refuses a name used twice, and multi-output nodes through op()', () => {
    const b = new GraphBuilder('g');
    b.input('x', 'float32');
    expect(() => b.input('x', 'float32')).toThrow(/already used/);
    expect(() => b.op('Split', ['x'], {}, { outputs: 2 })).toThrow(/one output/);
  });

  it('round-trips initializers, signature and metadata through bytes', () => {
    const b = new GraphBuilder('g');
    const x = b.input('frames', 'uint8', ['N', 'H', 'W', 3]);
    b.initializer('w', f32([2, 2], [1.5, -2, 3.25, 4]));
    b.initializer('idx', i64([3], [0, -1, 2 ** 40]));
    b.output(b.cast(x, 'float32'), 'float32', ['N', 'H', 'W', 3], 'y');
    const s = inspectModel(b.toBytes({ metadata: { kind: 'probe' }, opset: 17 }));
    expect(s.inputs).toEqual([{ name: 'frames', type: 'uint8', shape: ['N', 'H', 'W', 3] }]);
    expect(s.outputs[0]).toMatchObject({ name: 'y', type: 'float32' });
    expect(s.metadata).toEqual({ kind: 'probe' });
    expect(s.opset).toBe(17);
    expect(Array.from(s.initializers.get('w')!.data as Float32Array)).toEqual([1.5, -2, 3.25, 4]);
    expect(Array.from(s.initializers.get('idx')!.data as BigInt64Array)).toEqual([0n, -1n, 2n ** 40n]);
  });

  it('reads tensors stored in typed fields as well as raw_data', () => {
    expect(Array.from(fromTensorProto({ name: 'a', dims: [2], dataType: 1, floatData: [1, 2] }).data as Float32Array)).toEqual([1, 2]);
    const p = toTensorProto('b', u8([2, 2], [1, 2, 3, 255]));
    expect(Array.from(fromTensorProto(p).data as Uint8Array)).toEqual([1, 2, 3, 255]);
    expect(() => fromTensorProto({ name: 'c', dims: [3], dataType: 1, rawData: new Uint8Array(8) })).toThrow(/raw_data has 8 bytes/);
    expect(() => f32([2, 2], [1, 2, 3])).toThrow(/needs 4 values/);
  });

  it('decodes and re-encodes a model to one ONNX Runtime still runs the same way', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [1, 2, 3]);
    b.output(b.op('LeakyRelu', [b.transpose(x, [0, 2, 1])], { alpha: 0.25 }), 'float32', undefined, 'y');
    const again = encodeModel(decodeModel(b.toBytes()));
    const feeds = { x: new ort.Tensor('float32', Float32Array.from([1, -2, 3, -4, 5, -6]), [1, 2, 3]) };
    const a = (await (await openSession(b.toBytes(), 'cpu')).session.run(feeds)).y!.data;
    const c = (await (await openSession(again, 'cpu')).session.run(feeds)).y!.data;
    expect(Array.from(c as Float32Array)).toEqual(Array.from(a as Float32Array));
    expect(Array.from(a as Float32Array)).toEqual([1, -1, -0.5, 5, 3, -1.5]);
  });

  it('rejects bytes that are not a model', () => {
    expect(() => inspectModel(new TextEncoder().encode('definitely not protobuf at all'))).toThrow();
    expect(() => encodeModel({ irVersion: 'eight' } as never)).toThrow(/invalid ONNX model object/);
  });
});
