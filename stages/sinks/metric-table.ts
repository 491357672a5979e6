/**
 * The metric records a report reads, held column by column in memory (reports
 * are small: thousands of records, not millions). A record is identified by
 * (run, method, seed, step, epoch, split, metric); adding a record whose key
 * is already present replaces its value, so the same number arriving twice
 * (as a stream batch and through ctx.emitMetric) is counted once.
 */
import type { MetricRecord } from '../../schemas/metric-record.js';
import { metricKey, MetricRowArrays, type MetricColumns } from './metric-columns.js';

export class MetricTable extends MetricRowArrays {
  private readonly index = new Map<string, number>();

  /**
   * Add one record. `replace`: an existing key takes the new value (stream
   * batches, later wins); otherwise an existing key is left as it is.
   */
  add(
    run: string,
    method: string,
    seed: number,
    step: number,
    epoch: number,
    split: string,
    metric: string,
    value: number,
    count: number,
    replace = true,
  ): void {
    const key = metricKey(run, method, seed, step, epoch, split, metric);
    const at = this.index.get(key);
    if (at !== undefined) {
      if (replace) {
        this.value[at] = value;
        this.count[at] = count;
      }
      return;
    }
    this.index.set(key, this.metric.length);
    this.pushRow(run, method, seed, step, epoch, split, metric, value, count);
  }

  addColumns(c: MetricColumns, replace = true): void {
    for (let i = 0; i < c.metric.length; i++) {
      this.add(c.run[i]!, c.method[i]!, c.seed[i]!, c.step[i]!, c.epoch[i]!, c.split[i]!, c.metric[i]!, c.value[i]!, c.count[i]!, replace);
    }
  }

  addRecords(records: readonly MetricRecord[], replace = true, from = 0): void {
    for (let i = from; i < records.length; i++) {
      const r = records[i]!;
      this.add(r.run, r.method, r.seed, r.step, r.epoch, r.split, r.metric, r.value, r.count, replace);
    }
  }

  /** Distinct values of a string column in order of first appearance, over rows passing `keep`. */
  distinct(col: 'run' | 'method' | 'split' | 'metric', keep: (i: number) => boolean = () => true): string[] {
    const seen = new Set<string>();
    const values = this[col];
    for (let i = 0; i < values.length; i++) if (keep(i)) seen.add(values[i]!);
    return [...seen];
  }

  /** Methods in order of first appearance. */
  methods(): string[] {
    return this.distinct('method');
  }

  /** Metrics recorded in `split` (any split when undefined), in order of first appearance. */
  metricsIn(split?: string): string[] {
    return this.distinct('metric', split === undefined ? undefined : (i) => this.split[i] === split);
  }

  /**
   * The table without records that already aggregate over seeds: a negative
   * seed (evaluate_proxy_gold writes seed −1 for its mean-over-seeds curve)
   * marks such a record. They are kept only for a (run, method, split,
   * metric) that has no per-seed records, so reports never count a mean over
   * seeds as one more seed.
   */
  withoutSeedAggregates(): MetricTable {
    const perSeed = new Set<string>();
    const group = (i: number) => JSON.stringify([this.run[i], this.method[i], this.split[i], this.metric[i]]);
    let negatives = 0;
    for (let i = 0; i < this.size; i++) {
      if (this.seed[i]! >= 0) perSeed.add(group(i));
      else negatives++;
    }
    if (negatives === 0) return this;
    const out = new MetricTable();
    for (let i = 0; i < this.size; i++) {
      if (this.seed[i]! < 0 && perSeed.has(group(i))) continue;
      out.add(this.run[i]!, this.method[i]!, this.seed[i]!, this.step[i]!, this.epoch[i]!, this.split[i]!, this.metric[i]!, this.value[i]!, this.count[i]!);
    }
    return out;
  }

  /** Splits in which `metric` was recorded. */
  splitsOf(metric: string): string[] {
    return this.distinct('split', (i) => this.metric[i] === metric);
  }
}
