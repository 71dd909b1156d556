// DCE-Net as PIE and Zero-DCE define it (DESIGN.md §1): seven 3×3 convolutions, 32 channels,
// ReLU after conv1–6, skips by channel concatenation, tanh on conv7's 24 channels =
// 8 iterations × RGB curve maps. The curve: y ← y + r·(y² − y), i.e. y + r·y·(y − 1).
// Pure graph building: these functions add nodes to a GraphBuilder and import no IO.
import type { GraphBuilder } from '../onnx/builder.js';
import { f32, type HostTensor } from '../onnx/tensor.js';

export const ITERATIONS = 8;
export const CURVE_CHANNELS = 3 * ITERATIONS;

/** [out channels, in channels] of each 3×3 convolution; names as in the official checkpoints. */
export const DCE_LAYERS = {
  e_conv1: [32, 3],
  e_conv2: [32, 32],
  e_conv3: [32, 32],
  e_conv4: [32, 32],
  e_conv5: [32, 64],
  e_conv6: [32, 64],
  e_conv7: [CURVE_CHANNELS, 64],
} as const;
export type LayerName = keyof typeof DCE_LAYERS;
export const LAYER_NAMES = Object.keys(DCE_LAYERS) as LayerName[];

export interface ConvWeights {
  /** OIHW, float32. */
  readonly weight: HostTensor<'float32'>;
  readonly bias: HostTensor<'float32'>;
}
export type DceNetWeights = Readonly<Record<LayerName, ConvWeights>>;

/** Parameter count: 79,416 for DCE-Net. */
export const PARAMETER_COUNT = LAYER_NAMES.reduce((n, l) => {
  const [o, i] = DCE_LAYERS[l];
  return n + o * i * 9 + o;
}, 0);

export const weightName = (l: LayerName): string => `${l}.weight`;
export const biasName = (l: LayerName): string => `${l}.bias`;

export function expectedShape(l: LayerName, part: 'weight' | 'bias'): number[] {
  const [o, i] = DCE_LAYERS[l];
  return part === 'weight' ? [o, i, 3, 3] : [o];
}

/** Adds the 14 parameters as initializers named like the official checkpoint keys. */
export function addDceNetWeights(b: GraphBuilder, w: DceNetWeights): void {
  for (const l of LAYER_NAMES) {
    b.initializer(weightName(l), w[l].weight);
    b.initializer(biasName(l), w[l].bias);
  }
}

/** The four ops DCE-Net needs: the GraphBuilder (inference) and the autodiff Tape (training) both have them. */
export interface ConvNetOps {
  conv(x: string, w: string, b: string, o: { pads: number[] }): string;
  relu(x: string): string;
  concat(xs: readonly string[], axis: number): string;
  tanh(x: string): string;
}

/**
 * DCE-Net forward on `x` (float [N,3,H,W] in [0,1]) → curve maps r = tanh(conv7) [N,24,H,W].
 * Parameters are referenced by name, so they may be initializers or graph inputs (the trainer).
 */
export function addDceNet(b: ConvNetOps, x: string, param: (name: string) => string = (n) => n): string {
  const conv = (input: string, l: LayerName): string =>
    b.conv(input, param(weightName(l)), param(biasName(l)), { pads: [1, 1, 1, 1] });
  const x1 = b.relu(conv(x, 'e_conv1'));
  const x2 = b.relu(conv(x1, 'e_conv2'));
  const x3 = b.relu(conv(x2, 'e_conv3'));
  const x4 = b.relu(conv(x3, 'e_conv4'));
  const x5 = b.relu(conv(b.concat([x3, x4], 1), 'e_conv5'));
  const x6 = b.relu(conv(b.concat([x2, x5], 1), 'e_conv6'));
  return b.tanh(conv(b.concat([x1, x6], 1), 'e_conv7'));
}

/**
 * Applies the 8 curve iterations to `x` [N,3,H,W] with curve maps [N,24,H,W] of the same size.
 * Returns y after every iteration (the last is the enhanced image).
 */
export function addCurveIterations(b: GraphBuilder, x: string, curves: string): string[] {
  const r = b.node('Split', [curves], { axis: 1, num_outputs: ITERATIONS }, { outputs: ITERATIONS });
  const one = b.scalar(1);
  const ys: string[] = [];
  let y = x;
  for (const ri of r) {
    y = b.add(y, b.mul(ri, b.mul(y, b.sub(y, one))));
    ys.push(y);
  }
  return ys;
}

/** Below this V the colour-preserving ratio V'/V is taken at V = EPS_V (the curve's slope at 0 is at most 2⁸). */
export const EPS_V = 1e-4;

/** V = max(R,G,B) of float NCHW `x`, [N,1,H,W]. */
export function addValue(b: GraphBuilder, x: string): string {
  return b.op('ReduceMax', [x, b.ints([1])], { keepdims: 1 });
}

/**
 * Per iteration, the mean of its three curve maps: [N,24,h,w] → [N,8,h,w] (a constant 1×1
 * convolution). The colour-preserving form applies one curve to V, so it needs one map per
 * iteration; averaging at low resolution also means a third of the full-resolution work.
 */
export function addValueMaps(b: GraphBuilder, curves: string): string {
  const w = new Float32Array(ITERATIONS * CURVE_CHANNELS);
  for (let i = 0; i < ITERATIONS; i++) for (let c = 0; c < 3; c++) w[i * CURVE_CHANNELS + 3 * i + c] = 1 / 3;
  return b.op('Conv', [curves, b.constant(f32([ITERATIONS, CURVE_CHANNELS, 1, 1], w), 'value_maps')]);
}

/**
 * The colour-preserving curve application on same-sized maps (the trainer's forward pass, and
 * the enhancer at scale 1): V ← V + r·V(V−1) eight times with r the mean of each iteration's
 * three maps, then RGB·V'/V. Grey stays grey, hue and saturation are kept, nothing leaves [0,1].
 */
export function addValueCurveIterations(b: GraphBuilder, x: string, curves: string): string {
  const v0 = addValue(b, x);
  const maps = b.node('Split', [addValueMaps(b, curves)], { axis: 1, num_outputs: ITERATIONS }, { outputs: ITERATIONS });
  const one = b.scalar(1);
  const v = maps.reduce((y, r) => b.add(y, b.mul(r, b.mul(y, b.sub(y, one)))), v0);
  return b.mul(x, b.div(v, b.op('Max', [v0, b.scalar(EPS_V)])));
}
