/**
 * Canonical column layout of `metrics` batches (schemas/tables.ts metricsSchema):
 * run, method, split, metric as string[]; seed, step, epoch as Int32Array;
 * value, count as Float64Array. Batches from other stages or other tools
 * (e.g. int64 seeds written by pyarrow) are coerced to it, so files written by
 * the sinks always carry the declared schema.
 */
import type { Batch, Column } from '../core/batch.js';
import { isListColumn } from '../core/batch.js';
import { METRIC_RECORD_FIELDS, type MetricRecord } from '../../schemas/metric-record.js';

export const STRING_FIELDS = ['run', 'method', 'split', 'metric'] as const;
export const INT_FIELDS = ['seed', 'step', 'epoch'] as const;
export const FLOAT_FIELDS = ['value', 'count'] as const;

export interface MetricColumns {
  run: string[];
  method: string[];
  seed: Int32Array;
  step: Int32Array;
  epoch: Int32Array;
  split: string[];
  metric: string[];
  value: Float64Array;
  count: Float64Array;
}

function asStrings(name: string, c: Column | undefined, n: number, fill: string): string[] {
  if (c === undefined) return new Array<string>(n).fill(fill);
  if (Array.isArray(c)) return c.map((v) => (v == null ? fill : String(v)));
  throw new Error(`metrics batch: column "${name}" must hold strings`);
}

function asInts(name: string, c: Column | undefined, n: number, fill: number): Int32Array {
  if (c === undefined) return new Int32Array(n).fill(fill);
  if (c instanceof Int32Array) return c;
  if (Array.isArray(c) || isListColumn(c)) throw new Error(`metrics batch: column "${name}" must be numeric`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(c[i]);
  return out;
}

function asFloats(name: string, c: Column | undefined, n: number, fill: number): Float64Array {
  if (c === undefined) return new Float64Array(n).fill(fill);
  if (c instanceof Float64Array) return c;
  if (Array.isArray(c) || isListColumn(c)) throw new Error(`metrics batch: column "${name}" must be numeric`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(c[i]);
  return out;
}

/**
 * The nine canonical columns of a metrics batch. `metric` and `value` must be
 * present; other absent columns take the defaults of metricRecord() (empty
 * strings, 0, count 1). Extra columns are ignored.
 */
export function metricColumns(batch: Batch): MetricColumns {
  const c = batch.columns;
  const n = batch.numRows;
  for (const required of ['metric', 'value']) {
    if (c[required] === undefined) {
      throw new Error(`a "${batch.table}" batch has no "${required}" column, so it is not a metrics batch (has: ${Object.keys(c).join(', ') || 'none'})`);
    }
  }
  return {
    run: asStrings('run', c.run, n, ''),
    method: asStrings('method', c.method, n, ''),
    seed: asInts('seed', c.seed, n, 0),
    step: asInts('step', c.step, n, 0),
    epoch: asInts('epoch', c.epoch, n, 0),
    split: asStrings('split', c.split, n, ''),
    metric: asStrings('metric', c.metric, n, ''),
    value: asFloats('value', c.value, n, Number.NaN),
    count: asFloats('count', c.count, n, 1),
  };
}

export function columnsToBatch(cols: MetricColumns, meta?: Record<string, unknown>): Batch {
  const columns: Record<string, Column> = {};
  for (const f of METRIC_RECORD_FIELDS) columns[f] = cols[f];
  return { table: 'metrics', numRows: cols.metric.length, columns, ...(meta ? { meta } : {}) };
}

/** A metrics batch with exactly the canonical columns in schema order. */
export function canonicalMetricsBatch(batch: Batch): Batch {
  return columnsToBatch(metricColumns(batch), batch.meta);
}

/** True for batches that carry metric records (table "metrics"). */
export function isMetricsBatch(batch: Batch): boolean {
  return batch.table === 'metrics';
}

/** Identity of a record: two records with the same key describe the same number. */
export function metricKey(run: string, method: string, seed: number, step: number, epoch: number, split: string, metric: string): string {
  return JSON.stringify([run, method, seed, step, epoch, split, metric]);
}

export function recordKey(r: MetricRecord): string {
  return metricKey(r.run, r.method, r.seed, r.step, r.epoch, r.split, r.metric);
}

export function rowKey(c: MetricColumns, i: number): string {
  return metricKey(c.run[i]!, c.method[i]!, c.seed[i]!, c.step[i]!, c.epoch[i]!, c.split[i]!, c.metric[i]!);
}

/**
 * The nine metric-record fields as growable plain arrays, in schema order:
 * the shape shared by MetricColumnsBuilder (file readers) and MetricTable
 * (what reports read).
 */
export class MetricRowArrays {
  readonly run: string[] = [];
  readonly method: string[] = [];
  readonly seed: number[] = [];
  readonly step: number[] = [];
  readonly epoch: number[] = [];
  readonly split: string[] = [];
  readonly metric: string[] = [];
  readonly value: number[] = [];
  readonly count: number[] = [];

  /** Rows held. */
  get size(): number {
    return this.metric.length;
  }

  protected pushRow(run: string, method: string, seed: number, step: number, epoch: number, split: string, metric: string, value: number, count: number): void {
    this.run.push(run);
    this.method.push(method);
    this.seed.push(seed);
    this.step.push(step);
    this.epoch.push(epoch);
    this.split.push(split);
    this.metric.push(metric);
    this.value.push(value);
    this.count.push(count);
  }
}

/** Grows metric columns row by row (file readers), then hands out a batch. */
export class MetricColumnsBuilder extends MetricRowArrays {
  push(run: string, method: string, seed: number, step: number, epoch: number, split: string, metric: string, value: number, count: number): void {
    this.pushRow(run, method, seed, step, epoch, split, metric, value, count);
  }

  /** The rows so far as a metrics batch; the builder starts empty again. */
  take(meta?: Record<string, unknown>): Batch {
    const cols: MetricColumns = {
      run: this.run.splice(0),
      method: this.method.splice(0),
      seed: Int32Array.from(this.seed.splice(0)),
      step: Int32Array.from(this.step.splice(0)),
      epoch: Int32Array.from(this.epoch.splice(0)),
      split: this.split.splice(0),
      metric: this.metric.splice(0),
      value: Float64Array.from(this.value.splice(0)),
      count: Float64Array.from(this.count.splice(0)),
    };
    return columnsToBatch(cols, meta);
  }
}
