/**
 * Finding and reading metric files of earlier runs: JSON Lines (the runner's
 * metrics.jsonl, the metrics_jsonl sink) and Parquet (the metrics_parquet
 * sink, or any file with at least `metric` and `value` columns).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch } from '../core/batch.js';
import { readParquetFile } from '../io/parquet.js';
import { canonicalMetricsBatch } from './metric-columns.js';
import { readMetricsJsonl } from './metric-jsonl.js';

export type MetricFileFormat = 'auto' | 'jsonl' | 'parquet';

const JSONL_EXT = /\.(jsonl|ndjson|json)$/i;
const PARQUET_EXT = /\.parquet$/i;

/** The format of a file: by extension, else by the Parquet magic bytes "PAR1". */
export function detectFormat(file: string): 'jsonl' | 'parquet' {
  if (PARQUET_EXT.test(file)) return 'parquet';
  if (JSONL_EXT.test(file)) return 'jsonl';
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const n = fs.readSync(fd, head, 0, 4, 0);
    return n === 4 && head.toString('latin1') === 'PAR1' ? 'parquet' : 'jsonl';
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A file as given, or the metric files below a directory (recursively, in
 * name order): *.jsonl, *.ndjson and *.parquet, skipping temporary files
 * (".tmp-" in the name) of writes in progress.
 */
export function listMetricFiles(p: string): { files: string[]; fromDirectory: boolean } {
  if (!fs.existsSync(p)) throw new Error(`read_metrics: no such file or directory: ${p}`);
  if (fs.statSync(p).isFile()) return { files: [p], fromDirectory: false };
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && !e.name.includes('.tmp-') && (/\.(jsonl|ndjson)$/i.test(e.name) || PARQUET_EXT.test(e.name))) files.push(full);
    }
  };
  walk(p);
  return { files, fromDirectory: true };
}

export interface ReadMetricFileOptions {
  format?: MetricFileFormat;
  batchSize?: number;
  /** Parquet files without metric/value columns are skipped (true) or an error (false). */
  skipNonMetrics?: boolean;
  onSkip?: (file: string) => void;
}

/** Stream one metric file as canonical metrics batches. */
export async function* readMetricFile(file: string, o: ReadMetricFileOptions = {}): AsyncGenerator<Batch> {
  const format = !o.format || o.format === 'auto' ? detectFormat(file) : o.format;
  if (format === 'jsonl') {
    yield* readMetricsJsonl(file, o.batchSize);
    return;
  }
  for await (const b of readParquetFile(file, { batchSize: o.batchSize })) {
    if (!('metric' in b.columns) || !('value' in b.columns)) {
      if (o.skipNonMetrics) {
        o.onSkip?.(file);
        return;
      }
      throw new Error(`read_metrics: ${file} has no "metric" and "value" columns (has: ${Object.keys(b.columns).join(', ')}), so it is not a metrics file`);
    }
    yield canonicalMetricsBatch({ ...b, table: 'metrics' });
  }
}
