// One PIE training step as one ONNX graph: DCE-Net forward on a batch of low-light crops, the six
// weighted losses (with the frozen feature network copied in), reverse-mode gradients, gradient
// clipping and Adam. Parameters and Adam moments go in and come out of the same session.run.
import type { CurveForm } from '../enhance/tone.js';
import { addDceNet, DCE_LAYERS, EPS_V, ITERATIONS, LAYER_NAMES, biasName, weightName } from '../enhance/dcenet.js';
import { Tape } from './autodiff/tape.js';
import type { Shape } from './autodiff/shape.js';
import { applyFeatureNet, type FeatureNetSpec } from './features.js';
import { colorLoss, exposureLoss, gramInfoNceLoss, grayTripletLoss, perceptualLoss, regionLoss, spatialConsistencyLoss, tvLoss } from './losses.js';
import { adamUpdate, PIE_ADAM, type AdamConfig } from './optim.js';

/** PIE's official weights (Zero-DCE's spatial and exposure terms off). */
export const PIE_WEIGHTS = { tv: 200, color: 8, perceptual: 1, region: 1, nce: 10, triplet: 10, spatial: 0, exposure: 0 } as const;
export type LossName = keyof typeof PIE_WEIGHTS;
export type LossWeights = Readonly<Record<LossName, number>>;
export const LOSS_NAMES = Object.keys(PIE_WEIGHTS) as LossName[];

/** Zero-DCE's no-reference losses only, its official weights (exposure level 0.6): the ablation. */
export const ZERO_DCE_WEIGHTS: LossWeights = { tv: 200, color: 5, perceptual: 0, region: 0, nce: 0, triplet: 0, spatial: 1, exposure: 10 };

/**
 * PIE plus Zero-DCE's exposure term: published PIE under-exposes (DESIGN §5), and an anchor on
 * exposure is the least change that fixes it. What pie-base is trained with.
 */
export const PIE_EXPOSURE_WEIGHTS: LossWeights = { ...PIE_WEIGHTS, exposure: 10 };

export const LOSS_PRESETS = { pie: PIE_WEIGHTS, 'pie-exposure': PIE_EXPOSURE_WEIGHTS, 'zero-dce': ZERO_DCE_WEIGHTS } as const;
export type LossPreset = keyof typeof LOSS_PRESETS;

/** Zero-DCE's well-exposedness level E. */
export const DEFAULT_EXPOSURE_LEVEL = 0.6;

export interface StepConfig {
  readonly batch: number;
  readonly crop: number;
  readonly positives: number;
  readonly negatives: number;
  /** Segment slots for the regional loss across the batch (labels must be below this). */
  readonly maxSegments: number;
  readonly weights: LossWeights;
  /** Target gray level of the exposure term (default 0.6, Zero-DCE's). */
  readonly exposureLevel?: number;
  readonly adam?: AdamConfig;
  /** Needed when the perceptual or contrastive weights are non-zero. */
  readonly features?: FeatureNetSpec;
  /** Build the loss and gradients only (no optimiser): for gradient checks. */
  readonly lossOnly?: boolean;
  /**
   * How the curves are applied (enhance/tone.ts CurveForm): 'rgb' each channel through its own
   * curve, as PIE's code does; 'value' one curve (the mean of the three maps) on V = max(R,G,B),
   * RGB scaled by V'/V, as the enhancer runs by default. Default 'rgb'.
   */
  readonly apply?: CurveForm;
}


/** Graph I/O names. */
export const IO = {
  param: (n: string) => `param/${n}`,
  m: (n: string) => `adam_m/${n}`,
  v: (n: string) => `adam_v/${n}`,
  nextParam: (n: string) => `next_param/${n}`,
  nextM: (n: string) => `next_adam_m/${n}`,
  nextV: (n: string) => `next_adam_v/${n}`,
  grad: (n: string) => `grad/${n}`,
  loss: (n: LossName | 'total') => `loss/${n}`,
  low: 'low', pos: 'pos', neg: 'neg', labels: 'labels', counts: 'counts', lrT: 'lr_t', epsT: 'eps_t', gradNorm: 'grad_norm',
  enhanced: 'enhanced',
} as const;

/** Every trainable tensor: name and shape, in the official checkpoint's order. */
export const PARAMS: ReadonlyArray<{ name: string; shape: Shape }> = LAYER_NAMES.flatMap((l) => {
  const [o, i] = DCE_LAYERS[l];
  return [{ name: weightName(l), shape: [o, i, 3, 3] }, { name: biasName(l), shape: [o] }];
});

export interface TrainStepGraph {
  readonly bytes: Uint8Array;
  readonly config: StepConfig;
}

/** The 8 curve iterations on the tape (the training twin of enhance/dcenet.ts's builder version). */
function curveIterations(t: Tape, x: string, curves: string): string {
  const r = t.split(curves, 1, new Array(ITERATIONS).fill(3));
  const one = t.scalar(1);
  return r.reduce((y, ri) => t.add(y, t.mul(ri, t.mul(y, t.sub(y, one)))), x);
}

/** The colour-preserving twin (CurveApply 'value') of curveIterations. */
function valueCurveIterations(t: Tape, x: string, curves: string): string {
  const [r, g, b] = t.split(x, 1, [1, 1, 1]);
  const v0 = t.maximum(t.maximum(r!, g!), b!);
  const one = t.scalar(1);
  const v = t.split(curves, 1, new Array(ITERATIONS).fill(3))
    .reduce((y, ri) => t.add(y, t.mul(t.reduceMean(ri, [1], true), t.mul(y, t.sub(y, one)))), v0);
  return t.mul(x, t.div(v, t.maximum(v0, t.scalar(EPS_V))));
}

export function buildTrainStep(c: StepConfig): TrainStepGraph {
  const t = new Tape('float32');
  const w = c.weights;
  const img = (n: number): Shape => [n, 3, c.crop, c.crop];
  const params = new Map(PARAMS.map((p) => [p.name, t.param(IO.param(p.name), p.shape)]));
  const low = t.input(IO.low, img(c.batch));

  const curves = addDceNet(t, low, (n) => params.get(n)!);
  const enhanced = c.apply === 'value' ? valueCurveIterations(t, low, curves) : curveIterations(t, low, curves);

  const terms: Partial<Record<LossName, string>> = {};
  if (w.tv) terms.tv = tvLoss(t, curves);
  if (w.color) terms.color = colorLoss(t, enhanced);
  if (w.spatial) terms.spatial = spatialConsistencyLoss(t, low, enhanced);
  if (w.exposure) terms.exposure = exposureLoss(t, enhanced, c.exposureLevel ?? DEFAULT_EXPOSURE_LEVEL);
  if (w.region) {
    const labels = t.input(IO.labels, [c.batch * c.crop * c.crop], { type: 'int64' });
    const counts = t.input(IO.counts, [c.maxSegments]);
    terms.region = regionLoss(t, enhanced, labels, counts);
  }
  const needPairs = w.nce || w.triplet;
  const pos = needPairs ? t.input(IO.pos, img(c.positives)) : undefined;
  const neg = needPairs ? t.input(IO.neg, img(c.negatives)) : undefined;
  if (w.triplet) terms.triplet = grayTripletLoss(t, enhanced, pos!, neg!);
  if (w.nce || w.perceptual) {
    const f = c.features;
    if (!f) throw new Error('the perceptual and contrastive losses need a feature network');
    const taps = [...f.gramTaps, f.perceptualTap];
    const shared = new Map<string, string>();
    const fe = applyFeatureNet(t, f, enhanced, taps, 'fe/', shared);
    // Input, positives and negatives need no gradient: one pass over their concatenation.
    const refs = [low, ...(w.nce ? [pos!, neg!] : [])];
    const sizes = refs.map((r) => t.shape(r)[0]!);
    const fr = applyFeatureNet(t, f, t.concat(refs, 0), taps, 'fr/', shared);
    const splits = new Map<string, string[]>();
    const part = (tap: string, k: number): string => {
      if (!splits.has(tap)) splits.set(tap, t.split(fr[tap]!, 0, sizes));
      return splits.get(tap)![k]!;
    };
    if (w.perceptual) terms.perceptual = t.mul(perceptualLoss(t, part(f.perceptualTap, 0), fe[f.perceptualTap]!), t.scalar(f.perceptualScale));
    if (w.nce) {
      terms.nce = gramInfoNceLoss(t, f.gramTaps.map((g) => fe[g]!), f.gramTaps.map((g) => part(g, 1)), f.gramTaps.map((g) => part(g, 2)), f.gramScale);
    }
  }

  let total: string | undefined;
  for (const name of LOSS_NAMES) {
    const term = terms[name];
    if (!term) continue;
    t.b.output(term, 'float32', [], IO.loss(name));
    const weighted = t.mul(term, t.scalar(w[name]));
    total = total ? t.add(total, weighted) : weighted;
  }
  if (!total) throw new Error('every loss weight is zero: nothing to train');
  t.b.output(total, 'float32', [], IO.loss('total'));
  t.b.output(enhanced, 'float32', img(c.batch), IO.enhanced);

  const names = PARAMS.map((p) => p.name);
  const grads = t.grad(total, names.map((n) => params.get(n)!));
  if (c.lossOnly) {
    grads.forEach((g, i) => t.b.output(g, 'float32', PARAMS[i]!.shape, IO.grad(names[i]!)));
  } else {
    const lrT = t.input(IO.lrT, []);
    const epsT = t.input(IO.epsT, []);
    const items = names.map((n, i) => ({ param: params.get(n)!, grad: grads[i]!, m: t.input(IO.m(n), PARAMS[i]!.shape), v: t.input(IO.v(n), PARAMS[i]!.shape) }));
    const { updates, gradNorm } = adamUpdate(t, items, lrT, epsT, c.adam ?? PIE_ADAM);
    updates.forEach((u, i) => {
      const n = names[i]!;
      t.b.output(u.param, 'float32', PARAMS[i]!.shape, IO.nextParam(n));
      t.b.output(u.m, 'float32', PARAMS[i]!.shape, IO.nextM(n));
      t.b.output(u.v, 'float32', PARAMS[i]!.shape, IO.nextV(n));
    });
    t.b.output(gradNorm, 'float32', [], IO.gradNorm);
  }
  return { bytes: t.b.toBytes({ doc: 'PIE training step' }), config: c };
}
