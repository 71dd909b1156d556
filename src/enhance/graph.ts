// The enhancer graph the pipeline runs: a batch of 8-bit RGB frames as decoded (NHWC) in,
// 8-bit frames out, every conversion inside ONNX Runtime. The curve maps are estimated on a
// frame shrunk by an integer factor (box filter), upsampled bilinearly, and the 8 curve
// iterations run at full resolution (Zero-DCE++'s trick), so the 79k-MAC/pixel network runs on
// 1/k² of the pixels.
import { GraphBuilder } from '../onnx/builder.js';
import { addCurveIterations, addDceNet, addDceNetWeights, CURVE_CHANNELS, type DceNetWeights } from './dcenet.js';

export const FRAMES_INPUT = 'frames';
export const ENHANCED_OUTPUT = 'enhanced';
export const CURVES_OUTPUT = 'curves';

export interface EnhancerGraphOptions {
  /** Curve estimation runs at 1/downscale of the frame size (1 = full resolution, the official way). */
  readonly downscale: number;
  /** Also output the low-resolution curve maps [N,24,ceil(H/k),ceil(W/k)] (for the region cache). */
  readonly curvesOutput?: boolean;
}

/** uint8 NHWC [0,255] → float NCHW [0,1]. */
export function addFramesToFloat(b: GraphBuilder, frames: string): string {
  return b.mul(b.transpose(b.cast(frames, 'float32'), [0, 3, 1, 2]), b.scalar(1 / 255));
}

/** float NCHW [0,1] → uint8 NHWC, rounded (half to even, as ONNX Round) and clipped. */
export function addFloatToFrames(b: GraphBuilder, y: string): string {
  const clipped = b.op('Clip', [b.mul(y, b.scalar(255)), b.scalar(0), b.scalar(255)]);
  return b.transpose(b.cast(b.op('Round', [clipped]), 'uint8'), [0, 2, 3, 1]);
}

/** Box downscale by an integer factor; edge windows that run past the frame average what they cover. */
export function addDownscale(b: GraphBuilder, x: string, k: number): string {
  if (k === 1) return x;
  return b.op('AveragePool', [x], { kernel_shape: [k, k], strides: [k, k], ceil_mode: 1, count_include_pad: 0 });
}

/** Bilinear resize of `small` [N,C,h,w] to the spatial size of `like` [N,*,H,W]. */
export function addUpsampleLike(b: GraphBuilder, small: string, like: string): string {
  const shape = (v: string): string => b.op('Shape', [v]);
  const nc = b.op('Slice', [shape(small), b.ints([0]), b.ints([2])]);
  const hw = b.op('Slice', [shape(like), b.ints([2]), b.ints([4])]);
  const sizes = b.concat([nc, hw], 0);
  // half_pixel = PyTorch's align_corners=False, what Zero-DCE++ upsamples with.
  return b.op('Resize', [small, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
}

export function validateDownscale(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > 64) {
    throw new RangeError(`curve downscale must be an integer from 1 to 64, got ${k}`);
  }
}

export function buildEnhancerGraph(w: DceNetWeights, o: EnhancerGraphOptions): Uint8Array {
  validateDownscale(o.downscale);
  const b = new GraphBuilder('pie_enhancer');
  addDceNetWeights(b, w);
  const frames = b.input(FRAMES_INPUT, 'uint8', ['N', 'H', 'W', 3]);
  const x = addFramesToFloat(b, frames);
  const curvesSmall = addDceNet(b, addDownscale(b, x, o.downscale));
  const curves = o.downscale === 1 ? curvesSmall : addUpsampleLike(b, curvesSmall, x);
  const ys = addCurveIterations(b, x, curves);
  b.output(addFloatToFrames(b, ys[ys.length - 1]!), 'uint8', ['N', 'H', 'W', 3], ENHANCED_OUTPUT);
  if (o.curvesOutput) b.output(curvesSmall, 'float32', ['N', CURVE_CHANNELS, 'h', 'w'], CURVES_OUTPUT);
  return b.toBytes({ doc: `PIE enhancer, curves at 1/${o.downscale}` });
}
