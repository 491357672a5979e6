/**
 * The K best items of each row of catalog scores, under the candidate rule
 * of evaluation (stages/eval/ranking-metrics.ts, contexts.ts topItems): item
 * 0 (padding) is never a candidate, nor, with `excludeHistory`, an item of
 * the row's context; ties go to the lower item id; NaN scores rank as −∞.
 * A row with fewer than K candidates gets them all.
 */
import type { ListColumn } from '../core/batch.js';

export interface TopK {
  /** Rows' lists concatenated: row r's items are items[offsets[r] .. offsets[r+1]). */
  offsets: Int32Array;
  items: Int32Array;
  scores: Float32Array;
}

export function topKPerRow(scores: Float32Array | Float64Array, numItems: number, contexts: ListColumn<Int32Array>, k: number, excludeHistory = true): TopK {
  const rows = contexts.offsets.length - 1;
  if (scores.length !== rows * numItems) throw new Error(`topKPerRow: ${scores.length} scores for ${rows} rows × ${numItems} items`);
  const offsets = new Int32Array(rows + 1);
  const items = new Int32Array(rows * Math.min(k, Math.max(0, numItems - 1)));
  const best = new Float32Array(items.length);
  const stamp = new Int32Array(numItems);
  // The current row's list, best first: ids and scores (ordered by score desc, then id asc).
  const ids = new Int32Array(k);
  const vals = new Float64Array(k);
  let out = 0;
  for (let r = 0; r < rows; r++) {
    const mark = r + 1;
    if (excludeHistory) {
      for (let p = contexts.offsets[r]!, e = contexts.offsets[r + 1]!; p < e; p++) {
        const j = contexts.values[p]!;
        if (j >= 0 && j < numItems) stamp[j] = mark;
      }
    }
    let n = 0;
    const base = r * numItems;
    for (let j = 1; j < numItems; j++) {
      if (excludeHistory && stamp[j] === mark) continue;
      const raw = scores[base + j]!;
      const s = Number.isNaN(raw) ? -Infinity : raw;
      // Items arrive in ascending id, so an equal score never displaces an earlier one.
      if (n === k && !(s > vals[k - 1]!)) continue;
      let i = n < k ? n++ : k - 1;
      while (i > 0 && s > vals[i - 1]!) {
        ids[i] = ids[i - 1]!;
        vals[i] = vals[i - 1]!;
        i--;
      }
      ids[i] = j;
      vals[i] = s;
    }
    for (let i = 0; i < n; i++) {
      items[out] = ids[i]!;
      best[out] = vals[i]!;
      out++;
    }
    offsets[r + 1] = out;
  }
  return { offsets, items: items.subarray(0, out), scores: best.subarray(0, out) };
}
