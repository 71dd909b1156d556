// Reverse-mode differentiation over the ONNX graph builder. Forward ops are emitted as ONNX nodes
// and, when they touch a value that needs a gradient, recorded on the tape; `grad()` walks the
// records backwards and emits each op's vector-Jacobian product as more ONNX nodes in the same
// graph. One session.run then computes the forward pass, the losses and every gradient.
import { GraphBuilder, type AttrValue } from '../../onnx/builder.js';
import { DATA_TYPE } from '../../onnx/proto.js';
import type { HostTensor } from '../../onnx/tensor.js';
import { OPS, type Attrs, type OpContext } from './ops.js';
import { fmt, numel, type Shape } from './shape.js';

export type FloatType = 'float32' | 'float64';
export type ValueType = FloatType | 'int64' | 'bool';

export interface ValueInfo {
  readonly shape: Shape;
  readonly type: ValueType;
  /** True when a parameter reaches this value: only such values get gradients. */
  readonly requiresGrad: boolean;
}

interface Recorded {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
}

export class Tape {
  readonly b: GraphBuilder;
  private readonly values = new Map<string, ValueInfo>();
  private readonly records: Recorded[] = [];
  private recording = true;

  constructor(readonly dtype: FloatType = 'float32', b?: GraphBuilder) {
    this.b = b ?? new GraphBuilder('train');
  }

  info(v: string): ValueInfo {
    const i = this.values.get(v);
    if (!i) throw new Error(`tape: unknown value '${v}'`);
    return i;
  }
  shape(v: string): Shape { return this.info(v).shape; }

  /** Registers a value made outside `apply` (graph inputs, initializers). */
  declare(name: string, shape: Shape, type: ValueType = this.dtype, requiresGrad = false): string {
    this.values.set(name, { shape: [...shape], type, requiresGrad });
    return name;
  }

  input(name: string, shape: Shape, o: { type?: ValueType; requiresGrad?: boolean } = {}): string {
    const type = o.type ?? this.dtype;
    this.b.input(name, type, shape);
    return this.declare(name, shape, type, o.requiresGrad ?? false);
  }

  /** A trainable parameter fed as a graph input. */
  param(name: string, shape: Shape): string {
    return this.input(name, shape, { requiresGrad: true });
  }

  constant(t: HostTensor, hint = 'const'): string {
    const type = t.type as ValueType;
    return this.declare(this.b.constant(t, hint), t.dims, type);
  }

  /** A float constant in the tape's precision. */
  tensor(shape: Shape, data: ArrayLike<number>, hint = 'const'): string {
    const arr = this.dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
    return this.constant({ type: this.dtype, dims: [...shape], data: arr } as HostTensor, hint);
  }

  scalar(v: number): string { return this.tensor([], [v], 'scalar'); }

  /** A tensor of zeros built at run time (no large constant stored in the model). */
  zeros(shape: Shape): string {
    const value = this.dtype === 'float64'
      ? { type: 'float64' as const, dims: [1], data: new Float64Array(1) }
      : { type: 'float32' as const, dims: [1], data: new Float32Array(1) };
    const [out] = this.b.node('ConstantOfShape', [this.b.ints(shape)], { value }, { outputs: 1 });
    return this.declare(out!, shape);
  }

  /** Emits op `op` (see ops.ts) and records it when a gradient may flow through it. */
  apply(op: string, inputs: readonly string[], attrs: Attrs = {}): string[] {
    const def = OPS[op];
    if (!def) throw new Error(`tape: no op '${op}'`);
    const infos = inputs.map((v) => this.info(v));
    let shapes: Shape[];
    try {
      shapes = def.shape(infos.map((i) => i.shape), attrs);
    } catch (e) {
      throw new Error(`tape: ${op} on ${infos.map((i) => fmt(i.shape)).join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const types = def.outTypes?.(infos.map((i) => i.type), attrs) ?? shapes.map(() => infos[0]?.type ?? this.dtype);
    const requiresGrad = def.vjp !== undefined && infos.some((i) => i.requiresGrad);
    const outputs = shapes.map(() => this.b.fresh(op.toLowerCase()));
    if (def.emit) def.emit(this, inputs, attrs, outputs);
    else this.b.node(op, inputs, onnxAttrs(attrs), { outputs });
    outputs.forEach((o, k) => this.values.set(o, { shape: shapes[k]!, type: types[k]!, requiresGrad: requiresGrad && types[k] === this.dtype }));
    if (requiresGrad && this.recording) this.records.push({ op, inputs: [...inputs], outputs, attrs });
    return outputs;
  }

  op(op: string, inputs: readonly string[], attrs: Attrs = {}): string {
    return this.apply(op, inputs, attrs)[0]!;
  }

  // Sugar, in the order a loss reads.
  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  div(a: string, b: string): string { return this.op('Div', [a, b]); }
  neg(x: string): string { return this.op('Neg', [x]); }
  pow(x: string, p: number): string { return this.op('Pow', [x], { exponent: p }); }
  square(x: string): string { return this.mul(x, x); }
  relu(x: string): string { return this.op('Relu', [x]); }
  tanh(x: string): string { return this.op('Tanh', [x]); }
  sigmoid(x: string): string { return this.op('Sigmoid', [x]); }
  softplus(x: string): string { return this.op('Softplus', [x]); }
  abs(x: string): string { return this.op('Abs', [x]); }
  sqrt(x: string): string { return this.op('Sqrt', [x]); }
  exp(x: string): string { return this.op('Exp', [x]); }
  log(x: string): string { return this.op('Log', [x]); }
  maximum(a: string, b: string): string { return this.op('Max', [a, b]); }
  where(c: string, a: string, b: string): string { return this.op('Where', [c, a, b]); }
  greater(a: string, b: string): string { return this.op('Greater', [a, b]); }
  conv(x: string, w: string, bias?: string, o: { pads?: number[]; strides?: number[]; dilations?: number[]; group?: number } = {}): string {
    return this.op('Conv', bias ? [x, w, bias] : [x, w], convAttrs(this.shape(w), o));
  }
  maxPool(x: string, o: { kernel: number[]; strides?: number[]; pads?: number[]; ceil?: boolean }): string {
    return this.op('MaxPool', [x], { kernel_shape: o.kernel, strides: o.strides ?? o.kernel, pads: o.pads ?? [0, 0, 0, 0], ceil_mode: o.ceil ? 1 : 0 });
  }
  avgPool(x: string, o: { kernel: number[]; strides?: number[] }): string {
    return this.op('AveragePool', [x], { kernel_shape: o.kernel, strides: o.strides ?? o.kernel });
  }
  reduceSum(x: string, axes: readonly number[], keepdims = false): string { return this.op('ReduceSum', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 }); }
  reduceMean(x: string, axes: readonly number[], keepdims = false): string { return this.op('ReduceMean', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 }); }
  /** Sum of every element, as a scalar []. */
  sum(x: string): string { return this.reduceSum(x, this.shape(x).map((_, i) => i)); }
  mean(x: string): string { return this.reduceMean(x, this.shape(x).map((_, i) => i)); }
  matmul(a: string, b: string): string { return this.op('MatMul', [a, b]); }
  transpose(x: string, perm: readonly number[]): string { return this.op('Transpose', [x], { perm: [...perm] }); }
  reshape(x: string, shape: Shape): string { return this.op('Reshape', [x], { shape: [...shape] }); }
  concat(xs: readonly string[], axis: number): string { return this.op('Concat', xs, { axis }); }
  split(x: string, axis: number, sizes: readonly number[]): string[] { return this.apply('Split', [x], { axis, split: [...sizes] }); }
  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[]): string {
    return this.op('Slice', [x], { starts: [...starts], ends: [...ends], axes: [...axes] });
  }
  expand(x: string, shape: Shape): string { return this.op('Expand', [x], { shape: [...shape] }); }
  gather(data: string, indices: string): string { return this.op('Gather', [data, indices], { axis: 0 }); }
  gatherElements(data: string, indices: string, axis: number): string { return this.op('GatherElements', [data, indices], { axis }); }
  scatterAdd(data: string, indices: string, updates: string, axis = 0): string { return this.op('ScatterElements', [data, indices, updates], { axis, reduction: 'add' }); }
  castTo(x: string, type: ValueType): string { return this.op('Cast', [x], { to: DATA_TYPE[type] }); }

  /**
   * Emits the gradients of the scalar `loss` with respect to `wrt` (values that require grad) and
   * returns their names in order. A parameter the loss does not reach gets zeros.
   */
  grad(loss: string, wrt: readonly string[]): string[] {
    if (numel(this.shape(loss)) !== 1) throw new Error(`tape: grad needs a scalar loss, got ${fmt(this.shape(loss))}`);
    const grads = new Map<string, string>();
    this.recording = false;
    try {
      grads.set(loss, this.tensor(this.shape(loss), [1], 'dloss'));
      for (let r = this.records.length - 1; r >= 0; r--) {
        const rec = this.records[r]!;
        const gOut = rec.outputs.map((o) => grads.get(o));
        if (gOut.every((g) => g === undefined)) continue;
        const def = OPS[rec.op]!;
        const ctx: OpContext = {
          t: this, inputs: rec.inputs, outputs: rec.outputs, attrs: rec.attrs,
          inShapes: rec.inputs.map((v) => this.shape(v)), outShapes: rec.outputs.map((v) => this.shape(v)),
        };
        const gIn = def.vjp!(ctx, gOut);
        rec.inputs.forEach((v, i) => {
          const g = gIn[i];
          if (g === undefined || !this.info(v).requiresGrad) return;
          const prev = grads.get(v);
          grads.set(v, prev === undefined ? g : this.add(prev, g));
        });
      }
    } finally {
      this.recording = true;
    }
    return wrt.map((w) => grads.get(w) ?? this.zeros(this.shape(w)));
  }
}

function convAttrs(wShape: Shape, o: { pads?: number[]; strides?: number[]; dilations?: number[]; group?: number }): Attrs {
  return {
    kernel_shape: [wShape[2]!, wShape[3]!],
    pads: o.pads ?? [0, 0, 0, 0],
    strides: o.strides ?? [1, 1],
    dilations: o.dilations ?? [1, 1],
    group: o.group ?? 1,
  };
}

/** Tape attributes as ONNX attributes (tape-only keys are filtered by each op's emit). */
export function onnxAttrs(a: Attrs): Record<string, AttrValue> {
  return a as Record<string, AttrValue>;
}
