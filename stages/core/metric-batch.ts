/** Metric records ⇄ `metrics` batches (the columnar form streams and Parquet sinks carry). */
import type { Batch } from './batch.js';
import type { MetricRecord } from '../../schemas/metric-record.js';

/** Metric records → a `metrics` batch (columnar), for streams and Parquet sinks. */
export function metricsToBatch(records: readonly MetricRecord[]): Batch {
  const n = records.length;
  const seed = new Int32Array(n);
  const step = new Int32Array(n);
  const epoch = new Int32Array(n);
  const value = new Float64Array(n);
  const count = new Float64Array(n);
  records.forEach((r, i) => {
    seed[i] = r.seed;
    step[i] = r.step;
    epoch[i] = r.epoch;
    value[i] = r.value;
    count[i] = r.count;
  });
  return {
    table: 'metrics',
    numRows: n,
    columns: {
      run: records.map((r) => r.run),
      method: records.map((r) => r.method),
      seed,
      step,
      epoch,
      split: records.map((r) => r.split),
      metric: records.map((r) => r.metric),
      value,
      count,
    },
  };
}

/** A `metrics` batch → records. */
export function batchToMetrics(batch: Batch): MetricRecord[] {
  const c = batch.columns as Record<string, unknown>;
  const str = (k: string) => c[k] as string[];
  const num = (k: string) => c[k] as ArrayLike<number>;
  const out: MetricRecord[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    out.push({
      run: str('run')[i]!,
      method: str('method')[i]!,
      seed: Number(num('seed')[i]),
      step: Number(num('step')[i]),
      epoch: Number(num('epoch')[i]),
      split: str('split')[i]!,
      metric: str('metric')[i]!,
      value: Number(num('value')[i]),
      count: Number(num('count')[i]),
    });
  }
  return out;
}
