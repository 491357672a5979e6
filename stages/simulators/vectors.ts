/** Plain dense-vector helpers on row-major typed arrays (rows × dim). */

/** ⟨a[ai..ai+dim), b[bi..bi+dim)⟩ in double precision. */
export function dotRows(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += a[ai + k]! * b[bi + k]!;
  return s;
}

/**
 * Unit-length copies of the rows (zero rows stay zero), in float64 so cosines
 * of float32 embeddings are computed without a second rounding.
 */
export function unitRows(m: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    const norm = Math.sqrt(dotRows(m, o, m, o, dim));
    if (norm === 0) continue;
    for (let k = 0; k < dim; k++) out[o + k] = m[o + k]! / norm;
  }
  return out;
}

/** Normalise a vector in place to unit length (no-op on the zero vector). */
export function normaliseInPlace(v: Float64Array | Float32Array, offset = 0, dim = v.length): void {
  let s = 0;
  for (let k = 0; k < dim; k++) s += v[offset + k]! * v[offset + k]!;
  const norm = Math.sqrt(s);
  if (norm === 0) return;
  for (let k = 0; k < dim; k++) v[offset + k] = v[offset + k]! / norm;
}

/**
 * Indices of the k largest scores among indices [from, scores.length), best
 * first (ties broken by the smaller index). O(n log k) with a binary min-heap.
 */
export function topKIndices(scores: ArrayLike<number>, k: number, from = 0): Int32Array {
  const n = scores.length - from;
  const m = Math.max(0, Math.min(k, n));
  const heap = new Int32Array(m);
  let size = 0;
  // "a is worse than b": smaller score, or equal score and larger index.
  const worse = (a: number, b: number) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < size && worse(heap[l]!, heap[w]!)) w = l;
      if (r < size && worse(heap[r]!, heap[w]!)) w = r;
      if (w === i) return;
      const t = heap[i]!;
      heap[i] = heap[w]!;
      heap[w] = t;
      i = w;
    }
  };
  for (let idx = from; idx < scores.length; idx++) {
    if (size < m) {
      let i = size++;
      heap[i] = idx;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i]!, heap[p]!)) break;
        const t = heap[i]!;
        heap[i] = heap[p]!;
        heap[p] = t;
        i = p;
      }
    } else if (m > 0 && worse(heap[0]!, idx)) {
      heap[0] = idx;
      siftDown(0);
    }
  }
  const out = Array.from(heap.subarray(0, size));
  out.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
  return Int32Array.from(out);
}
