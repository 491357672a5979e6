/**
 * Bookkeeping shared by the evaluation stages (barriers: they read the whole
 * input, keeping only what their row collector keeps): evaluate every pending
 * (target, partition) pair committing each to the evaluation state, then emit
 * the accumulated records as a `metrics` batch and through ctx.emitMetric.
 */
import type { Batch } from '../core/batch.js';
import type { BatchStage, StageContext } from '../core/stage.js';
import { type MetricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../core/metric-batch.js';
import type { MetricAccumulator } from './accumulator.js';
import type { EvalTarget, EvalScorer, TargetLabels } from './checkpoints.js';
import { mix32 } from '../core/seeded-random.js';
import { hashString } from './baselines.js';
import { EvalRowCollector, type EvalPartition } from './eval-rows.js';
import type { EvaluationState } from './eval-state.js';

/**
 * The sampling evaluators (evaluate_judge, evaluate_proxy_gold) as barrier
 * stages: keep up to `maxContexts` evaluation rows (context, action, user_id)
 * of the split codes given, then emit what `finish` makes of them.
 */
export function sampledContextsStage(
  opts: { splits: number[]; maxContexts: number; keepPartitions?: readonly string[] },
  finish: (collector: EvalRowCollector) => Promise<Batch[]>,
): BatchStage {
  const collector = new EvalRowCollector({
    splits: opts.splits,
    columns: ['context', 'action', 'user_id'],
    maxRows: opts.maxContexts,
    ...(opts.keepPartitions ? { keepPartitions: opts.keepPartitions } : {}),
  });
  return {
    process(b) {
      collector.add(b);
    },
    finish: () => finish(collector),
  };
}

/** The sampling seed of a partition: from the run seed and the partition's label, so results do not depend on how partitions are combined. */
export function partitionSeed(runSeed: number, part: EvalPartition): number {
  return mix32(runSeed ^ hashString(part.label));
}

/** "N checkpoint×partition pair(s) evaluated[, S already done in <state file>]" for the stages' summary lines. */
export function pairRunNote(run: PairRunSummary, stateFile: string | undefined): string {
  return `${run.evaluated} checkpoint×partition pair(s) evaluated${run.skipped ? `, ${run.skipped} already done in ${stateFile}` : ''}`;
}

/** Send records through ctx.emitMetric and return them as one `metrics` batch. */
export function emitRecords(ctx: StageContext, records: MetricRecord[]): Batch[] {
  for (const r of records) ctx.emitMetric(r);
  return records.length ? [metricsToBatch(records)] : [];
}

export interface PairRunSummary {
  evaluated: number;
  skipped: number;
}

/**
 * Evaluate each target on each partition not yet done, committing pair by
 * pair (so a stopped run resumes after the last commit). A target whose pairs
 * are all done is not even loaded. A pair a shard already evaluated
 * (EvaluationState.adoptResults) is committed from its result at the point
 * where it would have been evaluated, so the commit order is this loop's
 * whichever shard made each pair; a scoped state (a shard) commits only its
 * own pairs.
 */
export async function evaluatePendingPairs(
  state: EvaluationState,
  targets: readonly EvalTarget[],
  partitions: readonly EvalPartition[],
  evalOne: (policy: EvalScorer, labels: TargetLabels, partition: EvalPartition) => Promise<MetricAccumulator | undefined>,
): Promise<PairRunSummary> {
  let evaluated = 0;
  let skipped = 0;
  for (const target of targets) {
    const pending = partitions.filter((p) => state.pending(target.id, p.id));
    skipped += partitions.filter((p) => state.isDone(target.id, p.id)).length;
    if (pending.length === 0) continue;
    let loaded: { policy: EvalScorer; labels: TargetLabels } | undefined;
    try {
      for (const part of pending) {
        let acc = state.readyMetrics(target.id, part.id);
        if (acc === undefined) {
          loaded ??= await target.load();
          acc = await evalOne(loaded.policy, loaded.labels, part);
        }
        if (acc === undefined) continue;
        state.commit(target.id, part.id, part.rows.numRows, acc, { targetPath: target.path, partitionPath: part.path });
        evaluated++;
      }
    } finally {
      if (loaded) target.release();
    }
  }
  return { evaluated, skipped };
}
