/**
 * Stage `reward_stats` (SPEC S2): statistics of a reward column, per batch and
 * global, on any table that has the column.
 *
 * Streaming mode (default): batches pass through unchanged while the global
 * accumulator grows; when the input ends the summary is written and published
 * as the artifact `reward_stats`. A downstream stage therefore sees the
 * artifact only after the last batch has gone by.
 *
 * Barrier mode (`barrier: true`): the stage first consumes the whole input,
 * spilling it to a temporary Parquet dataset under `<out_dir>/_spill/` (disk,
 * not RAM), then writes and publishes the global summary, and only then
 * replays the spilled batches, identical rows at identical boundaries. This is
 * what Exp-RSFT's global shift c = max r (SPEC S3) needs: the weighting stage
 * reads `ctx.artifacts.get('reward_stats').max` before its first batch. The
 * spill directory is removed after the replay.
 */
import * as path from 'node:path';
import type { Batch, Column } from '../core/batch.js';
import { float64Column, isNumericColumn } from '../core/batch.js';
import { ARTIFACT } from '../core/artifacts.js';
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import { defineStage, type BatchStage, type CombineStage } from '../core/stage.js';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { DEFAULT_HISTOGRAM_BINS, DEFAULT_HISTOGRAM_BASE_WIDTH } from './grid-histogram.js';
import { DEFAULT_KLL_K } from './kll-sketch.js';
import { momentsStd, NonFiniteValueError, type FloatColumn, type Moments } from './moments.js';
import { DEFAULT_QUANTILES, RewardStats, statsRowValues, type RewardStatsOptions, type RewardStatsState } from './reward-stats.js';
import { partitionBySplit } from './split-partition.js';
import { SpillDataset } from './spill.js';
import { statePathFor, writeStatsFiles } from './stats-files.js';

const rewardStatsFields = {
  column: { type: 'string', default: 'reward', doc: 'Numeric column whose statistics are taken.' },
  path: { type: 'string', doc: 'Summary JSON file (default <out_dir>/reward_stats.json); the state goes beside it as <name>.state.json.' },
  barrier: {
    type: 'boolean',
    default: false,
    doc: 'Consume the whole input first (spilled to Parquet, not RAM), publish the global summary, then replay the batches.',
  },
  rows: {
    type: 'string',
    enum: ['train', 'all'],
    default: 'train',
    doc: 'Rows of the global statistics (and per-batch records): train (split 0; batches without a split column count whole), so valid/test targets do not leak into μ, σ and max; or all.',
  },
  per_split: { type: 'boolean', default: false, doc: 'Also keep statistics per split when batches have a `split` column.' },
  batch_metrics: { type: 'boolean', default: true, doc: 'Emit count/mean/std/min/max metric records for every batch (split "batch").' },
  sketch_k: {
    type: 'integer',
    min: 8,
    default: DEFAULT_KLL_K,
    doc: 'KLL accuracy parameter: normalised rank error ≈ 3.4/k at 99% (0.85% at 400), exact below 65536 values; memory ≈ 3k values.',
  },
  quantiles: {
    type: 'array',
    items: { type: 'number', min: 0, max: 1, doc: 'quantile level' },
    default: [...DEFAULT_QUANTILES],
    doc: 'Quantile levels reported in the summary (0 and 1 are the exact min and max).',
  },
  histogram_bins: { type: 'integer', min: 2, default: DEFAULT_HISTOGRAM_BINS, doc: 'Most histogram bins; the bin width doubles until the data fits.' },
  histogram_width: {
    type: 'number',
    exclusiveMin: 0,
    default: DEFAULT_HISTOGRAM_BASE_WIDTH,
    doc: 'Finest histogram bin width; bins are [i·w, (i+1)·w) with w = this·2^j. Shards merge only with equal values.',
  },
} as const satisfies Fields;

export type RewardStatsConfig = ConfigOf<typeof rewardStatsFields>;

/** Artifact keys this stage publishes. */
export const REWARD_STATS_ARTIFACT = ARTIFACT.rewardStats;
export const REWARD_STATS_PER_SPLIT_ARTIFACT = ARTIFACT.rewardStatsPerSplit;
export const REWARD_STATS_ACCUMULATOR_ARTIFACT = ARTIFACT.rewardStatsAccumulator;
export const REWARD_STATS_PATH_ARTIFACT = ARTIFACT.rewardStatsPath;

/** The mergeable state of the stage: global statistics and, with per_split, statistics per split. */
export interface RewardStatsAccumulation {
  global: RewardStats;
  perSplit: Map<string, RewardStats> | undefined;
  /** Batches folded in (shards' counts add up, so the merged run's final records carry the step of one whole run). */
  batches?: number;
}

/** Fold shard `b` into shard `a` (same options): what two processes' states combine into. */
export function mergeAccumulations(a: RewardStatsAccumulation, b: RewardStatsAccumulation): RewardStatsAccumulation {
  a.global.merge(b.global);
  if (a.batches !== undefined || b.batches !== undefined) a.batches = (a.batches ?? 0) + (b.batches ?? 0);
  if (a.perSplit && b.perSplit) {
    for (const [name, st] of b.perSplit) {
      const mine = a.perSplit.get(name);
      if (mine) mine.merge(st);
      else a.perSplit.set(name, st);
    }
  }
  return a;
}

let spillCounter = 0;

function rewardValues(b: Batch, name: string, batchIndex: number): FloatColumn {
  const c: Column | undefined = b.columns[name];
  if (c === undefined) {
    throw new ConfigError(
      `reward_stats: column "${name}" is missing from "${b.table}" batch ${batchIndex} (has: ${Object.keys(b.columns).join(', ') || 'none'})`,
      ['column'],
    );
  }
  if (!isNumericColumn(c)) throw new ConfigError(`reward_stats: column "${name}" of "${b.table}" batch ${batchIndex} is not numeric`, ['column']);
  if (c instanceof Float32Array || c instanceof Float64Array) return c;
  return float64Column(b, name);
}

export const rewardStatsStage = defineStage({
  name: 'reward_stats',
  role: 'transform',
  summary: 'Count, mean, variance, min, max, quantiles (KLL) and a histogram of a reward column, per batch and global; batches pass through.',
  doc: [
    'Statistics merge across shards: moments bit for bit for the same batches in any grouping (batch moments by Welford, combined by exact sums and rounded once), the histogram exactly',
    "(fixed grid anchored at 0 whose width doubles to fit `histogram_bins`), quantiles within the KLL sketch's stated rank error",
    '(`quantileRankError`, 99% confidence). Writes `path` (the RewardStatsSummary) and `<path minus .json>.state.json`',
    '(the mergeable state; merge shard runs with `recpost stats-merge`), emits per-batch metric records (split "batch")',
    'and global ones (split "all" and per split), and publishes the artifacts `reward_stats` (summary),',
    '`reward_stats:per_split`, `reward_stats:accumulator` (the RewardStats object, for other quantiles) and `reward_stats:path`.',
    'Without `barrier` the artifacts appear when the input ends; with `barrier: true` the input is spilled to Parquet under',
    "<out_dir>/_spill, the summary is published, then the batches are replayed unchanged, so a downstream stage (Exp-RSFT's",
    'global shift by the max reward) sees the global statistics before its first batch.',
  ].join(' '),
  fields: rewardStatsFields,
  // Sharded: a state per shard, merged; no spill in shards (the step boundary is the barrier).
  shard: { by: 'combine', passThrough: true, shardConfig: { barrier: false } },
  create(cfg, ctx) {
    const statsOptions: RewardStatsOptions = {
      sketchK: cfg.sketch_k,
      seed: ctx.seed,
      histogramBins: cfg.histogram_bins,
      histogramBaseWidth: cfg.histogram_width,
      quantiles: cfg.quantiles,
    };
    // The accumulation the stage state is (getState/setState); the combine shape folds batches into it.
    let acc: RewardStatsAccumulation = { global: new RewardStats(statsOptions), perSplit: cfg.per_split ? new Map() : undefined };
    let batchIndex = 0;
    let warnedNoSplit = false;
    const summaryPath = cfg.path ?? path.join(ctx.outDir, 'reward_stats.json');

    const emitMoments = (split: string, m: Moments, step: number) => {
      const base = { method: 'reward_stats', seed: ctx.seed, step, epoch: 0, split };
      const c = cfg.column;
      ctx.emitMetric({ ...base, metric: `${c}_count`, value: m.count, count: 1 });
      if (m.count === 0) return;
      ctx.emitMetric({ ...base, metric: `${c}_mean`, value: m.mean, count: m.count });
      ctx.emitMetric({ ...base, metric: `${c}_std`, value: momentsStd(m), count: m.count });
      ctx.emitMetric({ ...base, metric: `${c}_min`, value: m.min, count: m.count });
      ctx.emitMetric({ ...base, metric: `${c}_max`, value: m.max, count: m.count });
    };

    const absorb = (b: Batch) => {
      const { global, perSplit } = acc;
      const i = batchIndex++;
      if (b.numRows > 0) {
        const values = rewardValues(b, cfg.column, i);
        let bm: Moments;
        try {
          bm = global.addColumn(statsRowValues(values, b.columns.split, cfg.rows));
        } catch (e) {
          if (e instanceof NonFiniteValueError) {
            throw new Error(`reward_stats: column "${cfg.column}" of "${b.table}" batch ${i} has the non-finite value ${e.value} at row ${e.index}`);
          }
          throw e;
        }
        if (perSplit) {
          const split = b.columns.split;
          if (split === undefined) {
            if (!warnedNoSplit) ctx.log.warn(`reward_stats: per_split is on but "${b.table}" batches have no split column; keeping global statistics only`);
            warnedNoSplit = true;
          } else {
            for (const [name, part] of partitionBySplit(values, split)) {
              let st = perSplit.get(name);
              if (!st) perSplit.set(name, (st = new RewardStats(statsOptions)));
              st.add(part);
            }
          }
        }
        if (cfg.batch_metrics) emitMoments('batch', bm, i);
      }
    };

    const publish = (): RewardStatsSummary => {
      const { global, perSplit } = acc;
      const perSplitUsed = perSplit && perSplit.size > 0 ? perSplit : undefined;
      const written = writeStatsFiles(summaryPath, { column: cfg.column, global, perSplit: perSplitUsed });
      const { column: _c, perSplit: perSplitSummaries, ...summary } = written;
      ctx.artifacts.set(REWARD_STATS_ARTIFACT, summary);
      ctx.artifacts.set(REWARD_STATS_ACCUMULATOR_ARTIFACT, global);
      ctx.artifacts.set(REWARD_STATS_PATH_ARTIFACT, summaryPath);
      if (perSplitSummaries) ctx.artifacts.set(REWARD_STATS_PER_SPLIT_ARTIFACT, perSplitSummaries);
      emitMoments('all', global.moments, batchIndex);
      if (perSplitUsed) for (const [name, st] of perSplitUsed) emitMoments(name, st.moments, batchIndex);
      if (summary.count === 0) ctx.log.warn(`reward_stats: no rows reached the stage; ${summaryPath} describes an empty column`);
      ctx.log.info(
        `reward_stats: ${summary.count} values of "${cfg.column}": mean ${fmt(summary.mean)}, std ${fmt(summary.std)}, ` +
          `min ${fmt(summary.min)}, max ${fmt(summary.max)} → ${summaryPath} (state: ${statePathFor(summaryPath)})`,
      );
      return summary;
    };

    const state = {
      getState() {
        const { global, perSplit } = acc;
        return { global: global.toJSON(), perSplit: perSplit ? Object.fromEntries([...perSplit].map(([k, v]) => [k, v.toJSON()])) : undefined, batchIndex };
      },
      setState(saved: unknown) {
        const s = saved as { global: RewardStatsState; perSplit?: Record<string, RewardStatsState>; batchIndex?: number };
        acc = {
          global: RewardStats.fromJSON(s.global),
          perSplit: cfg.per_split ? new Map(Object.entries(s.perSplit ?? {}).map(([k, v]) => [k, RewardStats.fromJSON(v)])) : undefined,
        };
        batchIndex = s.batchIndex ?? 0;
      },
    };

    if (!cfg.barrier) {
      // Streaming: a combine over the batches, which pass on as they arrive.
      const combine: CombineStage<RewardStatsAccumulation> = {
        passInput: true,
        init: () => {
          acc.batches = batchIndex;
          return acc;
        },
        add(into, b) {
          acc = into;
          absorb(b);
          return acc;
        },
        merge: mergeAccumulations,
        finish(final) {
          acc = final;
          if (final.batches !== undefined && final.batches > batchIndex) batchIndex = final.batches;
          publish();
        },
        ...state,
      };
      return combine;
    }

    // Barrier: absorb and spill everything, publish, then replay the spill.
    const spill = new SpillDataset(path.join(ctx.outDir, '_spill', `reward_stats-${process.pid}-${Date.now()}-${spillCounter++}`));
    const barrier: BatchStage = {
      process(b) {
        absorb(b);
        spill.write(b);
      },
      finish() {
        spill.close();
        publish();
        return replay(spill);
      },
      abort: () => spill.remove(),
      ...state,
    };
    return barrier;
  },
});

/** The spilled batches, identical rows at identical boundaries; the spill is removed after (or when the run stops). */
async function* replay(spill: SpillDataset): AsyncGenerator<Batch> {
  try {
    for await (const b of spill.replay()) yield b;
  } finally {
    spill.remove();
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(4)) : String(x);
}
