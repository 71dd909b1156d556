// The region cache (DESIGN §2, issue 5), one per camera: segment a keyframe into superpixels, keep
// the regions while the scene holds, and for every frame pool the enhancer's low-res curve maps per
// region and smooth them over time per region (EMA). Brightness is then consistent inside a region
// and does not flicker: per-pixel curves follow sensor noise, a region's mean over tens of pixels
// and several frames does not. Pure: typed arrays in, typed arrays out.
//
// Segmentation is SLIC on the frame box-downscaled to the curve maps' resolution (the enhancer's
// own AveragePool), so labels line up with curve pixels one to one (no label resampling) and the
// box filter has already averaged sensor noise down by k. Chosen over Felzenszwalb because SLIC
// gives a bounded, even number of regions of a chosen size (the averaging we want) whatever the
// noise, where Felzenszwalb's region count and sizes follow the noise and the scale parameter.
import type { RgbImage } from '../image/types.js';
import type { Segmentation } from '../regions/felzenszwalb.js';
import { regionMeans, type PlanarF32 } from '../regions/pool.js';
import { slic } from '../regions/slic.js';

export interface RegionCacheOptions {
  /** The enhancer's curve downscale k: curve maps are [C, ceil(H/k), ceil(W/k)] for H×W frames. */
  readonly downscale: number;
  /** EMA weight of the newest frame's region means, in (0, 1]; 1 = no temporal smoothing. Default 0.2. */
  readonly alpha?: number;
  /**
   * How much of each curve pixel's own deviation from its region's mean (this frame) is kept, in
   * [0, 1]: out = smoothed region mean + mix · (pixel − region mean). 0 (default) gives one curve
   * per region; above 0, detail inside a region (an edge SLIC merged) survives at that strength,
   * and so does that much of its per-pixel noise. The region's level itself is always the smoothed one.
   */
  readonly mix?: number;
  /**
   * Dead band on each region's curve values (r units): a region's output curve moves only when
   * its EMA has drifted more than this from what is shown, then jumps to the EMA. Still regions
   * then give bit-identical curves frame after frame (no rounding flips from an EMA creeping by
   * 1e-4); 0 disables it. Default 0.
   */
  readonly hold?: number;
  /** Re-segment every K frames even without a scene change (regions follow slow motion). Default 150. */
  readonly refreshEvery?: number;
  /**
   * Scene change: mean absolute difference of a small gray thumbnail against the keyframe's, in
   * 8-bit levels, above which regions are recomputed and the EMA restarts. Default 8: sensor
   * noise averages to well under 1 level on the thumbnail, people walking through a night scene
   * stay under it, lights switching or the camera moving go far over.
   */
  readonly sceneThreshold?: number;
  /** Width of the scene-change thumbnail in pixels (at most; box-averaged). Default 32. */
  readonly thumbWidth?: number;
  /** Curve-map pixels per region, roughly (SLIC nSegments = h·w / this). Default 64 (8×8). */
  readonly regionPixels?: number;
  /** SLIC compactness. Default 10 (skimage's). */
  readonly compactness?: number;
  /** Replaces SLIC: segments the keyframe thumbnail (curve resolution, contrast-stretched). */
  readonly segment?: (thumbnail: RgbImage) => Segmentation;
}

export const REGION_CACHE_DEFAULTS = {
  alpha: 0.2, mix: 0, hold: 0, refreshEvery: 150, sceneThreshold: 8, thumbWidth: 32, regionPixels: 64, compactness: 10,
} as const;

/** Why this frame became a keyframe. */
export type KeyframeReason = 'first' | 'resize' | 'scene-change' | 'refresh';

export interface RegionCacheResult {
  /** Smoothed curve maps [C, h, w], a fresh array each call. */
  readonly data: Float32Array;
  readonly dims: readonly [number, number, number];
  /** Set when this frame was segmented (regions recomputed). */
  readonly keyframe?: KeyframeReason;
  /** Number of regions in use. */
  readonly regions: number;
  /** Scene-change score of this frame against the keyframe (0 on a keyframe itself). */
  readonly sceneDiff: number;
}

interface State {
  readonly W: number; readonly H: number; readonly w: number; readonly h: number; readonly C: number;
  labels: Int32Array;
  count: number;
  keyThumb: Float32Array;
  ema: Float32Array; // [count, C]
  shown: Float32Array; // [count, C]: the EMA as last output (the dead band's reference)
  sinceKey: number;
}

export class RegionCache {
  private state: State | undefined;
  private readonly o: Required<Omit<RegionCacheOptions, 'segment'>> & Pick<RegionCacheOptions, 'segment'>;

  constructor(o: RegionCacheOptions) {
    const d = REGION_CACHE_DEFAULTS;
    this.o = {
      downscale: o.downscale, alpha: o.alpha ?? d.alpha, mix: o.mix ?? d.mix, hold: o.hold ?? d.hold, refreshEvery: o.refreshEvery ?? d.refreshEvery,
      sceneThreshold: o.sceneThreshold ?? d.sceneThreshold, thumbWidth: o.thumbWidth ?? d.thumbWidth,
      regionPixels: o.regionPixels ?? d.regionPixels, compactness: o.compactness ?? d.compactness, segment: o.segment,
    };
    const { downscale, alpha, mix, hold, refreshEvery, thumbWidth, regionPixels } = this.o;
    if (!Number.isInteger(downscale) || downscale < 1) throw new RangeError(`RegionCache: downscale must be a positive integer, got ${downscale}`);
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`RegionCache: alpha must be in (0, 1], got ${alpha}`);
    if (!(mix >= 0 && mix <= 1)) throw new RangeError(`RegionCache: mix must be in [0, 1], got ${mix}`);
    if (!(hold >= 0)) throw new RangeError(`RegionCache: hold must be at least 0, got ${hold}`);
    if (!Number.isInteger(refreshEvery) || refreshEvery < 1) throw new RangeError(`RegionCache: refreshEvery must be a positive integer, got ${refreshEvery}`);
    if (!Number.isInteger(thumbWidth) || thumbWidth < 1) throw new RangeError(`RegionCache: thumbWidth must be a positive integer, got ${thumbWidth}`);
    if (!(regionPixels >= 1)) throw new RangeError(`RegionCache: regionPixels must be at least 1, got ${regionPixels}`);
  }

  /** Forget everything: the next frame is a keyframe. */
  reset(): void {
    this.state = undefined;
  }

  /** The current regions at curve resolution (undefined before the first frame). */
  get regions(): { readonly labels: Int32Array; readonly count: number; readonly width: number; readonly height: number } | undefined {
    const s = this.state;
    return s && { labels: s.labels, count: s.count, width: s.w, height: s.h };
  }

  /**
   * One frame of this camera, in order: the decoded frame and the enhancer's curve maps for it
   * ([C,h,w] or [1,C,h,w], h = ceil(H/k), w = ceil(W/k)). Returns the maps to apply instead.
   */
  update(frame: RgbImage, curves: PlanarF32): RegionCacheResult {
    const { width: W, height: H } = frame;
    if (frame.data.length !== W * H * 3) throw new RangeError(`RegionCache: ${W}x${H} RGB needs ${W * H * 3} bytes, got ${frame.data.length}`);
    const k = this.o.downscale;
    const w = Math.ceil(W / k), h = Math.ceil(H / k);
    const d = curves.dims;
    const [C, ch, cw] = d.length === 4 && d[0] === 1 ? [d[1]!, d[2]!, d[3]!] : d.length === 3 ? [d[0]!, d[1]!, d[2]!] : [0, 0, 0];
    if (C < 1 || ch !== h || cw !== w || curves.data.length !== C * h * w) {
      throw new RangeError(`RegionCache: curve maps [${d.join(',')}] do not fit a ${W}x${H} frame at 1/${k}: expected [C,${h},${w}]`);
    }

    const thumb = boxDownscaleRgb(frame, k);
    const gray = grayThumbnail(thumb, Math.max(1, Math.ceil(w / this.o.thumbWidth)));
    let s = this.state;
    let reason: KeyframeReason | undefined;
    let sceneDiff = 0;
    if (!s) reason = 'first';
    else if (s.W !== W || s.H !== H || s.C !== C) reason = 'resize';
    else {
      sceneDiff = meanAbsDiff(gray, s.keyThumb);
      if (sceneDiff > this.o.sceneThreshold) reason = 'scene-change';
      else if (s.sinceKey >= this.o.refreshEvery) reason = 'refresh';
    }

    let carried: Float32Array | undefined;
    if (reason) {
      const seg = this.segment(thumb);
      if (reason === 'refresh' && s) {
        // Same scene, new regions: start each new region's EMA from the old smoothed curves it
        // covers, so a periodic refresh does not show as a jump.
        const old = new Float32Array(C * h * w);
        const plane = h * w;
        for (let p = 0; p < plane; p++) {
          const l = s.labels[p]! * C;
          for (let c = 0; c < C; c++) old[c * plane + p] = s.ema[l + c]!;
        }
        carried = regionMeans(seg.labels, w, h, seg.count, { dims: [C, h, w], data: old }).means;
      }
      s = { W, H, w, h, C, labels: seg.labels, count: seg.count, keyThumb: gray, ema: new Float32Array(seg.count * C), shown: new Float32Array(seg.count * C), sinceKey: 0 };
      this.state = s;
      sceneDiff = 0;
    }
    if (!s) throw new Error('RegionCache: no regions after a keyframe'); // unreachable: narrows the type

    const { means } = regionMeans(s.labels, w, h, s.count, { dims: [C, h, w], data: curves.data });
    const ema = s.ema, a = this.o.alpha;
    if (reason && !carried) ema.set(means); // first frame of a scene: its own means, nothing to blend with
    else {
      const from = carried ?? ema;
      for (let i = 0; i < ema.length; i++) ema[i] = from[i]! + a * (means[i]! - from[i]!);
    }
    s.sinceKey++;
    const shown = s.shown, hold = this.o.hold;
    if (reason || hold === 0) shown.set(ema);
    else for (let i = 0; i < ema.length; i++) if (Math.abs(ema[i]! - shown[i]!) > hold) shown[i] = ema[i]!;

    const out = new Float32Array(C * h * w);
    const plane = h * w, mix = this.o.mix, raw = curves.data, labels = s.labels;
    for (let c = 0; c < C; c++) {
      const off = c * plane;
      for (let p = 0; p < plane; p++) {
        const r = labels[p]! * C + c;
        const v = mix === 0 ? shown[r]! : shown[r]! + mix * (raw[off + p]! - means[r]!);
        // Curves are r ∈ [-1, 1] (tanh); the detail term could step outside, where the curve stops being monotone.
        out[off + p] = v > 1 ? 1 : v < -1 ? -1 : v;
      }
    }
    return { data: out, dims: [C, h, w], ...(reason ? { keyframe: reason } : {}), regions: s.count, sceneDiff };
  }

  private segment(thumb: RgbImage): Segmentation {
    const img = stretch(thumb);
    if (this.o.segment) return this.o.segment(img);
    return slic(img, { nSegments: Math.max(1, Math.round((thumb.width * thumb.height) / this.o.regionPixels)), compactness: this.o.compactness });
  }
}

/**
 * Box downscale by k of packed RGB (k × k blocks, cut short at the right and bottom edges and
 * averaging what they cover: the enhancer's AveragePool with ceil_mode), rounded to bytes.
 */
export function boxDownscaleRgb(img: RgbImage, k: number): RgbImage {
  const { width: W, height: H, data } = img;
  const w = Math.ceil(W / k), h = Math.ceil(H / k);
  if (k === 1) return { width: W, height: H, data };
  // Every frame passes through here (the scene-change check): integer sums, column map precomputed.
  const sum = new Uint32Array(w * h * 3), cnt = new Uint32Array(w * h);
  const col = new Int32Array(W);
  for (let x = 0; x < W; x++) col[x] = Math.floor(x / k);
  for (let y = 0, i = 0; y < H; y++) {
    const row = Math.floor(y / k) * w;
    for (let x = 0; x < W; x++, i += 3) {
      const o = row + col[x]!, o3 = o * 3;
      sum[o3]! += data[i]!; sum[o3 + 1]! += data[i + 1]!; sum[o3 + 2]! += data[i + 2]!;
      cnt[o]!++;
    }
  }
  const out = new Uint8Array(w * h * 3);
  for (let o = 0; o < w * h; o++) for (let c = 0; c < 3; c++) out[o * 3 + c] = Math.round(sum[o * 3 + c]! / cnt[o]!);
  return { width: w, height: h, data: out };
}

/** Gray (mean of R, G, B) box-averaged by s: the scene-change fingerprint. */
export function grayThumbnail(img: RgbImage, s: number): Float32Array {
  const { width: W, height: H, data } = img;
  const w = Math.ceil(W / s), h = Math.ceil(H / s);
  const sum = new Float64Array(w * h), cnt = new Int32Array(w * h);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = Math.floor(y / s) * w + Math.floor(x / s), i = (y * W + x) * 3;
      sum[o] = sum[o]! + (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
      cnt[o]!++;
    }
  }
  return Float32Array.from(sum, (v, o) => v / cnt[o]!);
}

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return a.length ? s / a.length : 0;
}

/**
 * Contrast stretch for segmentation: scale so the 99th percentile byte reaches 255 (gain 1–16).
 * A night frame spans a few Lab units, which SLIC's spatial term would swamp into a plain grid.
 */
function stretch(img: RgbImage): RgbImage {
  const hist = new Int32Array(256);
  for (let i = 0; i < img.data.length; i++) hist[img.data[i]!]!++;
  let acc = 0, p99 = 255;
  for (let v = 0; v < 256; v++) {
    acc += hist[v]!;
    if (acc >= 0.99 * img.data.length) { p99 = v; break; }
  }
  const gain = Math.min(16, Math.max(1, 255 / Math.max(1, p99)));
  if (gain === 1) return img;
  return { width: img.width, height: img.height, data: Uint8Array.from(img.data, (v) => Math.min(255, Math.round(v * gain))) };
}

/** Curve maps of a batch, [N, C, h, w] (the enhancer's CurveMaps fits). */
export interface CurveBatch {
  readonly data: Float32Array;
  readonly dims: readonly [number, number, number, number];
}

/**
 * Runs consecutive frames of one camera through its cache, in order, and returns their smoothed
 * maps as one batch (for a batch holding one camera's run of frames, as in a file or the bench).
 */
export function smoothCurveBatch(cache: RegionCache, frames: readonly RgbImage[], curves: CurveBatch): CurveBatch {
  const [n, c, h, w] = curves.dims;
  if (n !== frames.length) throw new RangeError(`smoothCurveBatch: ${frames.length} frames but ${n} curve maps`);
  const per = c * h * w, out = new Float32Array(n * per);
  frames.forEach((f, i) => out.set(cache.update(f, { dims: [c, h, w], data: curves.data.subarray(i * per, (i + 1) * per) }).data, i * per));
  return { data: out, dims: [n, c, h, w] };
}
