// A float TFLite detector (NHWC, fp16 or fp32 constants) → an ONNX graph on the project's builder,
// batchable and taking uint8 RGB like the BlazeFace rewrite (model-graph.ts). Activations run in
// NCHW (ONNX's conv layout): one Transpose after the input, one before each 4-D Reshape. The op
// set is what MediaPipe's face detectors use: CONV_2D, DEPTHWISE_CONV_2D (SAME/VALID, strides,
// dilations, fused ReLU/ReLU6), RELU, ADD, PAD, MAX_POOL_2D, RESIZE_BILINEAR, RESHAPE, and
// DEQUANTIZE, which is folded here (fp16 weights become fp32 initializers). Pure: bytes in, bytes out.
import { PieError } from '../../errors.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { f32, i64 } from '../../onnx/tensor.js';
import { COORDS_PER_ANCHOR } from '../decode.js';
import { FRAMES_INPUT, type BatchableModel, type HeadOutputs } from '../model-graph.js';
import { BUILTIN, readTflite, type TfliteModel, type TfliteOperator, type TfliteTensor } from './tflite.js';

/** Bumped whenever the emitted graph changes, so cached conversions are redone. */
export const CONVERTER_VERSION = 1;

/** Metadata keys of the emitted model: what a cached copy needs to be used without converting again. */
export const META_INPUT_SIZE = 'pie.input_size';
export const META_HEADS = 'pie.heads';

const PADDING_SAME = 0;
const ACT = { NONE: 0, RELU: 1, RELU6: 3 } as const;
const NAMES: Record<number, string> = Object.fromEntries(Object.entries(BUILTIN).map(([k, v]) => [v, k]));

/** NHWC axis → NCHW axis. */
const TO_NCHW = [0, 2, 3, 1] as const;

class Converter {
  private readonly g = new GraphBuilder('tflite');
  /** TFLite tensor index → ONNX value (activations) — 4-D ones are NCHW. */
  private readonly values = new Map<number, string>();
  /** Constants known at conversion time, DEQUANTIZE folded. */
  private readonly consts = new Map<number, Float32Array | Int32Array>();

  constructor(private readonly m: TfliteModel, private readonly source: string) {
    m.tensors.forEach((t, i) => { if (t.data) this.consts.set(i, t.data); });
  }

  private fail(why: string): PieError {
    return new PieError('model', `${this.source} cannot be converted: ${why}`, 'use face_detection_full_range.tflite from the npm package @mediapipe/face_detection (run npm ci)');
  }

  private tensor(i: number): TfliteTensor {
    const t = this.m.tensors[i];
    if (!t) throw this.fail(`tensor ${i} does not exist`);
    return t;
  }

  private value(i: number): string {
    const v = this.values.get(i);
    if (v === undefined) throw this.fail(`tensor ${this.tensor(i).name} is used before it is computed`);
    return v;
  }

  private constData(i: number): Float32Array | Int32Array {
    const d = this.consts.get(i);
    if (!d) throw this.fail(`tensor ${this.tensor(i).name} should be a constant`);
    return d;
  }

  private activation(x: string, code: number, where: string): string {
    if (code === ACT.NONE) return x;
    if (code === ACT.RELU) return this.g.relu(x);
    if (code === ACT.RELU6) return this.g.op('Clip', [x, this.g.scalar(0), this.g.scalar(6)]);
    throw this.fail(`fused activation ${code} at ${where} is not supported`);
  }

  /** ONNX pads [top, left, bottom, right] for TFLite's SAME (extra at the end) or VALID. */
  private pads(padding: number, inShape: readonly number[], kernel: readonly [number, number], stride: readonly [number, number], dilation: readonly [number, number]): number[] {
    if (padding !== PADDING_SAME) return [0, 0, 0, 0];
    const [, h, w] = inShape;
    const total = (size: number, k: number, s: number, d: number): number => {
      const eff = (k - 1) * d + 1;
      return Math.max((Math.ceil(size / s) - 1) * s + eff - size, 0);
    };
    const ph = total(h!, kernel[0], stride[0], dilation[0]), pw = total(w!, kernel[1], stride[1], dilation[1]);
    return [Math.floor(ph / 2), Math.floor(pw / 2), ph - Math.floor(ph / 2), pw - Math.floor(pw / 2)];
  }

  private conv(op: TfliteOperator, depthwise: boolean): string {
    const [xi, wi, bi] = op.inputs as [number, number, number | undefined];
    const inShape = this.tensor(xi).shape;
    const ws = this.tensor(wi).shape as [number, number, number, number];
    const w = this.constData(wi) as Float32Array;
    // Options: Conv2D (padding, stride_w, stride_h, act, dil_w, dil_h); Depthwise inserts depth_multiplier at 3.
    const act = depthwise ? op.option(4, 'u8', 0) : op.option(3, 'u8', 0);
    const dil: [number, number] = depthwise ? [op.option(6, 'i32', 1), op.option(5, 'i32', 1)] : [op.option(5, 'i32', 1), op.option(4, 'i32', 1)];
    const stride: [number, number] = [op.option(2, 'i32', 1), op.option(1, 'i32', 1)];
    const kernel: [number, number] = [ws[1], ws[2]];
    let weights: Float32Array, dims: number[], group = 1;
    if (depthwise) {
      // [1, kH, kW, C·M] → [C·M, 1, kH, kW], one group per input channel.
      const [, kh, kw, cm] = ws;
      weights = new Float32Array(w.length);
      for (let o = 0; o < cm; o++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) weights[(o * kh + y) * kw + x] = w[(y * kw + x) * cm + o]!;
      dims = [cm, 1, kh, kw];
      group = inShape[3]!;
    } else {
      // OHWI → OIHW.
      const [co, kh, kw, ci] = ws;
      weights = new Float32Array(w.length);
      for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
        weights[((o * ci + i) * kh + y) * kw + x] = w[((o * kh + y) * kw + x) * ci + i]!;
      }
      dims = [co, ci, kh, kw];
    }
    const W = this.g.constant(f32(dims, weights), 'w');
    const B = bi !== undefined && bi >= 0 ? this.g.constant(f32([dims[0]!], Float32Array.from(this.constData(bi))), 'b') : undefined;
    const y = this.g.conv(this.value(xi), W, B, { pads: this.pads(op.option(0, 'u8', 0), inShape, kernel, stride, dil), strides: stride, dilations: dil, group });
    return this.activation(y, act, this.tensor(op.outputs[0]!).name);
  }

  private emit(op: TfliteOperator): void {
    const out = op.outputs[0]!;
    const name = this.tensor(out).name;
    switch (op.code) {
      case BUILTIN.DEQUANTIZE: {
        // Constant fp16 weights: already widened by the reader; the output is the same numbers.
        this.consts.set(out, this.constData(op.inputs[0]!));
        return;
      }
      case BUILTIN.CONV_2D: this.values.set(out, this.conv(op, false)); return;
      case BUILTIN.DEPTHWISE_CONV_2D: this.values.set(out, this.conv(op, true)); return;
      case BUILTIN.RELU: this.values.set(out, this.g.relu(this.value(op.inputs[0]!))); return;
      case BUILTIN.ADD: {
        const [a, b] = op.inputs as [number, number];
        this.values.set(out, this.activation(this.g.add(this.value(a), this.value(b)), op.option(0, 'u8', 0), name));
        return;
      }
      case BUILTIN.PAD: {
        const p = this.constData(op.inputs[1]!); // [rank, 2] (before, after) per NHWC axis
        const rank = p.length / 2;
        if (rank !== 4) throw this.fail(`PAD ${name} is ${rank}-D`);
        const begin = new Array<number>(4), end = new Array<number>(4);
        for (let a = 0; a < 4; a++) { begin[TO_NCHW[a]!] = p[2 * a]!; end[TO_NCHW[a]!] = p[2 * a + 1]!; }
        this.values.set(out, this.g.op('Pad', [this.value(op.inputs[0]!), this.g.ints([...begin, ...end])], { mode: 'constant' }));
        return;
      }
      case BUILTIN.MAX_POOL_2D: {
        // Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height, act.
        const kernel: [number, number] = [op.option(4, 'i32', 1), op.option(3, 'i32', 1)];
        const stride: [number, number] = [op.option(2, 'i32', 1), op.option(1, 'i32', 1)];
        const pads = this.pads(op.option(0, 'u8', 0), this.tensor(op.inputs[0]!).shape, kernel, stride, [1, 1]);
        const y = this.g.op('MaxPool', [this.value(op.inputs[0]!)], { kernel_shape: kernel, strides: stride, pads });
        this.values.set(out, this.activation(y, op.option(5, 'u8', 0), name));
        return;
      }
      case BUILTIN.RESIZE_BILINEAR: {
        const inShape = this.tensor(op.inputs[0]!).shape, outShape = this.tensor(out).shape;
        const alignCorners = op.option(2, 'u8', 0) !== 0, halfPixel = op.option(3, 'u8', 0) !== 0;
        const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
        // Scales, not sizes: sizes would need the batch, which is dynamic here.
        const scales = this.g.constant(f32([4], [1, 1, outShape[1]! / inShape[1]!, outShape[2]! / inShape[2]!]), 'scales');
        this.values.set(out, this.g.op('Resize', [this.value(op.inputs[0]!), '', scales], { mode: 'linear', coordinate_transformation_mode: mode }));
        return;
      }
      case BUILTIN.RESHAPE: {
        const x = op.inputs[0]!;
        const shape = this.tensor(out).shape;
        // Back to NHWC first so the flattening order is TFLite's; the batch stays dynamic.
        const src = this.tensor(x).shape.length === 4 ? this.g.transpose(this.value(x), [0, 2, 3, 1]) : this.value(x);
        this.values.set(out, this.g.op('Reshape', [src, this.g.ints([-1, ...shape.slice(1)])]));
        return;
      }
      default:
        throw this.fail(`operator ${NAMES[op.code] ?? `#${op.code}`} (output ${name}) is not supported`);
    }
  }

  convert(): BatchableModel {
    const { m, g } = this;
    const [input] = m.inputs;
    const inShape = input === undefined ? [] : this.tensor(input).shape;
    if (m.inputs.length !== 1 || inShape.length !== 4 || inShape[1] !== inShape[2] || inShape[3] !== 3 || this.tensor(input!).type !== 0) {
      throw this.fail(`its input is not one float32 [1,S,S,3] image`);
    }
    const size = inShape[1]!;
    // uint8 RGB in, [−1, 1] (MediaPipe's input range for its face detectors), NCHW.
    const frames = g.input(FRAMES_INPUT, 'uint8', ['N', size, size, 3]);
    const scaled = g.sub(g.mul(g.cast(frames, 'float32'), g.scalar(2 / 255)), g.scalar(1));
    this.values.set(input!, g.transpose(scaled, [0, 3, 1, 2]));
    for (const op of m.operators) this.emit(op);

    // Heads: a [1,A,1] score output beside a [1,A,16] regressor output, as the BlazeFace exports.
    const byCount = new Map<number, { scores?: string; boxes?: string }>();
    for (const o of m.outputs) {
      const t = this.tensor(o);
      const [, a, k] = t.shape;
      if (t.shape.length !== 3 || a === undefined || (k !== 1 && k !== COORDS_PER_ANCHOR)) throw this.fail(`unexpected output ${t.name} [${t.shape.join(',')}]`);
      g.output(this.value(o), 'float32', ['N', a, k], t.name);
      const h = byCount.get(a) ?? {};
      if (k === 1) h.scores = t.name; else h.boxes = t.name;
      byCount.set(a, h);
    }
    const heads = [...byCount.entries()].sort((p, q) => q[0] - p[0]).map(([anchors, h]): HeadOutputs => {
      if (!h.scores || !h.boxes) throw this.fail(`the head of ${anchors} anchors lacks its scores or its regressors`);
      return { scores: h.scores, boxes: h.boxes, anchors };
    });
    const metadata = { [META_INPUT_SIZE]: String(size), [META_HEADS]: JSON.stringify(heads) };
    return { bytes: g.toBytes({ doc: `converted from ${this.source} by pie-stream (converter ${CONVERTER_VERSION})`, metadata }), inputSize: size, heads };
  }
}

/** Converts a float TFLite face detector to a batchable ONNX graph; `source` names it in errors. */
export function tfliteDetectorToOnnx(bytes: Uint8Array, source: string): BatchableModel {
  return new Converter(readTflite(bytes, source), source).convert();
}
