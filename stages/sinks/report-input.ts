/**
 * What the report sinks read (they pass every batch on: `process` returns it).
 *
 * A report (table, plot, file) can read two sources: the `metrics` batches
 * that reach the sink in the stream, and every record emitted in the run
 * through ctx.emitMetric (training records, per-batch diagnostics; the
 * evaluation stages send their records both ways). The `records` option
 * chooses; `both` counts a record present in both once (same run, method,
 * seed, step, epoch, split and metric).
 */
import type { Batch } from '../core/batch.js';
import type { StringField } from '../core/config-schema.js';
import type { ValueOf } from '../core/config-types.js';
import type { StageContext } from '../core/stage.js';
import { isMetricsBatch, metricColumns } from './metric-columns.js';
import { MetricTable } from './metric-table.js';

export const recordsField = {
  type: 'string',
  enum: ['stream', 'run', 'both'],
  default: 'both',
  doc: 'Records to use: `stream` = metrics batches reaching this stage; `run` = every record emitted in the run so far (ctx.allMetrics(): training records, diagnostics, evaluations); `both` = their union, a record present in both counted once.',
} as const satisfies StringField;

export type RecordsSource = ValueOf<typeof recordsField>;

/** Accumulates the records a report reads, in a MetricTable. */
export class ReportInput {
  readonly table = new MetricTable();
  private runSeen = 0;

  constructor(
    private readonly source: RecordsSource,
    private readonly ctx: Pick<StageContext, 'allMetrics'>,
  ) {}

  /** Take a stream batch (other tables are ignored). */
  addBatch(b: Batch): void {
    if (this.source !== 'run' && isMetricsBatch(b) && b.numRows > 0) this.table.addColumns(metricColumns(b), true);
  }

  /** What reports read: the records without seed aggregates that per-seed records already cover (MetricTable.withoutSeedAggregates). */
  view(): MetricTable {
    return this.table.withoutSeedAggregates();
  }

  /** Take run records emitted since the last call. */
  syncRun(): void {
    if (this.source === 'stream') return;
    const all = this.ctx.allMetrics();
    if (all.length < this.runSeen) this.runSeen = 0;
    this.table.addRecords(all, this.source === 'run', this.runSeen);
    this.runSeen = all.length;
  }
}
