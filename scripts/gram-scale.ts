// Measures the scale of the Gram distances D(·,·) that the contrastive term compares, per tap, for
// a feature network on real positives and their BoC negatives — the figures behind each spec's
// gramScale (so D(P, N) is O(1) and softplus is not in its linear regime).
// Also the perceptual (feature preservation) MSE for a gamma brightening, behind perceptualScale.
// Usage: tsx scripts/gram-scale.ts <positives dir> <blazeface|squeezenet onnx path> [samples]
import fs from 'node:fs';
import { loadFeatures } from '../src/cli/train.js';
import { openSession, ort } from '../src/enhance/session.js';
import { Tape } from '../src/train/autodiff/tape.js';
import { bocNegative, mulberry32 } from '../src/train/boc.js';
import { CropSampler, listImages, toNchw } from '../src/train/data.js';
import { applyFeatureNet } from '../src/train/features.js';
import { gram, gramDistances } from '../src/train/losses.js';

const [dir, net, n = '16'] = process.argv.slice(2);
if (!dir || !net) throw new Error('usage: tsx scripts/gram-scale.ts <positives dir> <features> [samples]');
const spec = loadFeatures(net);
if (!spec) throw new Error('no feature network');
const crop = 128, count = Number(n);
const t = new Tape('float32');
const a = t.input('a', [count, 3, crop, crop]);
const b = t.input('b', [count, 3, crop, crop]);
const shared = new Map<string, string>();
const fa = applyFeatureNet(t, spec, a, spec.gramTaps, 'a/', shared);
const fb = applyFeatureNet(t, spec, b, spec.gramTaps, 'b/', shared);
const pa = applyFeatureNet(t, spec, a, [spec.perceptualTap], 'a/', shared)[spec.perceptualTap]!;
const pb = applyFeatureNet(t, spec, b, [spec.perceptualTap], 'b/', shared)[spec.perceptualTap]!;
t.b.output(t.mean(t.square(t.sub(pa, pb))), 'float32', [], 'perc');
spec.gramTaps.forEach((tap, i) => t.b.output(gramDistances(t, gram(t, fa[tap]!), gram(t, fb[tap]!)), 'float32', [count, count], `d${i}`));
const { session } = await openSession(t.b.toBytes(), 'cpu');
const rng = mulberry32(7);
const sampler = new CropSampler(listImages(dir, 'positives'), crop, 'positives');
const p = await sampler.sample(count, rng);
const q = await sampler.sample(count, rng);
const neg = p.map((x) => bocNegative(x, rng).image);
const run = async (x: typeof p, y: typeof p) => session.run({ a: new ort.Tensor('float32', toNchw(x), [count, 3, crop, crop]), b: new ort.Tensor('float32', toNchw(y), [count, 3, crop, crop]) });
const median = (v: number[]): number => v.sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
const offDiag = (d: Float32Array): number[] => [...d].filter((_, k) => Math.floor(k / count) !== k % count);
const pn = await run(p, neg), pq = await run(p, q);
const rows = spec.gramTaps.map((tap, i) => ({ tap, 'D(P,N) median': median(offDiag(pn[`d${i}`]!.data as Float32Array)), 'D(P,P\') median': median(offDiag(pq[`d${i}`]!.data as Float32Array)) }));
console.table(rows);
const total = rows.reduce((s, r) => s + r['D(P,N) median'], 0);
// Feature preservation: the perceptual MSE between a crop and the same crop brightened by gamma 0.5.
const bright = p.map((x) => ({ ...x, data: x.data.map((v) => Math.round(255 * Math.sqrt(v / 255))) }));
const perc = (await run(p, bright)).perc!.data[0] as number;
console.log(`${spec.name}: perceptual MSE(crop, gamma-0.5 crop) = ${perc.toPrecision(3)}; perceptualScale ≈ ${(1 / perc).toPrecision(2)} makes it 1`);
console.log(`${spec.name}: Σ over taps of median D(P,N) = ${total.toPrecision(3)}; gramScale ≈ ${(1 / total).toPrecision(2)} makes it 1`);
fs.writeSync(1, '');
