/**
 * Ranking evaluation of one scorer on one set of evaluation rows: score the
 * contexts chunk by chunk (at most `batchRows` × numItems scores in memory),
 * rank each target (ranking-metrics.ts) and add the metric sums per split to
 * an accumulator. Besides ndcg@K, hr@K and mrr it records `candidates`, the
 * mean number of items each target competed with (numItems − 1 minus the
 * excluded history items), so the output says what the ranking was over.
 */
import type { Batch, ListColumn } from '../core/batch.js';
import { sliceBatch } from '../core/batch.js';
import type { RankingScorer } from '../core/policy.js';
import { MetricAccumulator, type MetricKey } from './accumulator.js';
import { addValuesBySplit, splitName } from './by-split.js';
import { contextsOf, int32Of } from './eval-rows.js';
import { rankingMetricSums, targetRanks } from './ranking-metrics.js';

export const CANDIDATES_METRIC = 'candidates';

export interface RankingEvalOptions {
  ks: readonly number[];
  excludeHistory: boolean;
  batchRows: number;
  /** Labels of the records (split and metric are filled in). */
  key: Omit<MetricKey, 'split' | 'metric'>;
  /** The items each row excludes when excludeHistory is on (default: the row's context column). */
  exclusions?: (chunk: Batch) => ListColumn<Int32Array>;
  /** Called after each chunk with the rows done so far. */
  onChunk?: (rowsDone: number) => void;
}

/** Evaluate `rows` (columns context, action, split) with `scorer`. */
export async function evaluateRanking(scorer: RankingScorer, rows: Batch, opts: RankingEvalOptions): Promise<MetricAccumulator> {
  const acc = new MetricAccumulator();
  for (let start = 0; start < rows.numRows; start += opts.batchRows) {
    const chunk = sliceBatch(rows, start, Math.min(rows.numRows, start + opts.batchRows));
    const contexts = contextsOf(chunk);
    const targets = int32Of(chunk, 'action');
    const split = int32Of(chunk, 'split');
    const scores = await scorer.scoreContexts(contexts);
    const candidates = new Int32Array(chunk.numRows);
    const excluded = opts.excludeHistory && opts.exclusions ? opts.exclusions(chunk) : contexts;
    const ranks = targetRanks(scores, scorer.numItems, targets, excluded, { excludeHistory: opts.excludeHistory, candidates });
    for (const [code, sums] of rankingMetricSums(ranks, opts.ks, split)) {
      const sname = splitName(code);
      for (const [metric, s] of Object.entries(sums)) acc.addSums({ ...opts.key, split: sname, metric }, s);
    }
    addValuesBySplit(acc, opts.key, CANDIDATES_METRIC, candidates, split);
    opts.onChunk?.(start + chunk.numRows);
  }
  return acc;
}
