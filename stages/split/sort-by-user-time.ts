/**
 * The stable order the split needs: by user, then by timestamp, ties kept in
 * input order, as a permutation (Int32Array) of row indices; no per-row
 * objects.
 *
 * 1. A stable LSD radix sort on the user id (two 16-bit passes over the
 *    order-preserving key u XOR 2^31; a pass whose digit is constant, e.g. the
 *    high half when ids < 65536, is skipped): O(N).
 * 2. Within each user's run, a stable sort by the int64 timestamp, compared
 *    through its 32-bit halves (signed high word, then unsigned low word),
 *    gathered into user order first so a run's keys are contiguous: a linear
 *    check first (logs are usually already in time order), insertion sort for
 *    short runs, bottom-up merge sort for long ones.
 */

const RUN = 24;

/** Signed-high / unsigned-low views of an int64 column (little-endian, as on every platform Node runs on). */
export function int64Halves(ts: BigInt64Array): { hi: Int32Array; lo: Uint32Array } {
  return { hi: new Int32Array(ts.buffer, ts.byteOffset, ts.length * 2), lo: new Uint32Array(ts.buffer, ts.byteOffset, ts.length * 2) };
}

/** Stable sort of row indices by user id; returns the permutation. */
export function radixSortByUser(user: Int32Array): Int32Array {
  const n = user.length;
  let idx = new Int32Array(n);
  let keys = new Uint32Array(n);
  const c0 = new Int32Array(65537);
  const c1 = new Int32Array(65537);
  for (let i = 0; i < n; i++) {
    const k = (user[i]! ^ 0x80000000) >>> 0;
    keys[i] = k;
    idx[i] = i;
    c0[(k & 0xffff) + 1]!++;
    c1[(k >>> 16) + 1]!++;
  }
  let idx2 = new Int32Array(n);
  let keys2 = new Uint32Array(n);
  for (let pass = 0; pass < 2; pass++) {
    const c = pass === 0 ? c0 : c1;
    let trivial = false;
    for (let d = 1; d <= 65536; d++) {
      if (c[d] === n) trivial = true;
      c[d]! += c[d - 1]!;
    }
    if (trivial) continue;
    const shift = pass * 16;
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      const j = c[(k >>> shift) & 0xffff]!++;
      keys2[j] = k;
      idx2[j] = idx[i]!;
    }
    [idx, idx2] = [idx2, idx];
    [keys, keys2] = [keys2, keys];
  }
  return idx;
}

/**
 * Sort idx[s..e) stably by the key (hi[v], lo[v]) of each entry v (signed high
 * word, unsigned low word); `tmp` must hold at least e − s entries.
 */
export function sortRunByTime(idx: Int32Array, s: number, e: number, hi: Int32Array, lo: Uint32Array, tmp: Int32Array): void {
  // Already ordered? (the common case for logs written in time order)
  let sorted = true;
  for (let j = s + 1; j < e; j++) {
    const a = idx[j - 1]!;
    const b = idx[j]!;
    const ha = hi[a]!;
    const hb = hi[b]!;
    if (hb < ha || (hb === ha && lo[b]! < lo[a]!)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  // Insertion-sort runs of RUN rows, then merge runs pairwise (stable: left wins ties).
  for (let r = s; r < e; r += RUN) insertionSort(idx, r, Math.min(e, r + RUN), hi, lo);
  let src = idx;
  let dst = tmp;
  let srcOff = s;
  let dstOff = 0;
  const len = e - s;
  if (len <= RUN) return;
  for (let width = RUN; width < len; width *= 2) {
    for (let a = 0; a < len; a += 2 * width) {
      const m = Math.min(len, a + width);
      const b = Math.min(len, a + 2 * width);
      let i = a;
      let j = m;
      let o = a;
      while (i < m && j < b) {
        const x = src[srcOff + i]!;
        const y = src[srcOff + j]!;
        const hx = hi[x]!;
        const hy = hi[y]!;
        if (hy < hx || (hy === hx && lo[y]! < lo[x]!)) {
          dst[dstOff + o++] = y;
          j++;
        } else {
          dst[dstOff + o++] = x;
          i++;
        }
      }
      while (i < m) dst[dstOff + o++] = src[srcOff + i++]!;
      while (j < b) dst[dstOff + o++] = src[srcOff + j++]!;
    }
    [src, dst] = [dst, src];
    [srcOff, dstOff] = [dstOff, srcOff];
  }
  if (src !== idx) idx.set(src.subarray(srcOff, srcOff + len), s);
}

function insertionSort(idx: Int32Array, s: number, e: number, hi: Int32Array, lo: Uint32Array): void {
  for (let j = s + 1; j < e; j++) {
    const x = idx[j]!;
    const hx = hi[x]!;
    const lx = lo[x]!;
    let k = j - 1;
    while (k >= s) {
      const y = idx[k]!;
      const hy = hi[y]!;
      if (hy > hx || (hy === hx && lo[y]! > lx)) {
        idx[k + 1] = y;
        k--;
      } else break;
    }
    idx[k + 1] = x;
  }
}

/**
 * The full order: rows sorted by (user, timestamp), stable. Returns the
 * permutation and the user runs: run u covers perm[runStart[u] .. runStart[u+1]).
 * The timestamps are first gathered into user order, so each run's sort reads
 * a contiguous slice of keys (cache-friendly) rather than scattered rows.
 */
export function sortByUserThenTime(user: Int32Array, timestamp: BigInt64Array): { perm: Int32Array; runStart: Int32Array; runUser: Int32Array } {
  const n = user.length;
  const byUser = radixSortByUser(user);
  const { hi, lo } = int64Halves(timestamp);
  const keyHi = new Int32Array(n);
  const keyLo = new Uint32Array(n);
  let runs = 0;
  for (let i = 0; i < n; i++) {
    const p = byUser[i]!;
    keyHi[i] = hi[2 * p + 1]!;
    keyLo[i] = lo[2 * p]!;
    if (i === 0 || user[p] !== user[byUser[i - 1]!]) runs++;
  }
  const runStart = new Int32Array(runs + 1);
  const runUser = new Int32Array(runs);
  let r = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || user[byUser[i]!] !== user[byUser[i - 1]!]) {
      runStart[r] = i;
      runUser[r++] = user[byUser[i]!]!;
    }
  }
  runStart[runs] = n;
  let maxRun = 0;
  for (let u = 0; u < runs; u++) maxRun = Math.max(maxRun, runStart[u + 1]! - runStart[u]!);
  // Sort positions within each run by their gathered keys, then compose with the user order.
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const tmp = new Int32Array(maxRun);
  for (let u = 0; u < runs; u++) sortRunByTime(order, runStart[u]!, runStart[u + 1]!, keyHi, keyLo, tmp);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = byUser[order[i]!]!;
  return { perm, runStart, runUser };
}
