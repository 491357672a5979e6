import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../pipelines/cli.js';
import { metricRecord } from '../../schemas/metric-record.js';
import { reportStages, type ReportOptions } from '../../pipelines/commands/report.js';
import { tmpDir } from '../sinks/helpers.js';

const line = (method: string, seed: number, step: number, metric: string, value: number, run = 'old-run') =>
  `${JSON.stringify(metricRecord({ run, method, seed, step, split: 'test', metric, value }))}\n`;

describe('recpost report', () => {
  afterEach(() => vi.restoreAllMocks());

  it('re-makes the comparison table and a plot from metric files of earlier runs', async () => {
    const dir = tmpDir('report');
    const runA = path.join(dir, 'run-a', 'metrics.jsonl');
    fs.mkdirSync(path.dirname(runA), { recursive: true });
    fs.writeFileSync(
      runA,
      [line('bc', 0, 10, 'hr@10', 0.2), line('bc', 0, 20, 'hr@10', 0.3), line('drpo', 0, 10, 'hr@10', 0.3), line('drpo', 0, 20, 'hr@10', 0.45)].join(''),
    );
    const runB = path.join(dir, 'run-b.jsonl');
    fs.writeFileSync(runB, [line('bc', 1, 20, 'hr@10', 0.5, 'run-b'), line('drpo', 1, 20, 'hr@10', 0.55, 'run-b')].join(''));
    const out = path.join(dir, 'report');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await main([
      'report',
      path.join(dir, 'run-a'),
      runB,
      '--baseline',
      'bc',
      '--plot',
      'metric_vs_step',
      '--metric',
      'hr@10',
      '--out',
      out,
      '--quiet',
    ]);
    const printed = stdout.mock.calls.map((c) => String(c[0])).join('');
    vi.restoreAllMocks();
    expect(code).toBe(0);
    // bc: last steps 0.3 (run a) and 0.5 (run b) → 0.4 ± 0.1414; drpo: 0.45, 0.55 → 0.5 ± 0.0707, +25 %
    expect(printed).toContain('| bc (baseline) | 2 | 0.4000 ± 0.1414 |');
    expect(printed).toContain('| drpo | 2 | **0.5000 ± 0.0707** (+25.0%) |');
    expect(fs.readFileSync(path.join(out, 'comparison.md'), 'utf8')).toContain('| drpo | 2 |');
    expect(fs.existsSync(path.join(out, 'plots', 'metric_vs_step-hr_10.svg'))).toBe(true);
  });

  const none: ReportOptions = {};

  it('maps options onto stage options', () => {
    const stages = reportStages(
      ['a.jsonl'],
      {
        ...none,
        metrics: 'ndcg@10, hr@10',
        select: 'best',
        bestBy: 'ndcg@10',
        bestSplit: 'valid',
        plot: ['metric_vs_param'],
        x: 'lambda',
        logX: true,
        plotOpt: ['png_text=bitmap'],
      },
      'o',
    );
    expect(stages[0]).toEqual({ stage: 'read_metrics', with: { paths: ['a.jsonl'] } });
    expect(stages[1]!.with).toMatchObject({
      metrics: ['ndcg@10', 'hr@10'],
      select: 'best',
      best_by: 'ndcg@10',
      best_split: 'valid',
      path: path.join('o', 'comparison.md'),
    });
    expect(stages[2]!.with).toMatchObject({ kind: 'metric_vs_param', x: 'lambda', log_x: true, png_text: 'bitmap', select: 'best', best_by: 'ndcg@10' });
    expect(() => reportStages([], none, 'o')).toThrow(/name at least one metrics file/);
  });

  it('pairs each --plot with its --metric (two plots, two files)', () => {
    const stages = reportStages(['a.jsonl'], { ...none, plot: ['metric_vs_step', 'metric_vs_step'], metric: ['hr@10', 'ndcg@10'] }, 'o');
    expect(stages.slice(2).map((s) => [s.with!.metric, s.with!.path])).toEqual([
      ['hr@10', path.join('o', 'plots', 'metric_vs_step-hr_10')],
      ['ndcg@10', path.join('o', 'plots', 'metric_vs_step-ndcg_10')],
    ]);
    expect(() => reportStages(['a.jsonl'], { ...none, plot: ['a', 'b', 'c'], metric: ['x', 'y'] }, 'o')).toThrow(
      'report: --metric is given 2 times for 3 --plot; give one for all plots or one per --plot',
    );
  });
});
