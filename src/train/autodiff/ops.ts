// The differentiable ops: for each, its static shape rule, how it is emitted as ONNX (when not a
// single node of the same name), and its vector-Jacobian product beside it, written with the
// tape's own ops so gradients get shapes and checks too. Every VJP is checked against finite
// differences in test/train/autodiff.test.ts.
import type { Tape, ValueType } from './tape.js';
import { broadcast, broadcastAxes, numel, windowOut, type Shape } from './shape.js';

export type Attrs = Readonly<Record<string, number | string | readonly number[]>>;

export interface OpContext {
  readonly t: Tape;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
  readonly inShapes: readonly Shape[];
  readonly outShapes: readonly Shape[];
}

export interface OpDef {
  shape(ins: readonly Shape[], a: Attrs): Shape[];
  outTypes?(ins: readonly ValueType[], a: Attrs): ValueType[];
  emit?(t: Tape, inputs: readonly string[], a: Attrs, outputs: readonly string[]): void;
  /** Gradients for the inputs from the outputs' gradients; undefined where none flows. */
  vjp?(c: OpContext, g: readonly (string | undefined)[]): (string | undefined)[];
}

const nums = (a: Attrs, k: string): number[] => [...(a[k] as readonly number[])];
const num = (a: Attrs, k: string, d = 0): number => (a[k] === undefined ? d : (a[k] as number));

/** Sums a gradient of the broadcast output shape back to an input's shape. */
function unbroadcast(c: OpContext, g: string, i: number): string {
  const s = c.inShapes[i]!;
  const axes = broadcastAxes(s, c.t.shape(g));
  if (axes.length === 0) return g;
  const summed = c.t.reduceSum(g, axes, true);
  return c.t.shape(summed).length === s.length ? summed : c.t.reshape(summed, s);
}

const same = (ins: readonly Shape[]): Shape[] => [ins[0]!];
const broadcasting = (ins: readonly Shape[]): Shape[] => [broadcast(...ins)];
const floatMask = (c: OpContext, cond: string): string => c.t.castTo(cond, c.t.dtype);
/** Like the tape's split, for an int64 `sizes` list (Split takes it as an input). */
const axisList = (t: Tape, a: readonly number[]): string => t.b.ints(a);

export const OPS: Record<string, OpDef> = {
  // --- elementwise, with broadcasting -------------------------------------------------------
  Add: { shape: broadcasting, vjp: (c, [g]) => [unbroadcast(c, g!, 0), unbroadcast(c, g!, 1)] },
  Sub: { shape: broadcasting, vjp: (c, [g]) => [unbroadcast(c, g!, 0), unbroadcast(c, c.t.neg(g!), 1)] },
  Mul: {
    shape: broadcasting,
    vjp: (c, [g]) => [unbroadcast(c, c.t.mul(g!, c.inputs[1]!), 0), unbroadcast(c, c.t.mul(g!, c.inputs[0]!), 1)],
  },
  Div: {
    shape: broadcasting,
    // d(a/b)/db = −a/b² = −y/b
    vjp: (c, [g]) => [unbroadcast(c, c.t.div(g!, c.inputs[1]!), 0), unbroadcast(c, c.t.neg(c.t.div(c.t.mul(g!, c.outputs[0]!), c.inputs[1]!)), 1)],
  },
  Max: {
    shape: broadcasting,
    // Ties go to the first operand (as a hinge max(x, 0) wants: gradient 0 at the kink's right).
    vjp: (c, [g]) => {
      const [a, b] = c.inputs as [string, string];
      const aWins = floatMask(c, c.t.op('Not', [c.t.greater(b, a)]));
      return [unbroadcast(c, c.t.mul(g!, aWins), 0), unbroadcast(c, c.t.mul(g!, c.t.sub(c.t.scalar(1), aWins)), 1)];
    },
  },
  Where: {
    shape: broadcasting,
    outTypes: (ins) => [ins[1]!], // the type of the values, not of the condition
    vjp: (c, [g]) => {
      const z = c.t.scalar(0);
      return [undefined, unbroadcast(c, c.t.where(c.inputs[0]!, g!, z), 1), unbroadcast(c, c.t.where(c.inputs[0]!, z, g!), 2)];
    },
  },
  // Pow with a constant exponent (attribute `exponent`).
  Pow: {
    shape: same,
    emit: (t, [x], a, [y]) => { t.b.node('Pow', [x!, t.scalar(num(a, 'exponent'))], {}, { outputs: [y!] }); },
    vjp: (c, [g]) => {
      const p = num(c.attrs, 'exponent');
      return [c.t.mul(g!, c.t.mul(c.t.scalar(p), c.t.pow(c.inputs[0]!, p - 1)))];
    },
  },

  // --- elementwise, unary -------------------------------------------------------------------
  Neg: { shape: same, vjp: (c, [g]) => [c.t.neg(g!)] },
  Relu: { shape: same, vjp: (c, [g]) => [c.t.mul(g!, floatMask(c, c.t.greater(c.inputs[0]!, c.t.scalar(0))))] },
  Tanh: { shape: same, vjp: (c, [g]) => [c.t.mul(g!, c.t.sub(c.t.scalar(1), c.t.square(c.outputs[0]!)))] },
  Sigmoid: { shape: same, vjp: (c, [g]) => [c.t.mul(g!, c.t.mul(c.outputs[0]!, c.t.sub(c.t.scalar(1), c.outputs[0]!)))] },
  Softplus: { shape: same, vjp: (c, [g]) => [c.t.mul(g!, c.t.sigmoid(c.inputs[0]!))] },
  Abs: { shape: same, vjp: (c, [g]) => [c.t.mul(g!, c.t.op('Sign', [c.inputs[0]!]))] },
  Sign: { shape: same },
  Sqrt: { shape: same, vjp: (c, [g]) => [c.t.div(c.t.mul(g!, c.t.scalar(0.5)), c.outputs[0]!)] },
  Exp: { shape: same, vjp: (c, [g]) => [c.t.mul(g!, c.outputs[0]!)] },
  Log: { shape: same, vjp: (c, [g]) => [c.t.div(g!, c.inputs[0]!)] },
  Identity: { shape: same, vjp: (_c, [g]) => [g] },
  Greater: { shape: broadcasting, outTypes: () => ['bool'] },
  Not: { shape: same, outTypes: () => ['bool'] },
  Cast: {
    shape: same,
    outTypes: (_i, a) => [({ 1: 'float32', 11: 'float64', 7: 'int64', 9: 'bool' } as Record<number, ValueType>)[num(a, 'to')] ?? 'float32'],
  },

  // --- convolution and pooling --------------------------------------------------------------
  Conv: {
    shape: ([x, w], a) => {
      const [n, c, h, wd] = x!;
      const [o, ci, kh, kw] = w!;
      const group = num(a, 'group', 1);
      if (ci! * group !== c) throw new Error(`weight expects ${ci! * group} input channels, got ${c}`);
      const p = nums(a, 'pads'), s = nums(a, 'strides'), d = nums(a, 'dilations');
      return [[n!, o!, windowOut(h!, kh!, s[0]!, p[0]!, p[2]!, d[0]), windowOut(wd!, kw!, s[1]!, p[1]!, p[3]!, d[1])]];
    },
    vjp: (c, [g]) => {
      const [x, w, bias] = c.inputs as [string, string, string | undefined];
      const t = c.t;
      const a = c.attrs;
      const p = nums(a, 'pads'), s = nums(a, 'strides'), d = nums(a, 'dilations');
      const group = num(a, 'group', 1);
      const [, , h, wd] = c.inShapes[0]!;
      const [, , kh, kw] = c.inShapes[1]!;
      const [, , oh, ow] = c.outShapes[0]!;
      // dL/dx: the transposed convolution, padded out to the input's exact size.
      const outPad = [h! - (s[0]! * (oh! - 1) + d[0]! * (kh! - 1) + 1 - p[0]! - p[2]!), wd! - (s[1]! * (ow! - 1) + d[1]! * (kw! - 1) + 1 - p[1]! - p[3]!)];
      const gx = t.info(x).requiresGrad
        ? t.op('ConvTranspose', [g!, w], { pads: p, strides: s, dilations: d, group, output_padding: outPad, kernel_shape: [kh!, kw!] })
        : undefined;
      // dL/dW[o,i,u,v] = Σ g[n,o,y,x]·x[n,i,y·s+u·d,x·s+v·d]: a convolution of x (channels as batch)
      // with g (channels as filters), strides and dilations swapped.
      let gw: string | undefined;
      if (t.info(w).requiresGrad) {
        if (group !== 1) throw new Error('Conv weight gradient with group > 1 is not supported');
        const xt = t.transpose(x, [1, 0, 2, 3]);
        const gt = t.transpose(g!, [1, 0, 2, 3]);
        let r = t.conv(xt, gt, undefined, { pads: p, strides: d, dilations: s });
        const [, , rh, rw] = t.shape(r);
        if (rh !== kh || rw !== kw) r = t.slice(r, [0, 0], [kh!, kw!], [2, 3]);
        gw = t.transpose(r, [1, 0, 2, 3]);
      }
      const gb = bias && t.info(bias).requiresGrad ? t.reduceSum(g!, [0, 2, 3]) : undefined;
      return [gx, gw, gb];
    },
  },
  ConvTranspose: {
    shape: ([x, w], a) => {
      const [n, , h, wd] = x!;
      const [, oc, kh, kw] = w!;
      const p = nums(a, 'pads'), s = nums(a, 'strides'), d = nums(a, 'dilations'), op = nums(a, 'output_padding');
      const out = (i: number, k: number, j: number): number => s[j]! * (i - 1) + op[j]! + d[j]! * (k - 1) + 1 - p[j]! - p[j + 2]!;
      return [[n!, oc! * num(a, 'group', 1), out(h!, kh!, 0), out(wd!, kw!, 1)]];
    },
  },
  MaxPool: {
    shape: ([x], a) => {
      const [n, ch, h, w] = x!;
      const k = nums(a, 'kernel_shape'), s = nums(a, 'strides'), p = nums(a, 'pads');
      const ceil = num(a, 'ceil_mode') === 1;
      return [[n!, ch!, windowOut(h!, k[0]!, s[0]!, p[0]!, p[2]!, 1, ceil), windowOut(w!, k[1]!, s[1]!, p[1]!, p[3]!, 1, ceil)]];
    },
    // Emitted with its Indices output, which the gradient scatters through.
    emit: (t, [x], a, [y]) => {
      const [, idx] = t.b.node('MaxPool', [x!], a as Record<string, number | readonly number[]>, { outputs: [y!, `${y!}_indices`] });
      t.declare(idx!, OPS.MaxPool!.shape([t.shape(x!)], a)[0]!, 'int64');
    },
    vjp: (c, [g]) => {
      const t = c.t;
      // ORT's indices are flat offsets into the whole input tensor (batch and channel included).
      const idx = `${c.outputs[0]!}_indices`;
      const flat = t.scatterAdd(t.zeros([numel(c.inShapes[0]!)]), t.reshape(idx, [-1]), t.reshape(g!, [-1]));
      return [t.reshape(flat, c.inShapes[0]!)];
    },
  },
  AveragePool: {
    shape: ([x], a) => {
      const [n, ch, h, w] = x!;
      const k = nums(a, 'kernel_shape'), s = nums(a, 'strides');
      return [[n!, ch!, windowOut(h!, k[0]!, s[0]!, 0, 0), windowOut(w!, k[1]!, s[1]!, 0, 0)]];
    },
    // Unpadded windows: the gradient spreads each output evenly over its window, a depthwise
    // transposed convolution with a constant kernel of 1/(k·k).
    vjp: (c, [g]) => {
      const t = c.t;
      const [, ch, h, w] = c.inShapes[0]!;
      const k = nums(c.attrs, 'kernel_shape'), s = nums(c.attrs, 'strides');
      const [, , oh, ow] = c.outShapes[0]!;
      const kernel = t.tensor([ch!, 1, k[0]!, k[1]!], new Array(ch! * k[0]! * k[1]!).fill(1 / (k[0]! * k[1]!)));
      const outPad = [h! - (s[0]! * (oh! - 1) + k[0]!), w! - (s[1]! * (ow! - 1) + k[1]!)];
      return [t.op('ConvTranspose', [g!, kernel], { pads: [0, 0, 0, 0], strides: s, dilations: [1, 1], group: ch!, output_padding: outPad, kernel_shape: k })];
    },
  },

  // --- reductions and linear algebra --------------------------------------------------------
  ReduceSum: {
    shape: ([x], a) => [reducedShape(x!, nums(a, 'axes'), num(a, 'keepdims') === 1)],
    emit: (t, [x], a, [y]) => { t.b.node('ReduceSum', [x!, axisList(t, nums(a, 'axes'))], { keepdims: num(a, 'keepdims') }, { outputs: [y!] }); },
    vjp: (c, [g]) => [c.t.expand(c.t.reshape(g!, reducedShape(c.inShapes[0]!, nums(c.attrs, 'axes'), true)), c.inShapes[0]!)],
  },
  ReduceMean: {
    shape: ([x], a) => [reducedShape(x!, nums(a, 'axes'), num(a, 'keepdims') === 1)],
    emit: (t, [x], a, [y]) => { t.b.node('ReduceMean', [x!, axisList(t, nums(a, 'axes'))], { keepdims: num(a, 'keepdims') }, { outputs: [y!] }); },
    vjp: (c, [g]) => {
      const x = c.inShapes[0]!;
      const count = numel(x) / numel(reducedShape(x, nums(c.attrs, 'axes'), true));
      return [c.t.expand(c.t.reshape(c.t.mul(g!, c.t.scalar(1 / count)), reducedShape(x, nums(c.attrs, 'axes'), true)), x)];
    },
  },
  MatMul: {
    shape: ([a, b]) => {
      if (a!.length < 2 || b!.length < 2) throw new Error('MatMul operands need rank ≥ 2 here');
      const [m, k1] = a!.slice(-2), [k2, n] = b!.slice(-2);
      if (k1 !== k2) throw new Error(`inner dimensions ${k1} and ${k2} differ`);
      return [[...broadcast(a!.slice(0, -2), b!.slice(0, -2)), m!, n!]];
    },
    vjp: (c, [g]) => {
      const [a, b] = c.inputs as [string, string];
      const tr = (v: string): string => {
        const r = c.t.shape(v).length;
        return c.t.transpose(v, [...Array(r - 2).keys(), r - 1, r - 2]);
      };
      return [unbroadcast(c, c.t.matmul(g!, tr(b)), 0), unbroadcast(c, c.t.matmul(tr(a), g!), 1)];
    },
  },

  // --- shape ops ----------------------------------------------------------------------------
  Transpose: {
    shape: ([x], a) => [nums(a, 'perm').map((p) => x![p]!)],
    vjp: (c, [g]) => {
      const perm = nums(c.attrs, 'perm');
      const inv = perm.map((_, i) => perm.indexOf(i));
      return [c.t.transpose(g!, inv)];
    },
  },
  Reshape: {
    shape: ([x], a) => [resolveReshape(x!, nums(a, 'shape'))],
    emit: (t, [x], a, [y]) => { t.b.node('Reshape', [x!, t.b.ints(nums(a, 'shape'))], {}, { outputs: [y!] }); },
    vjp: (c, [g]) => [c.t.reshape(g!, c.inShapes[0]!)],
  },
  Expand: {
    shape: ([x], a) => [broadcast(x!, nums(a, 'shape'))],
    emit: (t, [x], a, [y]) => { t.b.node('Expand', [x!, t.b.ints(nums(a, 'shape'))], {}, { outputs: [y!] }); },
    vjp: (c, [g]) => [unbroadcast(c, g!, 0)],
  },
  Concat: {
    shape: (ins, a) => {
      const axis = num(a, 'axis');
      const out = [...ins[0]!];
      out[axis] = ins.reduce((s, x) => s + x[axis]!, 0);
      return [out];
    },
    vjp: (c, [g]) => c.t.split(g!, num(c.attrs, 'axis'), c.inShapes.map((s) => s[num(c.attrs, 'axis')]!)),
  },
  Split: {
    shape: ([x], a) => nums(a, 'split').map((n) => x!.map((d, i) => (i === num(a, 'axis') ? n : d))),
    emit: (t, [x], a, outs) => { t.b.node('Split', [x!, t.b.ints(nums(a, 'split'))], { axis: num(a, 'axis') }, { outputs: outs }); },
    vjp: (c, g) => [c.t.concat(g.map((gi, i) => gi ?? c.t.zeros(c.outShapes[i]!)), num(c.attrs, 'axis'))],
  },
  Slice: {
    shape: ([x], a) => {
      const out = [...x!];
      nums(a, 'axes').forEach((ax, i) => {
        const [b, e] = sliceBounds(x![ax]!, nums(a, 'starts')[i]!, nums(a, 'ends')[i]!);
        out[ax] = e - b;
      });
      return [out];
    },
    emit: (t, [x], a, [y]) => { t.b.node('Slice', [x!, t.b.ints(nums(a, 'starts')), t.b.ints(nums(a, 'ends')), t.b.ints(nums(a, 'axes'))], {}, { outputs: [y!] }); },
    vjp: (c, [g]) => {
      const x = c.inShapes[0]!;
      const pads = new Array(2 * x.length).fill(0);
      nums(c.attrs, 'axes').forEach((ax, i) => {
        const [b, e] = sliceBounds(x[ax]!, nums(c.attrs, 'starts')[i]!, nums(c.attrs, 'ends')[i]!);
        pads[ax] = b;
        pads[ax + x.length] = x[ax]! - e;
      });
      return [c.t.op('Pad', [g!], { pads })];
    },
  },
  Pad: {
    shape: ([x], a) => [x!.map((d, i) => d + nums(a, 'pads')[i]! + nums(a, 'pads')[i + x!.length]!)],
    emit: (t, [x], a, [y]) => { t.b.node('Pad', [x!, t.b.ints(nums(a, 'pads'))], {}, { outputs: [y!] }); },
  },

  // --- indexing (region pooling) ------------------------------------------------------------
  Gather: {
    shape: ([d, i]) => {
      if (d!.length !== 1) throw new Error('Gather is supported on 1-D data here');
      return [i!];
    },
    outTypes: (ins) => [ins[0]!],
    vjp: (c, [g]) => [c.t.scatterAdd(c.t.zeros(c.inShapes[0]!), c.t.reshape(c.inputs[1]!, [-1]), c.t.reshape(g!, [-1])), undefined],
  },
  GatherElements: {
    shape: ([, i]) => [i!],
    outTypes: (ins) => [ins[0]!],
    vjp: (c, [g]) => [c.t.scatterAdd(c.t.zeros(c.inShapes[0]!), c.inputs[1]!, g!, num(c.attrs, 'axis')), undefined],
  },
  // ScatterElements with reduction 'add' only: data passes through, updates gather back.
  ScatterElements: {
    shape: ([d]) => [d!],
    outTypes: (ins) => [ins[0]!],
    vjp: (c, [g]) => {
      if (c.attrs.reduction !== 'add') throw new Error("ScatterElements gradient needs reduction 'add'");
      return [g, undefined, c.t.gatherElements(g!, c.inputs[1]!, num(c.attrs, 'axis'))];
    },
  },
};

function reducedShape(x: Shape, axes: readonly number[], keep: boolean): Shape {
  const norm = axes.map((a) => (a < 0 ? a + x.length : a));
  return keep ? x.map((d, i) => (norm.includes(i) ? 1 : d)) : x.filter((_, i) => !norm.includes(i));
}

function resolveReshape(x: Shape, shape: readonly number[]): Shape {
  const out = shape.map((d, i) => (d === 0 ? x[i]! : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const res = out.map((d) => (d === -1 ? numel(x) / known : d));
  if (numel(res) !== numel(x)) throw new Error(`cannot reshape ${numel(x)} elements to [${shape.join(',')}]`);
  return res;
}

function sliceBounds(dim: number, start: number, end: number): [number, number] {
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
  return [clamp(start), clamp(end)];
}
