/** Small operations on context list columns that evaluation needs. */
import type { ListColumn } from '../core/batch.js';

/** Each context repeated k times in place: row i·k + j is context i (to score k samples per context). */
export function repeatContexts(contexts: ListColumn<Int32Array>, k: number): ListColumn<Int32Array> {
  const rows = contexts.offsets.length - 1;
  const offsets = new Int32Array(rows * k + 1);
  let total = 0;
  for (let r = 0; r < rows; r++) total += (contexts.offsets[r + 1]! - contexts.offsets[r]!) * k;
  const values = new Int32Array(total);
  let pos = 0;
  for (let r = 0; r < rows; r++) {
    const seg = contexts.values.subarray(contexts.offsets[r]!, contexts.offsets[r + 1]!);
    for (let j = 0; j < k; j++) {
      values.set(seg, pos);
      pos += seg.length;
      offsets[r * k + j + 1] = pos;
    }
  }
  return { kind: 'list', offsets, values };
}

/** Each value repeated k times in place. */
export function repeatEach(values: ArrayLike<number>, k: number): Int32Array {
  const out = new Int32Array(values.length * k);
  for (let i = 0; i < values.length; i++) out.fill(values[i]!, i * k, i * k + k);
  return out;
}

/**
 * The highest-scoring item of each row (the decoded top-1 recommendation):
 * padding 0 is never chosen, nor, with `excludeHistory`, an item of the
 * context; ties go to the lowest item id. −1 when no candidate remains.
 */
export function topItems(scores: Float32Array | Float64Array, numItems: number, contexts: ListColumn<Int32Array>, excludeHistory = true): Int32Array {
  const rows = contexts.offsets.length - 1;
  if (scores.length !== rows * numItems) throw new Error(`topItems: ${scores.length} scores for ${rows} rows × ${numItems} items`);
  const out = new Int32Array(rows);
  const stamp = new Int32Array(numItems);
  for (let r = 0; r < rows; r++) {
    const mark = r + 1;
    if (excludeHistory) {
      for (let p = contexts.offsets[r]!, e = contexts.offsets[r + 1]!; p < e; p++) {
        const j = contexts.values[p]!;
        if (j >= 0 && j < numItems) stamp[j] = mark;
      }
    }
    let best = -1;
    let bestScore = -Infinity;
    const base = r * numItems;
    for (let j = 1; j < numItems; j++) {
      if (excludeHistory && stamp[j] === mark) continue;
      const raw = scores[base + j]!;
      const s = Number.isNaN(raw) ? -Infinity : raw;
      if (best < 0 || s > bestScore) {
        best = j;
        bestScore = s;
      }
    }
    out[r] = best;
  }
  return out;
}
