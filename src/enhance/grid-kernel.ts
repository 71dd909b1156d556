// The full-resolution passes of the 'grid' curve application, as two fused loops over the 8-bit
// frame. ONNX Runtime's CPU kernels make every op one pass over the frame (about 40 float passes
// for the exact form, memory-bound); here the frame is read once to measure it and once to apply
// the tone, and everything else runs at 1/k in the graph (tone-grid.ts). Pure functions, no IO;
// the enhancer calls them inside its worker, so they never run on the main thread.
import { LUMA_WEIGHTS } from './tone.js';

/** Stride of the sample the exposure is metered and the gamma fitted on (tone.ts SAMPLE_STEP). */
export const GRID_SAMPLE_STEP = 4;

/** What the graph needs of a full-resolution frame. */
export interface FrameMeasure {
  /** [3,h,w] planar, [0,1]: the k×k box mean (edge windows average what they cover). */
  readonly small: Float32Array;
  /** [3,hs,ws] planar, [0,1]: the pixels at (GRID_SAMPLE_STEP·i, GRID_SAMPLE_STEP·j). */
  readonly sample: Float32Array;
  /** Immerkær's noise σ of the luma, [0,1] units, on every other pixel each way (tone.ts addNoiseSigma). */
  readonly sigma: number;
}

export const smallSize = (n: number, k: number): number => Math.ceil(n / k);
export const sampleSize = (n: number): number => Math.ceil(n / GRID_SAMPLE_STEP);

const [WR, WG, WB] = LUMA_WEIGHTS;
const IMMERKAER = Math.sqrt(Math.PI / 2) / 6;

/**
 * One pass over a packed RGB frame: its box downscale by k, its stride-4 sample and its noise σ
 * (the same quantities the exact graph computes from the float frame). `data` is one frame.
 */
export function measureFrame(data: Uint8Array, width: number, height: number, k: number): FrameMeasure {
  const w = smallSize(width, k), h = smallSize(height, k);
  const ws = sampleSize(width), hs = sampleSize(height);
  const sums = new Float64Array(3 * w * h);
  const sample = new Float32Array(3 * ws * hs);
  const cellOf = new Int32Array(width);
  for (let x = 0; x < width; x++) cellOf[x] = (x / k) | 0;
  // Three rows of luma for the 3×3 kernel, in byte units.
  const rows = [new Float32Array(width), new Float32Array(width), new Float32Array(width)];
  let abs = 0, count = 0;
  const plane = w * h, splane = ws * hs;
  for (let y = 0; y < height; y++) {
    const base = (((y / k) | 0) * w);
    const luma = rows[y % 3]!;
    let p = y * width * 3;
    for (let x = 0; x < width; x++, p += 3) {
      const r = data[p]!, g = data[p + 1]!, b = data[p + 2]!;
      const c = base + cellOf[x]!;
      sums[c] = sums[c]! + r; sums[plane + c] = sums[plane + c]! + g; sums[2 * plane + c] = sums[2 * plane + c]! + b;
      luma[x] = WR * r + WG * g + WB * b;
    }
    if (y % GRID_SAMPLE_STEP === 0) {
      const sy = y / GRID_SAMPLE_STEP;
      for (let sx = 0, q = y * width * 3; sx < ws; sx++, q += 3 * GRID_SAMPLE_STEP) {
        const o = sy * ws + sx;
        sample[o] = data[q]! / 255; sample[splane + o] = data[q + 1]! / 255; sample[2 * splane + o] = data[q + 2]! / 255;
      }
    }
    // The kernel's window is rows y−2..y with its top on an even row (stride 2, no padding).
    if (y >= 2 && y % 2 === 0) {
      const a = rows[(y - 2) % 3]!, m = rows[(y - 1) % 3]!, c = luma;
      for (let x = 0; x + 2 < width; x += 2) {
        const r = a[x]! - 2 * a[x + 1]! + a[x + 2]! - 2 * (m[x]! - 2 * m[x + 1]! + m[x + 2]!) + c[x]! - 2 * c[x + 1]! + c[x + 2]!;
        abs += r < 0 ? -r : r;
        count++;
      }
    }
  }
  const small = new Float32Array(3 * plane);
  for (let cy = 0; cy < h; cy++) {
    const ny = Math.min(k, height - cy * k);
    for (let cx = 0; cx < w; cx++) {
      const n = ny * Math.min(k, width - cx * k) * 255;
      const c = cy * w + cx;
      small[c] = sums[c]! / n; small[plane + c] = sums[plane + c]! / n; small[2 * plane + c] = sums[2 * plane + c]! / n;
    }
  }
  return { small, sample, sigma: count ? (abs / count / 255) * IMMERKAER : 0 };
}

/**
 * Where a full-resolution coordinate falls between two low-resolution cells, as ONNX Resize
 * 'linear' with 'half_pixel' places it (what the exact form upsamples the maps with): the lower
 * cell, the upper one and the upper one's weight, per coordinate.
 */
export function halfPixelAxis(full: number, small: number): { lo: Int32Array; hi: Int32Array; f: Float32Array } {
  const lo = new Int32Array(full), hi = new Int32Array(full), f = new Float32Array(full);
  const scale = full / small;
  for (let i = 0; i < full; i++) {
    const s = Math.min(Math.max((i + 0.5) / scale - 0.5, 0), small - 1);
    const l = Math.floor(s);
    lo[i] = l; hi[i] = Math.min(l + 1, small - 1); f[i] = s - l;
  }
  return { lo, hi, f };
}

/**
 * Tone levels the table is sampled at: denser near black, where the exposure's gamma makes the
 * curve steepest, as (j/(K−1))² for j = 0…K−1.
 */
export function gridLevels(k: number): Float32Array {
  return Float32Array.from({ length: k }, (_, j) => (j / (k - 1)) ** 2);
}

/** Per input byte v: the table interval it falls in and its position inside it. */
function levelLookup(levels: Float32Array): { idx: Int32Array; frac: Float32Array } {
  const k = levels.length, idx = new Int32Array(256), frac = new Float32Array(256);
  let j = 0;
  for (let v = 0; v < 256; v++) {
    const t = v / 255;
    while (j < k - 2 && levels[j + 1]! <= t) j++;
    idx[v] = j; frac[v] = (t - levels[j]!) / (levels[j + 1]! - levels[j]!);
  }
  return { idx, frac };
}

/** Per-byte constants of the application (all pure functions of the input V). */
export interface GridConstants {
  readonly levels: number;
  readonly idx: Int32Array;
  readonly frac: Float32Array;
  /** 1 − keep·√(1 − v): the highest output V a pixel may reach (tone.ts HIGHLIGHT_KEEP). */
  readonly head: Float32Array;
  /** 1/max(v, eps). */
  readonly inv: Float32Array;
  /** The chroma gain's fade near black, clip(v/darkChroma, 0, 1); all 1 without the fade. */
  readonly fade: Float32Array;
}

export function gridConstants(levels: Float32Array, o: { highlightKeep: number; epsV: number; darkChroma: number | undefined }): GridConstants {
  const { idx, frac } = levelLookup(levels);
  const head = new Float32Array(256), inv = new Float32Array(256), fade = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    const t = v / 255;
    head[v] = 1 - o.highlightKeep * Math.sqrt(1 - t);
    inv[v] = 1 / Math.max(t, o.epsV);
    fade[v] = o.darkChroma === undefined ? 1 : Math.min(1, t / o.darkChroma);
  }
  return { levels: levels.length, idx, frac, head, inv, fade };
}

export interface GridFrame {
  /** [h,w,K]: the tone curve of each cell, the output V at each level (curves, strength and gamma composed). */
  readonly table: Float32Array;
  /** [h,w]: the local-SNR weight of the gain, 0–1 (tone.ts SNR_FLOOR/SNR_FULL; all 1 without noiseAwareGain). */
  readonly signal: Float32Array;
  readonly h: number;
  readonly w: number;
  /** The camera is in monochrome (IR) mode: every channel gets luma·gain, exactly grey. */
  readonly mono: boolean;
}

/**
 * Applies one frame's tone: per pixel, V = max(R,G,B), the output V read from the four nearest
 * cells' curves at V and blended bilinearly, the headroom and gain caps, the SNR weight, then
 * the value form's colour rule (tone.ts addChromaGain) and rounding to bytes. Writes `out`.
 */
export function applyGrid(data: Uint8Array, out: Uint8Array, width: number, height: number, g: GridFrame, c: GridConstants, maxGain: number, saturation: number): void {
  const { table, signal, h, w } = g;
  const K = c.levels;
  const cols = halfPixelAxis(width, w), rowsAx = halfPixelAxis(height, h);
  const colLo = new Int32Array(width), colHi = new Int32Array(width), colF = cols.f, sLo = cols.lo, sHi = cols.hi;
  for (let x = 0; x < width; x++) { colLo[x] = sLo[x]! * K; colHi[x] = sHi[x]! * K; }
  const { idx, frac, head, inv, fade } = c;
  const colour = g.mono ? 0 : 1;
  const sat4 = saturation === 0.25;
  // A clamped view rounds half to even and saturates on store, as QuantizeLinear does.
  const o = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  // The two cell rows a pixel row lies between, blended once per row: per pixel, two cells remain.
  const rowT = new Float32Array(w * K), rowS = new Float32Array(w);
  const runs = [0];
  for (let x = 1; x < width; x++) if (sLo[x] !== sLo[x - 1] || sHi[x] !== sHi[x - 1]) runs.push(x);
  runs.push(width);
  for (let y = 0; y < height; y++) {
    const fy = rowsAx.f[y]!, gy = 1 - fy;
    const a0 = rowsAx.lo[y]! * w * K, a1 = rowsAx.hi[y]! * w * K;
    for (let i = 0; i < w * K; i++) rowT[i] = gy * table[a0 + i]! + fy * table[a1 + i]!;
    const s0 = rowsAx.lo[y]! * w, s1 = rowsAx.hi[y]! * w;
    for (let i = 0; i < w; i++) rowS[i] = gy * signal[s0 + i]! + fy * signal[s1 + i]!;
    let p = y * width * 3;
    // Runs of pixels between the same two cell columns: their table rows and SNR weights hoisted.
    for (let r = 0; r < runs.length - 1; r++) {
      const qLo = colLo[runs[r]!]!, qHi = colHi[runs[r]!]!;
      const sl = rowS[sLo[runs[r]!]!]!, sd = rowS[sHi[runs[r]!]!]! - sl;
      for (let x = runs[r]!, end = runs[r + 1]!; x < end; x++, p += 3) {
        const R = data[p]!, G = data[p + 1]!, B = data[p + 2]!;
        const v = R > G ? (R > B ? R : B) : (G > B ? G : B);
        const fx = colF[x]!, j = idx[v]!, t = frac[v]!;
        let q = qLo + j;
        const lo = rowT[q]! + t * (rowT[q + 1]! - rowT[q]!);
        q = qHi + j;
        const hi = rowT[q]! + t * (rowT[q + 1]! - rowT[q]!);
        let v2 = lo + fx * (hi - lo);
        const top = head[v]!;
        if (v2 > top) v2 = top;
        let gain = v2 * inv[v]!;
        if (gain > maxGain) gain = maxGain;
        gain = 1 + (gain - 1) * (sl + fx * sd);
        const cg = sat4 ? Math.sqrt(Math.sqrt(gain)) : gain ** saturation;
        const a = (1 + (cg - 1) * fade[v]!) * colour;
        const l = (WR * R + WG * G + WB * B) * (gain - a);
        o[p] = R * a + l;
        o[p + 1] = G * a + l;
        o[p + 2] = B * a + l;
      }
    }
  }
}
