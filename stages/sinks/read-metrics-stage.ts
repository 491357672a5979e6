/** `read_metrics` source: metric files of earlier runs back as `metrics` batches. */
import { ConfigError } from '../core/config-schema.js';
import { defineStage } from '../core/stage.js';
import { listMetricFiles, readMetricFile } from './metric-files.js';

export const readMetricsStage = defineStage({
  name: 'read_metrics',
  role: 'source',
  summary: 'Read metric records from JSON Lines or Parquet files (e.g. earlier runs) as `metrics` batches, so reports can be re-made.',
  doc: [
    'Each path is a file or a directory; a directory is searched recursively, in name order, for *.jsonl, *.ndjson',
    'and *.parquet (Parquet files without `metric` and `value` columns, such as example datasets, are skipped).',
    'The format is taken from the extension, else from the Parquet magic bytes. Columns are coerced to the `metrics`',
    'schema; absent fields take the defaults "" / 0 / count 1. A malformed JSONL line stops with its file, line and field.',
  ].join('\n'),
  output: 'metrics',
  fields: {
    path: { type: 'string', doc: 'A metrics file or a directory of them (give `path`, `paths` or both).' },
    paths: {
      type: 'array',
      items: { type: 'string', doc: 'file or directory' },
      doc: 'Several files or directories, read in order (e.g. the runs being compared).',
    },
    format: { type: 'string', enum: ['auto', 'jsonl', 'parquet'], default: 'auto', doc: 'File format; `auto` decides per file.' },
    batch_size: { type: 'integer', min: 1, default: 65536, doc: 'Records per emitted batch (JSONL; Parquet batches follow row groups up to this size).' },
  },
  check: (cfg) => (cfg.path === undefined && (cfg.paths ?? []).length === 0 ? ['give `path` or `paths`'] : []),
  create(cfg, ctx) {
    const inputs = [...(cfg.path !== undefined ? [cfg.path] : []), ...(cfg.paths ?? [])];
    if (inputs.length === 0) throw new ConfigError('stage "read_metrics": give `path` or `paths`', ['path']);
    return {
      async *source() {
        let records = 0;
        let files = 0;
        const skipped: string[] = [];
        for (const p of inputs) {
          const listed = listMetricFiles(p);
          if (listed.files.length === 0) throw new ConfigError(`read_metrics: no metric files (*.jsonl, *.ndjson, *.parquet) under ${p}`, ['path']);
          for (const f of listed.files) {
            files++;
            for await (const b of readMetricFile(f, {
              format: cfg.format,
              batchSize: cfg.batch_size,
              skipNonMetrics: listed.fromDirectory,
              onSkip: (file) => skipped.push(file),
            })) {
              records += b.numRows;
              yield b;
            }
          }
        }
        // One line for all skipped files: a run directory holds many example datasets.
        if (skipped.length > 0)
          ctx.log.info(
            `read_metrics: skipping ${skipped.length} Parquet file(s) that are not metrics tables (no "metric" and "value" columns), e.g. ${skipped[0]}`,
          );
        ctx.log.info(`read_metrics: ${records} record(s) from ${files - skipped.length} file(s)`);
      },
    };
  },
});
