// Felzenszwalb–Huttenlocher graph segmentation, ported from scikit-image 0.19
// (`segmentation.felzenszwalb` → `_felzenszwalb_cython`) for packed RGB, as PIE's train.py calls it:
// felzenszwalb(img / 255, scale=100, sigma=0.5, min_size=300).
//
// Each step follows skimage's arithmetic so the partition matches bit for bit where it can:
//  1. v/255 in float64; scipy.ndimage.gaussian_filter(sigma=[σ, σ, 0]): axis 0 then axis 1, mode
//     'reflect' (half-sample symmetric), radius int(4σ + 0.5), and scipy's symmetric correlation
//     order (centre term first, then the outer pair down to the inner one).
//  2. Edges in skimage's order: horizontal, vertical, down-right, up-right blocks, each raster-
//     ordered; cost √((d₀² + d₁²) + d₂²), numpy's left-to-right sum over the channel axis.
//  3. np.argsort of the costs. numpy's default kind is an unstable introsort whose order among
//     equal costs is an artefact of the partitioning (and numpy ≥ 1.25 on AVX-512 dispatches to a
//     SIMD sort with yet another tie order), so the fixture's tie order is not knowable. We sort
//     stably (ties in edge order, = kind='stable') with an exact radix sort of the float64 bits;
//     `ties: 'numpy-introsort'` replays numpy's scalar introsort instead. On the fixture both give
//     skimage's labels exactly.
//  4. Union–find: merge when cost < min(thr₀, thr₁), thr = cint + scale/size stored in a C `float`
//     (skimage declares inner_cost0/1 as float32, so the threshold is rounded to float32 before the
//     float64 comparison) and scale = scale/255 ("to behave like the reference implementation").
//     The merged root is the smaller index (skimage's join_trees), so a root is always its
//     segment's smallest pixel index; path compression here does not change any root.
//  5. A second pass over the same sorted edges joins any pair where either side is < min_size,
//     updating sizes as it goes.
//  6. np.unique(roots, return_inverse=True): labels in ascending root order, which (roots being
//     smallest indices) is the order of first appearance in raster order.
// Typed arrays only, no per-pixel objects: a 384² image takes ~40 ms on one core.
import type { RgbImage } from '../image/types.js';

export interface FelzenszwalbOptions {
  /** Observation scale (skimage `scale`); higher gives larger segments. */
  readonly scale: number;
  /** Gaussian pre-smoothing σ in pixels (skimage `sigma`); ≤ 1e-15 disables it, like scipy. */
  readonly sigma: number;
  /** Segments smaller than this are joined to a neighbour afterwards (skimage `min_size`). */
  readonly minSize: number;
  /**
   * Order of equal-cost edges. 'stable' (default): edge order, fast. 'numpy-introsort': numpy's
   * scalar `argsort(kind='quicksort')` (numpy without SIMD sort dispatch), ~2.5× slower.
   */
  readonly ties?: 'stable' | 'numpy-introsort';
}

/** PIE's train.py call: felzenszwalb(img/255, scale=100, sigma=0.5, min_size=300). */
export const PIE_FELZENSZWALB: FelzenszwalbOptions = { scale: 100, sigma: 0.5, minSize: 300 };

export interface Segmentation {
  /** Row-major labels 0..count−1, height × width. */
  readonly labels: Int32Array;
  readonly count: number;
}

export function felzenszwalb(img: RgbImage, o: FelzenszwalbOptions = PIE_FELZENSZWALB): Segmentation {
  const { width: w, height: h } = img;
  const n = w * h;
  if (img.data.length !== n * 3) throw new Error(`felzenszwalb: ${w}x${h} RGB needs ${n * 3} bytes, got ${img.data.length}`);
  if (n === 0) return { labels: new Int32Array(0), count: 0 };

  const [p0, p1, p2] = smoothedPlanes(img, o.sigma);
  const cost = gridCosts(p0, p1, p2, w, h);
  const m = cost.length;
  let order: Uint32Array, sc: Float64Array;
  if (o.ties === 'numpy-introsort') {
    order = numpyArgsort(cost);
    sc = new Float64Array(m);
    for (let i = 0; i < m; i++) sc[i] = cost[order[i]!]!;
  } else {
    ({ order, sorted: sc } = stableArgsort(cost));
  }
  // Endpoints in sorted order, decoded from the edge index: both passes then stream through memory.
  const sa = new Int32Array(m), sb = new Int32Array(m);
  decodeEdges(order, w, h, sa, sb);

  const forest = new Int32Array(n);
  for (let i = 0; i < n; i++) forest[i] = i;
  const size = new Int32Array(n).fill(1);
  const cint = new Float64Array(n);
  const scale = o.scale / 255;
  const fround = Math.fround;
  for (let i = 0; i < m; i++) {
    const r0 = findRoot(forest, sa[i]!), r1 = findRoot(forest, sb[i]!);
    if (r0 === r1) continue;
    const t0 = fround(cint[r0]! + scale / size[r0]!), t1 = fround(cint[r1]! + scale / size[r1]!);
    const c = sc[i]!;
    if (c < (t0 < t1 ? t0 : t1)) {
      const lo = r0 < r1 ? r0 : r1, hi = r0 < r1 ? r1 : r0;
      forest[hi] = lo;
      size[lo] = size[r0]! + size[r1]!;
      cint[lo] = c;
    }
  }
  const minSize = o.minSize;
  for (let i = 0; i < m; i++) {
    const r0 = findRoot(forest, sa[i]!), r1 = findRoot(forest, sb[i]!);
    if (r0 === r1) continue;
    if (size[r0]! < minSize || size[r1]! < minSize) {
      const lo = r0 < r1 ? r0 : r1, hi = r0 < r1 ? r1 : r0;
      forest[hi] = lo;
      size[lo] = size[r0]! + size[r1]!;
    }
  }

  // Roots are smallest indices, so numbering roots as they are first met in raster order is
  // np.unique's ascending-root numbering.
  const labels = new Int32Array(n);
  const rootLabel = new Int32Array(n).fill(-1);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const r = findRoot(forest, i);
    let l = rootLabel[r]!;
    if (l < 0) rootLabel[r] = l = count++;
    labels[i] = l;
  }
  return { labels, count };
}

/** Root of n, halving the path on the way (roots stay put, only later walks get shorter). */
function findRoot(forest: Int32Array, n: number): number {
  let p = forest[n]!;
  while (p !== n) {
    const g = forest[p]!;
    forest[n] = g;
    n = g;
    p = forest[n]!;
  }
  return n;
}

// ---- step 1: smoothing -------------------------------------------------------------------------

/** scipy.ndimage._gaussian_kernel1d(σ, 0, r): exp(−0.5/σ² · x²) normalised by numpy's sum. */
export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.floor(4 * sigma + 0.5); // int(truncate * sd + 0.5), truncate = 4.0
  const c = -0.5 / (sigma * sigma);
  const k = new Float64Array(2 * r + 1);
  for (let i = -r; i <= r; i++) k[i + r] = Math.exp(c * (i * i));
  const sum = numpySum(k);
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k;
}

/** numpy's pairwise_sum for a contiguous float64 vector (≤ 128 values: 8 accumulators). */
function numpySum(a: Float64Array): number {
  const n = a.length;
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i]!;
    return s;
  }
  if (n <= 128) {
    const r = a.slice(0, 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = r[j]! + a[i + j]!;
    let s = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) s += a[i]!;
    return s;
  }
  let n2 = n >> 1;
  n2 -= n2 % 8;
  return numpySum(a.subarray(0, n2)) + numpySum(a.subarray(n2));
}

/** scipy 'reflect' index for i in [−r, n−1+r]: d c b a | a b c d | d c b a, any r. */
function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - 1 - j;
  return j;
}

/** The three channels /255 as float64 planes, each smoothed along y then x. */
function smoothedPlanes(img: RgbImage, sigma: number): [Float64Array, Float64Array, Float64Array] {
  const { width: w, height: h, data } = img;
  const n = w * h;
  const planes: [Float64Array, Float64Array, Float64Array] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    planes[0][i] = data[j]! / 255;
    planes[1][i] = data[j + 1]! / 255;
    planes[2][i] = data[j + 2]! / 255;
  }
  if (!(sigma > 1e-15)) return planes; // scipy skips axes whose σ ≤ 1e-15
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) >> 1;
  const rowOff = new Int32Array(h + 2 * r), colIdx = new Int32Array(w + 2 * r);
  for (let i = -r; i < h + r; i++) rowOff[i + r] = reflectIndex(i, h) * w;
  for (let i = -r; i < w + r; i++) colIdx[i + r] = reflectIndex(i, w);
  const tmp = new Float64Array(n);
  const k0 = k[r]!;
  for (const p of planes) {
    // Axis 0 (columns of values down y). Row-major loops keep memory access sequential.
    for (let y = 0; y < h; y++) {
      const o = y * w, c = rowOff[y + r]!;
      for (let x = 0; x < w; x++) tmp[o + x] = p[c + x]! * k0;
      for (let t = r; t >= 1; t--) {
        const up = rowOff[y + r - t]!, dn = rowOff[y + r + t]!, kt = k[r - t]!;
        for (let x = 0; x < w; x++) tmp[o + x] = tmp[o + x]! + (p[up + x]! + p[dn + x]!) * kt;
      }
    }
    // Axis 1 (along each row), written back into the plane.
    for (let y = 0; y < h; y++) {
      const o = y * w;
      for (let x = 0; x < w; x++) {
        let s = tmp[o + x]! * k0;
        for (let t = r; t >= 1; t--) s += (tmp[o + colIdx[x + r - t]!]! + tmp[o + colIdx[x + r + t]!]!) * k[r - t]!;
        p[o + x] = s;
      }
    }
  }
  return planes;
}

// ---- step 2: the 8-connected grid graph --------------------------------------------------------
// Four blocks, each in raster order, as skimage stacks them: horizontal (image[:,1:] vs [:,:-1]),
// vertical ([1:] vs [:-1]), down-right ([1:,1:] vs [:-1,:-1]), up-right ([:-1,1:] vs [1:,:-1]).
// An edge is its index in that stack; decodeEdges turns indices back into pixel pairs.

function gridCosts(p0: Float64Array, p1: Float64Array, p2: Float64Array, w: number, h: number): Float64Array {
  const m = h * (w - 1) + (h - 1) * w + 2 * (h - 1) * (w - 1);
  const cost = new Float64Array(m);
  let e = 0;
  const add = (i: number, j: number): void => {
    const d0 = p0[i]! - p0[j]!, d1 = p1[i]! - p1[j]!, d2 = p2[i]! - p2[j]!;
    cost[e++] = Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2); // numpy sums the channel axis left to right
  };
  for (let y = 0; y < h; y++) for (let x = 0; x < w - 1; x++) add(y * w + x + 1, y * w + x);
  for (let y = 0; y < h - 1; y++) for (let x = 0; x < w; x++) add((y + 1) * w + x, y * w + x);
  for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) add((y + 1) * w + x + 1, y * w + x);
  for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) add(y * w + x + 1, (y + 1) * w + x);
  return cost;
}

function decodeEdges(order: Uint32Array, w: number, h: number, a: Int32Array, b: Int32Array): void {
  const w1 = w - 1;
  const n0 = h * w1, n1 = n0 + (h - 1) * w, n2 = n1 + (h - 1) * w1;
  for (let i = 0; i < order.length; i++) {
    let e = order[i]!;
    if (e < n0) {
      const y = Math.floor(e / w1), p = e + y; // y·w + x
      a[i] = p + 1; b[i] = p;
    } else if (e < n1) {
      e -= n0;
      a[i] = e + w; b[i] = e;
    } else {
      const d = e < n2;
      e -= d ? n1 : n2;
      const y = Math.floor(e / w1), p = e + y;
      if (d) { a[i] = p + w + 1; b[i] = p; } else { a[i] = p + 1; b[i] = p + w; }
    }
  }
}

// ---- step 3: sorting ---------------------------------------------------------------------------

/**
 * Stable argsort of non-negative float64 values, exact (no quantisation). With the sign bit
 * clear, IEEE bit patterns order like the values, so an LSD radix sort on the high 32 bits
 * (two 16-bit digits, each pass moving the value with its index) followed by a stable fix-up of
 * the runs that share the high word sorts fully. Returns the order and the sorted values.
 */
export function stableArgsort(v: Float64Array): { order: Uint32Array; sorted: Float64Array } {
  const m = v.length;
  let val = Float64Array.from(v), idx = new Uint32Array(m);
  for (let i = 0; i < m; i++) idx[i] = i;
  let val2 = new Float64Array(m), idx2 = new Uint32Array(m);
  const hist = new Uint32Array(65536);
  for (const shift of [0, 16]) {
    const hi = new Uint32Array(val.buffer); // [lo, hi] per value, little-endian
    hist.fill(0);
    for (let i = 0; i < m; i++) hist[(hi[2 * i + 1]! >>> shift) & 0xffff]!++;
    if (m === 0 || hist[(hi[1]! >>> shift) & 0xffff] === m) continue; // one bucket: nothing moves
    let sum = 0;
    for (let d = 0; d < 65536; d++) { const c = hist[d]!; hist[d] = sum; sum += c; }
    for (let i = 0; i < m; i++) {
      const dst = hist[(hi[2 * i + 1]! >>> shift) & 0xffff]!++;
      val2[dst] = val[i]!; idx2[dst] = idx[i]!;
    }
    [val, val2] = [val2, val];
    [idx, idx2] = [idx2, idx];
  }
  // Runs with one high word are in index order; sort each by value, stably.
  const hi = new Uint32Array(val.buffer);
  for (let s = 0; s < m;) {
    const key = hi[2 * s + 1]!;
    let e = s + 1;
    let sorted = true;
    while (e < m && hi[2 * e + 1] === key) { if (val[e]! < val[e - 1]!) sorted = false; e++; }
    if (!sorted) sortRun(val, idx, s, e);
    s = e;
  }
  return { order: idx, sorted: val };
}

/** Stable sort of val[s..e) (carrying idx) by value; idx ascends within the run on entry. */
function sortRun(val: Float64Array, idx: Uint32Array, s: number, e: number): void {
  if (e - s <= 32) {
    for (let i = s + 1; i < e; i++) {
      const x = val[i]!, k = idx[i]!;
      let j = i - 1;
      while (j >= s && val[j]! > x) { val[j + 1] = val[j]!; idx[j + 1] = idx[j]!; j--; }
      val[j + 1] = x; idx[j + 1] = k;
    }
    return;
  }
  const pos = Array.from({ length: e - s }, (_, i) => s + i);
  pos.sort((p, q) => val[p]! - val[q]! || idx[p]! - idx[q]!);
  const v = pos.map((p) => val[p]!), k = pos.map((p) => idx[p]!);
  val.set(v, s);
  idx.set(k, s);
}

/**
 * numpy's scalar `aquicksort_<double>`: introsort (median-of-3 quicksort, insertion sort below
 * 16 elements, heapsort past depth 2·⌊log2 n⌋). Reproduces np.argsort's order among ties where
 * numpy takes this path (numpy 1.x without AVX-512 argsort; checked against numpy 2.4.6 with its
 * SIMD targets disabled).
 */
export function numpyArgsort(v: Float64Array): Uint32Array {
  const num = v.length;
  const t = new Uint32Array(num);
  for (let i = 0; i < num; i++) t[i] = i;
  if (num < 2) return t;
  const SMALL = 15;
  const stack: number[] = [], depths: number[] = [];
  let pl = 0, pr = num - 1;
  let cdepth = 2 * (31 - Math.clz32(num));
  const swap = (i: number, j: number): void => { const x = t[i]!; t[i] = t[j]!; t[j] = x; };
  for (;;) {
    if (cdepth < 0) {
      numpyAheapsort(v, t, pl, pr - pl + 1);
    } else {
      while (pr - pl > SMALL) {
        const pm = pl + ((pr - pl) >> 1);
        if (v[t[pm]!]! < v[t[pl]!]!) swap(pm, pl);
        if (v[t[pr]!]! < v[t[pm]!]!) swap(pr, pm);
        if (v[t[pm]!]! < v[t[pl]!]!) swap(pm, pl);
        const vp = v[t[pm]!]!;
        let pi = pl, pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi; while (v[t[pi]!]! < vp);
          do --pj; while (vp < v[t[pj]!]!);
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        // Push the larger partition, go on with the smaller.
        if (pi - pl < pr - pi) { stack.push(pi + 1, pr); pr = pi - 1; } else { stack.push(pl, pi - 1); pl = pi + 1; }
        depths.push(--cdepth);
      }
      for (let pi = pl + 1; pi <= pr; pi++) {
        const vi = t[pi]!, vp = v[vi]!;
        let pj = pi, pk = pi - 1;
        while (pj > pl && vp < v[t[pk]!]!) t[pj--] = t[pk--]!;
        t[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depths.pop()!;
  }
  return t;
}

/** numpy's aheapsort_ on t[start .. start+n) (1-based heap indexing as in the C). */
function numpyAheapsort(v: Float64Array, t: Uint32Array, start: number, n: number): void {
  const a = start - 1; // a + i addresses the heap's element i
  const sift = (i: number, j: number, tmp: number, len: number): number => {
    while (j <= len) {
      if (j < len && v[t[a + j]!]! < v[t[a + j + 1]!]!) j += 1;
      if (v[tmp]! < v[t[a + j]!]!) { t[a + i] = t[a + j]!; i = j; j += j; } else break;
    }
    return i;
  };
  for (let l = n >> 1; l > 0; --l) {
    const tmp = t[a + l]!;
    t[a + sift(l, l << 1, tmp, n)] = tmp;
  }
  for (; n > 1;) {
    const tmp = t[a + n]!;
    t[a + n] = t[a + 1]!;
    n -= 1;
    t[a + sift(1, 2, tmp, n)] = tmp;
  }
}
