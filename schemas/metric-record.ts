/**
 * One evaluation or diagnostic number. Everything that reports (console
 * table, JSONL, Parquet, plots, comparison tables) reads a stream of these.
 * `value` is the mean of `count` observations, so records of the same key
 * merge as count-weighted means (see stages/eval for the accumulators that
 * also keep what is needed to merge non-mean metrics exactly).
 */
export interface MetricRecord {
  run: string;
  /** Objective or model name (bc, exp_rsft, drpo, …). */
  method: string;
  seed: number;
  /** Optimiser step, batch index or checkpoint step. */
  step: number;
  epoch: number;
  /** train | valid | test | batch (per-batch diagnostics) | … */
  split: string;
  metric: string;
  value: number;
  count: number;
}

/** JSON has no NaN or infinities: non-finite numbers travel as the strings "NaN", "Infinity", "-Infinity". */
export function encodeJsonNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

/** A record as one JSON line (with its newline), as <out_dir>/metrics.jsonl holds it. */
export function metricRecordLine(r: MetricRecord): string {
  return `${JSON.stringify({ ...r, value: encodeJsonNumber(r.value), count: encodeJsonNumber(r.count) })}\n`;
}

export const METRIC_RECORD_FIELDS = ['run', 'method', 'seed', 'step', 'epoch', 'split', 'metric', 'value', 'count'] as const;

export function metricRecord(partial: Partial<MetricRecord> & Pick<MetricRecord, 'metric' | 'value'>): MetricRecord {
  return {
    run: partial.run ?? '',
    method: partial.method ?? '',
    seed: partial.seed ?? 0,
    step: partial.step ?? 0,
    epoch: partial.epoch ?? 0,
    split: partial.split ?? '',
    metric: partial.metric,
    value: partial.value,
    count: partial.count ?? 1,
  };
}
