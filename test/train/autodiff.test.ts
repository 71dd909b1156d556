// Every op's vector-Jacobian product against central finite differences.
import { describe, expect, it } from 'vitest';
import { Tape } from '../../src/train/autodiff/tape.js';
import { broadcast, broadcastAxes, windowOut } from '../../src/train/autodiff/shape.js';
import { checkGradients, seeded } from './gradcheck.js';

describe('static shapes', () => {
  it('broadcasts like NumPy and finds the broadcast axes', () => {
    expect(broadcast([2, 1, 4], [3, 1])).toEqual([2, 3, 4]);
    expect(() => broadcast([2, 3], [4])).toThrow(/cannot broadcast/);
    expect(broadcastAxes([3, 1], [2, 3, 4])).toEqual([0, 2]);
    expect(broadcastAxes([], [2, 3])).toEqual([0, 1]);
  });

  it('computes window sizes with padding, dilation and ceil mode', () => {
    expect(windowOut(8, 3, 1, 1, 1)).toBe(8);
    expect(windowOut(9, 3, 2, 0, 0, 1, false)).toBe(4);
    expect(windowOut(10, 3, 2, 0, 0, 1, true)).toBe(5); // SqueezeNet's ceil-mode max pools
    expect(windowOut(7, 3, 1, 2, 2, 2)).toBe(7);
  });

  it('names the op and shapes when a graph is malformed', () => {
    const t = new Tape();
    const a = t.input('a', [2, 3]);
    const b = t.input('b', [4]);
    expect(() => t.add(a, b)).toThrow(/Add on \[2,3\], \[4\]: cannot broadcast/);
    expect(() => t.matmul(a, t.input('c', [4, 2]))).toThrow(/inner dimensions 3 and 4/);
  });
});

describe('gradients against finite differences (float64)', () => {
  const binary = [
    ['Add', (t: Tape, a: string, b: string) => t.add(a, b)],
    ['Sub', (t: Tape, a: string, b: string) => t.sub(a, b)],
    ['Mul', (t: Tape, a: string, b: string) => t.mul(a, b)],
    ['Div', (t: Tape, a: string, b: string) => t.div(a, b)],
    ['Max', (t: Tape, a: string, b: string) => t.maximum(a, b)],
  ] as const;
  for (const [name, f] of binary) {
    it(`${name} with broadcasting`, async () => {
      await checkGradients([{ shape: [2, 3, 4] }, { shape: [3, 1] }], (t, [a, b]) => f(t, a!, b!));
      await checkGradients([{ shape: [] }, { shape: [2, 2] }], (t, [a, b]) => f(t, a!, b!));
    });
  }

  const unary = [
    ['Neg', (t: Tape, x: string) => t.neg(x)],
    ['Relu', (t: Tape, x: string) => t.relu(x)],
    ['Tanh', (t: Tape, x: string) => t.tanh(x)],
    ['Sigmoid', (t: Tape, x: string) => t.sigmoid(x)],
    ['Softplus', (t: Tape, x: string) => t.softplus(x)],
    ['Abs', (t: Tape, x: string) => t.abs(x)],
    ['Exp', (t: Tape, x: string) => t.exp(x)],
    ['Pow 3', (t: Tape, x: string) => t.pow(x, 3)],
    ['Sqrt', (t: Tape, x: string) => t.sqrt(t.abs(x))],
    ['Log', (t: Tape, x: string) => t.log(t.abs(x))],
  ] as const;
  for (const [name, f] of unary) {
    it(name, async () => {
      await checkGradients([{ shape: [3, 5] }], (t, [x]) => f(t, x!));
    });
  }

  it('Where (a hinge) routes the gradient by the condition', async () => {
    await checkGradients([{ shape: [4, 3] }, { shape: [4, 3] }], (t, [a, b]) => t.where(t.greater(a!, b!), a!, t.mul(b!, b!)));
  });

  it('ReduceSum and ReduceMean, with and without keepdims', async () => {
    await checkGradients([{ shape: [2, 3, 4] }], (t, [x]) => t.reduceSum(x!, [1], true));
    await checkGradients([{ shape: [2, 3, 4] }], (t, [x]) => t.reduceMean(x!, [0, 2]));
    await checkGradients([{ shape: [2, 3, 4] }], (t, [x]) => t.mean(t.square(x!)));
  });

  it('MatMul, batched and broadcast (Gram matrices)', async () => {
    await checkGradients([{ shape: [2, 3, 4] }, { shape: [4, 5] }], (t, [a, b]) => t.matmul(a!, b!));
    // G = F·Fᵀ, the Gram matrix of the PIE contrastive loss.
    await checkGradients([{ shape: [2, 3, 6] }], (t, [f]) => t.matmul(f!, t.transpose(f!, [0, 2, 1])));
  });

  it('Transpose, Reshape, Expand, Concat, Split, Slice', async () => {
    await checkGradients([{ shape: [2, 3, 4] }], (t, [x]) => t.transpose(x!, [2, 0, 1]));
    await checkGradients([{ shape: [2, 3, 4] }], (t, [x]) => t.reshape(x!, [6, -1]));
    await checkGradients([{ shape: [3, 1] }], (t, [x]) => t.expand(x!, [2, 3, 4]));
    await checkGradients([{ shape: [2, 3] }, { shape: [2, 2] }], (t, [a, b]) => t.concat([a!, t.tanh(b!)], 1));
    await checkGradients([{ shape: [2, 5] }], (t, [x]) => {
      const [p, q] = t.split(x!, 1, [2, 3]);
      return t.mul(p!, t.slice(q!, [1], [3], [1]));
    });
    await checkGradients([{ shape: [4, 6] }], (t, [x]) => t.slice(x!, [1, -4], [3, 5], [0, 1]));
  });

  it('Gather, GatherElements and ScatterElements (region pooling)', async () => {
    // Segment means: sum pixels per label with a scatter-add, divide by counts, gather back.
    const labels = [0, 2, 1, 1, 0, 2, 2, 1];
    await checkGradients([{ shape: [8] }], (t, [y]) => {
      const idx = t.constant({ type: 'int64', dims: [8], data: BigInt64Array.from(labels.map(BigInt)) });
      const sums = t.scatterAdd(t.zeros([3]), idx, y!);
      const means = t.div(sums, t.tensor([3], [2, 3, 3]));
      return t.sum(t.square(t.sub(y!, t.gather(means, idx))));
    });
    await checkGradients([{ shape: [3, 4] }], (t, [x]) => {
      const idx = t.constant({ type: 'int64', dims: [2, 4], data: BigInt64Array.from([0, 2, 1, 0, 2, 2, 0, 1].map(BigInt)) });
      return t.gatherElements(x!, idx, 0);
    });
  });

  it('MaxPool, overlapping windows in ceil mode (SqueezeNet)', async () => {
    // Distinct values so no window has a tie.
    const data = seeded(2 * 3 * 9 * 10, 5).map((v, i) => v + i * 1e-3);
    await checkGradients([{ shape: [2, 3, 9, 10], data }], (t, [x]) => t.maxPool(x!, { kernel: [3, 3], strides: [2, 2], ceil: true }), { samples: 30 });
  });
});

describe('gradients against finite differences (float32, linear ops: differences are exact)', () => {
  const f32 = { dtype: 'float32' as const, eps: 0.5, atol: 2e-4, rtol: 2e-4 };
  it('Conv: input, weight and bias, with padding, stride and dilation', async () => {
    for (const o of [{ pads: [1, 1, 1, 1] }, { pads: [1, 0, 2, 1], strides: [2, 2] }, { pads: [2, 2, 2, 2], dilations: [2, 2] }, { strides: [2, 3] }]) {
      await checkGradients([{ shape: [2, 3, 7, 8] }, { shape: [4, 3, 3, 3] }, { shape: [4] }], (t, [x, w, b]) => t.conv(x!, w!, b!, o), { ...f32, samples: 10 });
    }
  });

  it('Conv input gradient with groups (depthwise)', async () => {
    await checkGradients([{ shape: [1, 4, 6, 6] }, { shape: [4, 1, 3, 3], grad: false }], (t, [x, w]) => t.conv(x!, w!, undefined, { pads: [1, 1, 1, 1], group: 4 }), f32);
  });

  it('AveragePool', async () => {
    await checkGradients([{ shape: [2, 3, 8, 9] }], (t, [x]) => t.avgPool(x!, { kernel: [2, 2] }), { ...f32, samples: 20 });
    await checkGradients([{ shape: [1, 2, 9, 9] }], (t, [x]) => t.avgPool(x!, { kernel: [3, 3], strides: [2, 2] }), { ...f32, samples: 20 });
  });
});

describe('grad()', () => {
  it('accumulates a value used twice and gives zeros to an unreached parameter', async () => {
    const r = await checkGradients([{ shape: [3] }, { shape: [2] }], (t, [x]) => t.sum(t.mul(t.tanh(x!), t.exp(x!))));
    expect(r.checked).toBe(5);
  });
});
