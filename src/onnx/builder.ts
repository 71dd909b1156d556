// A small, general ONNX graph builder: values are names (strings), nodes are added in order,
// constants become initializers. Nothing here knows about DCE-Net; enhance/ and train/ build on it.
import {
  ATTRIBUTE_TYPE, DATA_TYPE, encodeModel,
  type AttributeProto, type DataType, type DimProto, type GraphProto, type ModelProto,
  type NodeProto, type TensorProto, type ValueInfoProto,
} from './proto.js';
import { f32, i64, toTensorProto, type HostTensor } from './tensor.js';

/** A dimension: a fixed size, or a symbolic name (e.g. 'N') for a dynamic one. */
export type Dim = number | string;

/**
 * An attribute value. Integers become INT, other numbers FLOAT; wrap with `attr.float(1)` to
 * force a FLOAT for an integral value (a wrong type fails loudly at session creation).
 */
export type AttrValue =
  | number | string | readonly number[] | readonly string[] | HostTensor
  | { readonly kind: 'float' | 'floats'; readonly value: number | readonly number[] }
  | { readonly kind: 'graph'; readonly value: GraphProto };

export const attr = {
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
  graph: (value: GraphProto): AttrValue => ({ kind: 'graph', value }),
};

function isHostTensor(v: AttrValue): v is HostTensor {
  return typeof v === 'object' && 'dims' in v && 'data' in v;
}

function toAttribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: ATTRIBUTE_TYPE.INT, i: v } : { name, type: ATTRIBUTE_TYPE.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) {
      return { name, type: ATTRIBUTE_TYPE.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    }
    const nums = v as number[];
    return nums.every(Number.isInteger)
      ? { name, type: ATTRIBUTE_TYPE.INTS, ints: [...nums] }
      : { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...nums] };
  }
  if (isHostTensor(v as AttrValue)) return { name, type: ATTRIBUTE_TYPE.TENSOR, t: toTensorProto('', v as HostTensor) };
  const w = v as Exclude<AttrValue, number | string | readonly unknown[] | HostTensor>;
  switch (w.kind) {
    case 'float': return { name, type: ATTRIBUTE_TYPE.FLOAT, f: w.value as number };
    case 'floats': return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...(w.value as readonly number[])] };
    case 'graph': return { name, type: ATTRIBUTE_TYPE.GRAPH, g: w.value };
  }
}

function valueInfo(name: string, type: DataType, shape: readonly Dim[] | undefined): ValueInfoProto {
  const dims: DimProto[] | undefined = shape?.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: DATA_TYPE[type], ...(dims ? { shape: { dim: dims } } : {}) } } };
}

export interface NodeOptions {
  /** Number of outputs (fresh names) or explicit output names. Default 1. */
  outputs?: number | readonly string[];
  name?: string;
  domain?: string;
}

export interface ModelOptions {
  opset?: number;
  irVersion?: number;
  producer?: string;
  doc?: string;
  metadata?: Readonly<Record<string, string>>;
}

/** Default opset: 18 has Resize antialias, ReduceMean with axes as an input, Split with num_outputs. */
export const DEFAULT_OPSET = 18;

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly inits: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();
  /** Names handed out by fresh() that no node or input has defined yet. */
  private readonly reserved = new Set<string>();
  private counter = 0;
  /** The Identity nodes output() added to rename a value. */
  private readonly renames = new Set<NodeProto>();

  constructor(readonly name = 'graph') {}

  /** A name not used before in this graph, starting with `hint`. */
  fresh(hint: string): string {
    let n = `${hint}_${this.counter++}`;
    while (this.used.has(n)) n = `${hint}_${this.counter++}`;
    this.used.add(n);
    this.reserved.add(n);
    return n;
  }

  /** Defines `name` once: a name from fresh() may be defined by its first user, any other only if new. */
  private claim(name: string): string {
    if (this.reserved.delete(name)) return name;
    if (this.used.has(name)) throw new Error(`graph ${this.name}: the name '${name}' is already used`);
    this.used.add(name);
    return name;
  }

  input(name: string, type: DataType, shape?: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, shape));
    return name;
  }

  /**
   * Declares `value` a graph output; renames it with an Identity when `as` differs. graph() folds
   * such an Identity into the node that makes `value` where it can (not in a graph with subgraphs): an Identity on an output is a
   * full copy of it in ONNX Runtime (1.7 ms a run for the denoiser's 720p state).
   */
  output(value: string, type: DataType, shape?: readonly Dim[], as: string = value): string {
    const name = as === value ? value : this.op('Identity', [value], {}, { outputs: [as], name: this.claim(this.fresh('n_output')) });
    if (name !== value) this.renames.add(this.nodes[this.nodes.length - 1]!);
    this.outputs.push(valueInfo(name, type, shape));
    return name;
  }

  initializer(name: string, t: HostTensor): string {
    this.inits.push(toTensorProto(this.claim(name), t));
    return name;
  }

  /** An anonymous constant (stored as an initializer). */
  constant(t: HostTensor, hint = 'const'): string {
    return this.initializer(this.fresh(hint), t);
  }

  scalar(v: number): string {
    return this.constant(f32([], [v]), 'scalar');
  }

  ints(v: readonly number[]): string {
    return this.constant(i64([v.length], v), 'ints');
  }

  /** Adds a node and returns its output names. Use '' for an omitted optional input. */
  node(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, opts: NodeOptions = {}): string[] {
    const out = opts.outputs ?? 1;
    const outputs = typeof out === 'number'
      ? Array.from({ length: out }, () => this.claim(this.fresh(opType.toLowerCase())))
      : out.map((n) => this.claim(n));
    this.nodes.push({
      input: [...inputs],
      output: outputs,
      name: opts.name ?? this.claim(this.fresh(`n_${opType}`)),
      opType,
      ...(opts.domain ? { domain: opts.domain } : {}),
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return outputs;
  }

  /** A node with exactly one output. */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, opts: NodeOptions = {}): string {
    const outs = this.node(opType, inputs, attrs, opts);
    if (outs.length !== 1) throw new Error(`${opType}: op() is for one output, use node()`);
    return outs[0]!;
  }

  // Typed shorthands for the ops used everywhere.
  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  div(a: string, b: string): string { return this.op('Div', [a, b]); }
  relu(x: string): string { return this.op('Relu', [x]); }
  tanh(x: string): string { return this.op('Tanh', [x]); }
  cast(x: string, to: DataType): string { return this.op('Cast', [x], { to: DATA_TYPE[to] }); }
  transpose(x: string, perm: readonly number[]): string { return this.op('Transpose', [x], { perm }); }
  concat(xs: readonly string[], axis: number): string { return this.op('Concat', xs, { axis }); }
  conv(x: string, w: string, b: string | undefined, o: { pads?: number[]; strides?: number[]; group?: number; dilations?: number[] } = {}): string {
    const a: Record<string, AttrValue> = {};
    if (o.pads) a.pads = o.pads;
    if (o.strides) a.strides = o.strides;
    if (o.dilations) a.dilations = o.dilations;
    if (o.group && o.group !== 1) a.group = o.group;
    return this.op('Conv', b ? [x, w, b] : [x, w], a);
  }

  /**
   * The nodes, with each renaming Identity folded away when its input is made by a node of this
   * graph and is neither a graph output nor renamed twice: that value takes the output's name.
   */
  private foldedNodes(): NodeProto[] {
    // A subgraph may name an outer value: leave such graphs as they are.
    if (this.nodes.some((n) => n.attribute?.some((a) => a.g !== undefined))) return this.nodes.slice();
    const made = new Set(this.nodes.flatMap((n) => n.output));
    const outputs = new Set(this.outputs.map((o) => o.name));
    const rename = new Map<string, string>();
    const dropped = new Set<NodeProto>();
    for (const n of this.renames) {
      const from = n.input[0]!;
      if (!made.has(from) || outputs.has(from) || rename.has(from)) continue;
      rename.set(from, n.output[0]!);
      dropped.add(n);
    }
    const to = (v: string): string => rename.get(v) ?? v;
    return this.nodes.filter((n) => !dropped.has(n)).map((n) => (n.input.some((v) => rename.has(v)) || n.output.some((v) => rename.has(v)) ? { ...n, input: n.input.map(to), output: n.output.map(to) } : n));
  }

  graph(): GraphProto {
    return {
      name: this.name,
      node: this.foldedNodes(),
      initializer: this.inits.slice(),
      input: this.inputs.slice(),
      output: this.outputs.slice(),
    };
  }

  model(o: ModelOptions = {}): ModelProto {
    const opset = o.opset ?? DEFAULT_OPSET;
    return {
      // IR 8 is what opsets 17–18 pair with; ORT reads newer ones too.
      irVersion: o.irVersion ?? 8,
      producerName: o.producer ?? 'pie-stream',
      producerVersion: '0.1.0',
      ...(o.doc ? { docString: o.doc } : {}),
      graph: this.graph(),
      opsetImport: [{ domain: '', version: opset }],
      metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
  }

  /** Serialises the model to ONNX bytes, ready for InferenceSession.create or a file. */
  toBytes(o: ModelOptions = {}): Uint8Array {
    return encodeModel(this.model(o));
  }
}
