/**
 * Ranking metrics of the validation targets during training (for early
 * stopping on ndcg@10, hr@10 or mrr). Each held-out context is scored
 * against the whole catalog and its target ranked among the items outside
 * its history, with the definitions of evaluate_ranking (ranking-metrics.ts;
 * written again here because trainers never import evaluation):
 *
 *   rank = #{ j ∈ 1..N−1, j not in the history (the target aside) : s_j ≥ s_target }
 *   ndcg@10 = [rank ≤ 10] / log₂(rank + 1),  hr@10 = [rank ≤ 10],  mrr = 1 / rank
 *
 * averaged over the validation targets.
 */
import type { SasrecPolicy } from './sasrec-policy.js';

/** Contexts scored at once (bounds the [rows × catalog] score buffer). */
const ROWS_PER_CHUNK = 256;
const K = 10;

/** Rank of `target` among items 1..numItems−1 of row `r` of `scores`, items of `history` (other than the target) excluded. */
function rankOf(scores: Float32Array, r: number, numItems: number, target: number, history: Int32Array, seen: Int32Array): number {
  const base = r * numItems;
  const st = scores[base + target]!;
  if (Number.isNaN(st)) return numItems - 1;
  let rank = 0;
  for (let j = 1; j < numItems; j++) if (scores[base + j]! >= st) rank++;
  // History items scored at or above the target do not count; each item once.
  const mark = r + 1;
  for (const j of history) {
    if (j < 1 || j >= numItems || j === target || seen[j] === mark) continue;
    seen[j] = mark;
    if (scores[base + j]! >= st) rank--;
  }
  return rank;
}

/** Mean ndcg@10, hr@10 and mrr of `held.targets` given their contexts under `policy`. */
export function validationRankingMetrics(
  policy: Pick<SasrecPolicy, 'logitsSync' | 'numItems'>,
  held: { offsets: Int32Array; values: Int32Array; targets: Int32Array },
): Record<'ndcg@10' | 'hr@10' | 'mrr', number> {
  const n = policy.numItems;
  const rows = held.targets.length;
  let ndcg = 0;
  let hr = 0;
  let mrr = 0;
  for (let s = 0; s < rows; s += ROWS_PER_CHUNK) {
    const e = Math.min(rows, s + ROWS_PER_CHUNK);
    const base = held.offsets[s]!;
    const offsets = Int32Array.from(held.offsets.subarray(s, e + 1), (o) => o - base);
    const values = held.values.subarray(base, held.offsets[e]!);
    const scores = policy.logitsSync({ kind: 'list', offsets, values });
    const seen = new Int32Array(n);
    for (let r = 0; r < e - s; r++) {
      const rank = rankOf(scores, r, n, held.targets[s + r]!, values.subarray(offsets[r]!, offsets[r + 1]!), seen);
      if (rank <= K) {
        ndcg += 1 / Math.log2(rank + 1);
        hr += 1;
      }
      mrr += 1 / rank;
    }
  }
  return { 'ndcg@10': rows ? ndcg / rows : NaN, 'hr@10': rows ? hr / rows : NaN, mrr: rows ? mrr / rows : NaN };
}
