/**
 * `<sweep out>/sweep.json`: what a sweep ran and how each replicate ended,
 * and the comparison table's numbers.
 *
 *   format, version, name, pipeline_file, out_dir, seeds, grid [{path, label, values}],
 *   engine {kind, slots}, started_at, ended_at, wall_s,
 *   status         succeeded | failed (a replicate failed)
 *   counts         {total, succeeded, skipped, failed}
 *   replicates     [{name, dir, seed, grid {path: value}, sets, status
 *                  (succeeded | skipped | failed), pipeline_hash, wall_s (this
 *                  sweep's run of it; 0 when skipped), worker, exit_code and
 *                  error (one line) when failed}]
 *   table          {file: "sweep.md", split, select, metrics, baseline, rows:
 *                  [{label, method, point, n, cells {metric: {mean, std, n, pct, best}}}]}
 *
 * Non-finite numbers (the std of one replicate) are written as "NaN", as in
 * metrics.jsonl.
 */
import { encodeJsonNumber } from '../../schemas/metric-record.js';
import type { ComparisonCell } from '../../stages/sinks/comparison.js';
import type { SweepTable } from './sweep-table.js';

export interface SweepReplicateRecord {
  name: string;
  dir: string;
  seed?: number;
  grid: Record<string, unknown>;
  sets: string[];
  status: 'succeeded' | 'skipped' | 'failed';
  pipeline_hash?: string;
  wall_s: number;
  worker?: string;
  exit_code?: number;
  error?: string;
}

export interface SweepRecord {
  format: 'recpost-sweep';
  version: 1;
  name: string;
  pipeline_file: string;
  out_dir: string;
  seeds?: number[];
  grid: { path: string; label: string; values: unknown[] }[];
  engine?: { kind: string; slots: number };
  started_at: string;
  ended_at: string;
  wall_s: number;
  status: 'succeeded' | 'failed';
  counts: { total: number; succeeded: number; skipped: number; failed: number };
  replicates: SweepReplicateRecord[];
  table?: ReturnType<typeof tableRecord>;
}

const cellRecord = (c: ComparisonCell) => ({
  mean: encodeJsonNumber(c.mean),
  std: encodeJsonNumber(c.std),
  n: c.n,
  pct: encodeJsonNumber(c.pct),
  best: c.best,
});

export function tableRecord(t: SweepTable, file: string) {
  const c = t.comparison;
  return {
    file,
    split: t.split,
    select: t.select,
    metrics: c.metrics,
    ...(c.baseline !== undefined ? { baseline: c.baseline } : {}),
    rows: c.methods.map((label, i) => {
      const row = t.rows.find((r) => r.label === label);
      return {
        label,
        method: row?.method ?? label,
        point: row?.point ?? '',
        n: c.replicates[i]!,
        cells: Object.fromEntries(c.metrics.map((m, j) => [m, cellRecord(c.cells[i]![j]!)])),
      };
    }),
  };
}
