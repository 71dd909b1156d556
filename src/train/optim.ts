// The optimiser inside the training graph: gradient clipping by global norm, then Adam with L2
// weight decay exactly as PyTorch's torch.optim.Adam and clip_grad_norm_ define them.
import type { Tape } from './autodiff/tape.js';

export interface AdamConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly weightDecay: number;
  /** Max global gradient norm (PIE: 0.1); 0 = no clipping. */
  readonly clipNorm: number;
}

export const PIE_ADAM: AdamConfig = { beta1: 0.9, beta2: 0.999, weightDecay: 1e-4, clipNorm: 0.1 };

/**
 * PyTorch's bias-corrected step, lr·m̂/(√v̂ + ε), rewritten as lrT·m/(√v + epsT) with
 * lrT = lr·√(1−β2ᵗ)/(1−β1ᵗ) and epsT = ε·√(1−β2ᵗ): the host feeds two scalars per step instead of
 * the graph computing powers of t.
 */
export function adamScalars(lr: number, step: number, c: AdamConfig, eps = 1e-8): { lrT: number; epsT: number } {
  const bc2 = Math.sqrt(1 - c.beta2 ** step);
  return { lrT: (lr * bc2) / (1 - c.beta1 ** step), epsT: eps * bc2 };
}

export interface AdamValues { readonly param: string; readonly grad: string; readonly m: string; readonly v: string }
export interface AdamUpdate { readonly param: string; readonly m: string; readonly v: string }

/** Emits the update of every parameter; returns new param/m/v values and the pre-clip norm. */
export function adamUpdate(t: Tape, items: readonly AdamValues[], lrT: string, epsT: string, c: AdamConfig): { updates: AdamUpdate[]; gradNorm: string } {
  const s = (v: number): string => t.scalar(v);
  let sq: string | undefined;
  for (const it of items) {
    const n = t.sum(t.square(it.grad));
    sq = sq ? t.add(sq, n) : n;
  }
  const norm = t.sqrt(sq!);
  let coef: string | undefined;
  if (c.clipNorm > 0) {
    // clip_grad_norm_: coef = min(1, max_norm / (norm + 1e-6))
    const raw = t.div(s(c.clipNorm), t.add(norm, s(1e-6)));
    coef = t.where(t.greater(raw, s(1)), s(1), raw);
  }
  const updates = items.map((it) => {
    let g = coef ? t.mul(it.grad, coef) : it.grad;
    if (c.weightDecay) g = t.add(g, t.mul(it.param, s(c.weightDecay)));
    const m = t.add(t.mul(it.m, s(c.beta1)), t.mul(g, s(1 - c.beta1)));
    const v = t.add(t.mul(it.v, s(c.beta2)), t.mul(t.square(g), s(1 - c.beta2)));
    const param = t.sub(it.param, t.div(t.mul(m, lrT), t.add(t.sqrt(v), epsT)));
    return { param, m, v };
  });
  return { updates, gradNorm: norm };
}
