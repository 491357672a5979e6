/** `metrics_parquet` sink: metric records as one Parquet file with the `metrics` schema. */
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import type { Batch } from '../core/batch.js';
import { metricsParquetArtifact } from '../core/artifacts.js';
import { defineStage } from '../core/stage.js';
import { metricsToBatch } from '../core/metric-batch.js';
import { metricsSchema } from '../../schemas/tables.js';
import { batchToArrow } from '../core/arrow.js';
import { writeParquetFile } from '../io/parquet.js';
import { canonicalMetricsBatch, isMetricsBatch, metricColumns, recordKey, rowKey } from './metric-columns.js';
import { recordsField } from './report-input.js';

const schemaText = (s: arrow.Schema) => s.fields.map((f) => `${f.name}: ${f.type}${f.nullable ? '?' : ''}`).join(', ');

/** The records as an Arrow table with exactly schemas/tables.ts metricsSchema (empty input included). */
export function metricsArrowTable(batches: Batch[]): arrow.Table {
  const parts = batches.filter((b) => b.numRows > 0).map((b) => batchToArrow(canonicalMetricsBatch(b)));
  if (parts.length === 0) return new arrow.Table(metricsSchema);
  const want = schemaText(metricsSchema);
  for (const rb of parts) {
    const got = schemaText(rb.schema);
    if (got !== want) throw new Error(`metrics_parquet: batch schema {${got}} differs from the metrics schema {${want}}`);
  }
  return new arrow.Table(parts);
}

export const metricsParquetStage = defineStage({
  name: 'metrics_parquet',
  role: 'sink',
  summary: 'Write metric records to one Parquet file (the `metrics` table schema) when the input ends, and pass the batches on.',
  doc: [
    'Columns: run, method, split, metric (utf8), seed, step, epoch (int32), value, count (float64), as in',
    'schemas/tables.ts; readable by DuckDB, pyarrow and Spark, and by `read_metrics`. Records are kept in memory',
    'and written once, atomically (temporary name, then rename), when the input ends.',
  ].join('\n'),
  inputs: ['metrics'],
  output: 'metrics',
  fields: {
    path: { type: 'string', doc: 'Output file (default <out_dir>/metrics.parquet).' },
    records: recordsField,
    compression: { type: 'string', enum: ['zstd', 'snappy', 'gzip', 'lz4', 'none'], default: 'zstd', doc: 'Page compression codec.' },
  },
  create(cfg, ctx) {
    const file = cfg.path ?? path.join(ctx.outDir, 'metrics.parquet');
    const kept: Batch[] = [];
    const keys = new Set<string>();
    return {
      process(b) {
        if (cfg.records === 'run' || !isMetricsBatch(b) || b.numRows === 0) return b;
        const canon = canonicalMetricsBatch(b);
        if (cfg.records === 'both') {
          const cols = metricColumns(canon);
          for (let i = 0; i < canon.numRows; i++) keys.add(rowKey(cols, i));
        }
        kept.push(canon);
        return b;
      },
      finish() {
        if (cfg.records !== 'stream') {
          const fresh = ctx.allMetrics().filter((r) => cfg.records === 'run' || !keys.has(recordKey(r)));
          if (fresh.length > 0) kept.push(metricsToBatch(fresh));
        }
        const table = metricsArrowTable(kept);
        const bytes = writeParquetFile(file, table, { compression: cfg.compression });
        ctx.artifacts.set(metricsParquetArtifact(file), { path: file, records: table.numRows, bytes });
        ctx.log.info(`metrics_parquet: ${table.numRows} record(s) → ${file}`);
      },
    };
  },
});
