// Zero-DCE's spatial-consistency and exposure losses: values against a plain re-statement of the
// official PyTorch definitions (zero-padded neighbour convolutions, 16×16 exposure patches), and
// gradients against finite differences.
import { describe, expect, it } from 'vitest';
import { openSession, ort } from '../../src/enhance/session.js';
import { Tape } from '../../src/train/autodiff/tape.js';
import { exposureLoss, spatialConsistencyLoss } from '../../src/train/losses.js';
import { checkGradients, seeded } from './gradcheck.js';

type Nchw = { data: Float64Array; b: number; c: number; h: number; w: number };
const at = (x: Nchw, b: number, c: number, i: number, j: number): number => x.data[((b * x.c + c) * x.h + i) * x.w + j]!;

/** Channel mean then k×k average pooling (no padding), as Zero-DCE's nn.AvgPool2d. */
function grayPool(x: Nchw, k: number): Nchw {
  const h = Math.floor(x.h / k), w = Math.floor(x.w / k);
  const out = new Float64Array(x.b * h * w);
  for (let b = 0; b < x.b; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    let s = 0;
    for (let c = 0; c < x.c; c++) for (let di = 0; di < k; di++) for (let dj = 0; dj < k; dj++) s += at(x, b, c, i * k + di, j * k + dj);
    out[(b * h + i) * w + j] = s / (x.c * k * k);
  }
  return { data: out, b: x.b, c: 1, h, w };
}

/** L_spa as the official code computes it: four 3×3 difference kernels with zero padding. */
function referenceSpatial(org: Nchw, enh: Nchw): number {
  const o = grayPool(org, 4), e = grayPool(enh, 4);
  const v = (x: Nchw, b: number, i: number, j: number): number => (i < 0 || j < 0 || i >= x.h || j >= x.w ? 0 : at(x, b, 0, i, j));
  let sum = 0;
  for (let b = 0; b < o.b; b++) for (let i = 0; i < o.h; i++) for (let j = 0; j < o.w; j++) {
    for (const [di, dj] of [[0, -1], [0, 1], [-1, 0], [1, 0]] as const) {
      const dOrg = v(o, b, i, j) - v(o, b, i + di, j + dj);
      const dEnh = v(e, b, i, j) - v(e, b, i + di, j + dj);
      sum += (dOrg - dEnh) ** 2;
    }
  }
  return sum / (o.b * o.h * o.w);
}

function referenceExposure(enh: Nchw, level: number): number {
  const p = grayPool(enh, 16);
  return p.data.reduce((s, m) => s + (m - level) ** 2, 0) / p.data.length;
}

const shape = [2, 3, 32, 48] as const;
const image = (seed: number, lo: number, hi: number): Nchw => ({ data: Float64Array.from(seeded(2 * 3 * 32 * 48, seed, lo, hi, 0)), b: 2, c: 3, h: 32, w: 48 });

async function evaluate(f: (t: Tape, a: string, b: string) => string, a: Nchw, b: Nchw): Promise<number> {
  const t = new Tape('float32');
  const x = t.input('a', [...shape]);
  const y = t.input('b', [...shape]);
  t.b.output(f(t, x, y), 'float32', [], 'loss');
  const { session } = await openSession(t.b.toBytes(), 'cpu', { threads: 1 });
  const out = await session.run({ a: new ort.Tensor('float32', Float32Array.from(a.data), [...shape]), b: new ort.Tensor('float32', Float32Array.from(b.data), [...shape]) });
  return out.loss!.data[0] as number;
}

describe("Zero-DCE's no-reference losses", () => {
  it('spatial consistency equals the official zero-padded definition', async () => {
    const org = image(1, 0, 0.2), enh = image(2, 0.1, 0.9);
    const want = referenceSpatial(org, enh);
    expect(want).toBeGreaterThan(1e-3);
    expect(await evaluate((t, a, b) => spatialConsistencyLoss(t, a, b), org, enh)).toBeCloseTo(want, 5);
    // Zero when the enhancement is a constant offset of the input: differences are preserved
    // inside, but the zero-padded border is not — so only the border terms remain.
    const shifted: Nchw = { ...org, data: org.data.map((v) => v + 0.3) };
    expect(await evaluate((t, a, b) => spatialConsistencyLoss(t, a, b), org, shifted)).toBeCloseTo(referenceSpatial(org, shifted), 5);
  });

  it('exposure equals the official 16×16-patch definition', async () => {
    const enh = image(3, 0, 1);
    for (const level of [0.6, 0.3]) {
      expect(await evaluate((t, a) => exposureLoss(t, a, level), enh, enh)).toBeCloseTo(referenceExposure(enh, level), 6);
    }
  });

  it('gradients match finite differences', async () => {
    const small = [1, 3, 16, 16] as const;
    const r1 = await checkGradients([{ shape: [...small], grad: false }, { shape: [...small] }], (t, [a, b]) => spatialConsistencyLoss(t, a!, b!), { dtype: 'float32', eps: 1e-2, samples: 16 });
    const r2 = await checkGradients([{ shape: [1, 3, 32, 32] }], (t, [a]) => exposureLoss(t, a!, 0.6), { dtype: 'float32', eps: 1e-2, samples: 16 });
    expect(r1.checked + r2.checked).toBe(32);
  });
});
