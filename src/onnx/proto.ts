// The ONNX file format as protobufjs reflection types: the subset of onnx.proto that
// models for ONNX Runtime use (no sparse tensors, no training info, no functions).
// Field numbers are the format's, from onnx/onnx.proto (IR version 8+).
import protobuf from 'protobufjs';

const { Root, Type, Field, Enum, OneOf } = protobuf;

function message(name: string, fields: ReadonlyArray<[string, number, string, ('repeated' | 'optional')?]>): protobuf.Type {
  const t = new Type(name);
  for (const [fieldName, id, type, rule] of fields) t.add(new Field(fieldName, id, type, rule));
  return t;
}

const attributeType = new Enum('AttributeType', {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
});

const tensor = message('TensorProto', [
  ['dims', 1, 'int64', 'repeated'],
  ['dataType', 2, 'int32'],
  ['floatData', 4, 'float', 'repeated'],
  ['int32Data', 5, 'int32', 'repeated'],
  ['int64Data', 7, 'int64', 'repeated'],
  ['name', 8, 'string'],
  ['rawData', 9, 'bytes'],
  ['doubleData', 10, 'double', 'repeated'],
  ['docString', 12, 'string'],
]);

const dimension = message('Dimension', [
  ['dimValue', 1, 'int64'],
  ['dimParam', 2, 'string'],
]);
dimension.add(new OneOf('value', ['dimValue', 'dimParam']));
const shape = message('TensorShapeProto', [['dim', 1, 'Dimension', 'repeated']]);
const tensorType = message('TensorTypeProto', [
  ['elemType', 1, 'int32'],
  ['shape', 2, 'TensorShapeProto'],
]);
const typeProto = message('TypeProto', [['tensorType', 1, 'TensorTypeProto']]);
const valueInfo = message('ValueInfoProto', [
  ['name', 1, 'string'],
  ['type', 2, 'TypeProto'],
  ['docString', 3, 'string'],
]);

const attribute = message('AttributeProto', [
  ['name', 1, 'string'],
  ['f', 2, 'float'],
  ['i', 3, 'int64'],
  ['s', 4, 'bytes'],
  ['t', 5, 'TensorProto'],
  ['g', 6, 'GraphProto'],
  ['floats', 7, 'float', 'repeated'],
  ['ints', 8, 'int64', 'repeated'],
  ['strings', 9, 'bytes', 'repeated'],
  ['tensors', 10, 'TensorProto', 'repeated'],
  ['graphs', 11, 'GraphProto', 'repeated'],
  ['docString', 13, 'string'],
  ['type', 20, 'AttributeType'],
]);

const node = message('NodeProto', [
  ['input', 1, 'string', 'repeated'],
  ['output', 2, 'string', 'repeated'],
  ['name', 3, 'string'],
  ['opType', 4, 'string'],
  ['attribute', 5, 'AttributeProto', 'repeated'],
  ['docString', 6, 'string'],
  ['domain', 7, 'string'],
]);

const graph = message('GraphProto', [
  ['node', 1, 'NodeProto', 'repeated'],
  ['name', 2, 'string'],
  ['initializer', 5, 'TensorProto', 'repeated'],
  ['docString', 10, 'string'],
  ['input', 11, 'ValueInfoProto', 'repeated'],
  ['output', 12, 'ValueInfoProto', 'repeated'],
  ['valueInfo', 13, 'ValueInfoProto', 'repeated'],
]);

const opset = message('OperatorSetIdProto', [
  ['domain', 1, 'string'],
  ['version', 2, 'int64'],
]);
const entry = message('StringStringEntryProto', [
  ['key', 1, 'string'],
  ['value', 2, 'string'],
]);

const model = message('ModelProto', [
  ['irVersion', 1, 'int64'],
  ['producerName', 2, 'string'],
  ['producerVersion', 3, 'string'],
  ['domain', 4, 'string'],
  ['modelVersion', 5, 'int64'],
  ['docString', 6, 'string'],
  ['graph', 7, 'GraphProto'],
  ['opsetImport', 8, 'OperatorSetIdProto', 'repeated'],
  ['metadataProps', 14, 'StringStringEntryProto', 'repeated'],
]);

const root = new Root();
for (const t of [attributeType, tensor, dimension, shape, tensorType, typeProto, valueInfo, attribute, node, graph, opset, entry, model]) {
  root.add(t);
}
root.resolveAll();

export const ModelType = root.lookupType('ModelProto');

/** TensorProto.DataType codes (onnx.proto). */
export const DATA_TYPE = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11,
} as const;
export type DataType = keyof typeof DATA_TYPE;

export const ATTRIBUTE_TYPE = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
} as const;

// Plain-object shapes of the messages, as this project writes and reads them.
export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
}
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain?: string;
  attribute: AttributeProto[];
}
export interface DimProto { dimValue?: number; dimParam?: string }
export interface ValueInfoProto {
  name: string;
  type: { tensorType: { elemType: number; shape?: { dim: DimProto[] } } };
}
export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  docString?: string;
}
export interface ModelProto {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: GraphProto;
  opsetImport: Array<{ domain: string; version: number }>;
  metadataProps: Array<{ key: string; value: string }>;
}

export function encodeModel(m: ModelProto): Uint8Array {
  const err = ModelType.verify(m);
  if (err) throw new Error(`invalid ONNX model object: ${err}`);
  return ModelType.encode(ModelType.fromObject(m)).finish();
}

/** Decodes an ONNX file. Throws protobufjs's error on bytes that are not a model. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const msg = ModelType.decode(bytes);
  // int64 → JS number: every dim and attribute this project handles fits in 2^53. No defaults:
  // absent fields stay absent, so a decoded model re-encodes to what it was (filled-in defaults
  // would give every attribute an i, f and s beside its real value, which ONNX Runtime rejects).
  return ModelType.toObject(msg, { longs: Number, defaults: false, arrays: true }) as ModelProto;
}
