// `pie-stream train`: PIE from unpaired folders, with a progress bar showing every loss term and
// the step time, a CSV log and a PNG plot beside the exported model.
import fs from 'node:fs';
import path from 'node:path';
import { PieError } from '../errors.js';
import { inspectModel } from '../onnx/inspect.js';
import { writeSvgPng } from '../image/io.js';
import { blazeFaceModelPath } from '../detect/models.js';
import { blazeFaceSpec, squeezeNetSpec, type FeatureNetSpec } from '../train/features.js';
import { lossPlotSvg } from '../train/plot.js';
import { LOSS_NAMES, type LossWeights } from '../train/step.js';
import { train, type StepReport, type TrainOptions } from '../train/trainer.js';
import { Progress } from './progress.js';

/** The trainer's options as the command line gives them: the feature network by name or path. */
export type TrainCommandOptions = Omit<TrainOptions, 'features' | 'onStep' | 'log'> & { readonly features: string };

/** 'blazeface' (shipped with the npm package), 'none', or a path; SqueezeNet 1.1 is recognised by its outputs. */
export function loadFeatures(p: string): FeatureNetSpec | undefined {
  if (p === 'none') return undefined;
  if (p === 'blazeface') return blazeFaceSpec(fs.readFileSync(blazeFaceModelPath('back')));
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(p);
  } catch {
    throw new PieError('usage', `--features ${p}: no such file`, 'use --features blazeface, a SqueezeNet 1.1 features ONNX (e.g. ../shared/models/squeezenet1.1_features.onnx), or none');
  }
  const s = inspectModel(bytes);
  const outs = new Set(s.outputs.map((o) => o.name));
  if (['relu1', 'fire3', 'fire5', 'fire9'].every((o) => outs.has(o))) return squeezeNetSpec(bytes);
  throw new PieError('usage', `--features ${p}: not a network pie-stream knows (outputs ${[...outs].join(', ')})`, 'use --features blazeface, SqueezeNet 1.1 features (outputs relu1, fire3 … fire9), or none');
}

export async function runTrain(o: TrainCommandOptions, log: (s: string) => void): Promise<void> {
  const features = o.weights.perceptual || o.weights.nce ? loadFeatures(o.features) : undefined;
  const weights = features ? o.weights : { ...o.weights, perceptual: 0, nce: 0 };
  if (!features && (o.weights.perceptual || o.weights.nce)) log('no feature network: the perceptual and contrastive terms are off');
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  const bar = new Progress('train', o.steps);
  const short: Record<string, string> = { tv: 'tv', color: 'col', perceptual: 'perc', region: 'reg', nce: 'nce', triplet: 'tri', spatial: 'spa', exposure: 'exp' };
  const onStep = (r: StepReport): void => {
    const terms = LOSS_NAMES.filter((n) => weights[n]).map((n) => `${short[n]} ${r.losses[n].toPrecision(3)}`).join(' ');
    bar.update(r.step, r.steps, `loss ${r.losses.total.toPrecision(4)} (${terms}) ${r.ms.toFixed(0)} ms/step`);
  };
  const result = await train({
    inputs: o.inputs, ...(o.positives ? { positives: o.positives } : {}), ...(o.exposureLevel !== undefined ? { exposureLevel: o.exposureLevel } : {}), out: o.out, steps: o.steps, crop: o.crop, batch: o.batch, lr: o.lr, seed: o.seed,
    ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
    weights, segment: o.segment, resume: o.resume, provider: o.provider, checkpointEvery: o.checkpointEvery, onStep, log,
    ...(o.apply ? { apply: o.apply } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(features ? { features } : {}), ...(o.init ? { init: o.init } : {}),
  });
  bar.done();
  // The plot reads the whole CSV, so a resumed run's plot covers every step.
  const rows = fs.readFileSync(`${o.out}.log.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const cols = ['total', ...LOSS_NAMES];
  const series = cols.map((name, i) => ({ name: name === 'total' ? 'total (weighted)' : `${name} (×${weights[name as keyof LossWeights]})`, values: rows.map((r) => r[i + 1]!) }))
    .filter((s, i) => i === 0 || weights[cols[i] as keyof LossWeights]);
  await writeSvgPng(lossPlotSvg(`PIE training: ${path.basename(o.out)}`, rows.map((r) => r[0]!), series), `${o.out}.losses.png`);
  log(`wrote ${o.out} (${result.steps} steps in ${result.seconds.toFixed(0)} s), ${o.out}.log.csv, ${o.out}.losses.png, checkpoint ${o.out}.checkpoint.onnx`);
  if (result.skipped.inputs || result.skipped.positives) {
    log(`skipped ${result.skipped.inputs} input and ${result.skipped.positives} positive image(s): unreadable or smaller than the ${o.crop}px crop`);
  }
}
