/**
 * Order statistics without a full sort: Hoare-partition quickselect
 * (nth_element) on a Float64Array copy, average O(N). Hoare's scheme stops
 * both pointers on keys equal to the pivot, so columns with few distinct
 * values (1–5 star ratings) stay linear instead of degrading to O(N²).
 */

/** Rearranges `a` in place so that a[k] is the k-th smallest (0-based); returns it. */
export function selectInPlace(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  if (k < 0 || k > hi) throw new RangeError(`selectInPlace: k = ${k} outside [0, ${hi}]`);
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as the pivot value.
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Below this size a plain quickselect on a copy is cheapest. */
const BUCKET_SELECT_MIN = 4096;
const BUCKETS = 4096;

/**
 * The k-th largest value of x (1-based: k = 1 is the maximum), x left untouched.
 *
 * Large inputs use a bucket select: one pass for the range, one pass counting
 * values into 4096 equal-width buckets (bucket order respects value order,
 * since x ↦ floor((x − min)·scale) is monotone in floating point), then a
 * quickselect among the values of the one bucket holding the answer. Three
 * branch-light passes instead of quickselect's data-dependent partitioning.
 */
export function kthLargest(x: Float64Array, k: number): number {
  const n = x.length;
  if (k < 1 || k > n) throw new RangeError(`kthLargest: k = ${k} outside [1, ${n}]`);
  let mx = -Infinity;
  let mn = Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v > mx) mx = v;
    if (v < mn) mn = v;
  }
  if (k === 1) return mx;
  if (k === n) return mn;
  if (mn === mx) return mn;
  const scale = BUCKETS / (mx - mn);
  if (n < BUCKET_SELECT_MIN || !Number.isFinite(scale) || !(scale > 0)) return selectInPlace(x.slice(), n - k);
  const counts = new Int32Array(BUCKETS);
  const top = BUCKETS - 1;
  for (let i = 0; i < n; i++) {
    const b = ((x[i]! - mn) * scale) | 0;
    counts[b > top ? top : b]!++;
  }
  // Walk down from the highest bucket to the one holding the k-th largest.
  let above = 0;
  let t = top;
  while (above + counts[t]! < k) above += counts[t--]!;
  const inBucket = new Float64Array(counts[t]!);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const b = ((v - mn) * scale) | 0;
    if ((b > top ? top : b) === t) inBucket[j++] = v;
  }
  // The (k − above)-th largest within the bucket.
  return selectInPlace(inBucket, inBucket.length - (k - above));
}

/**
 * Mask of exactly K rows with the largest values; rows tied with the K-th
 * largest value are taken in index order (earlier rows first), so the subset
 * is deterministic. Returns the mask and the K-th largest value (the subset's minimum).
 */
export function topKMask(x: Float64Array, k: number): { mask: Uint8Array; threshold: number } {
  const n = x.length;
  const mask = new Uint8Array(n);
  if (k <= 0) return { mask, threshold: Infinity };
  if (k >= n) {
    mask.fill(1);
    let m = Infinity;
    for (let i = 0; i < n; i++) if (x[i]! < m) m = x[i]!;
    return { mask, threshold: m };
  }
  const thr = kthLargest(x, k);
  let above = 0;
  for (let i = 0; i < n; i++) {
    // Branch-free: the comparison is unpredictable for about half the rows.
    const m = +(x[i]! > thr);
    mask[i] = m;
    above += m;
  }
  let need = k - above;
  for (let i = 0; i < n && need > 0; i++) {
    if (x[i] === thr) {
      mask[i] = 1;
      need--;
    }
  }
  return { mask, threshold: thr };
}
