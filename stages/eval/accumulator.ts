/**
 * Mergeable metric accumulators (SPEC S7): every metric is kept as a sum, a
 * sum of squares and a count per key (run, method, seed, step, epoch, split,
 * metric), never as a finished mean. Two accumulators over disjoint shards,
 * partitions or checkpoints merge into the accumulator of their union by
 * adding the three numbers, so evaluation can be split, resumed and extended.
 *
 * Records come out as MetricRecord (value = sum / count, count = count); with
 * `std`, a companion record `<metric>_std` carries the population standard
 * deviation of the observations √(sumSq/n − mean²).
 */
import { encodeJsonNumber, metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import type { MetricSums } from './ranking-metrics.js';

/** What identifies an accumulated metric: a record without its value and count. */
export type MetricKey = Omit<MetricRecord, 'value' | 'count'>;

export interface MetricEntry extends MetricSums {
  key: MetricKey;
}

/** The serialised form: one row per key, [run, method, seed, step, epoch, split, metric, sum, sumSq, count]. */
export interface AccumulatorJSON {
  version: 1;
  entries: [string, string, number, number, number, string, string, number | string, number | string, number][];
}

const keyString = (k: MetricKey): string => JSON.stringify([k.run, k.method, k.seed, k.step, k.epoch, k.split, k.metric]);

/** JSON has no Infinity/NaN: non-finite sums are written as strings. */
const decodeNumber = (v: unknown, what: string): number => {
  if (typeof v === 'number') return v;
  if (v === 'Infinity' || v === '-Infinity' || v === 'NaN') return Number(v);
  throw new Error(`metric accumulator: ${what} must be a number, got ${JSON.stringify(v)}`);
};

function compareKeys(a: MetricKey, b: MetricKey): number {
  return (
    a.run.localeCompare(b.run) ||
    a.method.localeCompare(b.method) ||
    a.seed - b.seed ||
    a.step - b.step ||
    a.epoch - b.epoch ||
    a.split.localeCompare(b.split) ||
    a.metric.localeCompare(b.metric)
  );
}

export class MetricAccumulator {
  private readonly entries = new Map<string, MetricEntry>();

  private entry(key: MetricKey): MetricEntry {
    const s = keyString(key);
    let e = this.entries.get(s);
    if (!e) {
      e = { key: { ...key }, sum: 0, sumSq: 0, count: 0 };
      this.entries.set(s, e);
    }
    return e;
  }

  /** Add one observation. */
  add(key: MetricKey, value: number): this {
    const e = this.entry(key);
    e.sum += value;
    e.sumSq += value * value;
    e.count += 1;
    return this;
  }

  /** Add every observation of a column. */
  addValues(key: MetricKey, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      s += v;
      s2 += v * v;
    }
    return this.addSums(key, { sum: s, sumSq: s2, count: values.length });
  }

  /** Add pre-summed observations (from a kernel that sums as it goes). */
  addSums(key: MetricKey, sums: MetricSums): this {
    if (sums.count === 0) return this;
    const e = this.entry(key);
    e.sum += sums.sum;
    e.sumSq += sums.sumSq;
    e.count += sums.count;
    return this;
  }

  /** Add everything of `other` into this accumulator (the union of their observations). */
  merge(other: MetricAccumulator): this {
    for (const e of other.entries.values()) this.addSums(e.key, e);
    return this;
  }

  get(key: MetricKey): MetricSums | undefined {
    const e = this.entries.get(keyString(key));
    return e ? { sum: e.sum, sumSq: e.sumSq, count: e.count } : undefined;
  }

  /** Mean of a key's observations (undefined when absent). */
  mean(key: MetricKey): number | undefined {
    const e = this.entries.get(keyString(key));
    return e && e.count > 0 ? e.sum / e.count : undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries sorted by key (run, method, seed, step, epoch, split, metric). */
  list(): MetricEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e, key: { ...e.key } })).sort((a, b) => compareKeys(a.key, b.key));
  }

  /** Records (value = mean, count = number of observations), sorted by key. */
  toRecords(opts: { std?: boolean } = {}): MetricRecord[] {
    const out: MetricRecord[] = [];
    for (const e of this.list()) {
      const mean = e.sum / e.count;
      out.push(metricRecord({ ...e.key, value: mean, count: e.count }));
      if (opts.std) {
        const variance = Math.max(0, e.sumSq / e.count - mean * mean);
        out.push(metricRecord({ ...e.key, metric: `${e.key.metric}_std`, value: Math.sqrt(variance), count: e.count }));
      }
    }
    return out;
  }

  toJSON(): AccumulatorJSON {
    return {
      version: 1,
      entries: this.list().map((e) => [
        e.key.run,
        e.key.method,
        e.key.seed,
        e.key.step,
        e.key.epoch,
        e.key.split,
        e.key.metric,
        encodeJsonNumber(e.sum),
        encodeJsonNumber(e.sumSq),
        e.count,
      ]),
    };
  }

  static fromJSON(json: unknown): MetricAccumulator {
    const j = json as Partial<AccumulatorJSON> | null;
    if (!j || typeof j !== 'object' || j.version !== 1 || !Array.isArray(j.entries)) {
      throw new Error('metric accumulator: expected {"version": 1, "entries": [...]}');
    }
    const acc = new MetricAccumulator();
    j.entries.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== 10) throw new Error(`metric accumulator: entry ${i} must have 10 fields`);
      const [run, method, seed, step, epoch, split, metric, sum, sumSq, count] = row;
      if (typeof run !== 'string' || typeof method !== 'string' || typeof split !== 'string' || typeof metric !== 'string') {
        throw new Error(`metric accumulator: entry ${i}: run, method, split and metric must be strings`);
      }
      if (![seed, step, epoch, count].every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new Error(`metric accumulator: entry ${i}: seed, step, epoch and count must be finite numbers`);
      }
      acc.addSums(
        { run, method, seed, step, epoch, split, metric },
        { sum: decodeNumber(sum, `entry ${i} sum`), sumSq: decodeNumber(sumSq, `entry ${i} sumSq`), count },
      );
    });
    return acc;
  }
}
