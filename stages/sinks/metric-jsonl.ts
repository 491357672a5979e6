/**
 * Metric records as JSON Lines: one object per line with the fields of
 * MetricRecord (run, method, seed, step, epoch, split, metric, value, count),
 * the same lines the runner writes to <out_dir>/metrics.jsonl.
 *
 * JSON has no NaN or infinities, so non-finite `value`/`count` are written as
 * the strings "NaN", "Infinity", "-Infinity" and read back as numbers (null
 * also reads as NaN). On reading, absent fields take metricRecord()'s defaults
 * ("" / 0 / count 1); `metric` and `value` are required; a malformed line
 * raises a DataError naming the file, line and field.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import type { Batch } from '../core/batch.js';
import { DataError } from '../core/errors.js';
import { encodeJsonNumber } from '../../schemas/metric-record.js';
import { MetricColumnsBuilder, type MetricColumns } from './metric-columns.js';

/** The JSON line (with its newline) of row i. */
export function metricLine(c: MetricColumns, i: number): string {
  return `${JSON.stringify({
    run: c.run[i],
    method: c.method[i],
    seed: c.seed[i],
    step: c.step[i],
    epoch: c.epoch[i],
    split: c.split[i],
    metric: c.metric[i],
    value: encodeJsonNumber(c.value[i]!),
    count: encodeJsonNumber(c.count[i]!),
  })}\n`;
}

/** All rows as JSONL text (rows where `keep` is false are skipped). */
export function metricLines(c: MetricColumns, keep: (i: number) => boolean = () => true): string {
  let out = '';
  for (let i = 0; i < c.metric.length; i++) if (keep(i)) out += metricLine(c, i);
  return out;
}

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

function shown(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

/** Parse one JSONL line into the builder; throws DataError on bad input. */
export function parseMetricLine(text: string, file: string, line: number, into: MetricColumnsBuilder): void {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, line, '(line)', text, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new DataError(file, line, '(line)', text, 'a metric record must be a JSON object');
  }
  const o = obj as Record<string, unknown>;
  const str = (f: string, required: boolean): string => {
    const v = o[f];
    if (v === undefined || v === null) {
      if (required) throw new DataError(file, line, f, '', 'missing (required)');
      return '';
    }
    if (typeof v !== 'string') throw new DataError(file, line, f, shown(v), 'must be a string');
    return v;
  };
  const int = (f: string): number => {
    const v = o[f];
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new DataError(file, line, f, shown(v), 'must be an integer');
    if (v < -2147483648 || v > 2147483647) throw new DataError(file, line, f, shown(v), 'must fit in 32 bits');
    return v;
  };
  const num = (f: string, fallback: number | undefined): number => {
    const v = o[f];
    if (v === undefined) {
      if (fallback === undefined) throw new DataError(file, line, f, '', 'missing (required)');
      return fallback;
    }
    if (v === null) return Number.NaN;
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v]!;
    throw new DataError(file, line, f, shown(v), 'must be a number (or "NaN", "Infinity", "-Infinity")');
  };
  into.push(
    str('run', false),
    str('method', false),
    int('seed'),
    int('step'),
    int('epoch'),
    str('split', false),
    str('metric', true),
    num('value', undefined),
    num('count', 1),
  );
}

/** Stream a JSONL metrics file as metrics batches of at most `batchSize` rows. */
export async function* readMetricsJsonl(file: string, batchSize = 65536): AsyncGenerator<Batch> {
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  const builder = new MetricColumnsBuilder();
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() === '') continue;
      parseMetricLine(text, file, line, builder);
      if (builder.size >= batchSize) yield builder.take({ file });
    }
  } finally {
    rl.close();
  }
  if (builder.size > 0) yield builder.take({ file });
}
