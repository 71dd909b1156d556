// A plain TypeScript DCE-Net in float64: the slow, obvious arithmetic the ONNX graph must match.
import { LAYER_NAMES, type DceNetWeights, type LayerName } from '../../src/enhance/dcenet.js';
import { f32 } from '../../src/onnx/tensor.js';

export interface Chw { c: number; h: number; w: number; data: Float64Array }

function conv3x3(x: Chw, w: Float32Array, bias: Float32Array, out: number): Chw {
  const { c, h, w: W } = x;
  const y = new Float64Array(out * h * W);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < W; j++) {
        let s = bias[o]!;
        for (let ci = 0; ci < c; ci++) {
          for (let di = -1; di <= 1; di++) {
            const ii = i + di;
            if (ii < 0 || ii >= h) continue;
            for (let dj = -1; dj <= 1; dj++) {
              const jj = j + dj;
              if (jj < 0 || jj >= W) continue;
              s += w[((o * c + ci) * 3 + (di + 1)) * 3 + (dj + 1)]! * x.data[(ci * h + ii) * W + jj]!;
            }
          }
        }
        y[(o * h + i) * W + j] = s;
      }
    }
  }
  return { c: out, h, w: W, data: y };
}

const relu = (x: Chw): Chw => ({ ...x, data: x.data.map((v) => Math.max(0, v)) });
const cat = (a: Chw, b: Chw): Chw => {
  const d = new Float64Array(a.data.length + b.data.length);
  d.set(a.data);
  d.set(b.data, a.data.length);
  return { c: a.c + b.c, h: a.h, w: a.w, data: d };
};

export function referenceForward(weights: DceNetWeights, x: Chw): { curves: Chw; ys: Chw[] } {
  const conv = (v: Chw, l: LayerName): Chw => conv3x3(v, weights[l].weight.data, weights[l].bias.data, weights[l].weight.dims[0]!);
  const x1 = relu(conv(x, 'e_conv1'));
  const x2 = relu(conv(x1, 'e_conv2'));
  const x3 = relu(conv(x2, 'e_conv3'));
  const x4 = relu(conv(x3, 'e_conv4'));
  const x5 = relu(conv(cat(x3, x4), 'e_conv5'));
  const x6 = relu(conv(cat(x2, x5), 'e_conv6'));
  const r = conv(cat(x1, x6), 'e_conv7');
  const curves = { ...r, data: r.data.map(Math.tanh) };
  const n = x.h * x.w;
  const ys: Chw[] = [];
  let y = x.data;
  for (let it = 0; it < 8; it++) {
    const next = new Float64Array(y.length);
    for (let k = 0; k < y.length; k++) {
      const ri = curves.data[it * 3 * n + k]!; // channel (3·it + c) lines up with y's channel c
      next[k] = y[k]! + ri * (y[k]! * y[k]! - y[k]!);
    }
    y = next;
    ys.push({ c: 3, h: x.h, w: x.w, data: y });
  }
  return { curves, ys };
}

/** Small seeded random weights (a linear congruential generator; stable across runs). */
export function randomWeights(seed: number, scale = 0.15): DceNetWeights {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const shapes: Record<LayerName, [number, number]> = {
    e_conv1: [32, 3], e_conv2: [32, 32], e_conv3: [32, 32], e_conv4: [32, 32],
    e_conv5: [32, 64], e_conv6: [32, 64], e_conv7: [24, 64],
  };
  const entries = LAYER_NAMES.map((l) => {
    const [o, i] = shapes[l];
    const w = f32([o, i, 3, 3], Array.from({ length: o * i * 9 }, () => rand() * 2 * scale));
    const b = f32([o], Array.from({ length: o }, () => rand() * 0.2));
    return [l, { weight: w, bias: b }];
  });
  return Object.fromEntries(entries) as DceNetWeights;
}

/** Box average over k×k cells; cells cut by the frame edge average the pixels they cover. */
export function referenceDownscale(x: Chw, k: number): Chw {
  const h = Math.ceil(x.h / k), w = Math.ceil(x.w / k);
  const out = new Float64Array(x.c * h * w);
  for (let c = 0; c < x.c; c++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let s = 0, n = 0;
        for (let ii = i * k; ii < Math.min(x.h, (i + 1) * k); ii++) {
          for (let jj = j * k; jj < Math.min(x.w, (j + 1) * k); jj++) { s += x.data[(c * x.h + ii) * x.w + jj]!; n++; }
        }
        out[(c * h + i) * w + j] = s / n;
      }
    }
  }
  return { c: x.c, h, w, data: out };
}

/** Bilinear resize with half-pixel centres (PyTorch align_corners=False, ONNX 'half_pixel'). */
export function referenceUpsample(x: Chw, H: number, W: number): Chw {
  const out = new Float64Array(x.c * H * W);
  const coord = (o: number, outN: number, inN: number): [number, number, number] => {
    const f = Math.min(Math.max((o + 0.5) * (inN / outN) - 0.5, 0), inN - 1);
    const i0 = Math.floor(f);
    return [i0, Math.min(i0 + 1, inN - 1), f - i0];
  };
  for (let c = 0; c < x.c; c++) {
    for (let i = 0; i < H; i++) {
      const [a0, a1, fa] = coord(i, H, x.h);
      for (let j = 0; j < W; j++) {
        const [b0, b1, fb] = coord(j, W, x.w);
        const v = (r: number, s: number): number => x.data[(c * x.h + r) * x.w + s]!;
        out[(c * H + i) * W + j] = (1 - fa) * ((1 - fb) * v(a0, b0) + fb * v(a0, b1)) + fa * ((1 - fb) * v(a1, b0) + fb * v(a1, b1));
      }
    }
  }
  return { c: x.c, h: H, w: W, data: out };
}

/** The enhancer at curve scale 1/k: network on the box-downscaled frame, curves upsampled. */
export function referenceEnhanceScaled(weights: DceNetWeights, x: Chw, k: number): { curvesSmall: Chw; y: Float64Array } {
  const { curves } = referenceForward(weights, referenceDownscale(x, k));
  const r = k === 1 ? curves : referenceUpsample(curves, x.h, x.w);
  let y = x.data;
  const n = x.h * x.w;
  for (let it = 0; it < 8; it++) {
    y = y.map((v, idx) => v + r.data[it * 3 * n + idx]! * (v * v - v));
  }
  return { curvesSmall: curves, y };
}
