/**
 * How reports turn metric records into one number per method:
 *
 * - A replicate is one (run, seed) pair: the same method trained with another
 *   seed, or in another run, is another replicate.
 * - A checkpoint is an (epoch, step) pair, ordered by epoch, then step.
 * - `last` takes, for each replicate and metric, the record at its latest
 *   checkpoint. `best` picks, for each replicate, the checkpoint where
 *   `best_by` (recorded in `best_split`, e.g. valid) is best, and reads every
 *   metric at that checkpoint (model selection as in the papers' tables).
 * - Across replicates: the plain mean and the sample standard deviation
 *   (n − 1 denominator; undefined for one replicate). `count` is not used
 *   here: it weights observations within one replicate, not seeds.
 */
import type { MetricTable } from './metric-table.js';

export type SelectMode = 'last' | 'best';

export interface ReplicateValue {
  run: string;
  seed: number;
  epoch: number;
  step: number;
  value: number;
}

export interface SelectOptions {
  split: string;
  metrics: readonly string[];
  /** Only these methods (all when undefined). */
  methods?: readonly string[];
  select: SelectMode;
  /** Metric that picks the checkpoint for `best`. */
  bestBy?: string;
  /** Split the `best_by` metric is read from (default: `split`). */
  bestSplit?: string;
  lowerIsBetter: (metric: string) => boolean;
}

export interface Selection {
  /** Methods with at least one selected value, in order of first appearance. */
  methods: string[];
  /** values.get(method).get(metric) = one entry per replicate that has the metric. */
  values: Map<string, Map<string, ReplicateValue[]>>;
  /** Problems worth a warning (replicates without the `best_by` metric). */
  warnings: string[];
}

/** Order of checkpoints: epoch, then step. */
export function compareCheckpoints(aEpoch: number, aStep: number, bEpoch: number, bStep: number): number {
  return aEpoch !== bEpoch ? aEpoch - bEpoch : aStep - bStep;
}

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Sample standard deviation (n − 1); NaN for fewer than two values. */
export function sampleStd(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i]! - m) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/** Relative change in percent, 100·(value − baseline)/|baseline|; NaN when the baseline is 0 or not finite. */
export function percentChange(value: number, baseline: number): number {
  if (!Number.isFinite(baseline) || baseline === 0 || !Number.isFinite(value)) return Number.NaN;
  return (100 * (value - baseline)) / Math.abs(baseline);
}

const repKey = (run: string, seed: number) => `${run}\u0000${seed}`;

/**
 * Default direction of a metric: names containing loss, mse, mae, rmse or
 * error, negative log-likelihoods (nll) and divergences from a reference or
 * initial policy (kl, kl_ref, kl_to_init, kl_at_peak: the KL budget a method
 * spends, paper 004) are lower-is-better; gaps are best closest to zero (see
 * isTowardZeroMetric); everything else (NDCG, HR, reward, …) higher.
 */
export function defaultLowerIsBetter(metric: string): boolean {
  return /(loss|mse|mae|rmse|error|nll)/i.test(metric) || /(^|_)kl($|_)/i.test(metric);
}

/**
 * Metrics whose best value is the one closest to 0: paper 004's gold–proxy
 * gap (Δgold − Δproxy) is negative when the proxy over-promises, and "the
 * smallest gap" means the smallest in magnitude.
 */
export function isTowardZeroMetric(metric: string): boolean {
  return /gap/i.test(metric);
}

/** Whether `a` beats `b` in the metric's direction (NaN never wins). */
export function isBetter(a: number, b: number, lower: boolean): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return lower ? a < b : a > b;
}

/** One value per (method, replicate, metric), chosen by `last` or `best` (see the file comment). */
export function selectValues(t: MetricTable, o: SelectOptions): Selection {
  const wantMetric = new Set(o.metrics);
  const wantMethod = o.methods ? new Set(o.methods) : undefined;
  const values = new Map<string, Map<string, ReplicateValue[]>>();
  const warnings: string[] = [];
  const methodOrder: string[] = [];
  const put = (method: string, metric: string, v: ReplicateValue) => {
    let byMetric = values.get(method);
    if (!byMetric) {
      values.set(method, (byMetric = new Map()));
      methodOrder.push(method);
    }
    let list = byMetric.get(metric);
    if (!list) byMetric.set(metric, (list = []));
    list.push(v);
  };

  if (o.select === 'last') {
    // (method, replicate, metric) → row index of the latest checkpoint.
    const latest = new Map<string, number>();
    const order: string[] = [];
    for (let i = 0; i < t.size; i++) {
      if (t.split[i] !== o.split || !wantMetric.has(t.metric[i]!)) continue;
      if (wantMethod && !wantMethod.has(t.method[i]!)) continue;
      const k = `${t.method[i]}\u0000${repKey(t.run[i]!, t.seed[i]!)}\u0000${t.metric[i]}`;
      const at = latest.get(k);
      if (at === undefined) order.push(k);
      if (at === undefined || compareCheckpoints(t.epoch[i]!, t.step[i]!, t.epoch[at]!, t.step[at]!) >= 0) latest.set(k, i);
    }
    for (const k of order) {
      const i = latest.get(k)!;
      put(t.method[i]!, t.metric[i]!, { run: t.run[i]!, seed: t.seed[i]!, epoch: t.epoch[i]!, step: t.step[i]!, value: t.value[i]! });
    }
  } else {
    const bestBy = o.bestBy ?? o.metrics[0];
    if (bestBy === undefined) throw new Error('select: best needs a best_by metric');
    const bestSplit = o.bestSplit || o.split;
    const lower = o.lowerIsBetter(bestBy);
    // (method, replicate) → row index of the best checkpoint by `bestBy`.
    const chosen = new Map<string, number>();
    const replicates = new Map<string, Set<string>>();
    for (let i = 0; i < t.size; i++) {
      if (wantMethod && !wantMethod.has(t.method[i]!)) continue;
      const mk = `${t.method[i]}\u0000${repKey(t.run[i]!, t.seed[i]!)}`;
      if (t.split[i] === o.split && wantMetric.has(t.metric[i]!)) {
        let s = replicates.get(t.method[i]!);
        if (!s) replicates.set(t.method[i]!, (s = new Set()));
        s.add(mk);
      }
      if (t.split[i] !== bestSplit || t.metric[i] !== bestBy || Number.isNaN(t.value[i]!)) continue;
      const at = chosen.get(mk);
      if (
        at === undefined ||
        isBetter(t.value[i]!, t.value[at]!, lower) ||
        (t.value[i] === t.value[at] && compareCheckpoints(t.epoch[i]!, t.step[i]!, t.epoch[at]!, t.step[at]!) < 0)
      ) {
        chosen.set(mk, i);
      }
    }
    for (const [method, reps] of replicates) {
      const missing = [...reps].filter((k) => !chosen.has(k)).length;
      if (missing > 0) warnings.push(`${missing} replicate(s) of "${method}" have no "${bestBy}" record in split "${bestSplit}" and are left out`);
    }
    for (let i = 0; i < t.size; i++) {
      if (t.split[i] !== o.split || !wantMetric.has(t.metric[i]!)) continue;
      if (wantMethod && !wantMethod.has(t.method[i]!)) continue;
      const at = chosen.get(`${t.method[i]}\u0000${repKey(t.run[i]!, t.seed[i]!)}`);
      if (at === undefined || t.epoch[at] !== t.epoch[i] || t.step[at] !== t.step[i]) continue;
      put(t.method[i]!, t.metric[i]!, { run: t.run[i]!, seed: t.seed[i]!, epoch: t.epoch[i]!, step: t.step[i]!, value: t.value[i]! });
    }
  }
  const ordered = o.methods ? o.methods.filter((m) => values.has(m)) : methodOrder;
  return { methods: ordered, values, warnings };
}

export interface Summary {
  mean: number;
  std: number;
  n: number;
}

export function summarize(vs: readonly ReplicateValue[] | undefined): Summary {
  const xs = (vs ?? []).map((v) => v.value).filter((x) => !Number.isNaN(x));
  return { mean: mean(xs), std: sampleStd(xs), n: xs.length };
}
