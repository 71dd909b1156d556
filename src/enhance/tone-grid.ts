// The 'grid' curve application's graph: everything at 1/k. Instead of upsampling the eight curve
// maps and iterating them over every pixel (tone.ts, about 40 float passes over the frame in ONNX
// Runtime), each cell's composed tone curve — the 8 iterations at the exposure's strength, then its
// gamma — is sampled at K levels of V, and the full-resolution pass reads it back with one bilinear,
// level-interpolated lookup per pixel (grid-kernel.ts). The graph takes what the kernel measured
// of the frame (its 1/k box mean, a stride-4 sample, the noise σ), so ONNX Runtime never sees a
// full-resolution tensor.
import { GraphBuilder } from '../onnx/builder.js';
import { f32 } from '../onnx/tensor.js';
import { addDceNet, addDceNetWeights, addValue, EPS_V, ITERATIONS, type DceNetWeights } from './dcenet.js';
import { addCurveStrength, addToneInputs, addToneOutputs, validateDownscale, validateToneOptions, type EnhancerGraphOptions } from './graph.js';
import { gridLevels } from './grid-kernel.js';
import { addGammaPow, addLuma, addToneControl, curvesFullRes, perFrameOutput, type ToneOptions } from './tone.js';

export const GRID_IO = {
  /** [N,3,h,w] float32 [0,1]: the frame's k×k box mean. */
  small: 'small',
  /** [N,3,hs,ws] float32 [0,1]: every 4th pixel each way. */
  sample: 'sample',
  /** [N] float32: the luma's noise σ. */
  sigma: 'sigma',
  /** [N,h,w,K] float32: each cell's output V at each of the K levels (grid-kernel.ts gridLevels). */
  table: 'table',
  /** [N,h,w] float32: the local-SNR weight of the gain (all 1 without noiseAwareGain). */
  signal: 'signal',
} as const;

/**
 * Levels each cell's curve is sampled at. Against the exact form on 24 real low-light photos
 * (bench curve-apply): 17 levels, worst 51.6 dB; 33 levels, worst 57.9 dB and ~5% slower at 720p.
 */
export const GRID_LEVELS = 17;

/**
 * The enhancer graph for the grid application: DCE-Net and the tone stage's control on the 1/k
 * frame, each cell's tone curve sampled at `levels` V values. Value form only, downscale ≥ 2.
 */
export function buildGridEnhancerGraph(w: DceNetWeights, o: EnhancerGraphOptions, levels = GRID_LEVELS): Uint8Array {
  validateDownscale(o.downscale);
  validateToneOptions(o);
  if ((o.form ?? 'value') !== 'value') throw new RangeError("the grid curve application needs the value form (form: 'value')");
  if (o.downscale < 2) throw new RangeError('the grid curve application needs curves at 1/2 or coarser (downscale ≥ 2)');
  const b = new GraphBuilder('pie_enhancer_grid');
  addDceNetWeights(b, w);
  const xSmall = b.input(GRID_IO.small, 'float32', ['N', 3, 'h', 'w']);
  const xSample = b.input(GRID_IO.sample, 'float32', ['N', 3, 'hs', 'ws']);
  const sigma = b.input(GRID_IO.sigma, 'float32', ['N']);
  const { mono, state, fit } = addToneInputs(b);
  const curvesSmall = addCurveStrength(b, addDceNet(b, xSmall), o.strength ?? 1);
  const tone: ToneOptions = {
    form: 'value', exposure: o.exposure ?? 'auto', downscale: o.downscale,
    ...(o.noiseAwareGain !== undefined ? { noiseAwareGain: o.noiseAwareGain } : {}),
    ...(o.exposeRight !== undefined ? { exposeRight: o.exposeRight } : {}),
  };
  const c = addToneControl(b, xSmall, curvesSmall, mono, state, fit, tone, { sigma: () => b.op('Reshape', [sigma, b.ints([-1, 1, 1, 1])]), xSample });

  // Each cell's curve at the K levels: [1,K,1,1] broadcast against the [N,1,h,w] maps → [N,K,h,w].
  const rs = b.node('Split', [c.maps], { axis: 1, num_outputs: ITERATIONS }, { outputs: ITERATIONS });
  const one = b.scalar(1);
  let table = rs.reduce((y, r) => b.add(y, b.mul(r, b.mul(y, b.sub(y, one)))), b.constant(f32([1, levels, 1, 1], gridLevels(levels)), 'grid_levels'));
  let gamma: string | undefined;
  if (c.target) {
    // The gamma is fitted on the stride-4 sample, its curves read from the maps upsampled to the
    // sample's size (the exact form reads them at the same pixels of the full-resolution upsample).
    const vs = addValue(b, xSample);
    const v2s = curvesFullRes(b, vs, c.maps, o.downscale, 1);
    gamma = c.gammaFor(v2s, b.div(addLuma(b, xSample), b.op('Max', [vs, b.scalar(EPS_V)])), c.target, c.held!);
    table = addGammaPow(b, table, gamma);
  }
  b.output(b.transpose(table, [0, 2, 3, 1]), 'float32', ['N', 'h', 'w', levels], GRID_IO.table);
  const signal = c.signal ?? b.op('Expand', [one, b.op('Shape', [b.op('ReduceMax', [xSmall, b.ints([1])], { keepdims: 1 })])]);
  b.output(b.op('Squeeze', [signal, b.ints([1])]), 'float32', ['N', 'h', 'w'], GRID_IO.signal);
  const flat = (v: string | undefined): string => perFrameOutput(b, mono, v);
  addToneOutputs(b, { exposure: flat(c.target), strength: flat(c.strength), gamma: flat(gamma), chroma: c.chroma, luma: c.luma });
  return b.toBytes({ doc: `PIE enhancer, curves at 1/${o.downscale}, applied by a ${levels}-level grid` });
}
