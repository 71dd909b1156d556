// SLIC superpixels (Achanta et al., TPAMI 2012), in the spirit of skimage's
// slic(image, n_segments, compactness, max_num_iter=10, convert2lab=True, enforce_connectivity=True):
// k-means in CIELAB + (x, y), each centre searching only a 2S × 2S window, with distance
// D² = ‖Δlab‖² + (‖Δxy‖ / S)² · m² (S the grid step, m the compactness).
//
// Where we differ from skimage, and why:
//  - Seeds move to the lowest-gradient pixel of their 3×3 neighbourhood (the paper's step; skimage
//    skips it), so no centre starts on an edge.
//  - Connectivity: every 4-connected piece smaller than minSizeFactor · N/K joins the *adjacent*
//    piece with the closest mean colour (skimage and the paper take whichever neighbour the raster
//    scan met first, which can be across a strong edge). Joined pieces touch, so every final label
//    is one 4-connected region.
// Labels come out 0..count−1 in order of first appearance in raster order.
import type { RgbImage } from '../image/types.js';
import type { Segmentation } from './felzenszwalb.js';

export interface SlicOptions {
  /** Wanted number of superpixels (approximate: a grid of about this many seeds). */
  readonly nSegments: number;
  /** Colour vs space balance m; higher gives more compact, grid-like superpixels. Default 10. */
  readonly compactness?: number;
  /** k-means iterations. Default 10. */
  readonly iterations?: number;
  /** Pieces smaller than this fraction of N/K are joined to a neighbour. Default 0.5 (skimage). */
  readonly minSizeFactor?: number;
}

export function slic(img: RgbImage, o: SlicOptions): Segmentation {
  const { width: w, height: h } = img;
  const n = w * h;
  if (img.data.length !== n * 3) throw new Error(`slic: ${w}x${h} RGB needs ${n * 3} bytes, got ${img.data.length}`);
  if (n === 0) return { labels: new Int32Array(0), count: 0 };
  const m = o.compactness ?? 10;
  const iterations = o.iterations ?? 10;
  const want = Math.max(1, Math.min(n, Math.round(o.nSegments)));

  const [L, A, B] = rgbToLab(img);

  // Seeds on a regular grid of about `want` cells.
  const S = Math.sqrt(n / want);
  const ny = Math.max(1, Math.min(h, Math.round(h / S))), nx = Math.max(1, Math.min(w, Math.round(w / S)));
  const k = ny * nx;
  const cl = new Float64Array(k), ca = new Float64Array(k), cb = new Float64Array(k), cx = new Float64Array(k), cy = new Float64Array(k);
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const c = j * nx + i;
    const p = lowestGradient(L, A, B, w, h, Math.floor(((i + 0.5) * w) / nx), Math.floor(((j + 0.5) * h) / ny));
    const px = p % w, py = (p - px) / w;
    cl[c] = L[p]!; ca[c] = A[p]!; cb[c] = B[p]!; cx[c] = px; cy[c] = py;
  }

  // Start from the grid cells, so a pixel no window reaches keeps a sensible label.
  const label = new Int32Array(n);
  for (let y = 0; y < h; y++) {
    const j = Math.min(ny - 1, Math.floor((y * ny) / h));
    for (let x = 0; x < w; x++) label[y * w + x] = j * nx + Math.min(nx - 1, Math.floor((x * nx) / w));
  }
  const dist = new Float64Array(n);
  const step = Math.max(w / nx, h / ny); // grid spacing: the window half-size and spatial scale
  const r = Math.ceil(step);
  const sw = (m / step) * (m / step);
  const sum = new Float64Array(k * 6); // l, a, b, x, y, count per centre
  for (let it = 0; it < iterations; it++) {
    dist.fill(Infinity);
    for (let c = 0; c < k; c++) {
      const x0 = Math.max(0, Math.floor(cx[c]! - r)), x1 = Math.min(w - 1, Math.ceil(cx[c]! + r));
      const y0 = Math.max(0, Math.floor(cy[c]! - r)), y1 = Math.min(h - 1, Math.ceil(cy[c]! + r));
      const l0 = cl[c]!, a0 = ca[c]!, b0 = cb[c]!, xc = cx[c]!, yc = cy[c]!;
      for (let y = y0; y <= y1; y++) {
        const dy = y - yc, dyy = dy * dy * sw;
        for (let x = x0, p = y * w + x0; x <= x1; x++, p++) {
          const dl = L[p]! - l0, da = A[p]! - a0, db = B[p]! - b0, dx = x - xc;
          const d = dl * dl + da * da + db * db + dx * dx * sw + dyy;
          if (d < dist[p]!) { dist[p] = d; label[p] = c; }
        }
      }
    }
    sum.fill(0);
    for (let y = 0, p = 0; y < h; y++) for (let x = 0; x < w; x++, p++) {
      const s = label[p]! * 6;
      sum[s] = sum[s]! + L[p]!; sum[s + 1] = sum[s + 1]! + A[p]!; sum[s + 2] = sum[s + 2]! + B[p]!;
      sum[s + 3] = sum[s + 3]! + x; sum[s + 4] = sum[s + 4]! + y; sum[s + 5] = sum[s + 5]! + 1;
    }
    for (let c = 0; c < k; c++) {
      const cnt = sum[c * 6 + 5]!;
      if (cnt === 0) continue; // an empty centre stays where it was
      cl[c] = sum[c * 6]! / cnt; ca[c] = sum[c * 6 + 1]! / cnt; cb[c] = sum[c * 6 + 2]! / cnt;
      cx[c] = sum[c * 6 + 3]! / cnt; cy[c] = sum[c * 6 + 4]! / cnt;
    }
  }
  return enforceConnectivity(label, L, A, B, w, h, Math.floor((o.minSizeFactor ?? 0.5) * (n / want)));
}

/** sRGB bytes → CIELAB (D65, skimage's rgb2lab constants) as three float32 planes. */
export function rgbToLab(img: RgbImage): [Float32Array, Float32Array, Float32Array] {
  const n = img.width * img.height, d = img.data;
  const lin = new Float64Array(256);
  for (let v = 0; v < 256; v++) {
    const c = v / 255;
    lin[v] = c > 0.04045 ? ((c + 0.055) / 1.055) ** 2.4 : c / 12.92;
  }
  const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const L = new Float32Array(n), A = new Float32Array(n), B = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = lin[d[j]!]!, g = lin[d[j + 1]!]!, b = lin[d[j + 2]!]!;
    const fx = f((0.412453 * r + 0.35758 * g + 0.180423 * b) / 0.95047);
    const fy = f(0.212671 * r + 0.71516 * g + 0.072169 * b);
    const fz = f((0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.08883);
    L[i] = 116 * fy - 16;
    A[i] = 500 * (fx - fy);
    B[i] = 200 * (fy - fz);
  }
  return [L, A, B];
}

/** The pixel of lowest Lab gradient magnitude in the 3×3 around (x, y) (the paper's seed move). */
function lowestGradient(L: Float32Array, A: Float32Array, B: Float32Array, w: number, h: number, x: number, y: number): number {
  let best = y * w + x, bestG = Infinity;
  for (let yy = Math.max(1, y - 1); yy <= Math.min(h - 2, y + 1); yy++) {
    for (let xx = Math.max(1, x - 1); xx <= Math.min(w - 2, x + 1); xx++) {
      const p = yy * w + xx;
      const g = sq(L, A, B, p + 1, p - 1) + sq(L, A, B, p + w, p - w);
      if (g < bestG) { bestG = g; best = p; }
    }
  }
  return best;
}

const sq = (L: Float32Array, A: Float32Array, B: Float32Array, p: number, q: number): number => {
  const dl = L[p]! - L[q]!, da = A[p]! - A[q]!, db = B[p]! - B[q]!;
  return dl * dl + da * da + db * db;
};

/**
 * Splits each cluster into its 4-connected pieces, joins every piece smaller than `minSize` (in
 * ascending size) to the adjacent piece of closest mean Lab colour, and numbers the result.
 */
function enforceConnectivity(label: Int32Array, L: Float32Array, A: Float32Array, B: Float32Array, w: number, h: number, minSize: number): Segmentation {
  const n = w * h;
  // 1. Connected pieces (4-neighbourhood, same cluster), by flood fill from raster order.
  const comp = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const sizes: number[] = [], sl: number[] = [], sa: number[] = [], sb: number[] = [];
  for (let s = 0; s < n; s++) {
    if (comp[s] !== -1) continue;
    const id = sizes.length, c = label[s]!;
    let head = 0, tail = 0, l = 0, a = 0, b = 0;
    comp[s] = id;
    queue[tail++] = s;
    while (head < tail) {
      const p = queue[head++]!;
      l += L[p]!; a += A[p]!; b += B[p]!;
      const x = p % w;
      if (x > 0 && comp[p - 1] === -1 && label[p - 1] === c) { comp[p - 1] = id; queue[tail++] = p - 1; }
      if (x < w - 1 && comp[p + 1] === -1 && label[p + 1] === c) { comp[p + 1] = id; queue[tail++] = p + 1; }
      if (p >= w && comp[p - w] === -1 && label[p - w] === c) { comp[p - w] = id; queue[tail++] = p - w; }
      if (p + w < n && comp[p + w] === -1 && label[p + w] === c) { comp[p + w] = id; queue[tail++] = p + w; }
    }
    sizes.push(tail); sl.push(l); sa.push(a); sb.push(b);
  }
  const nc = sizes.length;
  const size = Float64Array.from(sizes), ml = Float64Array.from(sl), ma = Float64Array.from(sa), mb = Float64Array.from(sb);
  const parent = new Int32Array(nc);
  for (let i = 0; i < nc; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) { const g = parent[parent[i]!]!; parent[i] = g; i = g; }
    return i;
  };

  const small: number[] = [];
  for (let i = 0; i < nc; i++) if (size[i]! < minSize) small.push(i);
  if (small.length > 0 && nc > 1) {
    // 2. Neighbours of each small piece, as a CSR list built from horizontal and vertical pairs.
    const pairsA: number[] = [], pairsB: number[] = [];
    const note = (p: number, q: number): void => {
      const u = comp[p]!, v = comp[q]!;
      if (u === v) return;
      if (size[u]! < minSize) { pairsA.push(u); pairsB.push(v); }
      if (size[v]! < minSize) { pairsA.push(v); pairsB.push(u); }
    };
    for (let y = 0, p = 0; y < h; y++) for (let x = 0; x < w; x++, p++) {
      if (x < w - 1) note(p, p + 1);
      if (y < h - 1) note(p, p + w);
    }
    const start = new Int32Array(nc + 1);
    for (const u of pairsA) start[u + 1]!++;
    for (let i = 0; i < nc; i++) start[i + 1] = start[i + 1]! + start[i]!;
    const fill = start.slice(0, nc), nbr = new Int32Array(pairsA.length);
    for (let e = 0; e < pairsA.length; e++) nbr[fill[pairsA[e]!]!++] = pairsB[e]!;

    // 3. Join, smallest first, into the closest-coloured neighbour (means = sums / sizes).
    small.sort((i, j) => size[i]! - size[j]! || i - j);
    for (const c of small) {
      const rc = find(c);
      if (size[rc]! >= minSize) continue;
      const l0 = ml[rc]! / size[rc]!, a0 = ma[rc]! / size[rc]!, b0 = mb[rc]! / size[rc]!;
      let best = -1, bestD = Infinity;
      for (let e = start[c]!; e < start[c + 1]!; e++) {
        const rq = find(nbr[e]!);
        if (rq === rc) continue;
        const dl = ml[rq]! / size[rq]! - l0, da = ma[rq]! / size[rq]! - a0, db = mb[rq]! / size[rq]! - b0;
        const d = dl * dl + da * da + db * db;
        if (d < bestD) { bestD = d; best = rq; }
      }
      if (best < 0) continue;
      parent[rc] = best;
      size[best] = size[best]! + size[rc]!;
      ml[best] = ml[best]! + ml[rc]!; ma[best] = ma[best]! + ma[rc]!; mb[best] = mb[best]! + mb[rc]!;
    }
  }

  // 4. Number the surviving pieces by first appearance.
  const out = new Int32Array(n);
  const num = new Int32Array(nc).fill(-1);
  let count = 0;
  for (let p = 0; p < n; p++) {
    const r = find(comp[p]!);
    let l = num[r]!;
    if (l < 0) num[r] = l = count++;
    out[p] = l;
  }
  return { labels: out, count };
}
