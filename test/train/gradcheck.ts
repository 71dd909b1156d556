// Finite-difference checking of tape gradients: the analytical gradient (one ORT run of the
// backward graph) against central differences of the forward graph, both run by ONNX Runtime.
import { expect } from 'vitest';
import { openSession, ort } from '../../src/enhance/session.js';
import { Tape, type FloatType } from '../../src/train/autodiff/tape.js';
import { numel, type Shape } from '../../src/train/autodiff/shape.js';

export interface GradInput {
  readonly shape: Shape;
  /** Values; default: seeded uniform in ±1 kept away from 0 (so kinks are not straddled). */
  readonly data?: ArrayLike<number>;
  /** Checked for gradient (default true); false = a constant input. */
  readonly grad?: boolean;
}

export function seeded(n: number, seed: number, lo = -1, hi = 1, avoidZero = 0.1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  while (out.length < n) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = lo + (hi - lo) * (s / 2 ** 32);
    if (Math.abs(v) >= avoidZero) out.push(v);
  }
  return out;
}

export interface CheckOptions {
  dtype?: FloatType;
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Coordinates sampled per input. */
  samples?: number;
}

/**
 * Builds f with the inputs as parameters; a non-scalar f is reduced as Σ f·R for a fixed random
 * R so every output element matters. Asserts every sampled coordinate's gradient.
 */
export async function checkGradients(
  inputs: readonly GradInput[],
  f: (t: Tape, xs: string[]) => string,
  o: CheckOptions = {},
): Promise<{ worst: number; checked: number }> {
  const dtype = o.dtype ?? 'float64';
  const eps = o.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const t = new Tape(dtype);
  const xs = inputs.map((inp, i) => (inp.grad === false ? t.input(`x${i}`, inp.shape) : t.param(`x${i}`, inp.shape)));
  let out = f(t, xs);
  if (numel(t.shape(out)) !== 1) out = t.sum(t.mul(out, t.tensor(t.shape(out), seeded(numel(t.shape(out)), 99))));
  const wrt = xs.filter((_, i) => inputs[i]!.grad !== false);
  const grads = t.grad(out, wrt);
  t.b.output(out, dtype, undefined, 'loss');
  grads.forEach((g, i) => t.b.output(g, dtype, undefined, `grad${i}`));
  const { session } = await openSession(t.b.toBytes({ opset: 18 }), 'cpu', { threads: 1 });

  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const values = inputs.map((inp, i) => Arr.from(inp.data ?? seeded(numel(inp.shape), 17 + i * 31)));
  const run = async (vals: ArrayLike<number>[], names: string[]) => {
    const feeds: Record<string, ort.Tensor> = {};
    vals.forEach((v, i) => { feeds[`x${i}`] = new ort.Tensor(dtype, Arr.from(v), [...inputs[i]!.shape]); });
    return session.run(feeds, names);
  };
  const gradNames = grads.map((_, i) => `grad${i}`);
  const analytic = await run(values, gradNames);
  let worst = 0;
  let checked = 0;
  let gi = 0;
  for (let i = 0; i < inputs.length; i++) {
    if (inputs[i]!.grad === false) continue;
    const g = analytic[`grad${gi++}`]!.data as Float64Array | Float32Array;
    const n = numel(inputs[i]!.shape);
    const picks = n <= (o.samples ?? 12) ? [...Array(n).keys()] : seeded(o.samples ?? 12, 7 + i, 0, n, 0).map(Math.floor);
    for (const k of picks) {
      const plus = values.map((v) => Arr.from(v)), minus = values.map((v) => Arr.from(v));
      plus[i]![k] = plus[i]![k]! + eps;
      minus[i]![k] = minus[i]![k]! - eps;
      const lp = (await run(plus, ['loss'])).loss!.data[0] as number;
      const lm = (await run(minus, ['loss'])).loss!.data[0] as number;
      const fd = (lp - lm) / (2 * eps);
      const err = Math.abs(g[k]! - fd);
      worst = Math.max(worst, err / (1 + Math.abs(fd)));
      checked++;
      expect(err, `input ${i} element ${k}: analytic ${g[k]} vs finite difference ${fd}`).toBeLessThanOrEqual((o.atol ?? 1e-6) + (o.rtol ?? 1e-5) * Math.abs(fd));
    }
  }
  await session.release();
  return { worst, checked };
}
