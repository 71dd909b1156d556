// A reader for the TFLite flatbuffer (schema.fbs), enough for float models: tensors with their
// shapes and constant data, operators with their builtin code and options. Pure: bytes in, a plain
// description out; fp16 constants are widened to fp32 here. Field numbers are schema.fbs's.
import { PieError } from '../../errors.js';

/** TFLite TensorType codes that this reader turns into numbers. */
const TENSOR_TYPE = { float32: 0, float16: 1, int32: 2, int64: 4 } as const;

/** BuiltinOperator codes (schema.fbs) of the ops the converters know; others keep their number. */
export const BUILTIN = {
  ADD: 0, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEPTH_TO_SPACE: 5, DEQUANTIZE: 6,
  MAX_POOL_2D: 17, RELU: 19, RESHAPE: 22, RESIZE_BILINEAR: 23, PAD: 34, DENSIFY: 124,
} as const;

export interface TfliteTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** TensorType code (0 float32, 1 float16, 2 int32, 4 int64, …). */
  readonly type: number;
  /** Constant contents widened to numbers (float16 → float32); undefined for activations. */
  readonly data?: Float32Array | Int32Array;
}

export interface TfliteOperator {
  readonly code: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** A scalar field of the builtin options table by index: 'u8' for enums and bools, 'i32' else. */
  readonly option: (field: number, kind: 'u8' | 'i32', fallback: number) => number;
  /** A vector-of-int32 option field (e.g. ReshapeOptions.new_shape). */
  readonly optionInts: (field: number) => number[] | undefined;
}

export interface TfliteModel {
  readonly tensors: readonly TfliteTensor[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly TfliteOperator[];
}

class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(p: number): number { return this.view.getUint8(p); }
  i32(p: number): number { return this.view.getInt32(p, true); }
  u32(p: number): number { return this.view.getUint32(p, true); }
  /** Position of field `i` of the table at `t`, or 0 when the field is absent. */
  field(t: number, i: number): number {
    const vt = t - this.i32(t);
    const size = this.view.getUint16(vt, true);
    const at = 4 + 2 * i;
    if (at >= size) return 0;
    const off = this.view.getUint16(vt + at, true);
    return off === 0 ? 0 : t + off;
  }
  /** Follows the offset stored at `p` (tables, vectors, strings). */
  deref(p: number): number { return p + this.u32(p); }
  /** A vector field: [start of elements, length], or undefined when absent. */
  vector(t: number, i: number): [number, number] | undefined {
    const f = this.field(t, i);
    if (!f) return undefined;
    const v = this.deref(f);
    return [v + 4, this.u32(v)];
  }
  tables(t: number, i: number): number[] {
    const v = this.vector(t, i);
    if (!v) return [];
    return Array.from({ length: v[1] }, (_, k) => this.deref(v[0] + 4 * k));
  }
  ints(t: number, i: number): number[] | undefined {
    const v = this.vector(t, i);
    return v ? Array.from({ length: v[1] }, (_, k) => this.i32(v[0] + 4 * k)) : undefined;
  }
  string(t: number, i: number): string {
    const v = this.vector(t, i);
    return v ? new TextDecoder().decode(this.bytes.subarray(v[0], v[0] + v[1])) : '';
  }
  scalar(t: number, i: number, kind: 'u8' | 'i32' | 'u32', fallback: number): number {
    const f = this.field(t, i);
    if (!f) return fallback;
    return kind === 'u8' ? this.u8(f) : kind === 'i32' ? this.i32(f) : this.u32(f);
  }
}

/** IEEE half → float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function constantData(bytes: Uint8Array, type: number, count: number): Float32Array | Int32Array | undefined {
  // Copies: buffer contents need not be aligned for a typed-array view.
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case TENSOR_TYPE.float32: return Float32Array.from({ length: count }, (_, k) => v.getFloat32(4 * k, true));
    case TENSOR_TYPE.float16: return Float32Array.from({ length: count }, (_, k) => halfToFloat(v.getUint16(2 * k, true)));
    case TENSOR_TYPE.int32: return Int32Array.from({ length: count }, (_, k) => v.getInt32(4 * k, true));
    case TENSOR_TYPE.int64: return Int32Array.from({ length: count }, (_, k) => Number(v.getBigInt64(8 * k, true)));
    default: return undefined;
  }
}

/** Parses a .tflite file's first subgraph; `source` names it in errors. */
export function readTflite(bytes: Uint8Array, source: string): TfliteModel {
  // "TFL3" is the file identifier at bytes 4–7.
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(4, 8)) !== 'TFL3') {
    throw new PieError('model', `${source} is not a TFLite model (no TFL3 identifier)`, 'pass the .tflite file of the npm package @mediapipe/face_detection (run npm ci)');
  }
  const r = new Reader(bytes);
  const model = r.deref(0);
  const codes = r.tables(model, 1).map((oc) => {
    // builtin_code (field 3) supersedes the byte-sized deprecated_builtin_code (field 0) past 127.
    const deprecated = r.scalar(oc, 0, 'u8', 0);
    const full = r.scalar(oc, 3, 'i32', 0);
    return Math.max(deprecated, full);
  });
  const buffers = r.tables(model, 4).map((b) => {
    const v = r.vector(b, 0);
    return v ? bytes.subarray(v[0], v[0] + v[1]) : undefined;
  });
  const subgraph = r.tables(model, 2)[0];
  if (subgraph === undefined) throw new PieError('model', `${source} has no subgraph`, 'pass the .tflite file of the npm package @mediapipe/face_detection');
  const tensors = r.tables(subgraph, 0).map((t): TfliteTensor => {
    const shape = r.ints(t, 0) ?? [];
    const type = r.scalar(t, 1, 'u8', 0);
    const buf = buffers[r.scalar(t, 2, 'u32', 0)];
    if (r.field(t, 4) && r.vector(r.deref(r.field(t, 4)), 1)) {
      throw new PieError('model', `${source} is quantised (tensor ${r.string(t, 3)})`, 'use the float model (face_detection_full_range.tflite)');
    }
    if (r.field(t, 6)) throw new PieError('model', `${source} is a sparse model (tensor ${r.string(t, 3)})`, 'use the dense model (face_detection_full_range.tflite, not …_sparse.tflite)');
    const count = shape.reduce((a, b) => a * b, 1);
    const data = buf && buf.length > 0 ? constantData(buf, type, count) : undefined;
    return { name: r.string(t, 3), shape, type, ...(data ? { data } : {}) };
  });
  const operators = r.tables(subgraph, 3).map((op): TfliteOperator => {
    const opts = r.field(op, 4) ? r.deref(r.field(op, 4)) : 0;
    return {
      code: codes[r.scalar(op, 0, 'u32', 0)] ?? -1,
      inputs: r.ints(op, 1) ?? [],
      outputs: r.ints(op, 2) ?? [],
      option: (field, kind, fallback) => (opts ? r.scalar(opts, field, kind, fallback) : fallback),
      optionInts: (field) => (opts ? r.ints(opts, field) : undefined),
    };
  });
  return { tensors, inputs: r.ints(subgraph, 1) ?? [], outputs: r.ints(subgraph, 2) ?? [], operators };
}
