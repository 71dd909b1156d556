// npm run bench -- train [--crop 256] [--batch 2] [--features PATH]
// Time per PIE training step (forward, six losses, backward, Adam: one session.run) at crop 256,
// batch 2 with SqueezeNet features, beside the forward-only time (DCE-Net + curves) and the ratio,
// and what 14,000 steps (the official schedule) would take here. Writes bench/results/train.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSession, describeSession, ort } from '../src/enhance/session.js';
import { buildEnhancerGraph } from '../src/enhance/graph.js';
import { loadDceNetModel } from '../src/enhance/model-file.js';
import { DEFAULT_MODEL_PATH } from '../src/enhance/enhancer.js';
import { squeezeNetSpec } from '../src/train/features.js';
import { adamScalars, PIE_ADAM } from '../src/train/optim.js';
import { buildTrainStep, IO, PARAMS, PIE_WEIGHTS } from '../src/train/step.js';
import { describeMachine, machine, timeIt } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (n: string, d: string): string => { const i = process.argv.indexOf(`--${n}`); return i >= 0 ? process.argv[i + 1]! : d; };
const crop = Number(arg('crop', '256'));
const batch = Number(arg('batch', '2'));
const featuresPath = arg('features', path.resolve(here, '../../shared/models/squeezenet1.1_features.onnx'));
if (!fs.existsSync(featuresPath)) {
  console.error(`no feature network at ${featuresPath} (pass --features PATH to SqueezeNet 1.1 features)`);
  process.exit(2);
}
const m = machine();
console.log(`machine: ${describeMachine(m)}`);
const maxSegments = batch * 256;
const t0 = performance.now();
const step = buildTrainStep({ batch, crop, positives: 2, negatives: 2, maxSegments, weights: PIE_WEIGHTS, features: squeezeNetSpec(fs.readFileSync(featuresPath)) });
const buildMs = performance.now() - t0;
const s = await openSession(step.bytes, 'cpu');
console.log(`${describeSession(s)}; graph ${(step.bytes.length / 2 ** 20).toFixed(1)} MiB, built in ${buildMs.toFixed(0)} ms`);

const rnd = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, (_, i) => lo + (hi - lo) * ((Math.sin(i * 12.9898) * 43758.5453) % 1 + 1) % 1);
const img = (n: number, lo: number, hi: number) => new ort.Tensor('float32', rnd(n * 3 * crop * crop, lo, hi), [n, 3, crop, crop]);
const labels = BigInt64Array.from({ length: batch * crop * crop }, (_, i) => BigInt(Math.floor(i / (crop * crop)) * 256 + (Math.floor((i % (crop * crop)) / crop / 16) * 16 + Math.floor((i % crop) / 16))));
const weights = (await loadDceNetModel(DEFAULT_MODEL_PATH)).weights;
const feeds: Record<string, ort.Tensor> = {
  [IO.low]: img(batch, 0.02, 0.2), [IO.pos]: img(2, 0.3, 0.8), [IO.neg]: img(2, 0, 0.1),
  [IO.labels]: new ort.Tensor('int64', labels, [labels.length]),
  [IO.counts]: new ort.Tensor('float32', new Float32Array(maxSegments).fill(256), [maxSegments]),
};
const { lrT, epsT } = adamScalars(1e-4, 1, PIE_ADAM);
feeds[IO.lrT] = new ort.Tensor('float32', [lrT], []);
feeds[IO.epsT] = new ort.Tensor('float32', [epsT], []);
for (const p of PARAMS) {
  const [layer, part] = p.name.split('.') as [keyof typeof weights, 'weight' | 'bias'];
  // Dense weights (the shipped model is mostly zeros): speed must not depend on sparsity.
  const dense = Float32Array.from(weights[layer][part].data, (v, i) => v + 0.01 * Math.sin(i));
  feeds[IO.param(p.name)] = new ort.Tensor('float32', dense, [...p.shape]);
  feeds[IO.m(p.name)] = new ort.Tensor('float32', new Float32Array(dense.length), [...p.shape]);
  feeds[IO.v(p.name)] = new ort.Tensor('float32', new Float32Array(dense.length), [...p.shape]);
}
const stepT = await timeIt(() => s.session.run(feeds), 5, 5);
const fwd = await openSession(buildEnhancerGraph(weights, { downscale: 1 }), 'cpu');
const frames = new ort.Tensor('uint8', new Uint8Array(batch * crop * crop * 3).fill(20), [batch, crop, crop, 3]);
const fwdT = await timeIt(() => fwd.session.run({ frames }), 5, 2);
const steps = 14000;
const hours = (stepT.medianMs * steps) / 3.6e6;
console.log(`\ncrop ${crop}, batch ${batch} (+2 positives, 2 negatives), SqueezeNet features, all six losses`);
console.log(`training step (forward + losses + backward + Adam): ${stepT.medianMs.toFixed(0)} ms (min ${stepT.minMs.toFixed(0)}, max ${stepT.maxMs.toFixed(0)}, ${stepT.runs} runs)`);
console.log(`forward only (DCE-Net + curves, the baseline):       ${fwdT.medianMs.toFixed(0)} ms`);
console.log(`ratio step / forward: ${(stepT.medianMs / fwdT.medianMs).toFixed(1)}x`);
console.log(`${steps} steps (the official schedule) at this speed: ${hours.toFixed(1)} h`);
const out = path.join(here, 'results', `train-crop${crop}.json`);
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, provider: s.provider, threads: s.threads, crop, batch, positives: 2, negatives: 2, features: 'squeezenet1.1', stepMs: stepT, forwardMs: fwdT, ratio: stepT.medianMs / fwdT.medianMs, hoursFor14000: hours }, null, 1));
console.log(`wrote ${out}`);
