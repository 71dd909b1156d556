// A camera's noise, measured from its own frames: the photon-transfer curve σ²(μ) = gain·μ + read²
// in linear light ([0,1] = full scale). For a sensor of full well FW electrons and read noise ρ e⁻,
// gain = 1/FW and read² = (ρ/FW)²; the curve tells the temporal filter (graph.ts) what a
// difference of one σ is at each brightness, so a moving pixel can be told from a noisy one.
// Pure: plain arrays in, numbers out. Pixels are read on a strided grid, so the cost per frame is
// a small fraction of a frame and the per-pixel work stays in the graph.
import type { RgbImage } from '../image/types.js';
import { srgbByteToLinear } from '../eval/synthetic-night.js';

export interface NoiseParams {
  /** Shot-noise slope: variance per unit of linear signal (1 / full well). */
  readonly gain: number;
  /** Read-noise variance floor, in linear light squared ((read e⁻ / full well)²). */
  readonly read2: number;
}

/** Linear light of an sRGB code (fractional codes allowed). */
const codeToLinear = (c: number): number => {
  const v = Math.min(Math.max(c / 255, 0), 1);
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
};
/** One 8-bit code's step in linear light at code c. */
const codeStep = (c: number): number => codeToLinear(c + 0.5) - codeToLinear(c - 0.5);

/**
 * The noise of coding itself, as a photon-transfer line: `codes` 8-bit sRGB codes of spread at
 * every brightness. A codec (H.264 near black: whole blocks stepping by a code or two between
 * frames) and 8-bit quantisation make that much frame-to-frame change on a still scene even where
 * a sensor's noise was coded away, and a camera's noise fit (made on the same coded frames) then
 * reads near zero. The step² of one code in linear light grows about as μ^1.2; the line runs
 * through it at black and at mid-grey (μ 0.5), and lies within 2× of it in between.
 */
export function quantisationNoise(codes: number): NoiseParams {
  const black = codeStep(0.5) ** 2, mid = codeStep(255 * 0.7354) ** 2; // sRGB 0.7354 = linear 0.5
  return { gain: codes * codes * ((mid - black) / 0.5), read2: codes * codes * black };
}

/** The larger of two noise models, term by term. */
export const atLeast = (p: NoiseParams, floor: NoiseParams): NoiseParams => ({ gain: Math.max(p.gain, floor.gain), read2: Math.max(p.read2, floor.read2) });

/** σ² at linear brightness μ. */
export const noiseVariance = (p: NoiseParams, mu: number): number => p.gain * Math.max(mu, 0) + p.read2;

/** The sensor figures a NoiseParams stands for (for /api and logs). */
export function sensorFigures(p: NoiseParams): { fullWell: number; readNoise: number } {
  return { fullWell: p.gain > 0 ? 1 / p.gain : Infinity, readNoise: p.gain > 0 ? Math.sqrt(p.read2) / p.gain : 0 };
}

const LINEAR = Float32Array.from({ length: 256 }, (_, i) => srgbByteToLinear(i));

/** Brightness bins, uniform in √μ: dense where dark frames live, and shot noise is flat in √μ. */
const BINS = 24;
const binOf = (mu: number): number => Math.min(BINS - 1, Math.max(0, Math.floor(Math.sqrt(Math.max(mu, 0)) * BINS)));
/** A bin needs this many samples to count. */
const MIN_SAMPLES = 64;
/** Trimming at ±3σ keeps 99.73% of a Gaussian and 97.33% of its variance. */
const TRIM = 3, TRIM_VARIANCE = 0.9733;
/**
 * Bins whose mean is under this many σ are left out while others exist: negative electrons are
 * clipped to black, so their spread is too small. Bins above this brightness are left out as near
 * saturation.
 */
const CLIP_SIGMAS = 2, SATURATED = 0.9;

/** Per-bin noise variance: the mean brightness, the variance of zero-mean noise samples, how many. */
export interface BinStats { readonly mu: number; readonly variance: number; readonly count: number }

/**
 * Robust variance per brightness bin of zero-mean noise samples `r` (σ² of the noise at `mu`):
 * start from the median absolute value (immune to moving pixels and edges), then the variance of
 * the samples within ±3σ, twice, corrected for the trim.
 */
export function binnedVariance(mu: Float32Array, r: Float32Array, n: number): BinStats[] {
  const counts = new Int32Array(BINS);
  for (let i = 0; i < n; i++) counts[binOf(mu[i]!)]!++;
  const starts = new Int32Array(BINS + 1);
  for (let b = 0; b < BINS; b++) starts[b + 1] = starts[b]! + counts[b]!;
  const fill = starts.slice(0, BINS);
  const rs = new Float32Array(n), ms = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = binOf(mu[i]!), at = fill[b]!++;
    rs[at] = r[i]!; ms[at] = mu[i]!;
  }
  const out: BinStats[] = [];
  for (let b = 0; b < BINS; b++) {
    const lo = starts[b]!, hi = starts[b + 1]!;
    if (hi - lo < MIN_SAMPLES) continue;
    const abs = Float32Array.from(rs.subarray(lo, hi), Math.abs).sort();
    let rms = 0;
    for (let i = lo; i < hi; i++) rms += rs[i]! * rs[i]!;
    rms = Math.sqrt(rms / (hi - lo));
    // Black-clipped bins are mostly exact zeros (both shots clipped): the median then says
    // nothing, and half the RMS keeps the gate open.
    let sigma = Math.max(1.4826 * abs[abs.length >> 1]!, 0.5 * rms, 1e-6);
    let variance = sigma * sigma, muSum = 0, kept = 0;
    for (let it = 0; it < 2; it++) {
      const gate = TRIM * Math.sqrt(variance);
      let s2 = 0;
      kept = 0; muSum = 0;
      for (let i = lo; i < hi; i++) {
        const v = rs[i]!;
        if (Math.abs(v) <= gate) { s2 += v * v; kept++; muSum += ms[i]!; }
      }
      if (kept === 0) break;
      variance = s2 / kept / TRIM_VARIANCE;
    }
    if (kept >= MIN_SAMPLES) out.push({ mu: muSum / kept, variance, count: kept });
  }
  return out;
}

const phi = (t: number): number => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
/** Φ by the Abramowitz–Stegun 7.1.26 erf (error < 1.5e-7). */
export function normalCdf(t: number): number {
  const x = Math.abs(t) / Math.SQRT2, k = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * k - 1.453152027) * k + 1.421413741) * k - 0.284496736) * k + 0.254829592) * k * Math.exp(-x * x);
  return t >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
/** Mean and variance of max(0, t + z), z ~ N(0,1): a shot of light tσ clipped at black, in units of σ. */
function clippedMoments(t: number): { mean: number; variance: number } {
  const P = normalCdf(t), p = phi(t), mean = t * P + p;
  return { mean, variance: (t * t + 1) * P + t * p - mean * mean };
}

/**
 * A bin's light and noise before black clipping, from its clipped mean and variance: variance/mean²
 * falls monotonically with t = light/σ, so bisection finds t, then σ = mean/g(t). Bins of light
 * below −1σ (nearly all clipped) say too little and are dropped; above 4σ nothing is clipped.
 */
function unclipBin(b: BinStats): BinStats | undefined {
  const ratio = b.variance / (b.mu * b.mu);
  if (clippedMoments(4).variance / clippedMoments(4).mean ** 2 >= ratio) return b;
  const atLow = clippedMoments(-1);
  if (ratio >= atLow.variance / atLow.mean ** 2) return undefined;
  let lo = -1, hi = 4;
  for (let k = 0; k < 50; k++) {
    const mid = (lo + hi) / 2, m = clippedMoments(mid);
    if (m.variance / (m.mean * m.mean) > ratio) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2, sigma = b.mu / clippedMoments(t).mean;
  return { mu: Math.max(0, t * sigma), variance: sigma * sigma, count: b.count };
}

/**
 * Weighted least squares of variance = gain·μ + read² over the bins, with weights count/σ⁴ (the
 * variance of a variance estimate), clipped bins left out; both terms kept ≥ 0.
 */
export function fitNoise(bins: readonly BinStats[], prior?: NoiseParams): NoiseParams | undefined {
  const valid = bins.filter((b) => b.variance > 0 && b.mu < SATURATED && b.count > 0);
  let use = valid.filter((b) => b.mu > CLIP_SIGMAS * Math.sqrt(b.variance));
  // A very dark scene has no bin clear of black: then the bins' clipped mean and spread are
  // turned back into light and σ (unclipBin). That is biased — a bin of noisy means mixes pixels of
  // different light — and read high by ~1.7× on synthetic full well 100, so only as a fallback.
  if (use.length < 2) use = valid.map(unclipBin).filter((b): b is BinStats => b !== undefined);
  if (use.length === 0) return prior;
  let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const b of use) {
    const w = b.count / (b.variance * b.variance);
    sw += w; sx += w * b.mu; sy += w * b.variance; sxx += w * b.mu * b.mu; sxy += w * b.mu * b.variance;
  }
  const det = sw * sxx - sx * sx;
  let gain = use.length > 1 && det > 0 ? (sw * sxy - sx * sy) / det : 0;
  let read2 = use.length > 1 && det > 0 ? (sy - gain * sx) / sw : sy / sw;
  if (read2 < 0) { read2 = 0; gain = sxy / sxx; }
  if (gain < 0) { gain = 0; read2 = sy / sw; }
  return { gain, read2 };
}

/**
 * About this many samples per estimate: over a thousand per bin, and a few ms of JavaScript per
 * measured frame at any resolution (the grid step grows with the frame).
 */
const TARGET_SAMPLES = 32_768;
const strideFor = (w: number, h: number): number => Math.max(1, Math.round(Math.sqrt((w * h * 3) / TARGET_SAMPLES)));

/** Linear light of a frame's pixels on the sampling grid (all three channels), with the frame's size. */
interface GridSample { readonly width: number; readonly height: number; readonly values: Float32Array }

function gridSample(img: RgbImage): GridSample {
  const { width: w, height: h } = img;
  const step = strideFor(w, h);
  const values = new Float32Array(Math.ceil(w / step) * Math.ceil(h / step) * 3);
  let n = 0;
  for (let y = 0; y < h; y += step) {
    for (let x = 0; x < w; x += step) {
      const i = (y * w + x) * 3;
      values[n++] = LINEAR[img.data[i]!]!; values[n++] = LINEAR[img.data[i + 1]!]!; values[n++] = LINEAR[img.data[i + 2]!]!;
    }
  }
  return { width: w, height: h, values };
}

/**
 * Noise samples of a frame pair: r = (b − a)/√2 per channel (var(r) = σ² where a and b are two
 * shots of the same light), at the pair's mean brightness. Static pixels give the noise; moving
 * ones are outliers that the trim removes.
 */
function pairSamples(a: GridSample, b: GridSample): { mu: Float32Array; r: Float32Array; n: number } {
  const n = a.values.length, mu = new Float32Array(n), r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const va = a.values[i]!, vb = b.values[i]!;
    mu[i] = 0.5 * (va + vb); r[i] = (vb - va) * Math.SQRT1_2;
  }
  return { mu, r, n };
}

/**
 * Noise samples of one still (Immerkær's operator, src/detect/smooth.ts, applied per channel in
 * linear light): the difference of two Laplacians cancels shading up to second order and has
 * gain 6 on white noise, so r = (I ∗ N)/6 has var σ², binned at the 3×3 mean.
 */
function stillSamples(img: RgbImage): { mu: Float32Array; r: Float32Array; n: number } {
  const { width: w, height: h, data: d } = img;
  const step = strideFor(w, h);
  const cap = Math.max(0, Math.ceil((w - 2) / step) * Math.ceil((h - 2) / step) * 3);
  const mu = new Float32Array(cap), r = new Float32Array(cap);
  let n = 0;
  const L = (x: number, y: number, c: number): number => LINEAR[d[(y * w + x) * 3 + c]!]!;
  for (let y = 1; y < h - 1; y += step) {
    for (let x = 1; x < w - 1; x += step) {
      for (let c = 0; c < 3; c++) {
        const nw = L(x - 1, y - 1, c), nn = L(x, y - 1, c), ne = L(x + 1, y - 1, c);
        const ww = L(x - 1, y, c), cc = L(x, y, c), ee = L(x + 1, y, c);
        const sw = L(x - 1, y + 1, c), ss = L(x, y + 1, c), se = L(x + 1, y + 1, c);
        mu[n] = (nw + nn + ne + ww + cc + ee + sw + ss + se) / 9;
        r[n++] = (nw - 2 * nn + ne - 2 * ww + 4 * cc - 2 * ee + sw - 2 * ss + se) / 6;
      }
    }
  }
  return { mu, r, n };
}

/**
 * One image's noise, for stills (no second frame to compare with). Texture leaks into the
 * residual, so this reads high on detailed images; the trim keeps edges out.
 */
export function estimateStillNoise(img: RgbImage): NoiseParams | undefined {
  if (img.width < 3 || img.height < 3) return undefined;
  const s = stillSamples(img);
  return fitNoise(binnedVariance(s.mu, s.r, s.n));
}

export interface NoiseEstimatorOptions {
  /**
   * Weight of each new frame pair in the per-bin running figures (an EMA): small = slow refresh.
   * Default 0.1: about 10 pairs of memory.
   */
  readonly refresh?: number;
}

/**
 * A camera's running photon-transfer estimate: push its frames in order; each consecutive pair
 * adds noise samples, per-bin figures are blended with an EMA, and the line is refitted. Holds the
 * previous frame's grid and 24 bins: bounded. reset() on a scene cut, an IR switch or a model switch.
 */
export class NoiseEstimator {
  private prev: GridSample | undefined;
  private readonly bins: Array<{ mu: number; variance: number; count: number } | undefined> = new Array(BINS).fill(undefined);
  private fitted: NoiseParams | undefined;
  private pairs = 0;
  private readonly refresh: number;

  constructor(o: NoiseEstimatorOptions = {}) {
    this.refresh = o.refresh ?? 0.1;
    if (!(this.refresh > 0 && this.refresh <= 1)) throw new RangeError(`NoiseEstimator: refresh ${this.refresh} is not in (0, 1]`);
  }

  /** The current estimate; undefined until a bin of usable pixels was seen. */
  get params(): NoiseParams | undefined {
    return this.fitted;
  }

  /** Frame pairs that went into the estimate since the last reset. */
  get samples(): number {
    return this.pairs;
  }

  push(frame: RgbImage): NoiseParams | undefined {
    const prev = this.prev;
    // Only the grid is kept (a copy, so callers may reuse their buffers): ~128 KiB at any size.
    const cur = gridSample(frame);
    this.prev = cur;
    if (!prev || prev.width !== frame.width || prev.height !== frame.height) return this.fitted;
    const s = pairSamples(prev, cur);
    // The first pair sets each bin; later ones blend in, so a few pairs already give a usable fit.
    const a = Math.max(this.refresh, 1 / (this.pairs + 1));
    for (const b of binnedVariance(s.mu, s.r, s.n)) {
      const k = binOf(b.mu), old = this.bins[k];
      this.bins[k] = old
        ? { mu: old.mu + a * (b.mu - old.mu), variance: old.variance + a * (b.variance - old.variance), count: old.count + a * (b.count - old.count) }
        : b;
    }
    this.pairs++;
    this.fitted = fitNoise(this.bins.filter((b): b is BinStats => b !== undefined), this.fitted);
    return this.fitted;
  }

  /** The next frame pairs with nothing (the view moved since the last one: the pair would measure the motion). */
  skipPair(): void {
    this.prev = undefined;
  }

  reset(): void {
    this.prev = undefined;
    this.bins.fill(undefined);
    this.fitted = undefined;
    this.pairs = 0;
  }
}
