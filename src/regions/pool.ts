// Region statistics for the pipeline: per-region means of a planar float tensor (curve maps,
// brightness) over a label map, and label maps brought down to a tensor's lower resolution.

/** A float32 planar tensor: dims [C, H, W] or [1, C, H, W] (a HostTensor<'float32'> fits). */
export interface PlanarF32 {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface RegionMeans {
  /** [K, C] row-major: means[k·C + c]. A region no tensor pixel samples has mean 0. */
  readonly means: Float32Array;
  /** Tensor pixels that fell in each region (0 marks an empty region). */
  readonly counts: Int32Array;
  readonly channels: number;
}

function chw(t: PlanarF32): [number, number, number] {
  const d = t.dims;
  const [c, h, w] = d.length === 4 && d[0] === 1 ? [d[1]!, d[2]!, d[3]!] : d.length === 3 ? [d[0]!, d[1]!, d[2]!] : [-1, -1, -1];
  if (c < 0) throw new Error(`regionMeans: tensor dims [${d.join(',')}] are not [C,H,W] or [1,C,H,W]`);
  if (c * h * w !== t.data.length) throw new Error(`regionMeans: dims [${d.join(',')}] need ${c * h * w} values, got ${t.data.length}`);
  return [c, h, w];
}

/**
 * Per-region means of `tensor` over `labels` (row-major, height × width, values 0..k−1).
 * The tensor may be at the labels' resolution or lower: by `downscale` d (its size then ⌊·/d⌋
 * or ⌈·/d⌉ of the labels'; sx = sy = d), or, without it, by the ratios sx = width / tensor
 * width, sy = height / tensor height. A tensor pixel (tx, ty) takes the label of the pixel
 * nearest its centre, (⌊(tx + ½)·sx⌋, ⌊(ty + ½)·sy⌋) clamped: for integer d, ⌊d/2⌋ into its
 * d × d block. Sums run in float64.
 */
export function regionMeans(labels: Int32Array, width: number, height: number, k: number, tensor: PlanarF32, downscale?: number): RegionMeans {
  if (labels.length !== width * height) throw new Error(`regionMeans: ${labels.length} labels for ${width}x${height}`);
  const [C, th, tw] = chw(tensor);
  const fits = (full: number, low: number, d: number): boolean => low === Math.floor(full / d) || low === Math.ceil(full / d);
  if (downscale !== undefined && !(downscale > 0 && fits(width, tw, downscale) && fits(height, th, downscale))) {
    throw new Error(`regionMeans: a ${tw}x${th} tensor is not ${width}x${height} downscaled by ${downscale}`);
  }
  const sx = downscale ?? width / tw, sy = downscale ?? height / th;
  // Label of each tensor pixel, by nearest sampling.
  const colX = new Int32Array(tw);
  for (let x = 0; x < tw; x++) colX[x] = Math.min(width - 1, Math.floor((x + 0.5) * sx));
  const tl = new Int32Array(th * tw);
  for (let y = 0; y < th; y++) {
    const row = Math.min(height - 1, Math.floor((y + 0.5) * sy)) * width;
    for (let x = 0; x < tw; x++) {
      const l = labels[row + colX[x]!]!;
      if (l < 0 || l >= k) throw new Error(`regionMeans: label ${l} outside 0..${k - 1}`);
      tl[y * tw + x] = l;
    }
  }
  const counts = new Int32Array(k);
  for (let i = 0; i < tl.length; i++) counts[tl[i]!]!++;
  const sums = new Float64Array(k * C);
  const plane = th * tw;
  for (let c = 0; c < C; c++) {
    const off = c * plane;
    for (let i = 0; i < plane; i++) { const s = tl[i]! * C + c; sums[s] = sums[s]! + tensor.data[off + i]!; }
  }
  const means = new Float32Array(k * C);
  for (let r = 0; r < k; r++) {
    const cnt = counts[r]!;
    if (cnt > 0) for (let c = 0; c < C; c++) means[r * C + c] = sums[r * C + c]! / cnt;
  }
  return { means, counts, channels: C };
}

export interface LabelGrid {
  readonly labels: Int32Array;
  readonly width: number;
  readonly height: number;
}

/**
 * A label map at 1/k resolution: each output cell covers a k × k block (blocks at the right and
 * bottom edges are cut short; output size ⌈width/k⌉ × ⌈height/k⌉) and takes the block's
 * **majority** label; ties go to the tied label met first in the block's raster order. Majority
 * rather than the centre sample because a thin sliver through the block centre should not win a
 * block the neighbouring region mostly fills. Pass mode 'centre' for the pixel nearest the block
 * centre instead (⌊k/2⌋ into the block, clamped), which matches regionMeans' sampling.
 * Labels must be non-negative.
 */
export function labelsDownscale(labels: Int32Array, width: number, height: number, k: number, mode: 'majority' | 'centre' = 'majority'): LabelGrid {
  if (labels.length !== width * height) throw new Error(`labelsDownscale: ${labels.length} labels for ${width}x${height}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`labelsDownscale: factor ${k} is not a positive integer`);
  const ow = Math.ceil(width / k), oh = Math.ceil(height / k);
  const out = new Int32Array(ow * oh);
  if (mode === 'centre') {
    const half = k >> 1;
    for (let y = 0; y < oh; y++) {
      const row = Math.min(height - 1, y * k + half) * width;
      for (let x = 0; x < ow; x++) out[y * ow + x] = labels[row + Math.min(width - 1, x * k + half)]!;
    }
    return { labels: out, width: ow, height: oh };
  }
  let maxLabel = -1;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0) throw new Error(`labelsDownscale: negative label ${l}`);
    if (l > maxLabel) maxLabel = l;
  }
  // Counts per label, reset through the list of labels each block touched: O(k²) per block.
  const count = new Int32Array(maxLabel + 1);
  const seen = new Int32Array(k * k);
  for (let by = 0; by < oh; by++) {
    const y1 = Math.min(height, by * k + k);
    for (let bx = 0; bx < ow; bx++) {
      const x1 = Math.min(width, bx * k + k);
      let nSeen = 0, bestN = 0;
      for (let y = by * k; y < y1; y++) {
        for (let x = bx * k, p = y * width + x; x < x1; x++, p++) {
          const l = labels[p]!;
          if (count[l] === 0) seen[nSeen++] = l;
          const c = ++count[l]!;
          if (c > bestN) bestN = c;
        }
      }
      let best = -1;
      for (let i = 0; i < nSeen; i++) { // `seen` is in first-met order: the tie rule
        const l = seen[i]!;
        if (count[l] === bestN) { best = l; break; }
      }
      for (let i = 0; i < nSeen; i++) count[seen[i]!] = 0;
      out[by * ow + bx] = best;
    }
  }
  return { labels: out, width: ow, height: oh };
}
