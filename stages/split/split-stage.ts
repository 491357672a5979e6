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
import type { Batch } from '../core/batch.js';
import { ARTIFACT, datasetArtifact } from '../core/artifacts.js';
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import { Progress } from '../core/progress.js';
import { defineStage, type StageContext } from '../core/stage.js';
import { DatasetWriter } from '../io/dataset-writer.js';
import { SPLIT_NAMES } from '../../schemas/tables.js';
import { exampleBatches } from './example-batches.js';
import { InteractionLogBuilder } from './interaction-log.js';
import { planLeaveLastOut, type SplitCounts, type SplitPlan } from './leave-last-out.js';
import { addSplitCounts, batchBucket, logsByBucket, rowBucketsFromUsers, userBucketsOfDataset } from './user-bucket-order.js';

export const SPLIT_COUNTS_ARTIFACT = ARTIFACT.splitCounts;

const splitFields = {
  max_len: { type: 'integer', min: 1, default: 50, doc: 'L: most previous items in a context (the most recent L are kept, oldest first).' },
  threshold: { type: 'number', default: 4.5, doc: 'Validation/test targets need reward ≥ threshold (4.5 on 1–5 ratings = 5 stars).' },
  apply_threshold: { type: 'boolean', default: true, doc: 'false keeps every validation/test target whatever its reward (threshold off).' },
  min_context: {
    type: 'integer',
    min: 0,
    default: 1,
    doc: 'Fewest previous items a target needs (1: a first interaction is never a target); must be ≤ max_len.',
  },
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
} as const satisfies Fields;

export type SplitSequencesConfig = ConfigOf<typeof splitFields>;

function splitProblems(cfg: SplitSequencesConfig): string[] {
  return cfg.min_context > cfg.max_len ? [`min_context (${cfg.min_context}) must be ≤ max_len (${cfg.max_len})`] : [];
}

export function emitSplitCounts(ctx: StageContext, c: SplitCounts): void {
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

export const splitSequencesStage = defineStage({
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
  fields: splitFields,
  check: splitProblems,
  // Per user bucket when the input is the ingest's bucketed dataset (pipelines/plan/): counts summed, records made once.
  shard: {
    by: 'user_bucket',
    outputs: ['output'],
    merged: {
      artifacts: { [ARTIFACT.splitCounts]: (a, b) => addSplitCounts(a as SplitCounts, b as SplitCounts) },
      emit: (values, ctx) => emitSplitCounts(ctx, values[ARTIFACT.splitCounts] as SplitCounts),
    },
  },
  create(cfg, ctx) {
    const problems = splitProblems(cfg);
    if (problems.length) throw new ConfigError(`split_sequences: ${problems[0]}`, ['min_context']);
    const builder = new InteractionLogBuilder();
    // Buckets of the batches a shard's reader tagged (meta.bucket), in input order; null once an untagged batch came.
    let tags: { rows: number; bucket: number }[] | null = [];
    // Created when the pipeline is wired, so that an output equal to the input is refused before any work.
    const writer = cfg.output ? new DatasetWriter(cfg.output, { partitionBy: 'split', compression: cfg.compression, stage: 'split_sequences' }) : undefined;
    const useSession = cfg.return_by === 'session' ? true : cfg.return_by === 'user' ? false : undefined;
    const options = {
      maxLen: cfg.max_len,
      threshold: cfg.apply_threshold ? cfg.threshold : null,
      minContext: cfg.min_context,
      shortUsers: cfg.short_users,
      returnBy: cfg.return_by === 'auto' ? undefined : cfg.return_by,
      consume: true,
    } as const;
    return {
      // A barrier: every row is absorbed first; the examples are cut lazily at the end.
      process(b) {
        const bucket = batchBucket(b);
        if (bucket === undefined) tags = null;
        else tags?.push({ rows: b.numRows, bucket });
        builder.add(b, useSession);
      },
      finish: () => emit(),
      abort() {
        writer?.abort();
      },
    };

    /** The plans, one per user bucket in bucket order (one plan for an input that is not bucketed). */
    async function plans(): Promise<SplitPlan[]> {
      const tagged = tags !== null && tags.length > 0 ? tags : null;
      const log = builder.finish();
      let rowBucket: Int32Array | undefined;
      if (tagged) {
        rowBucket = new Int32Array(log.n);
        let o = 0;
        for (const t of tagged) rowBucket.fill(t.bucket, o, (o += t.rows));
      } else {
        const userBucket = await userBucketsOfDataset(ctx.artifacts.get(ARTIFACT.dataset));
        if (userBucket) rowBucket = rowBucketsFromUsers(log, userBucket);
      }
      if (!rowBucket) return [planLeaveLastOut(log, options)];
      return logsByBucket(log, rowBucket).map((x) => planLeaveLastOut(x.log, options));
    }

    async function* emit(): AsyncGenerator<Batch> {
      const all = await plans();
      const c = all.slice(1).reduce((acc, p) => addSplitCounts(acc, p.counts), all[0]!.counts);
      ctx.artifacts.set(ARTIFACT.splitCounts, c);
      emitSplitCounts(ctx, c);
      ctx.log.info(
        `split_sequences: ${c.interactions} interactions of ${c.users} users${all.length > 1 ? ` in ${all.length} user buckets` : ''} → train ${c.examples[0]}, valid ${c.examples[1]}, test ${c.examples[2]}` +
          ` (below threshold: valid ${c.belowThreshold[1]}, test ${c.belowThreshold[2]}; short users ${c.shortUsers}` +
          `${cfg.short_users === 'drop' ? `, ${c.droppedShortUserRows} rows dropped` : ''}; targets without enough context ${c.droppedMinContext[0] + c.droppedMinContext[1] + c.droppedMinContext[2]})`,
      );
      const total = c.examples[0] + c.examples[1] + c.examples[2];
      const progress = new Progress('split_sequences', ctx.progress, total);
      let done = 0;
      // Each bucket is cut into its own batches (a shard holding that bucket cuts the same ones); a plan is released once cut.
      for (let k = 0; k < all.length; k++) {
        for (const b of exampleBatches(all[k]!, cfg.batch_size)) {
          writer?.write(b);
          done += b.numRows;
          progress.advance(b.numRows, done);
          yield b;
        }
        all[k] = undefined as unknown as SplitPlan;
      }
      progress.finish();
      if (writer && cfg.output) {
        const m = writer.close();
        ctx.artifacts.set(datasetArtifact(cfg.output), m);
        ctx.log.info(`split_sequences: ${m.rows} examples in ${m.files.length} file(s) → ${cfg.output}`);
      }
    }
  },
});
