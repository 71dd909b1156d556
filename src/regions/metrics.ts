// Comparing two partitions of the same pixels, whatever numbers their labels carry.

/** Pairs among x items, x(x−1)/2 (exact in float64 up to ~9.4e7 items). */
const pairs = (x: number): number => (x * (x - 1)) / 2;

/** Renumbers labels 0..k−1 in order of first appearance; returns the new labels and k. */
function compact(a: ArrayLike<number>): { ids: Int32Array; k: number } {
  const ids = new Int32Array(a.length);
  const map = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    let id = map.get(v);
    if (id === undefined) map.set(v, (id = map.size));
    ids[i] = id;
  }
  return { ids, k: map.size };
}

/**
 * Adjusted Rand index (Hubert & Arabie 1985), as sklearn's adjusted_rand_score: 1 for the same
 * partition, about 0 for independent ones, negative below chance. When both partitions are
 * trivial in the same way (one cluster each, or all singletons) the index is 0/0; like sklearn
 * we return 1 there, since the partitions agree.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`adjustedRandIndex: ${a.length} vs ${b.length} labels`);
  const n = a.length;
  if (n < 2) return 1;
  const A = compact(a), B = compact(b);
  const ca = new Float64Array(A.k), cb = new Float64Array(B.k);
  const cell = new Map<number, number>(); // contingency table, sparse: key = i·kB + j
  for (let p = 0; p < n; p++) {
    const i = A.ids[p]!, j = B.ids[p]!;
    ca[i]!++;
    cb[j]!++;
    const key = i * B.k + j;
    cell.set(key, (cell.get(key) ?? 0) + 1);
  }
  let index = 0, sa = 0, sb = 0;
  for (const c of cell.values()) index += pairs(c);
  for (const c of ca) sa += pairs(c);
  for (const c of cb) sb += pairs(c);
  const expected = (sa * sb) / pairs(n);
  const max = (sa + sb) / 2;
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

/** True when a and b group the pixels identically (labels equal up to a renaming). */
export function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  const A = compact(a), B = compact(b);
  // First-appearance numbering is canonical: equal partitions give equal id sequences.
  return A.k === B.k && A.ids.every((v, i) => v === B.ids[i]);
}
