/**
 * Ranking metrics of the validation targets during training (for early
 * stopping on ndcg@10, hr@10 or mrr): each held-out context is scored
 * against the whole catalog, its history excluded as in evaluate_ranking
 * (ranking-metrics.ts), and the per-target values are averaged.
 */
import { metricValuesOfRank, rankingMetricNames, targetRanks } from '../eval/ranking-metrics.js';
import type { SasrecPolicy } from './sasrec-policy.js';

const KS = [10] as const;
/** Contexts scored at once (bounds the [rows × catalog] score buffer). */
const ROWS_PER_CHUNK = 256;

/** Mean ndcg@10, hr@10 and mrr of `targets` given `contexts` under `policy`. */
export function validationRankingMetrics(policy: Pick<SasrecPolicy, 'logitsSync' | 'numItems'>, held: { offsets: Int32Array; values: Int32Array; targets: Int32Array }): Record<string, number> {
  const names = rankingMetricNames(KS);
  const sums = new Float64Array(names.length);
  const rows = held.targets.length;
  const values = new Float64Array(names.length);
  for (let s = 0; s < rows; s += ROWS_PER_CHUNK) {
    const e = Math.min(rows, s + ROWS_PER_CHUNK);
    const base = held.offsets[s]!;
    const contexts = { kind: 'list' as const, offsets: Int32Array.from(held.offsets.subarray(s, e + 1), (o) => o - base), values: held.values.subarray(base, held.offsets[e]!) };
    const ranks = targetRanks(policy.logitsSync(contexts), policy.numItems, held.targets.subarray(s, e), contexts);
    for (const r of ranks) {
      metricValuesOfRank(r, KS, values);
      for (let i = 0; i < names.length; i++) sums[i]! += values[i]!;
    }
  }
  return Object.fromEntries(names.map((n, i) => [n, rows ? sums[i]! / rows : NaN]));
}
