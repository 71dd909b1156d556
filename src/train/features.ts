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
}

/** SqueezeNet 1.1 (Caffe2 ImageNet): BGR, 0–255, minus the mean (104, 117, 123). */
export function squeezeNetSpec(model: Uint8Array): FeatureNetSpec {
  return {
    name: 'squeezenet1.1',
    model,
    input: 'data_0',
    gramTaps: ['relu1', 'fire3', 'fire5'],
    perceptualTap: 'fire9',
    preprocess: { weight: [[0, 0, 255], [0, 255, 0], [255, 0, 0]], bias: [-104, -117, -123] },
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
  names.set(spec.input, t.conv(image, pw, pb));
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
