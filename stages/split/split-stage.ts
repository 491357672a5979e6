/**
 * Stage `split_sequences`: interactions → examples by the leave-last-out
 * protocol (SPEC S1; rules in leave-last-out.ts).
 *
 * A barrier: every row of a user must be seen before the user's last
 * interaction is known. Only user_id, item_id, timestamp, reward (and
 * session_id when used) are kept, copied into typed arrays (24–28 bytes per
 * interaction); the order is a radix sort plus per-user merge sorts of an
 * index. Example batches are then cut lazily, `batch_size` rows at a time, so
 * the context lists are never all in memory. With `output`, the examples are
 * also written as a Parquet dataset Hive-partitioned by split
 * (split=train/valid/test). Counts per split go out as metric records and as
 * the artifact `split_counts`.
 */
import _ from 'highland';
import type { Batch } from '../core/batch.js';
import { streamFromAsync } from '../core/helpers.js';
import { Progress } from '../core/progress.js';
import { defineStage, type BatchStream, type StageContext } from '../core/stage.js';
import { DatasetWriter } from '../io/dataset-writer.js';
import { SPLIT_NAMES } from '../../schemas/tables.js';
import { exampleBatches } from './example-batches.js';
import { InteractionLogBuilder } from './interaction-log.js';
import { planLeaveLastOut, type ReturnBy, type ShortUserPolicy, type SplitCounts } from './leave-last-out.js';

export interface SplitSequencesConfig {
  max_len: number;
  threshold: number;
  apply_threshold: boolean;
  min_context: number;
  short_users: ShortUserPolicy;
  return_by: 'auto' | ReturnBy;
  batch_size: number;
  output?: string;
  compression: 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'none';
}

export const SPLIT_COUNTS_ARTIFACT = 'split_counts';

function emitCounts(ctx: StageContext, c: SplitCounts): void {
  const base = { method: 'split_sequences', seed: ctx.seed, step: 0, epoch: 0 };
  for (let s = 0; s < 3; s++) {
    const split = SPLIT_NAMES[s]!;
    ctx.emitMetric({ ...base, split, metric: 'examples', value: c.examples[s]!, count: 1 });
    ctx.emitMetric({ ...base, split, metric: 'dropped_min_context', value: c.droppedMinContext[s]!, count: 1 });
    if (s > 0) ctx.emitMetric({ ...base, split, metric: 'excluded_below_threshold', value: c.belowThreshold[s]!, count: 1 });
  }
  ctx.emitMetric({ ...base, split: 'all', metric: 'users', value: c.users, count: 1 });
  ctx.emitMetric({ ...base, split: 'all', metric: 'interactions', value: c.interactions, count: 1 });
  ctx.emitMetric({ ...base, split: 'all', metric: 'short_users', value: c.shortUsers, count: 1 });
  ctx.emitMetric({ ...base, split: 'all', metric: 'dropped_short_user_rows', value: c.droppedShortUserRows, count: 1 });
}

export const splitSequencesStage = defineStage<SplitSequencesConfig>({
  name: 'split_sequences',
  role: 'transform',
  summary: 'Leave-last-out split of interactions into examples (last → test, previous → valid, rest → train) with up-to-L contexts.',
  doc: [
    'Per user, sorted by timestamp (stable: ties keep input order), the last interaction is the test target, the one before',
    'the validation target and the rest train targets. Each example carries the up-to-`max_len` previous item ids and their',
    'rewards, oldest first (the test context includes the validation item). Validation and test targets are kept only if',
    'reward ≥ `threshold` (unless `apply_threshold: false`); excluded ones are counted (metric excluded_below_threshold) and',
    'stay in later contexts. Targets with fewer than `min_context` previous items are dropped and counted. Users with fewer',
    'than 3 interactions become train-only (`short_users: train`) or are left out (`drop`). `return` is the sum of the',
    "user's train rewards, or of the train rewards of the target's session when session_id is present (`return_by`).",
    'A barrier stage: it reads all input (keeping 4–5 columns as typed arrays), then emits examples lazily in `batch_size`',
    'batches. Metric records: examples, dropped_min_context, excluded_below_threshold per split; users, interactions,',
    'short_users (split "all"). Artifact `split_counts`.',
  ].join(' '),
  inputs: ['interactions'],
  output: 'examples',
  fields: {
    max_len: { type: 'integer', min: 1, default: 50, doc: 'L: most previous items in a context (the most recent L are kept, oldest first).' },
    threshold: { type: 'number', default: 4.5, doc: 'Validation/test targets need reward ≥ threshold (4.5 on 1–5 ratings = 5 stars).' },
    apply_threshold: { type: 'boolean', default: true, doc: 'false keeps every validation/test target whatever its reward (threshold off).' },
    min_context: { type: 'integer', min: 0, default: 1, doc: 'Fewest previous items a target needs (1: a first interaction is never a target); must be ≤ max_len.' },
    short_users: {
      type: 'string',
      enum: ['train', 'drop'],
      default: 'train',
      doc: 'Users with < 3 interactions: train (all their interactions are train targets) or drop (left out, counted).',
    },
    return_by: {
      type: 'string',
      enum: ['auto', 'user', 'session'],
      default: 'auto',
      doc: "return = sum of train rewards of the user, or of the target's session; auto: session when session_id exists.",
    },
    batch_size: { type: 'integer', min: 1, default: 65536, doc: 'Rows per emitted example batch.' },
    output: { type: 'string', doc: 'Also write the examples as a Parquet dataset here, Hive-partitioned by split (split=train/valid/test).' },
    compression: { type: 'string', enum: ['zstd', 'snappy', 'gzip', 'lz4', 'none'], default: 'zstd', doc: 'Page compression of `output`.' },
  },
  create(cfg, ctx) {
    if (cfg.min_context > cfg.max_len) {
      throw new Error(`split_sequences: min_context (${cfg.min_context}) must be ≤ max_len (${cfg.max_len})`);
    }
    let writer: DatasetWriter | undefined;
    return {
      apply(input: BatchStream): BatchStream {
        const builder = new InteractionLogBuilder();
        // Created when the pipeline is wired, so that an output equal to the input is refused before any work.
        writer = cfg.output ? new DatasetWriter(cfg.output, { partitionBy: 'split', compression: cfg.compression, stage: 'split_sequences' }) : undefined;
        const useSession = cfg.return_by === 'session' ? true : cfg.return_by === 'user' ? false : undefined;
        const absorbed = input.consume<never>((err, x, push, next) => {
          if (err) {
            writer?.abort();
            push(err);
            next();
          } else if (x === _.nil) push(null, _.nil);
          else {
            const t0 = performance.now();
            try {
              builder.add(x as Batch, useSession);
            } catch (e) {
              push(e as Error);
            }
            ctx.counters.busyMs += performance.now() - t0;
            next();
          }
        });
        return absorbed.collect().flatMap(() => streamFromAsync(() => emit(builder)));
      },
    };

    async function* emit(builder: InteractionLogBuilder): AsyncGenerator<Batch> {
      let t0 = performance.now();
      const plan = planLeaveLastOut(builder.finish(), {
        maxLen: cfg.max_len,
        threshold: cfg.apply_threshold ? cfg.threshold : null,
        minContext: cfg.min_context,
        shortUsers: cfg.short_users,
        returnBy: cfg.return_by === 'auto' ? undefined : cfg.return_by,
        consume: true,
      });
      const c = plan.counts;
      ctx.artifacts.set(SPLIT_COUNTS_ARTIFACT, c);
      emitCounts(ctx, c);
      ctx.log.info(
        `split_sequences: ${c.interactions} interactions of ${c.users} users → train ${c.examples[0]}, valid ${c.examples[1]}, test ${c.examples[2]}` +
          ` (below threshold: valid ${c.belowThreshold[1]}, test ${c.belowThreshold[2]}; short users ${c.shortUsers}` +
          `${cfg.short_users === 'drop' ? `, ${c.droppedShortUserRows} rows dropped` : ''}; targets without enough context ${c.droppedMinContext[0] + c.droppedMinContext[1] + c.droppedMinContext[2]})`,
      );
      const total = c.examples[0] + c.examples[1] + c.examples[2];
      const progress = new Progress('split_sequences', ctx.progress, total);
      let done = 0;
      ctx.counters.busyMs += performance.now() - t0;
      const gen = exampleBatches(plan, cfg.batch_size);
      for (;;) {
        t0 = performance.now();
        const r = gen.next();
        if (r.done) break;
        try {
          writer?.write(r.value);
        } catch (e) {
          writer?.abort();
          throw e;
        }
        ctx.counters.busyMs += performance.now() - t0;
        done += r.value.numRows;
        progress.advance(r.value.numRows, done);
        yield r.value;
      }
      progress.finish();
      if (writer && cfg.output) {
        const m = writer.close();
        ctx.artifacts.set(`dataset:${cfg.output}`, m);
        ctx.log.info(`split_sequences: ${m.rows} examples in ${m.files.length} file(s) → ${cfg.output}`);
      }
    }
  },
});
