// The PIE training loop: sample unpaired crops, make Bag-of-Curves negatives from the positives,
// segment the current enhanced crops for the regional loss, run the one-graph training step,
// log, checkpoint, and export the enhancer model. Deterministic for a seed.
import fs from 'node:fs';
import { addCurveIterations, addDceNet, addValueCurveIterations, DCE_LAYERS, LAYER_NAMES, type DceNetWeights, type LayerName } from '../enhance/dcenet.js';
import { dceNetModelBytes, flushDeadWeights, loadDceNetModel } from '../enhance/model-file.js';
import { describeSession, openSession, ort, type ProviderChoice } from '../enhance/session.js';
import { PieError } from '../errors.js';
import { GraphBuilder } from '../onnx/builder.js';
import { inspectModel } from '../onnx/inspect.js';
import { f32 } from '../onnx/tensor.js';
import type { RgbImage } from '../image/types.js';
import { bocNegative, mulberry32, type Rng } from './boc.js';
import { CropSampler, fromNchw, listImages, toNchw } from './data.js';
import type { FeatureNetSpec } from './features.js';
import { adamScalars, PIE_ADAM } from './optim.js';
import type { CurveForm } from '../enhance/tone.js';
import { buildTrainStep, DEFAULT_EXPOSURE_LEVEL, IO, LOSS_NAMES, PARAMS, type LossName, type LossWeights } from './step.js';

/** Segments an image; labels 0..count−1, row-major. */
export type Segmenter = (img: RgbImage) => { labels: Int32Array; count: number };

export interface TrainOptions {
  readonly inputs: string;
  /** Needed when the contrastive or triplet terms are on (Zero-DCE's losses need none). */
  readonly positives?: string;
  /** The exported model (.onnx); the checkpoint, CSV log and plot go beside it. */
  readonly out: string;
  readonly steps: number;
  readonly crop: number;
  readonly batch: number;
  readonly lr: number;
  /** Adam's L2 weight decay (PIE: 1e-4). Under Adam it moves a weight with no gradient by ~lr a
   * step towards 0, so a channel whose ReLU stopped firing can never come back. */
  readonly weightDecay?: number;
  readonly seed: number;
  readonly weights: LossWeights;
  readonly exposureLevel?: number;
  readonly features?: FeatureNetSpec;
  readonly segment: Segmenter;
  /** How the curves are applied in training (enhance/tone.ts CurveForm); default 'rgb'. */
  readonly apply?: CurveForm;
  readonly init?: string;
  readonly resume?: boolean;
  readonly provider?: ProviderChoice;
  /** CPU threads per session (default: all cores). */
  readonly threads?: number;
  readonly checkpointEvery?: number;
  readonly positivesPerStep?: number;
  readonly onStep?: (r: StepReport) => void;
  readonly log?: (s: string) => void;
}

export interface StepReport {
  readonly step: number;
  readonly steps: number;
  readonly losses: Readonly<Record<LossName | 'total', number>>;
  readonly gradNorm: number;
  readonly ms: number;
}

export interface TrainResult {
  readonly out: string;
  readonly steps: number;
  readonly history: readonly StepReport[];
  readonly skipped: { inputs: number; positives: number };
  readonly seconds: number;
}

type ParamSet = Map<string, Float32Array>;

/** Zero-DCE's initialisation: conv weights N(0, 0.02), biases 0 (seeded Box–Muller). */
export function initialParams(rng: Rng): ParamSet {
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return new Map(PARAMS.map((p) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    return [p.name, p.shape.length === 4 ? Float32Array.from({ length: n }, () => 0.02 * normal()) : new Float32Array(n)];
  }));
}

export function paramsFromWeights(w: DceNetWeights): ParamSet {
  return new Map(LAYER_NAMES.flatMap((l) => [[`${l}.weight`, Float32Array.from(w[l].weight.data)], [`${l}.bias`, Float32Array.from(w[l].bias.data)]]));
}

export function weightsFromParams(ps: ParamSet): DceNetWeights {
  return Object.fromEntries(LAYER_NAMES.map((l: LayerName) => {
    const [o, i] = DCE_LAYERS[l];
    return [l, { weight: f32([o, i, 3, 3], ps.get(`${l}.weight`)!), bias: f32([o], ps.get(`${l}.bias`)!) }];
  })) as DceNetWeights;
}

/** Forward graph with the parameters as inputs: the enhanced crops the segmentation runs on. */
function forwardGraph(apply: CurveForm = 'rgb'): Uint8Array {
  const b = new GraphBuilder('pie_forward');
  for (const p of PARAMS) b.input(IO.param(p.name), 'float32', p.shape);
  const x = b.input(IO.low, 'float32', ['N', 3, 'H', 'W']);
  const curves = addDceNet(b, x, (n) => IO.param(n));
  const y = apply === 'value' ? addValueCurveIterations(b, x, curves) : addCurveIterations(b, x, curves).at(-1)!;
  b.output(y, 'float32', undefined, IO.enhanced);
  return b.toBytes();
}

const checkpointPath = (out: string): string => `${out}.checkpoint.onnx`;

/** Checkpoint: an ONNX file whose initializers are the parameters and Adam moments, step in metadata. */
function saveCheckpoint(out: string, step: number, ps: ParamSet, m: ParamSet, v: ParamSet, seed: number): void {
  const b = new GraphBuilder('checkpoint');
  for (const p of PARAMS) {
    b.initializer(IO.param(p.name), f32(p.shape, ps.get(p.name)!));
    b.initializer(IO.m(p.name), f32(p.shape, m.get(p.name)!));
    b.initializer(IO.v(p.name), f32(p.shape, v.get(p.name)!));
  }
  b.output(IO.param(PARAMS[0]!.name), 'float32', PARAMS[0]!.shape, 'first_param');
  const tmp = `${checkpointPath(out)}.partial`;
  fs.writeFileSync(tmp, b.toBytes({ metadata: { step: String(step), seed: String(seed) } }));
  fs.renameSync(tmp, checkpointPath(out));
}

function loadCheckpoint(out: string): { step: number; seed: number; ps: ParamSet; m: ParamSet; v: ParamSet } {
  const s = inspectModel(fs.readFileSync(checkpointPath(out)));
  const get = (k: string): Float32Array => {
    const t = s.initializers.get(k);
    if (!t) throw new PieError('model', `checkpoint ${checkpointPath(out)} lacks ${k}`, 'delete it and train without --resume');
    return Float32Array.from(t.data as Float32Array);
  };
  return {
    step: Number(s.metadata.step), seed: Number(s.metadata.seed),
    ps: new Map(PARAMS.map((p) => [p.name, get(IO.param(p.name))])),
    m: new Map(PARAMS.map((p) => [p.name, get(IO.m(p.name))])),
    v: new Map(PARAMS.map((p) => [p.name, get(IO.v(p.name))])),
  };
}

const paramTensors = (ps: ParamSet): Record<string, ort.Tensor> =>
  Object.fromEntries(PARAMS.map((p) => [IO.param(p.name), new ort.Tensor('float32', ps.get(p.name)!, [...p.shape])]));

/**
 * One step's data feeds: low-light crops, positives and their BoC negatives, and the regions of
 * the current (detached) enhanced crops for the regional loss. All randomness from `rng`.
 */
class StepData {
  constructor(private readonly d: {
    inputs: CropSampler; positives: CropSampler | undefined; positivesPerStep: number; batch: number; crop: number;
    maxSegments: number; region: boolean; segment: Segmenter; forward: ort.InferenceSession;
  }) {}

  async feeds(paramFeeds: Record<string, ort.Tensor>, rng: Rng): Promise<Record<string, ort.Tensor>> {
    const { batch, crop, maxSegments } = this.d;
    const tensorOf = (imgs: RgbImage[]) => new ort.Tensor('float32', toNchw(imgs), [imgs.length, 3, crop, crop]);
    const low = await this.d.inputs.sample(batch, rng);
    const pos = this.d.positives ? await this.d.positives.sample(this.d.positivesPerStep, rng) : [];
    const neg = pos.map((p) => bocNegative(p, rng).image);
    const lowT = tensorOf(low);
    const feeds: Record<string, ort.Tensor> = { ...paramFeeds, [IO.low]: lowT, ...(pos.length ? { [IO.pos]: tensorOf(pos), [IO.neg]: tensorOf(neg) } : {}) };
    if (this.d.region) {
      // Regions of the current (detached) enhanced crops, numbered across the batch.
      const e = (await this.d.forward.run({ ...paramFeeds, [IO.low]: lowT }))[IO.enhanced]!.data as Float32Array;
      const labels = new BigInt64Array(batch * crop * crop);
      const counts = new Float32Array(maxSegments).fill(1);
      let offset = 0;
      for (let i = 0; i < batch; i++) {
        const seg = this.d.segment(fromNchw(e, i, crop, crop));
        for (let p = 0; p < crop * crop; p++) labels[i * crop * crop + p] = BigInt(offset + seg.labels[p]!);
        for (let k = 0; k < seg.count; k++) counts[offset + k] = 0;
        for (let p = 0; p < crop * crop; p++) counts[offset + seg.labels[p]!]! += 1;
        offset += seg.count;
      }
      feeds[IO.labels] = new ort.Tensor('int64', labels, [labels.length]);
      feeds[IO.counts] = new ort.Tensor('float32', counts, [maxSegments]);
    }
    return feeds;
  }
}

export interface ValidationOptions {
  readonly inputs: readonly string[];
  readonly positives?: readonly string[];
  readonly crop: number;
  readonly batch: number;
  /** Fixed batches drawn with `seed`: the same crops for every model compared. */
  readonly batches: number;
  readonly seed: number;
  readonly weights: LossWeights;
  readonly exposureLevel?: number;
  readonly features?: FeatureNetSpec;
  readonly segment: Segmenter;
  readonly apply?: CurveForm;
  readonly threads?: number;
}

/**
 * The training loss of each model on the same held-out crops (mean over `batches`): what adapt
 * validates with, since the objective it fine-tunes is the only label-free measure it has.
 */
export async function validationLoss(models: readonly DceNetWeights[], o: ValidationOptions): Promise<Array<Record<LossName | 'total', number>>> {
  const needPairs = Boolean(o.weights.nce || o.weights.triplet);
  const maxSegments = o.batch * o.crop * o.crop;
  const threads = o.threads !== undefined ? { threads: o.threads } : {};
  const graph = buildTrainStep({
    batch: o.batch, crop: o.crop, positives: 2, negatives: 2, maxSegments, weights: o.weights, lossOnly: true, apply: o.apply ?? 'rgb',
    ...(o.exposureLevel !== undefined ? { exposureLevel: o.exposureLevel } : {}), ...(o.features ? { features: o.features } : {}),
  });
  const step = await openSession(graph.bytes, 'cpu', threads);
  const fwd = await openSession(forwardGraph(o.apply), 'cpu', threads);
  try {
    const data = new StepData({
      inputs: new CropSampler(o.inputs, o.crop, 'validation'), positives: needPairs && o.positives ? new CropSampler(o.positives, o.crop, 'positives') : undefined,
      positivesPerStep: 2, batch: o.batch, crop: o.crop, maxSegments, region: Boolean(o.weights.region), segment: o.segment, forward: fwd.session,
    });
    const names = ['total', ...LOSS_NAMES.filter((n) => o.weights[n])] as const;
    const results: Array<Record<LossName | 'total', number>> = [];
    for (const w of models) {
      const sums = Object.fromEntries(['total', ...LOSS_NAMES].map((n) => [n, 0])) as Record<LossName | 'total', number>;
      for (let b = 0; b < o.batches; b++) {
        const feeds = await data.feeds(paramTensors(paramsFromWeights(w)), mulberry32((o.seed * 7_919 + b) >>> 0));
        const out = await step.session.run(feeds, names.map((n) => IO.loss(n)));
        for (const n of names) sums[n] += (out[IO.loss(n)]!.data[0] as number) / o.batches;
      }
      results.push(sums);
    }
    return results;
  } finally {
    await Promise.all([step.session.release(), fwd.session.release()]);
  }
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const lowFiles = listImages(o.inputs, 'inputs');
  const needPairs = Boolean(o.weights.nce || o.weights.triplet);
  if (needPairs && !o.positives) throw new PieError('usage', 'the contrastive and triplet terms need normal-light positives', 'pass --positives <dir>, or set --w-nce 0 --w-triplet 0');
  const posFiles = needPairs ? listImages(o.positives!, 'positives') : [];
  const nPos = o.positivesPerStep ?? 2;
  const maxSegments = o.batch * o.crop * o.crop; // every pixel its own segment at worst
  const adam = { ...PIE_ADAM, weightDecay: o.weightDecay ?? PIE_ADAM.weightDecay };
  const stepGraph = buildTrainStep({
    batch: o.batch, crop: o.crop, positives: nPos, negatives: nPos, maxSegments, weights: o.weights, apply: o.apply ?? 'rgb', adam,
    ...(o.exposureLevel !== undefined ? { exposureLevel: o.exposureLevel } : {}), ...(o.features ? { features: o.features } : {}),
  });
  const threads = o.threads !== undefined ? { threads: o.threads } : {};
  const step = await openSession(stepGraph.bytes, o.provider ?? 'cpu', threads);
  const fwd = await openSession(forwardGraph(o.apply), step.provider, threads);
  log(`${describeSession(step)}; ${lowFiles.length} inputs, ${posFiles.length} positives, crop ${o.crop}, batch ${o.batch}, features ${o.features?.name ?? 'none'}`);

  let start = 0;
  let ps: ParamSet;
  let m: ParamSet = new Map(PARAMS.map((p) => [p.name, new Float32Array(p.shape.reduce((a, b) => a * b, 1))]));
  let v: ParamSet = new Map([...m].map(([k, a]) => [k, new Float32Array(a.length)]));
  if (o.resume && fs.existsSync(checkpointPath(o.out))) {
    const c = loadCheckpoint(o.out);
    if (c.seed !== o.seed) throw new PieError('usage', `the checkpoint was trained with --seed ${c.seed}, not ${o.seed}`, `resume with --seed ${c.seed}`);
    ({ ps, m, v } = c);
    start = c.step;
    log(`resumed from ${checkpointPath(o.out)} at step ${start}`);
  } else {
    ps = o.init ? paramsFromWeights((await loadDceNetModel(o.init)).weights) : initialParams(mulberry32(o.seed));
  }
  // The data stream's randomness depends on the seed and the step, so a resumed run continues
  // with the same crops it would have seen.
  const rngFor = (s: number): Rng => mulberry32((o.seed * 1_000_003 + s) >>> 0);

  const csv = `${o.out}.log.csv`;
  if (start === 0 || !fs.existsSync(csv)) fs.writeFileSync(csv, `step,${['total', ...LOSS_NAMES].join(',')},grad_norm,ms\n`);
  else {
    // Steps logged after the checkpoint (a run killed between checkpoints) are run again: drop them.
    const lines = fs.readFileSync(csv, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(csv, `${lines.filter((l, i) => i === 0 || Number(l.split(',')[0]) <= start).join('\n')}\n`);
  }
  const history: StepReport[] = [];
  const crop = o.crop;
  const inputs = new CropSampler(lowFiles, crop, 'inputs');
  const positives = needPairs ? new CropSampler(posFiles, crop, 'positives') : undefined;
  const data = new StepData({ inputs, positives, positivesPerStep: nPos, batch: o.batch, crop, maxSegments, region: Boolean(o.weights.region), segment: o.segment, forward: fwd.session });

  for (let s = start + 1; s <= o.steps; s++) {
    const ts = performance.now();
    const rng = rngFor(s);
    // Weight decay takes dead channels' weights (and tiny Adam moments) into float32's subnormal
    // range, where every product runs ~100× slower (model-file.ts, DEAD_WEIGHT): zero them.
    for (const set of [ps, m, v]) for (const a of set.values()) flushDeadWeights(a);
    const paramFeeds = paramTensors(ps);
    const feeds = await data.feeds(paramFeeds, rng);
    const { lrT, epsT } = adamScalars(o.lr, s, adam);
    feeds[IO.lrT] = new ort.Tensor('float32', [lrT], []);
    feeds[IO.epsT] = new ort.Tensor('float32', [epsT], []);
    for (const p of PARAMS) {
      feeds[IO.m(p.name)] = new ort.Tensor('float32', m.get(p.name)!, [...p.shape]);
      feeds[IO.v(p.name)] = new ort.Tensor('float32', v.get(p.name)!, [...p.shape]);
    }
    const out = await step.session.run(feeds);
    const value = (k: string): number => out[k]!.data[0] as number;
    const total = value(IO.loss('total'));
    if (!Number.isFinite(total)) {
      throw new PieError('usage', `training diverged at step ${s} (loss ${total})`, 'lower --lr, or resume from the last checkpoint with --resume');
    }
    ps = new Map(PARAMS.map((p) => [p.name, out[IO.nextParam(p.name)]!.data as Float32Array]));
    m = new Map(PARAMS.map((p) => [p.name, out[IO.nextM(p.name)]!.data as Float32Array]));
    v = new Map(PARAMS.map((p) => [p.name, out[IO.nextV(p.name)]!.data as Float32Array]));
    const losses = Object.fromEntries([['total', total], ...LOSS_NAMES.map((n) => [n, out[IO.loss(n)] ? value(IO.loss(n)) : 0])]) as Record<LossName | 'total', number>;
    const report: StepReport = { step: s, steps: o.steps, losses, gradNorm: value(IO.gradNorm), ms: performance.now() - ts };
    history.push(report);
    fs.appendFileSync(csv, `${s},${['total', ...LOSS_NAMES].map((k) => losses[k as LossName | 'total'].toPrecision(6)).join(',')},${report.gradNorm.toPrecision(6)},${report.ms.toFixed(0)}\n`);
    o.onStep?.(report);
    if (s % (o.checkpointEvery ?? 500) === 0 || s === o.steps) saveCheckpoint(o.out, s, ps, m, v, o.seed);
  }

  const weights = weightsFromParams(ps);
  const tmp = `${o.out}.partial`;
  fs.writeFileSync(tmp, dceNetModelBytes(weights, {
    // The model's own date: a file's modification time is only when it was copied or checked out.
    date: new Date().toISOString(),
    name: 'pie', trained: `pie-stream train, ${o.steps} steps, crop ${crop}, batch ${o.batch}, lr ${o.lr}, weight decay ${adam.weightDecay}, seed ${o.seed}`,
    features: o.features?.name ?? 'none', weights: JSON.stringify(o.weights), exposure_level: String(o.exposureLevel ?? DEFAULT_EXPOSURE_LEVEL),
    apply: o.apply ?? 'rgb',
  }));
  fs.renameSync(tmp, o.out);
  await Promise.all([step.session.release(), fwd.session.release()]);
  return {
    out: o.out, steps: o.steps, history,
    skipped: { inputs: inputs.skipped.unreadable + inputs.skipped.tooSmall, positives: positives ? positives.skipped.unreadable + positives.skipped.tooSmall : 0 },
    seconds: (performance.now() - t0) / 1000,
  };
}
