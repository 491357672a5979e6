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
import _ from 'highland';
import type { Batch, Column } from '../core/batch.js';
import { float64Column, isNumericColumn } from '../core/batch.js';
import { passThrough, streamFromAsync } from '../core/helpers.js';
import { defineStage, type BatchStream, type StageContext } from '../core/stage.js';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { DEFAULT_HISTOGRAM_BINS, DEFAULT_HISTOGRAM_BASE_WIDTH } from './grid-histogram.js';
import { DEFAULT_KLL_K } from './kll-sketch.js';
import { momentsStd, NonFiniteValueError, type FloatColumn, type Moments } from './moments.js';
import { DEFAULT_QUANTILES, RewardStats, statsRowValues, type RewardStatsOptions, type RewardStatsState, type StatsRows } from './reward-stats.js';
import { partitionBySplit } from './split-partition.js';
import { SpillDataset } from './spill.js';
import { statePathFor, writeStatsFiles } from './stats-files.js';

export interface RewardStatsConfig {
  column: string;
  path?: string;
  barrier: boolean;
  per_split: boolean;
  rows: StatsRows;
  batch_metrics: boolean;
  sketch_k: number;
  quantiles: number[];
  histogram_bins: number;
  histogram_width: number;
}

/** Artifact keys this stage publishes. */
export const REWARD_STATS_ARTIFACT = 'reward_stats';
export const REWARD_STATS_PER_SPLIT_ARTIFACT = 'reward_stats:per_split';
export const REWARD_STATS_ACCUMULATOR_ARTIFACT = 'reward_stats:accumulator';
export const REWARD_STATS_PATH_ARTIFACT = 'reward_stats:path';

let spillCounter = 0;

function rewardValues(b: Batch, name: string, batchIndex: number): FloatColumn {
  const c: Column | undefined = b.columns[name];
  if (c === undefined) {
    throw new Error(`reward_stats: column "${name}" is missing from "${b.table}" batch ${batchIndex} (has: ${Object.keys(b.columns).join(', ') || 'none'})`);
  }
  if (!isNumericColumn(c)) throw new Error(`reward_stats: column "${name}" of "${b.table}" batch ${batchIndex} is not numeric`);
  if (c instanceof Float32Array || c instanceof Float64Array) return c;
  return float64Column(b, name);
}

export const rewardStatsStage = defineStage<RewardStatsConfig>({
  name: 'reward_stats',
  role: 'transform',
  summary: 'Count, mean, variance, min, max, quantiles (KLL) and a histogram of a reward column, per batch and global; batches pass through.',
  doc: [
    'Statistics merge across shards: moments exactly (Welford within a batch, Chan et al. across), the histogram exactly',
    '(fixed grid anchored at 0 whose width doubles to fit `histogram_bins`), quantiles within the KLL sketch\'s stated rank error',
    '(`quantileRankError`, 99% confidence). Writes `path` (the RewardStatsSummary) and `<path minus .json>.state.json`',
    '(the mergeable state; merge shard runs with `recpost stats-merge`), emits per-batch metric records (split "batch")',
    'and global ones (split "all" and per split), and publishes the artifacts `reward_stats` (summary),',
    '`reward_stats:per_split`, `reward_stats:accumulator` (the RewardStats object, for other quantiles) and `reward_stats:path`.',
    'Without `barrier` the artifacts appear when the input ends; with `barrier: true` the input is spilled to Parquet under',
    '<out_dir>/_spill, the summary is published, then the batches are replayed unchanged, so a downstream stage (Exp-RSFT\'s',
    'global shift by the max reward) sees the global statistics before its first batch.',
  ].join(' '),
  fields: {
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
  },
  create(cfg, ctx) {
    const statsOptions: RewardStatsOptions = {
      sketchK: cfg.sketch_k,
      seed: ctx.seed,
      histogramBins: cfg.histogram_bins,
      histogramBaseWidth: cfg.histogram_width,
      quantiles: cfg.quantiles,
    };
    let global = new RewardStats(statsOptions);
    let perSplit: Map<string, RewardStats> | undefined = cfg.per_split ? new Map() : undefined;
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
      const t0 = performance.now();
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
        ctx.counters.busyMs += performance.now() - t0;
        if (cfg.batch_metrics) emitMoments('batch', bm, i);
      }
    };

    const finish = (): RewardStatsSummary => {
      const t0 = performance.now();
      const perSplitUsed = perSplit && perSplit.size > 0 ? perSplit : undefined;
      const written = writeStatsFiles(summaryPath, { column: cfg.column, global, perSplit: perSplitUsed });
      const { column: _c, perSplit: perSplitSummaries, ...summary } = written;
      ctx.artifacts.set(REWARD_STATS_ARTIFACT, summary);
      ctx.artifacts.set(REWARD_STATS_ACCUMULATOR_ARTIFACT, global);
      ctx.artifacts.set(REWARD_STATS_PATH_ARTIFACT, summaryPath);
      if (perSplitSummaries) ctx.artifacts.set(REWARD_STATS_PER_SPLIT_ARTIFACT, perSplitSummaries);
      emitMoments('all', global.moments, batchIndex);
      if (perSplitUsed) for (const [name, st] of perSplitUsed) emitMoments(name, st.moments, batchIndex);
      ctx.counters.busyMs += performance.now() - t0;
      if (summary.count === 0) ctx.log.warn(`reward_stats: no rows reached the stage; ${summaryPath} describes an empty column`);
      ctx.log.info(
        `reward_stats: ${summary.count} values of "${cfg.column}": mean ${fmt(summary.mean)}, std ${fmt(summary.std)}, ` +
          `min ${fmt(summary.min)}, max ${fmt(summary.max)} → ${summaryPath} (state: ${statePathFor(summaryPath)})`,
      );
      return summary;
    };

    return {
      apply(input: BatchStream): BatchStream {
        if (!cfg.barrier) return passThrough(input, absorb, () => void finish());
        return barrierThenReplay(input, ctx, absorb, finish);
      },
      getState() {
        return { global: global.toJSON(), perSplit: perSplit ? Object.fromEntries([...perSplit].map(([k, v]) => [k, v.toJSON()])) : undefined, batchIndex };
      },
      setState(state: unknown) {
        const s = state as { global: RewardStatsState; perSplit?: Record<string, RewardStatsState>; batchIndex?: number };
        global = RewardStats.fromJSON(s.global);
        if (cfg.per_split) perSplit = new Map(Object.entries(s.perSplit ?? {}).map(([k, v]) => [k, RewardStats.fromJSON(v)]));
        batchIndex = s.batchIndex ?? 0;
      },
    };
  },
});

function fmt(x: number): string {
  return Number.isFinite(x) ? (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(4)) : String(x);
}

/** Consume everything into a spill, run `finish`, then replay the spill. */
function barrierThenReplay(input: BatchStream, ctx: StageContext, absorb: (b: Batch) => void, finish: () => unknown): BatchStream {
  const spill = new SpillDataset(path.join(ctx.outDir, '_spill', `reward_stats-${process.pid}-${Date.now()}-${spillCounter++}`));
  const drained = input.consume<Batch>((err, x, push, next) => {
    if (err) {
      spill.remove();
      push(err);
      next();
    } else if (x === _.nil) push(null, _.nil);
    else {
      try {
        absorb(x as Batch);
        const t0 = performance.now();
        spill.write(x as Batch);
        ctx.counters.busyMs += performance.now() - t0;
      } catch (e) {
        spill.remove();
        push(e as Error);
      }
      next();
    }
  });
  return drained.collect().flatMap(() =>
    streamFromAsync(async function* () {
      try {
        const t0 = performance.now();
        spill.close();
        ctx.counters.busyMs += performance.now() - t0;
        finish();
        for await (const b of spill.replay()) yield b;
      } finally {
        spill.remove();
      }
    }),
  );
}
