// `pie-stream adapt`: fine-tunes the base model for one camera with a progress bar, then says
// whether the camera's model was replaced and where the card is.
import { PieError } from '../errors.js';
import { adapt, type AdaptOptions, type AdaptResult } from '../train/adapt.js';
import type { StepReport } from '../train/trainer.js';
import { loadFeatures } from './train.js';
import { Progress } from './progress.js';

export type AdaptCommandOptions = Omit<AdaptOptions, 'features' | 'onStep' | 'log'> & { readonly features: string; readonly quiet?: boolean };

export async function runAdapt(o: AdaptCommandOptions, log: (s: string) => void): Promise<AdaptResult> {
  if (!o.night.length) throw new PieError('usage', 'no night footage', 'pass --night <video|folder> (the camera\'s own dark frames)');
  const features = o.weights.perceptual || o.weights.nce ? loadFeatures(o.features) : undefined;
  const bar = new Progress('adapt', o.steps, process.stderr, o.quiet);
  const onStep = (r: StepReport): void => bar.update(r.step, r.steps, `loss ${r.losses.total.toPrecision(4)} ${r.ms.toFixed(0)} ms/step`);
  const { features: _name, quiet: _quiet, ...rest } = o;
  if (!features && (o.weights.perceptual || o.weights.nce)) log('no feature network: the perceptual and contrastive terms are off');
  const weights = features ? o.weights : { ...o.weights, perceptual: 0, nce: 0 };
  const r = await adapt({ ...rest, weights, ...(features ? { features } : {}), onStep, log });
  bar.done();
  log(r.accepted
    ? `accepted: ${r.model} (held-out loss ${r.base.total.toPrecision(4)} → ${r.adapted.total.toPrecision(4)}); card ${r.card}`
    : `rejected: held-out loss ${r.base.total.toPrecision(4)} → ${r.adapted.total.toPrecision(4)}; kept ${r.model}, candidate ${r.candidate}; card ${r.card}`);
  return r;
}
