/**
 * Ranking evaluation of one scorer on one set of evaluation rows: score the
 * contexts chunk by chunk (`batchRows` contexts; at most `maxScoreFloats`
 * scores in memory, in item blocks when a chunk's scores would not fit:
 * chunk-ranks.ts), rank each target (ranking-metrics.ts) and add the metric sums per split to
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
import { rankingMetricSums } from './ranking-metrics.js';
import { chunkRanks } from './chunk-ranks.js';
import { DEFAULT_MAX_SCORE_BLOCK_MB, scoreBlockFloats } from './blocked-topk.js';
import type { EvalThreadPool } from './eval-threads.js';

export const CANDIDATES_METRIC = 'candidates';

export interface RankingEvalOptions {
  ks: readonly number[];
  excludeHistory: boolean;
  batchRows: number;
  /** Labels of the records (split and metric are filled in). */
  key: Omit<MetricKey, 'split' | 'metric'>;
  /** The items each row excludes when excludeHistory is on (default: the row's context column). */
  exclusions?: (chunk: Batch) => ListColumn<Int32Array>;
  /** Most scores held at once (default: 64 MB of float32, DEFAULT_MAX_SCORE_BLOCK_MB). */
  maxScoreFloats?: number;
  /** Threads that share the catalog of a factored scorer (default: this thread only). */
  pool?: EvalThreadPool | undefined;
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
    const excluded = opts.excludeHistory && opts.exclusions ? opts.exclusions(chunk) : contexts;
    const { ranks, candidates } = await chunkRanks(scorer, contexts, targets, excluded, {
      excludeHistory: opts.excludeHistory,
      maxScoreFloats: opts.maxScoreFloats ?? scoreBlockFloats(DEFAULT_MAX_SCORE_BLOCK_MB),
      pool: opts.pool,
    });
    for (const [code, sums] of rankingMetricSums(ranks, opts.ks, split)) {
      const sname = splitName(code);
      for (const [metric, s] of Object.entries(sums)) acc.addSums({ ...opts.key, split: sname, metric }, s);
    }
    addValuesBySplit(acc, opts.key, CANDIDATES_METRIC, candidates, split);
    opts.onChunk?.(start + chunk.numRows);
  }
  return acc;
}
