/**
 * The reward statistics accumulator of SPEC S2: exact mergeable moments
 * (moments.ts), a KLL quantile sketch (kll-sketch.ts) and a grid histogram
 * (grid-histogram.ts), fed one column at a time.
 *
 * Two accumulators built with the same options merge into the accumulator of
 * the union: moments bit for bit given the same batches, in any order or
 * grouping (batch moments are Welford's, combined by exact sums,
 * exact-sum.ts), the histogram exactly, quantiles
 * within the sketch's stated rank error. `toJSON()`/`fromJSON()` persist the
 * whole state, so shard runs can be saved and merged later (stats-files.ts).
 */
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { GridHistogram, type GridHistogramState } from './grid-histogram.js';
import { KllSketch, type KllSketchState } from './kll-sketch.js';
import { emptyMoments, mergeMoments, momentsOf, momentsVariance, NonFiniteValueError, type FloatColumn, type Moments } from './moments.js';
import type { Column } from '../core/batch.js';
import { partitionBySplit } from './split-partition.js';
import { ExactMomentSums, ExactSum } from './exact-sum.js';

/** Which rows the global statistics describe: the train rows (default) or every row. */
export type StatsRows = 'train' | 'all';

/**
 * The values the global statistics take from one batch. With `train`, rows of
 * other splits are left out, so the validation and test targets (after the
 * r ≥ 4.5 filter, all five-star) do not leak into μ, σ and the max that the
 * objectives standardise and shift by; a batch without a split column (an
 * interaction log before split_sequences) is used whole. A non-finite value in
 * any row is still an error (NonFiniteValueError with the batch's row index).
 */
export function statsRowValues(values: FloatColumn, split: Column | undefined, rows: StatsRows): FloatColumn {
  if (rows === 'all' || split === undefined) return values;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) throw new NonFiniteValueError(i, values[i]!);
  return partitionBySplit(values, split).get('train') ?? new Float64Array(0);
}

export const DEFAULT_QUANTILES: readonly number[] = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1];

export interface RewardStatsOptions {
  /** Keep a quantile sketch (default true). */
  sketch?: boolean;
  /** KLL accuracy parameter (see kll-sketch.ts; default 400). */
  sketchK?: number;
  /** Seed of the sketch's coins. */
  seed?: number;
  /** Keep a histogram (default true). */
  histogram?: boolean;
  histogramBaseWidth?: number;
  histogramBins?: number;
  /** Quantile levels reported by summary() (default DEFAULT_QUANTILES). */
  quantiles?: readonly number[];
}

export interface RewardStatsState {
  version: 1;
  moments: { count: number; mean: number; m2: number; min: number | null; max: number | null };
  /** Exact sums behind mean and m2 (exact-sum.ts): limbs of S = Σ n_b·mean_b and Q = Σ (M2_b + n_b·mean_b²) over batches. Absent in states written before. */
  exact?: { sum: number[]; squares: number[]; overflow?: boolean };
  sketch: KllSketchState | null;
  histogram: GridHistogramState | null;
  quantiles: number[];
}

export class RewardStats {
  /** Count, min and max; mean and m2 are read from the exact sums (see `moments`). */
  private counts: Moments = emptyMoments();
  private exact = new ExactMomentSums();
  private cached: Moments | undefined;
  readonly sketch: KllSketch | null;
  readonly histogram: GridHistogram | null;
  readonly quantileLevels: readonly number[];

  /** `parts` restores saved components (fromJSON); otherwise they are built from `opts`. */
  constructor(opts: RewardStatsOptions = {}, parts?: { sketch: KllSketch | null; histogram: GridHistogram | null }) {
    this.sketch = parts ? parts.sketch : opts.sketch === false ? null : new KllSketch({ k: opts.sketchK, seed: opts.seed });
    this.histogram = parts
      ? parts.histogram
      : opts.histogram === false
        ? null
        : new GridHistogram({ baseWidth: opts.histogramBaseWidth, maxBins: opts.histogramBins });
    this.quantileLevels = [...(opts.quantiles ?? DEFAULT_QUANTILES)];
    for (const q of this.quantileLevels) if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile levels must be in [0, 1], got ${q}`);
  }

  get count(): number {
    return this.counts.count;
  }

  /**
   * Count, mean, M2, min, max. Mean and M2 come from exact sums of the
   * batches' moments (exact-sum.ts), rounded once: the same batches give the
   * same moments bit for bit, whatever their order and however shards grouped them.
   */
  get moments(): Moments {
    if (!this.cached) {
      const n = this.counts.count;
      this.cached = { ...this.counts, mean: this.exact.mean(n), m2: this.exact.m2(n) };
    }
    return this.cached;
  }

  /**
   * Add a column of rewards. Throws NonFiniteValueError (index and value) on
   * NaN/±Infinity before anything is changed.
   */
  add(values: FloatColumn): this {
    this.addColumn(values);
    return this;
  }

  /**
   * Add a column and return its own moments (Welford over the column, then
   * Chan's combination with the running total), for per-batch reports.
   */
  addColumn(values: FloatColumn): Moments {
    const batch = momentsOf(values);
    this.counts = mergeMoments(this.counts, batch);
    this.exact.addBatch(batch);
    this.cached = undefined;
    this.sketch?.add(values);
    this.histogram?.add(values);
    return batch;
  }

  /** Fold `other` (built with the same options) into this accumulator. */
  merge(other: RewardStats): this {
    if (Boolean(this.sketch) !== Boolean(other.sketch) || Boolean(this.histogram) !== Boolean(other.histogram)) {
      throw new Error('cannot merge reward statistics kept with different parts (sketch/histogram on in one, off in the other)');
    }
    this.counts = mergeMoments(this.counts, other.counts);
    this.exact.merge(other.exact);
    this.cached = undefined;
    if (this.sketch && other.sketch) this.sketch.merge(other.sketch);
    if (this.histogram && other.histogram) this.histogram.merge(other.histogram);
    return this;
  }

  /**
   * The persisted summary. Quantiles at levels 0 and 1 are the exact min and
   * max; the others come from the sketch, clamped to [min, max]. With no
   * values, mean/variance/std are 0 and min/max are NaN (null in JSON).
   * `quantileRankError` is the sketch's bound at 99% confidence (0 when exact
   * or when no sketch is kept, in which case `quantiles` is empty).
   */
  summary(): RewardStatsSummary {
    const m = this.moments;
    const empty = m.count === 0;
    const variance = momentsVariance(m);
    const min = empty ? NaN : m.min;
    const max = empty ? NaN : m.max;
    const quantiles: { q: number; value: number }[] = [];
    if (this.sketch && !empty) {
      for (const q of this.quantileLevels) {
        let value: number;
        if (q === 0) value = min;
        else if (q === 1) value = max;
        else value = Math.min(max, Math.max(min, this.sketch.quantile(q)));
        quantiles.push({ q, value });
      }
    }
    return {
      count: m.count,
      mean: empty ? 0 : m.mean,
      variance,
      std: Math.sqrt(variance),
      min,
      max,
      quantiles,
      quantileRankError: this.sketch ? this.sketch.quantileRankError(0.99) : 0,
      histogram: this.histogram ? this.histogram.bins() : { edges: [], counts: [] },
    };
  }

  toJSON(): RewardStatsState {
    const m = this.moments;
    return {
      version: 1,
      moments: { count: m.count, mean: m.mean, m2: m.m2, min: m.count ? m.min : null, max: m.count ? m.max : null },
      exact: { sum: this.exact.sum.toJSON(), squares: this.exact.squares.toJSON(), ...(this.exact.squaresOverflowed ? { overflow: true } : {}) },
      sketch: this.sketch ? this.sketch.toJSON() : null,
      histogram: this.histogram ? this.histogram.toJSON() : null,
      quantiles: [...this.quantileLevels],
    };
  }

  static fromJSON(s: RewardStatsState): RewardStats {
    if (!s || s.version !== 1 || typeof s.moments !== 'object') throw new Error('reward statistics state: expected an object with version 1 and "moments"');
    const r = new RewardStats(
      { quantiles: s.quantiles },
      { sketch: s.sketch ? KllSketch.fromJSON(s.sketch) : null, histogram: s.histogram ? GridHistogram.fromJSON(s.histogram) : null },
    );
    const mm = s.moments;
    r.counts = { count: mm.count, mean: mm.mean, m2: mm.m2, min: mm.min ?? Infinity, max: mm.max ?? -Infinity };
    if (s.exact) {
      r.exact.sum = ExactSum.fromJSON(s.exact.sum);
      r.exact.squares = ExactSum.fromJSON(s.exact.squares);
      r.exact.squaresOverflowed = s.exact.overflow === true;
    } else {
      // A state written before exact sums: its moments count as one batch (their own rounding stays).
      r.exact.addBatch(mm);
    }
    if (r.sketch && r.sketch.n !== mm.count) throw new Error(`reward statistics state: sketch holds ${r.sketch.n} values, moments say ${mm.count}`);
    return r;
  }
}
