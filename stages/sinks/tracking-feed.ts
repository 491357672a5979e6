/**
 * The records a tracking sink (tensorboard, mlflow) forwards, as they arrive:
 * the `metrics` batches of the stream and the records emitted in the run
 * (ctx.allMetrics()), per the `records` option. With `both`, a record that
 * reaches the sink both ways (evaluations send theirs both ways) is forwarded
 * once, whichever way came first; records repeated within one source are all
 * forwarded.
 */
import type { Batch } from '../core/batch.js';
import type { StageContext } from '../core/stage.js';
import { type MetricRecord } from '../../schemas/metric-record.js';
import { batchToMetrics } from '../core/metric-batch.js';
import { isMetricsBatch, recordKey } from './metric-columns.js';
import type { RecordsSource } from './report-input.js';

export class TrackingFeed {
  private runSeen = 0;
  private readonly fromStream = new Set<string>();
  private readonly fromRun = new Set<string>();

  constructor(
    private readonly source: RecordsSource,
    private readonly ctx: Pick<StageContext, 'allMetrics'>,
  ) {}

  /** New records from a stream batch (non-metrics batches give none). */
  fromBatch(b: Batch): MetricRecord[] {
    if (this.source === 'run' || !isMetricsBatch(b) || b.numRows === 0) return [];
    const records = batchToMetrics(b);
    if (this.source !== 'both') return records;
    return records.filter((r) => {
      const k = recordKey(r);
      this.fromStream.add(k);
      return !this.fromRun.has(k);
    });
  }

  /** Run records emitted since the last call. */
  fromRunRecords(): MetricRecord[] {
    if (this.source === 'stream') return [];
    const all = this.ctx.allMetrics();
    const fresh = all.slice(Math.min(this.runSeen, all.length));
    this.runSeen = all.length;
    if (this.source !== 'both') return fresh;
    return fresh.filter((r) => {
      const k = recordKey(r);
      this.fromRun.add(k);
      return !this.fromStream.has(k);
    });
  }
}

/** The `poll_seconds` option of the tracking sinks. */
export const pollSecondsField = {
  type: 'number',
  min: 0,
  default: 5,
  doc: 'Also forward new run records every this many seconds, so training shows up live even when no batch reaches the sink until evaluation (0 = only when batches pass and at the end).',
} as const;

/** Call `fn` every `seconds` (not keeping the process alive); returns the stop function. 0 = never. */
export function pollEvery(seconds: number, fn: () => void): () => void {
  if (!(seconds > 0)) return () => undefined;
  const timer = setInterval(fn, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
