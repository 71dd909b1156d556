// Global motion for the temporal denoiser: a pan, tilt or zoom (a PTZ camera, a shaking pole)
// moves every pixel at once, and the per-pixel motion test in the graph then either averages
// misaligned frames (a slow pan within the noise: smear) or follows noise. Here the view's own
// motion is estimated on a low-resolution luma of the new frame against the picture the state
// last showed (its denoised codes: clean, and aligned with the state by construction), as a
// translation and a zoom about the centre (Lucas–Kanade, Gauss–Newton, with gain and offset for
// exposure changes and Huber weights so people walking through do not pull it; a fit counts only
// when it is pinned down, explains the change and improves the frame in many tiles). When the view
// moved by half a pixel or more, the state is moved with it (a pan by whole pixels, row copies; a
// zoom by bilinear resampling), so the running mean keeps averaging the same scene point; pixels
// that come into view start afresh. Estimating against the state, not the previous frame, means
// estimation jitter never accumulates: a still view never drifts.
// Pure: typed arrays in and out; the remap touches each state value once.

/**
 * What a temporal denoiser does when the view itself moves: 'shift' moves the camera's state with
 * the view (the default), 'reset' restarts it (the frame is denoised spatially), 'off' leaves it to
 * the per-pixel motion test (as before issue 12's fix).
 */
export const GLOBAL_MOTION_MODES = ['shift', 'reset', 'off'] as const;
export type GlobalMotionMode = (typeof GLOBAL_MOTION_MODES)[number];

/** A low-resolution luma plane. */
export interface LumaPlane {
  readonly width: number;
  readonly height: number;
  /** Full-resolution pixels per low-resolution pixel, on each axis. */
  readonly factor: number;
  readonly data: Float32Array;
}

/** The map from the new frame to the state: new pixel X shows what the state held at X + t + k·(X − c). */
export interface GlobalMotion {
  /** Translation in full-resolution pixels. */
  readonly tx: number;
  readonly ty: number;
  /** Zoom: scale − 1 of the map (positive: the view zoomed in, the state's content spreads). */
  readonly k: number;
  /** Largest displacement the map gives any pixel of the frame, in full-resolution pixels. */
  readonly maxShift: number;
  /** The fit explains the change (the residual fell well beyond what fitting noise would give). */
  readonly significant: boolean;
}

/** The low-resolution plane is about this many pixels wide: enough texture to lock on, cheap to fit. */
const TARGET_WIDTH = 160;
/** Integer search radius in low-resolution pixels before the fit (pans of up to ~16 full-resolution pixels a frame at 640 px). */
const SEARCH = 4;
const ITERATIONS = 8;
/**
 * The Gauss–Newton passes read every FIT_STEP-th row and column (a quarter of the pixels): the
 * tests that decide (significance, spread, how well pinned) read them all, at the fit's end.
 */
const FIT_STEP = 2;
/** The fit has converged when a step moves the map by less than this many low-resolution pixels (a sixteenth of PAIR_PIXELS at 640 px). */
const CONVERGED = 4e-3;
/**
 * The fit must lower the residual by this many times the residual variance per parameter's worth of
 * pixels (a χ² test: N·(E0 − E1)/E1 > SIGNIFICANCE): noise alone lowers it by about one per parameter.
 */
const SIGNIFICANCE = 25;
/** The frame is judged in TILES×TILES tiles (spread): at least this share must improve, each by a χ² of TILE_SIGNIFICANCE. */
const TILES = 4, MIN_TILES_SHARE = 0.25, TILE_SIGNIFICANCE = 9;
/** The fitted displacement's standard error (translation plus zoom at the frame's edge) must be under this many low-resolution pixels. */
const MAX_UNCERTAINTY = 0.1;

export const lumaFactor = (width: number): number => Math.max(2, Math.round(width / TARGET_WIDTH));

/**
 * Mean (R + 2G + B)/4 over factor×factor blocks of one frame's bytes: a pixel's channels lie
 * `plane` apart and neighbouring pixels `step` apart (packed RGB: 1 and 3; planar: w·h and 1).
 */
function lumaOf(data: Uint8Array, width: number, height: number, factor: number, step: number, plane: number): LumaPlane {
  const w = Math.floor(width / factor), h = Math.floor(height / factor), out = new Float32Array(w * h);
  const norm = 1 / (4 * factor * factor);
  // Integer block sums (exact), times the norm once: the same arithmetic as the WebAssembly build
  // (native/denoise-kernel.c luma), so both give the same plane.
  const sums = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    sums.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      const row = (y * factor + dy) * width * step;
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dx = 0, i = row + x * factor * step; dx < factor; dx++, i += step) s += data[i]! + 2 * data[i + plane]! + data[i + 2 * plane]!;
        sums[x]! += s;
      }
    }
    for (let x = 0; x < w; x++) out[y * w + x] = sums[x]! * norm;
  }
  return { width: w, height: h, factor, data: out };
}

/** From packed RGB bytes (rows of width·3). */
export const lumaOfRgb = (data: Uint8Array, width: number, height: number, factor = lumaFactor(width)): LumaPlane =>
  lumaOf(data, width, height, factor, 3, 1);

/** From planar NCHW bytes of one frame (the state's shown codes). */
export const lumaOfPlanar = (data: Uint8Array, width: number, height: number, factor = lumaFactor(width)): LumaPlane =>
  lumaOf(data, width, height, factor, 1, width * height);

/** Solves the small dense system A·x = b in place (Gaussian elimination, partial pivoting); undefined when singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  for (let i = 0; i < n; i++) {
    let p = i;
    for (let r = i + 1; r < n; r++) if (Math.abs(a[r]![i]!) > Math.abs(a[p]![i]!)) p = r;
    if (Math.abs(a[p]![i]!) < 1e-12) return undefined;
    [a[i], a[p]] = [a[p]!, a[i]!];
    [b[i], b[p]] = [b[p]!, b[i]!];
    for (let r = i + 1; r < n; r++) {
      const f = a[r]![i]! / a[i]![i]!;
      for (let c = i; c < n; c++) a[r]![c]! -= f * a[i]![c]!;
      b[r]! -= f * b[i]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let c = i + 1; c < n; c++) s -= a[i]![c]! * x[c]!;
    x[i] = s / a[i]![i]!;
  }
  return x;
}

/**
 * The fit's loops over the two planes, the only per-pixel work of estimateGlobalMotion: the
 * TypeScript here, or the denoiser's WebAssembly build of the same arithmetic in the same order
 * (native/denoise-kernel.c gm_*, src/denoise/denoise-wasm.ts), which gives the same fit to the bit.
 */
export interface MotionLoops {
  /** Mean squared difference of cur(x) against ref(x + (dx, dy)), offsets removed, on every `step`-th pixel of the overlap. */
  shiftedError(dx: number, dy: number, step: number): number;
  /**
   * The mean residual of cur against (1 + g)·ref(W(x)) + b at q = [tx, ty, k, g, b] on every
   * `step`-th row and column (from 1); with `acc`, Huber-weighted, and JᵀWJ's upper triangle
   * (row-major, 15) and JᵀWr (5) summed into acc.h, acc.v.
   */
  residual(q: readonly number[], acc?: { readonly huber: number; readonly h: Float64Array; readonly v: Float64Array }, step?: number): { e: number; n: number };
  /** Σr, Σc, Σr², Σrc, Σc² and the count over the pixels the warp of q covers, unwarped. */
  stillSums(q: readonly number[]): { sr: number; sc: number; srr: number; src: number; scc: number; n: number };
  /** Per tile (TILES×TILES, row-major): the fit's squared residuals and the still fit's. */
  tiles(q: readonly number[], rest: { readonly gain: number; readonly offset: number }): { fit: Float64Array; rest: Float64Array };
}

/** The loops in TypeScript (the reference). */
export function jsMotionLoops(ref: LumaPlane, cur: LumaPlane): MotionLoops {
  const { width: w, height: h } = cur, rd = ref.data, cd = cur.data;
  const cx = (w - 1) / 2, cy = (h - 1) / 2;
  let grads: { gx: Float32Array; gy: Float32Array } | undefined;
  // Reference gradients (central differences; the state's picture is already clean), once a fit.
  const gradients = (): { gx: Float32Array; gy: Float32Array } => {
    if (grads) return grads;
    const gx = new Float32Array(w * h), gy = new Float32Array(w * h);
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        gx[i] = 0.5 * (rd[i + 1]! - rd[i - 1]!);
        gy[i] = 0.5 * (rd[i + w]! - rd[i - w]!);
      }
    }
    return (grads = { gx, gy });
  };
  return {
    shiftedError(dx, dy, step) {
      let s = 0, s2 = 0, n = 0;
      for (let y = Math.max(0, -dy); y < Math.min(h, h - dy); y += step) {
        for (let x = Math.max(0, -dx); x < Math.min(w, w - dx); x += step) {
          const d = cd[y * w + x]! - rd[(y + dy) * w + x + dx]!;
          s += d; s2 += d * d; n++;
        }
      }
      return n ? s2 / n - (s / n) ** 2 : Infinity;
    },
    residual(q, acc, step = 1) {
      const [tx, ty, k, g, b] = q as [number, number, number, number, number];
      const H = acc?.h, V = acc?.v, huber = acc?.huber ?? Infinity;
      const { gx, gy } = acc ? gradients() : { gx: rd, gy: rd };
      let e = 0, n = 0;
      for (let y = 1; y < h - 1; y += step) {
        const wy = y + ty + k * (y - cy);
        if (wy < 1 || wy >= h - 2) continue;
        const y0 = Math.floor(wy), fy = wy - y0, dyc = y - cy;
        for (let x = 1; x < w - 1; x += step) {
          const wx = x + tx + k * (x - cx);
          if (wx < 1 || wx >= w - 2) continue;
          const x0 = Math.floor(wx), fx = wx - x0, i = y0 * w + x0;
          // Bilinear weights, shared by the picture and its two gradients.
          const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
          const r0 = rd[i]! * w00 + rd[i + 1]! * w01 + rd[i + w]! * w10 + rd[i + w + 1]! * w11;
          const r = (1 + g) * r0 + b - cd[y * w + x]!;
          n++;
          if (!H || !V) { e += r * r; continue; }
          const ar = Math.abs(r), wt = ar <= huber ? 1 : huber / ar;
          e += ar <= huber ? r * r : huber * (2 * ar - huber);
          const ix = (1 + g) * (gx[i]! * w00 + gx[i + 1]! * w01 + gx[i + w]! * w10 + gx[i + w + 1]! * w11);
          const iy = (1 + g) * (gy[i]! * w00 + gy[i + 1]! * w01 + gy[i + w]! * w10 + gy[i + w + 1]! * w11);
          const j0 = ix, j1 = iy, j2 = ix * (x - cx) + iy * dyc, j3 = r0;
          // Upper triangle of JᵀWJ (row-major, 15 entries) and JᵀWr; j4 = 1.
          H[0]! += wt * j0 * j0; H[1]! += wt * j0 * j1; H[2]! += wt * j0 * j2; H[3]! += wt * j0 * j3; H[4]! += wt * j0;
          H[5]! += wt * j1 * j1; H[6]! += wt * j1 * j2; H[7]! += wt * j1 * j3; H[8]! += wt * j1;
          H[9]! += wt * j2 * j2; H[10]! += wt * j2 * j3; H[11]! += wt * j2;
          H[12]! += wt * j3 * j3; H[13]! += wt * j3; H[14]! += wt;
          V[0]! += wt * j0 * r; V[1]! += wt * j1 * r; V[2]! += wt * j2 * r; V[3]! += wt * j3 * r; V[4]! += wt * r;
        }
      }
      return { e: n ? e / n : Infinity, n };
    },
    stillSums(q) {
      const [tx, ty, k] = q as [number, number, number];
      let sr = 0, sc = 0, srr = 0, src = 0, scc = 0, n = 0;
      for (let y = 1; y < h - 1; y++) {
        const wy = y + ty + k * (y - cy);
        if (wy < 1 || wy >= h - 2) continue;
        for (let x = 1; x < w - 1; x++) {
          const wx = x + tx + k * (x - cx);
          if (wx < 1 || wx >= w - 2) continue;
          const r = rd[y * w + x]!, c = cd[y * w + x]!;
          sr += r; sc += c; srr += r * r; src += r * c; scc += c * c; n++;
        }
      }
      return { sr, sc, srr, src, scc, n };
    },
    tiles(q, rest) {
      const [tx, ty, k, g, b] = q as [number, number, number, number, number];
      const fitE = new Float64Array(TILES * TILES), restE = new Float64Array(TILES * TILES);
      for (let y = 1; y < h - 1; y++) {
        const wy = y + ty + k * (y - cy);
        if (wy < 1 || wy >= h - 2) continue;
        const y0 = Math.floor(wy), fy = wy - y0, ty0 = Math.min(TILES - 1, Math.floor((y * TILES) / h));
        for (let x = 1; x < w - 1; x++) {
          const wx = x + tx + k * (x - cx);
          if (wx < 1 || wx >= w - 2) continue;
          const x0 = Math.floor(wx), fx = wx - x0, i = y0 * w + x0, c = cd[y * w + x]!;
          const r0 = (rd[i]! * (1 - fx) + rd[i + 1]! * fx) * (1 - fy) + (rd[i + w]! * (1 - fx) + rd[i + w + 1]! * fx) * fy;
          const t = ty0 * TILES + Math.min(TILES - 1, Math.floor((x * TILES) / w));
          fitE[t]! += ((1 + g) * r0 + b - c) ** 2;
          restE[t]! += (rest.gain * rd[y * w + x]! + rest.offset - c) ** 2;
        }
      }
      return { fit: fitE, rest: restE };
    },
  };
}

/**
 * The view's motion from `ref` (the state's picture) to `cur` (the new frame), both from the same
 * frame size. Translation and zoom about the centre, photometric gain and offset; Huber-weighted
 * Gauss–Newton from the best integer shift. `loopsOf` runs the per-pixel loops (jsMotionLoops by
 * default). A fit moving no pixel by `minShift` full-resolution pixels is returned untested (not significant).
 */
export function estimateGlobalMotion(ref: LumaPlane, cur: LumaPlane, loopsOf: (ref: LumaPlane, cur: LumaPlane) => MotionLoops = jsMotionLoops, o: { readonly minShift?: number } = {}): GlobalMotion {
  const { width: w, height: h, factor: f } = cur;
  const none: GlobalMotion = { tx: 0, ty: 0, k: 0, maxShift: 0, significant: false };
  if (ref.width !== w || ref.height !== h || w < 4 * SEARCH || h < 4 * SEARCH) return none;
  const L = loopsOf(ref, cur);
  // A coarse start: the best integer shift (every other pixel), so a fast pan is within the fit's reach.
  let bx = 0, by = 0, best = L.shiftedError(0, 0, 2);
  for (let dy = -SEARCH; dy <= SEARCH; dy++) {
    for (let dx = -SEARCH; dx <= SEARCH; dx++) {
      if (dx === 0 && dy === 0) continue;
      const e = L.shiftedError(dx, dy, 2);
      if (e < best) { best = e; bx = dx; by = dy; }
    }
  }
  const cx = (w - 1) / 2, cy = (h - 1) / 2;
  // Parameters: tx, ty, k (the warp), g (gain − 1), b (offset): cur(x) ≈ (1 + g)·ref(W(x)) + b.
  let p = [bx, by, 0, 0, 0];
  /** The normal equations at q: JᵀWJ (full, symmetric) and JᵀWr. */
  const normal = (q: number[], huber: number, step = 1): { a: number[][]; v: number[]; n: number } => {
    const acc = { huber, h: new Float64Array(15), v: new Float64Array(5) };
    const { n } = L.residual(q, acc, step);
    const a = Array.from({ length: 5 }, () => new Array<number>(5).fill(0));
    for (let m = 0, t = 0; m < 5; m++) for (let c = m; c < 5; c++) a[m]![c] = acc.h[t++]!;
    for (let m = 0; m < 5; m++) for (let c = 0; c < m; c++) a[m]![c] = a[c]![m]!;
    return { a, v: Array.from(acc.v), n };
  };
  // The residual at rest (no motion; gain and offset still fitted: exposure alone is no motion), on
  // the pixels the fit `q` covers, so the two residuals compare like with like.
  const still = (q: number[]): { e: number; n: number; gain: number; offset: number } => {
    const { sr, sc, srr, src, scc, n } = L.stillSums(q);
    if (!n) return { e: Infinity, n, gain: 1, offset: 0 };
    // Least squares c ≈ gain·r + offset: residual = var(c) − cov²/var(r).
    const vr = srr / n - (sr / n) ** 2, vc = scc / n - (sc / n) ** 2, cov = src / n - (sr / n) * (sc / n);
    const gain = vr > 1e-9 ? cov / vr : 0;
    return { e: Math.max(0, vr > 1e-9 ? vc - (cov * cov) / vr : vc), n, gain, offset: sc / n - (gain * sr) / n };
  };
  /**
   * The view moved, not something in it: the fit must lower the residual in many parts of the frame
   * (TILES×TILES tiles, each by a χ² of TILE_SIGNIFICANCE) and raise it in few. A person walking
   * across a fixed camera improves a tile or two and, once the fit follows them, spoils the tiles
   * of the still background (measured: 16 false moves in 60 frames of the night walk without this).
   */
  const spread = (q: number[], rest: { gain: number; offset: number }, e: number): boolean => {
    const t = L.tiles(q, rest);
    let better = 0, worse = 0;
    const floor = Math.max(e, 1e-6);
    for (let i = 0; i < TILES * TILES; i++) {
      const chi = (t.rest[i]! - t.fit[i]!) / floor;
      if (chi > TILE_SIGNIFICANCE) better++;
      else if (chi < -TILE_SIGNIFICANCE) worse++;
    }
    return better >= MIN_TILES_SHARE * TILES * TILES && better >= 2 * worse;
  };
  let huber = Math.max(1e-3, 2.5 * Math.sqrt(Math.max(best, 1e-6)));
  for (let it = 0; it < ITERATIONS; it++) {
    const { a, v, n } = normal(p, huber, FIT_STEP);
    if (n < 16) return none;
    const step = solve(a, v.map((x) => -x));
    if (!step) return none;
    p = p.map((x, m) => x + step[m]!);
    if (Math.abs(p[2]!) > 0.2 || Math.abs(p[0]!) > 2 * SEARCH || Math.abs(p[1]!) > 2 * SEARCH) return none;
    const r = L.residual(p, undefined, FIT_STEP);
    huber = Math.max(1e-3, 2.5 * Math.sqrt(r.e));
    if (Math.hypot(step[0]!, step[1]!) + Math.abs(step[2]!) * w < CONVERGED) break;
  }
  const [tx, ty, k] = p as [number, number, number];
  // Full-resolution pixels: low-res pixel x is centred at f·x + (f − 1)/2, so the centre maps to the centre.
  const maxShift = f * Math.max(Math.abs(tx) + Math.abs(k) * cx, Math.abs(ty) + Math.abs(k) * cy);
  // A fit that moves nothing the caller acts on is not tested (four full passes: most of a still
  // camera's frames end here).
  if (maxShift < (o.minShift ?? 0)) return { tx: f * tx, ty: f * ty, k, maxShift, significant: false };
  const fit = L.residual(p), rest = still(p);
  // How well the data pin the motion down: standard errors from the fit's covariance σ²·(JᵀJ)⁻¹. A
  // ramp or a flat frame leaves a shift free to trade against the offset; such a fit moves nothing.
  const { a } = normal(p, Infinity);
  const se = [0, 1, 2].map((m) => {
    const col = solve(a.map((row) => [...row]), [0, 1, 2, 3, 4].map((c) => (c === m ? 1 : 0)));
    return col ? Math.sqrt(Math.max(0, col[m]!) * fit.e) : Infinity;
  });
  const pinned = Math.hypot(se[0]!, se[1]!) + se[2]! * Math.max(cx, cy) < MAX_UNCERTAINTY;
  const significant = pinned && Number.isFinite(fit.e) && fit.n > 0 && (fit.n * (rest.e - fit.e)) / Math.max(fit.e, 1e-6) > SIGNIFICANCE
    && spread(p, rest, fit.e);
  return { tx: f * tx, ty: f * ty, k, maxShift, significant };
}

/**
 * Source index of each destination index on one axis, for X ↦ round(X + t + k·(X − c)), c the
 * axis' centre; −1 where it falls outside.
 */
function axisMap(size: number, t: number, k: number): Int32Array {
  const c = (size - 1) / 2, m = new Int32Array(size);
  for (let x = 0; x < size; x++) {
    const s = Math.round(x + t + k * (x - c));
    m[x] = s >= 0 && s < size ? s : -1;
  }
  return m;
}

/**
 * Moves planar state (`planes` planes of width×height, any typed array) by the map: destination
 * pixel X takes the source's value at the mapped position; pixels mapped outside get `fill`.
 * Into `into` when given (the camera's spare arrays: no allocation a frame), else a new array.
 */
export function remapPlanes<T extends Float32Array | Uint8Array>(src: T, planes: number, width: number, height: number, m: GlobalMotion, fill: number, into?: T): T {
  const xs = axisMap(width, m.tx, m.k), ys = axisMap(height, m.ty, m.k);
  const dst = into && into.length === src.length && into !== src ? into : new (src.constructor as new (n: number) => T)(src.length);
  if (fill !== 0 || dst === into) dst.fill(fill);
  // A pure translation maps a row to a contiguous run: copy it whole.
  const first = xs.findIndex((s) => s >= 0);
  let last = -1;
  for (let x = width - 1; x >= 0; x--) if (xs[x]! >= 0) { last = x; break; }
  const contiguous = first >= 0 && xs[last]! - xs[first]! === last - first;
  for (let p = 0; p < planes; p++) {
    const base = p * width * height;
    for (let y = 0; y < height; y++) {
      const sy = ys[y]!;
      if (sy < 0) continue;
      const from = base + sy * width, to = base + y * width;
      if (contiguous) dst.set(src.subarray(from + xs[first]!, from + xs[last]! + 1), to + first);
      else for (let x = 0; x < width; x++) { const sx = xs[x]!; if (sx >= 0) dst[to + x] = src[from + sx]!; }
    }
  }
  return dst;
}

/**
 * The map's zoom moves pixels by this many full-resolution pixels at the frame's edge: under half
 * a pixel the state moves by whole pixels only (the zoom is left for the next frame's fit, which
 * sees it again against the state); above, it is resampled (remapBilinear).
 */
export const zoomShift = (m: GlobalMotion, width: number, height: number): number => Math.abs(m.k) * Math.max(width - 1, height - 1) / 2;

/** The map as a whole-pixel translation (the rest is measured again against the moved state next frame). */
export const wholePixels = (m: GlobalMotion): GlobalMotion => ({ ...m, tx: Math.round(m.tx), ty: Math.round(m.ty), k: 0 });

/**
 * Float planes moved by the map with bilinear weights (a zoom: rounding each pixel on its own
 * would leave the centre, where the map moves less than half a pixel, behind every frame).
 * Pixels mapped outside get 0. Into `into` when given, as remapPlanes.
 */
export function remapBilinear(src: Float32Array, planes: number, width: number, height: number, m: GlobalMotion, into?: Float32Array): Float32Array {
  const axis = (size: number, t: number): { i: Int32Array; f: Float32Array } => {
    const c = (size - 1) / 2, i = new Int32Array(size), f = new Float32Array(size);
    for (let x = 0; x < size; x++) {
      const s = x + t + m.k * (x - c), s0 = Math.floor(s);
      // Both neighbours inside, or the edge pixel itself when s lands exactly on it.
      if (s0 >= 0 && s0 < size - 1) { i[x] = s0; f[x] = s - s0; } else if (s0 === size - 1 && s === s0) { i[x] = s0 - 1; f[x] = 1; } else i[x] = -1;
    }
    return { i, f };
  };
  const xs = axis(width, m.tx), ys = axis(height, m.ty);
  const dst = into && into.length === src.length && into !== src ? into.fill(0) : new Float32Array(src.length);
  for (let p = 0; p < planes; p++) {
    const base = p * width * height;
    for (let y = 0; y < height; y++) {
      const sy = ys.i[y]!;
      if (sy < 0) continue;
      const fy = ys.f[y]!, r0 = base + sy * width, r1 = r0 + width, to = base + y * width;
      for (let x = 0; x < width; x++) {
        const sx = xs.i[x]!;
        if (sx < 0) continue;
        const fx = xs.f[x]!;
        dst[to + x] = (src[r0 + sx]! * (1 - fx) + src[r0 + sx + 1]! * fx) * (1 - fy) + (src[r1 + sx]! * (1 - fx) + src[r1 + sx + 1]! * fx) * fy;
      }
    }
  }
  return dst;
}

