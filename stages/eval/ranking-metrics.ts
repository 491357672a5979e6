/**
 * Full-catalog ranking metrics (SPEC S7; paper 000 §6, Tables 3–6).
 *
 * For one test case (context s, target item a) and the model's scores over the
 * whole catalog:
 *
 *   rank(a) = 1 + #{j candidate, j ≠ a : score_j > score_a}
 *               + #{j candidate, j ≠ a : score_j = score_a}
 *
 * i.e. every other item tied with the target is counted against the model (a
 * constant scorer gets the worst rank, not the best). Candidates are the items
 * 1..numItems−1: the padding index 0 is never ranked, and, with
 * `excludeHistory` (the default), the items already in the context are removed
 * from the competition (the usual "filtered" protocol: a user is not
 * recommended what they already consumed). The target itself always stays a
 * candidate, even when it also appears in the history (a re-consumption).
 *
 *   HR@K   = 1[rank ≤ K]
 *   NDCG@K = 1[rank ≤ K] / log2(rank + 1)      (one relevant item: IDCG = 1)
 *   MRR    = 1 / rank
 *
 * A NaN score is never "above" anything; a NaN target score gets the worst
 * rank (the number of candidates).
 */
import type { ListColumn } from '../core/batch.js';

export const DEFAULT_KS: readonly number[] = [10, 50];

export interface RankOptions {
  /** Remove the context's items (other than the target) from the candidates (default true). */
  excludeHistory?: boolean;
  /** Filled with the number of candidates of each row when given (length ≥ rows). */
  candidates?: Int32Array;
}

/**
 * Rank of each row's target among the catalog, from row-major scores
 * [rows × numItems]. Throws when a target lies outside 1..numItems−1.
 */
export function targetRanks(
  scores: Float32Array | Float64Array,
  numItems: number,
  targets: Int32Array,
  contexts: ListColumn<Int32Array> | undefined,
  opts: RankOptions = {},
): Int32Array {
  const rows = targets.length;
  if (scores.length !== rows * numItems) {
    throw new Error(`targetRanks: scores have ${scores.length} values, expected ${rows} rows × ${numItems} items = ${rows * numItems}`);
  }
  if (contexts && contexts.offsets.length - 1 !== rows) {
    throw new Error(`targetRanks: ${contexts.offsets.length - 1} contexts for ${rows} targets`);
  }
  const exclude = (opts.excludeHistory ?? true) && contexts !== undefined;
  const ranks = new Int32Array(rows);
  // stamp[j] === row + 1 marks item j as already excluded for this row (dedupes repeated history items).
  const stamp = exclude ? new Int32Array(numItems) : undefined;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (!(t >= 1 && t < numItems)) {
      throw new Error(`targetRanks: row ${r}: target item ${t} is outside the catalog 1..${numItems - 1} (0 is padding)`);
    }
    const base = r * numItems;
    let nCandidates = numItems - 1;
    let excludedAtOrAbove = 0;
    const st = scores[base + t]!;
    if (exclude) {
      const mark = r + 1;
      const c = contexts!;
      for (let p = c.offsets[r]!, e = c.offsets[r + 1]!; p < e; p++) {
        const j = c.values[p]!;
        if (j < 1 || j >= numItems || j === t || stamp![j] === mark) continue;
        stamp![j] = mark;
        nCandidates--;
        if (scores[base + j]! >= st) excludedAtOrAbove++;
      }
    }
    if (opts.candidates) opts.candidates[r] = nCandidates;
    if (Number.isNaN(st)) {
      ranks[r] = nCandidates;
      continue;
    }
    // Items 1..numItems−1 scored ≥ the target; the target itself counts once, which is the "1 +".
    let atOrAbove = 0;
    for (let j = base + 1, e = base + numItems; j < e; j++) if (scores[j]! >= st) atOrAbove++;
    ranks[r] = atOrAbove - excludedAtOrAbove;
  }
  return ranks;
}

/** Metric names for a list of cut-offs, in output order: ndcg@K…, hr@K…, mrr. */
export function rankingMetricNames(ks: readonly number[]): string[] {
  return [...ks.map((k) => `ndcg@${k}`), ...ks.map((k) => `hr@${k}`), 'mrr'];
}

/** Per-row metric values from a rank, in the order of rankingMetricNames(ks). */
export function metricValuesOfRank(rank: number, ks: readonly number[], out: Float64Array = new Float64Array(2 * ks.length + 1)): Float64Array {
  const nK = ks.length;
  const dcg = 1 / Math.log2(rank + 1);
  for (let i = 0; i < nK; i++) {
    const hit = rank <= ks[i]! ? 1 : 0;
    out[i] = hit * dcg;
    out[nK + i] = hit;
  }
  out[2 * nK] = 1 / rank;
  return out;
}

/** Sums, sums of squares and count of each metric over a group of rows. */
export interface MetricSums {
  sum: number;
  sumSq: number;
  count: number;
}

/**
 * Sums of the ranking metrics over rows, grouped by a small integer code
 * (the split): result[code][metricName]. Rows whose code is negative are skipped.
 */
export function rankingMetricSums(ranks: Int32Array, ks: readonly number[], groups?: ArrayLike<number>): Map<number, Record<string, MetricSums>> {
  const names = rankingMetricNames(ks);
  const m = names.length;
  const acc = new Map<number, { sum: Float64Array; sumSq: Float64Array; count: number }>();
  const values = new Float64Array(m);
  for (let r = 0; r < ranks.length; r++) {
    const g = groups ? groups[r]! : 0;
    if (g < 0) continue;
    let a = acc.get(g);
    if (!a) acc.set(g, (a = { sum: new Float64Array(m), sumSq: new Float64Array(m), count: 0 }));
    metricValuesOfRank(ranks[r]!, ks, values);
    for (let i = 0; i < m; i++) {
      a.sum[i]! += values[i]!;
      a.sumSq[i]! += values[i]! * values[i]!;
    }
    a.count++;
  }
  const out = new Map<number, Record<string, MetricSums>>();
  for (const [g, a] of acc) {
    const rec: Record<string, MetricSums> = {};
    names.forEach((n, i) => (rec[n] = { sum: a.sum[i]!, sumSq: a.sumSq[i]!, count: a.count }));
    out.set(g, rec);
  }
  return out;
}

/** Validate a list of cut-offs (positive integers, no duplicates). */
export function checkKs(ks: readonly number[], where = 'ks'): void {
  if (ks.length === 0) throw new Error(`${where}: give at least one cut-off K`);
  const seen = new Set<number>();
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`${where}: cut-off K must be a positive integer, got ${k}`);
    if (seen.has(k)) throw new Error(`${where}: cut-off K=${k} is listed twice`);
    seen.add(k);
  }
}
