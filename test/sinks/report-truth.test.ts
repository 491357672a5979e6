/** `recpost report` tells the truth: paired --plot/--metric, evaluation metrics by default, KL lower-is-better, one skip line. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { defaultLowerIsBetter } from '../../stages/sinks/aggregate.js';
import { main } from '../../pipelines/cli.js';
import { compareMethods } from '../../stages/sinks/comparison.js';
import { defaultMetrics } from '../../stages/sinks/default-metrics.js';
import { MetricTable } from '../../stages/sinks/metric-table.js';
import { readMetricsStage } from '../../stages/sinks/read-metrics-stage.js';
import { runWith, tmpDir } from './helpers.js';

const rec = (method: string, step: number, split: string, metric: string, value: number): MetricRecord =>
  metricRecord({ run: 'r', method, seed: 0, step, split, metric, value });

const jsonl = (rs: MetricRecord[]) => rs.map((r) => `${JSON.stringify(r)}\n`).join('');

async function report(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(['report', ...argv]);
    return { code, stdout: out.mock.calls.map((c) => String(c[0])).join(''), stderr: err.mock.calls.map((c) => String(c[0])).join('') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('recpost report', () => {
  afterEach(() => vi.restoreAllMocks());

  it('pairs each --plot with its own --metric (two plots, two files, each of its metric)', async () => {
    const dir = tmpDir('report-pairs');
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, jsonl([0, 10, 20].flatMap((s) => [rec('bc', s, 'test', 'hr@10', 0.1 + s / 100), rec('bc', s, 'test', 'ndcg@10', 0.05 + s / 1000)])));
    const out = path.join(dir, 'out');
    const r = await report([file, '--plot', 'metric_vs_step', '--metric', 'hr@10', '--plot', 'metric_vs_step', '--metric', 'ndcg@10', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const hr = fs.readFileSync(path.join(out, 'plots', 'metric_vs_step-hr_10.svg'), 'utf8');
    const ndcg = fs.readFileSync(path.join(out, 'plots', 'metric_vs_step-ndcg_10.svg'), 'utf8');
    expect(hr).toContain('HR@10');
    expect(hr).not.toContain('NDCG@10');
    expect(ndcg).toContain('NDCG@10');
  });

  it('a --metric count that does not match the --plot count is a usage error', async () => {
    const dir = tmpDir('report-mismatch');
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, jsonl([rec('bc', 0, 'test', 'hr@10', 0.1)]));
    const r = await report([file, '--plot', 'metric_vs_step', '--plot', 'metric_vs_step', '--metric', 'a', '--metric', 'b', '--metric', 'c', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('recpost: report: --metric is given 3 times for 2 --plot; give one for all plots or one per --plot\n');
  });

  it('without flags tabulates the evaluation metrics, not bookkeeping values', async () => {
    const dir = tmpDir('report-default');
    const file = path.join(dir, 'metrics.jsonl');
    const bookkeeping = [
      rec('bc', 0, 'test', 'examples', 900),
      rec('bc', 0, 'test', 'candidates', 1700),
      rec('bc', 0, 'test', 'lr', 0.001),
      rec('bc', 0, 'test', 'steps', 12),
    ];
    fs.writeFileSync(
      file,
      jsonl([
        rec('bc', 0, 'train', 'loss', 5),
        rec('bc', 0, 'train', 'examples_per_s', 1000),
        ...bookkeeping,
        rec('bc', 0, 'test', 'ndcg@10', 0.1),
        rec('bc', 0, 'test', 'hr@10', 0.2),
      ]),
    );
    const r = await report([file, '--out', path.join(dir, 'out'), '--quiet']);
    expect(r.stdout.split('\n').find((l) => l.startsWith('| method'))).toBe('| method | n | ndcg@10 | hr@10 |');
    // A run without evaluation: no table of bookkeeping values, and a warning that says where the metrics are.
    const trainOnly = path.join(dir, 'train-only.jsonl');
    fs.writeFileSync(trainOnly, jsonl([rec('bc', 0, 'train', 'loss', 5), rec('bc', 0, 'train', 'examples_per_s', 1000), ...bookkeeping]));
    const t = await report([trainOnly, '--out', path.join(dir, 'out2'), '--quiet']);
    expect(t.stdout.split('\n').find((l) => l.startsWith('| method'))).toBe('| method | n |  |');
    expect(t.stderr).toContain(
      'warning: comparison_table: no evaluation or training metrics in split "test" (they are in: train); choose a split or name the metrics',
    );
  });

  it('default metrics: evaluation first, then training objectives; never step counts, rates, lr or counts', () => {
    expect(defaultMetrics(['lr', 'loss', 'examples_per_s', 'nll', 'candidates', 'mrr', 'grad_norm', 'ndcg@10_std', 'ndcg@10'])).toEqual([
      'mrr',
      'ndcg@10',
      'loss',
      'nll',
    ]);
    expect(defaultMetrics(['examples', 'steps', 'lr', 'rows_per_s', 'dropped_min_context'])).toEqual([]);
  });

  it('KL to the reference or initial policy is lower-is-better: the smallest is bold', () => {
    for (const m of ['kl_ref', 'kl_to_init', 'kl_at_peak', 'kl', 'kl_smoothed', 'nll']) expect([m, defaultLowerIsBetter(m)]).toEqual([m, true]);
    expect(defaultLowerIsBetter('ndcg@10')).toBe(false);
    const t = new MetricTable();
    t.addRecords([rec('grpo', 0, 'test', 'kl_ref', 0.9), rec('drro', 0, 'test', 'kl_ref', 0.2)]);
    const c = compareMethods(t, { split: 'test', metrics: ['kl_ref'], select: 'last', lowerIsBetter: defaultLowerIsBetter });
    expect(c.methods).toEqual(['grpo', 'drro']);
    expect(c.cells.map((row) => row[0]!.best)).toEqual([false, true]);
  });

  it('says once, with a count, that Parquet files which are not metrics tables were skipped', async () => {
    const dir = tmpDir('report-skip');
    for (const name of ['a.parquet', 'b.parquet', 'c.parquet']) {
      writeParquetFile(path.join(dir, name), [{ table: 'examples', numRows: 1, columns: { user: Int32Array.of(1) } } as never]);
    }
    writeParquetFile(path.join(dir, 'm.parquet'), [metricsToBatch([rec('bc', 0, 'test', 'hr@10', 0.5)])]);
    const h = await runWith([readMetricsStage, { path: dir }], []);
    const skips = h.log.filter((l) => l.includes('skipping'));
    expect(skips).toEqual([
      `read_metrics: skipping 3 Parquet file(s) that are not metrics tables (no "metric" and "value" columns), e.g. ${path.join(dir, 'a.parquet')}`,
    ]);
    expect(h.out.reduce((n, b) => n + b.numRows, 0)).toBe(1);
  });
});

describe('recpost report: continued runs read back from a run directory', () => {
  it('draws a run initialised from another method checkpoint after it, from the checkpoints under the directory', async () => {
    const { writeCheckpoint } = await import('../../stages/train/checkpoint.js');
    const dir = tmpDir('report-continued');
    const run = path.join(dir, 'run');
    const ckpt = (method: string, epoch: number, init?: string) =>
      writeCheckpoint(
        path.join(run, 'checkpoints', method, `epoch-${epoch}`),
        {
          kind: 'sasrec',
          method,
          model: {},
          step: epoch * 10,
          epoch,
          seed: 0,
          position: null,
          rng: { seed: 0, step: epoch * 10, epoch, batch: 0 },
          ...(init ? { trainer: { init } } : {}),
        },
        [],
      );
    const bcLast = ckpt('bc', 3);
    ckpt('exp_rsft', 1, bcLast);
    const epochRec = (method: string, epoch: number, value: number) =>
      metricRecord({ run: 'r', method, seed: 0, step: epoch * 10, epoch, split: 'valid', metric: 'ndcg@10', value });
    fs.writeFileSync(
      path.join(run, 'metrics.jsonl'),
      jsonl([epochRec('bc', 1, 0.1), epochRec('bc', 2, 0.2), epochRec('bc', 3, 0.3), epochRec('exp_rsft', 1, 0.35), epochRec('exp_rsft', 2, 0.4)]),
    );
    const out = path.join(dir, 'out');
    const r = await report([run, '--plot', 'metric_vs_step', '--metric', 'ndcg@10', '--x', 'epoch', '--split', 'valid', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const svg = fs.readFileSync(path.join(out, 'plots', 'metric_vs_step-ndcg_10.svg'), 'utf8');
    expect(svg).toContain('exp_rsft (continues bc after epoch 3)');
    const { seriesPaths, axisTicks, tickMap } = await import('./svg-parse.js');
    const toPx = tickMap(axisTicks(svg).x);
    const xs = seriesPaths(svg)
      .get('exp_rsft')!
      .map((p) => p[0]);
    expect(xs.map((x) => Math.abs(x - toPx(4)) < 0.02 || Math.abs(x - toPx(5)) < 0.02)).toEqual([true, true]);
    expect(xs[0]).toBeCloseTo(toPx(4), 1);
  });
});
