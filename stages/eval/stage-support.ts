/**
 * Streaming and bookkeeping shared by the evaluation stages: consume the whole
 * input (keeping only what the collector keeps), evaluate every pending
 * (target, partition) pair committing each to the evaluation state, then emit
 * the accumulated records as a `metrics` batch and through ctx.emitMetric.
 */
import _ from 'highland';
import type { Batch } from '../core/batch.js';
import type { BatchStream, StageContext } from '../core/stage.js';
import { metricsToBatch, type MetricRecord } from '../../schemas/metric-record.js';
import type { MetricAccumulator } from './accumulator.js';
import type { EvalTarget, EvalScorer, TargetLabels } from './checkpoints.js';
import type { EvalPartition } from './eval-rows.js';
import type { EvaluationState } from './eval-state.js';

/** Feed every input batch to `each`, then emit what `finish` returns (input batches are not passed on). */
export function consumeThenEmit(
  ctx: StageContext,
  input: BatchStream,
  each: (b: Batch) => void,
  finish: () => Promise<Batch[]>,
): BatchStream {
  return input.consume((err, x, push, next) => {
    if (err) {
      push(err);
      next();
    } else if (x === _.nil) {
      finish().then(
        (out) => {
          for (const b of out) push(null, b);
          push(null, _.nil);
        },
        (e: unknown) => {
          push(e as Error);
          push(null, _.nil);
        },
      );
    } else {
      try {
        const t0 = performance.now();
        each(x as Batch);
        ctx.counters.busyMs += performance.now() - t0;
      } catch (e) {
        push(e as Error);
      }
      next();
    }
  });
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
 * are all done is not even loaded.
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
    const pending = partitions.filter((p) => !state.isDone(target.id, p.id));
    skipped += partitions.length - pending.length;
    if (pending.length === 0) continue;
    const { policy, labels } = await target.load();
    try {
      for (const part of pending) {
        const acc = await evalOne(policy, labels, part);
        if (acc === undefined) continue;
        state.commit(target.id, part.id, part.rows.numRows, acc);
        evaluated++;
      }
    } finally {
      target.release();
    }
  }
  return { evaluated, skipped };
}

/** Timing helper: add an async step's wall time to the stage's busy time. */
export async function timed<T>(ctx: StageContext, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    ctx.counters.busyMs += performance.now() - t0;
  }
}
