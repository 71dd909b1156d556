// Reading an ONNX file back: its signature, initializers and metadata, without a runtime.
import { DATA_TYPE, decodeModel, type DataType, type ValueInfoProto } from './proto.js';
import { fromTensorProto, type HostTensor } from './tensor.js';
import type { Dim } from './builder.js';

export interface ValueSignature {
  readonly name: string;
  readonly type: DataType | 'unknown';
  readonly shape: readonly Dim[] | undefined;
}

export interface ModelSummary {
  readonly inputs: readonly ValueSignature[];
  readonly outputs: readonly ValueSignature[];
  readonly initializers: ReadonlyMap<string, HostTensor>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly opset: number;
}

const TYPE_BY_CODE = new Map<number, DataType>((Object.entries(DATA_TYPE) as Array<[DataType, number]>).map(([k, v]) => [v, k]));

function signature(v: ValueInfoProto): ValueSignature {
  const tt = v.type?.tensorType;
  const shape = tt?.shape?.dim.map((d): Dim => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
  return { name: v.name, type: TYPE_BY_CODE.get(tt?.elemType ?? -1) ?? 'unknown', shape };
}

/** Throws when the bytes are not an ONNX model (protobuf decode error or no graph). */
export function inspectModel(bytes: Uint8Array): ModelSummary {
  const m = decodeModel(bytes);
  if (!m.graph || (m.graph.node.length === 0 && m.graph.initializer.length === 0)) {
    throw new Error('not an ONNX model: it has no graph');
  }
  const initNames = new Set(m.graph.initializer.map((t) => t.name));
  return {
    // Older exporters list initializers among the inputs too; those are not real inputs.
    inputs: m.graph.input.filter((v) => !initNames.has(v.name)).map(signature),
    outputs: m.graph.output.map(signature),
    initializers: new Map(m.graph.initializer.map((t) => [t.name, fromTensorProto(t)])),
    metadata: Object.fromEntries(m.metadataProps.map((e) => [e.key, e.value])),
    opset: Number(m.opsetImport.find((o) => !o.domain)?.version ?? 0),
  };
}
