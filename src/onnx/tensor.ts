// Host tensors: a data type, dims and a typed array. Conversions to and from TensorProto.
import { DATA_TYPE, type DataType, type TensorProto } from './proto.js';

export interface TypedArrays {
  float32: Float32Array;
  float64: Float64Array;
  uint8: Uint8Array;
  int8: Int8Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}

export interface HostTensor<T extends DataType = DataType> {
  readonly type: T;
  readonly dims: readonly number[];
  readonly data: TypedArrays[T];
}

export const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function checkSize(dims: readonly number[], length: number): void {
  if (sizeOf(dims) !== length) {
    throw new Error(`tensor of dims [${dims.join(',')}] needs ${sizeOf(dims)} values, got ${length}`);
  }
}

export function f32(dims: readonly number[], data?: ArrayLike<number>): HostTensor<'float32'> {
  const arr = data ? Float32Array.from(data) : new Float32Array(sizeOf(dims));
  checkSize(dims, arr.length);
  return { type: 'float32', dims: [...dims], data: arr };
}

export function i64(dims: readonly number[], data: ArrayLike<number>): HostTensor<'int64'> {
  const arr = BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
  checkSize(dims, arr.length);
  return { type: 'int64', dims: [...dims], data: arr };
}

export function u8(dims: readonly number[], data?: ArrayLike<number>): HostTensor<'uint8'> {
  const arr = data ? Uint8Array.from(data) : new Uint8Array(sizeOf(dims));
  checkSize(dims, arr.length);
  return { type: 'uint8', dims: [...dims], data: arr };
}

const CODE_TO_TYPE = new Map<number, DataType>(
  (Object.entries(DATA_TYPE) as Array<[DataType, number]>).filter(([k]) => k !== 'bool').map(([k, v]) => [v, k]),
);
CODE_TO_TYPE.set(DATA_TYPE.bool, 'bool');

export function toTensorProto(name: string, t: HostTensor): TensorProto {
  const d = t.data;
  // raw_data is little-endian; so is every machine Node runs on here.
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  return { name, dims: [...t.dims], dataType: DATA_TYPE[t.type], rawData: raw };
}

/** Reads a TensorProto whether its values are in raw_data or in the typed repeated fields. */
export function fromTensorProto(p: TensorProto): HostTensor {
  const type = CODE_TO_TYPE.get(p.dataType);
  if (!type) throw new Error(`tensor ${p.name}: unsupported ONNX data type ${p.dataType}`);
  const dims = p.dims.map(Number);
  const n = sizeOf(dims);
  const raw = p.rawData && p.rawData.length > 0 ? p.rawData : undefined;
  const fromRaw = <A>(ctor: { new (b: ArrayBuffer): A; BYTES_PER_ELEMENT: number }): A => {
    const bytes = new Uint8Array(raw!); // copy (Buffer.slice would be a view): aligned, own buffer
    if (bytes.byteLength !== n * ctor.BYTES_PER_ELEMENT) {
      throw new Error(`tensor ${p.name}: raw_data has ${bytes.byteLength} bytes, dims need ${n * ctor.BYTES_PER_ELEMENT}`);
    }
    return new ctor(bytes.buffer);
  };
  switch (type) {
    case 'float32':
      return { type, dims, data: raw ? fromRaw(Float32Array) : Float32Array.from(p.floatData ?? []) };
    case 'float64':
      return { type, dims, data: raw ? fromRaw(Float64Array) : Float64Array.from(p.doubleData ?? []) };
    case 'int32':
      return { type, dims, data: raw ? fromRaw(Int32Array) : Int32Array.from(p.int32Data ?? []) };
    case 'int64':
      return { type, dims, data: raw ? fromRaw(BigInt64Array) : BigInt64Array.from((p.int64Data ?? []).map((v) => BigInt(v))) };
    case 'uint8':
    case 'bool':
      return { type, dims, data: raw ? fromRaw(Uint8Array) : Uint8Array.from(p.int32Data ?? []) };
    case 'int8':
      return { type, dims, data: raw ? fromRaw(Int8Array) : Int8Array.from(p.int32Data ?? []) };
  }
}
