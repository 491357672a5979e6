import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import { defaultLowerIsBetter, percentChange, sampleStd, selectValues } from '../../stages/sinks/aggregate.js';
import { compareMethods, comparisonMarkdown, formatCell } from '../../stages/sinks/comparison.js';
import { comparisonTableStage } from '../../stages/sinks/comparison-table-stage.js';
import { MetricTable } from '../../stages/sinks/metric-table.js';
import { formatPercent } from '../../stages/sinks/number-format.js';
import { runWith, testSource, tmpDir } from './helpers.js';

const rec = (method: string, seed: number, step: number, split: string, metric: string, value: number, run = 'r') =>
  metricRecord({ run, method, seed, step, epoch: 0, split, metric, value });

/** Final values (step 100) chosen so every number below is checkable by hand. */
const FIXED: MetricRecord[] = [
  // an earlier checkpoint that `last` must ignore
  ...[0, 1, 2].flatMap((s) => [rec('bc', s, 50, 'test', 'ndcg@10', 0.05), rec('exp_rsft', s, 50, 'test', 'ndcg@10', 0.05)]),
  rec('bc', 0, 100, 'test', 'ndcg@10', 0.1),
  rec('bc', 1, 100, 'test', 'ndcg@10', 0.12),
  rec('bc', 2, 100, 'test', 'ndcg@10', 0.14),
  rec('bc', 0, 100, 'test', 'mse', 1.0),
  rec('bc', 1, 100, 'test', 'mse', 1.2),
  rec('bc', 2, 100, 'test', 'mse', 1.4),
  rec('exp_rsft', 0, 100, 'test', 'ndcg@10', 0.15),
  rec('exp_rsft', 1, 100, 'test', 'ndcg@10', 0.15),
  rec('exp_rsft', 2, 100, 'test', 'ndcg@10', 0.18),
  rec('exp_rsft', 0, 100, 'test', 'mse', 0.9),
  rec('exp_rsft', 1, 100, 'test', 'mse', 1.0),
  rec('exp_rsft', 2, 100, 'test', 'mse', 1.1),
  rec('drpo', 0, 100, 'test', 'ndcg@10', 0.13),
  rec('drpo', 0, 100, 'test', 'mse', 0.8),
  // other splits do not leak into the test columns
  rec('drpo', 0, 100, 'train', 'ndcg@10', 0.9),
];

const table = (rs: MetricRecord[]) => {
  const t = new MetricTable();
  t.addRecords(rs);
  return t;
};

const OPTS = { split: 'test', metrics: ['ndcg@10', 'mse'], select: 'last' as const, lowerIsBetter: defaultLowerIsBetter, baseline: 'bc' };

describe('comparison numbers', () => {
  it('mean ± sample std over seeds of the last checkpoint, % change from the baseline, best per column', () => {
    const c = compareMethods(table(FIXED), OPTS);
    expect(c.methods).toEqual(['bc', 'exp_rsft', 'drpo']);
    expect(c.replicates).toEqual([3, 3, 1]);
    const [bc, exp, drpo] = c.cells;
    // bc: ndcg (0.10, 0.12, 0.14) → 0.12 ± sqrt((0.02² + 0 + 0.02²)/2) = 0.02; mse (1.0, 1.2, 1.4) → 1.2 ± 0.2
    expect(bc![0]!.mean).toBeCloseTo(0.12, 12);
    expect(bc![0]!.std).toBeCloseTo(0.02, 12);
    expect(bc![1]!.mean).toBeCloseTo(1.2, 12);
    expect(bc![1]!.std).toBeCloseTo(0.2, 12);
    expect(bc![0]!.pct).toBeNaN();
    // exp_rsft: ndcg (0.15, 0.15, 0.18) → 0.16 ± sqrt((0.01² + 0.01² + 0.02²)/2) = sqrt(0.0003); +33.33 %
    expect(exp![0]!.mean).toBeCloseTo(0.16, 12);
    expect(exp![0]!.std).toBeCloseTo(Math.sqrt(0.0003), 12);
    expect(exp![0]!.pct).toBeCloseTo((100 * 0.04) / 0.12, 9);
    // mse (0.9, 1.0, 1.1) → 1.0 ± 0.1, −16.67 %
    expect(exp![1]!.mean).toBeCloseTo(1.0, 12);
    expect(exp![1]!.std).toBeCloseTo(0.1, 12);
    expect(exp![1]!.pct).toBeCloseTo((100 * -0.2) / 1.2, 9);
    // drpo: one seed, no std
    expect(drpo![0]!.n).toBe(1);
    expect(drpo![0]!.std).toBeNaN();
    expect(drpo![0]!.pct).toBeCloseTo((100 * 0.01) / 0.12, 9);
    // best: highest NDCG (exp_rsft), lowest MSE (drpo)
    expect(c.cells.map((row) => row.map((cell) => cell.best))).toEqual([
      [false, false],
      [true, false],
      [false, true],
    ]);
  });

  it("renders the papers' cells and the Markdown table", () => {
    const md = comparisonMarkdown(compareMethods(table(FIXED), OPTS), {
      decimals: 4,
      pctDecimals: 1,
      split: 'test',
      select: 'last checkpoint per replicate',
      title: 'ML-1M',
    });
    const lines = md.split('\n');
    expect(lines[0]).toBe('### ML-1M');
    expect(lines).toContain('| method | n | ndcg@10 | mse |');
    expect(lines).toContain('| :--- | ---: | ---: | ---: |');
    expect(lines).toContain('| bc (baseline) | 3 | 0.1200 ± 0.0200 | 1.2000 ± 0.2000 |');
    expect(lines).toContain('| exp_rsft | 3 | **0.1600 ± 0.0173** (+33.3%) | 1.0000 ± 0.1000 (-16.7%) |');
    expect(lines).toContain('| drpo | 1 | 0.1300 (+8.3%) | **0.8000** (-33.3%) |');
    expect(md).toContain('% change vs `bc`');
  });

  it('formats percentages with a sign, and cells without replicates as a dash', () => {
    expect(formatPercent(12.345, 1)).toBe('+12.3%');
    expect(formatPercent(-77, 1)).toBe('-77.0%');
    expect(formatPercent(-0.01, 1)).toBe('0.0%');
    expect(formatPercent(Number.NaN, 1)).toBe('');
    expect(formatCell({ mean: Number.NaN, std: Number.NaN, n: 0, pct: Number.NaN, best: false }, 4, 1)).toBe('—');
    expect(percentChange(1, 0)).toBeNaN();
    expect(percentChange(-1.5, -1)).toBeCloseTo(-50, 12);
    expect(sampleStd([5])).toBeNaN();
  });

  it('selects the checkpoint with the best validation value per replicate (select: best)', () => {
    const rs = [
      ...FIXED,
      // exp_rsft seed 0 is best on valid at step 50, seeds 1 and 2 at step 100
      rec('exp_rsft', 0, 50, 'valid', 'ndcg@10', 0.3),
      rec('exp_rsft', 0, 100, 'valid', 'ndcg@10', 0.2),
      rec('exp_rsft', 1, 50, 'valid', 'ndcg@10', 0.1),
      rec('exp_rsft', 1, 100, 'valid', 'ndcg@10', 0.2),
      rec('exp_rsft', 2, 50, 'valid', 'ndcg@10', 0.1),
      rec('exp_rsft', 2, 100, 'valid', 'ndcg@10', 0.2),
    ];
    const sel = selectValues(table(rs), { ...OPTS, select: 'best', bestBy: 'ndcg@10', bestSplit: 'valid', methods: ['exp_rsft', 'bc'] });
    // test values at the chosen checkpoints: seed 0 at step 50 (0.05), seeds 1, 2 at step 100 (0.15, 0.18)
    expect(
      sel.values
        .get('exp_rsft')!
        .get('ndcg@10')!
        .map((v) => [v.seed, v.step, v.value]),
    ).toEqual([
      [0, 50, 0.05],
      [1, 100, 0.15],
      [2, 100, 0.18],
    ]);
    // mse has no record at step 50 for seed 0, so only two replicates there
    expect(
      sel.values
        .get('exp_rsft')!
        .get('mse')!
        .map((v) => v.seed),
    ).toEqual([1, 2]);
    // bc has no valid records: left out, with a warning
    expect(sel.methods).toEqual(['exp_rsft']);
    expect(sel.warnings.join()).toMatch(/3 replicate\(s\) of "bc" have no "ndcg@10" record in split "valid"/);
  });

  it('picks the lowest value for a lower-is-better best_by metric', () => {
    const rs = [
      rec('m', 0, 1, 'test', 'loss', 3),
      rec('m', 0, 2, 'test', 'loss', 1),
      rec('m', 0, 3, 'test', 'loss', 2),
      ...[1, 2, 3].map((s) => rec('m', 0, s, 'test', 'hr', s * 10)),
    ];
    const sel = selectValues(table(rs), { split: 'test', metrics: ['hr'], select: 'best', bestBy: 'loss', lowerIsBetter: defaultLowerIsBetter });
    expect(sel.values.get('m')!.get('hr')![0]!.value).toBe(20);
  });

  it('counts the same seed in two runs as two replicates', () => {
    const c = compareMethods(table([rec('bc', 0, 1, 'test', 'hr', 0.2, 'run-a'), rec('bc', 0, 1, 'test', 'hr', 0.4, 'run-b')]), { ...OPTS, metrics: ['hr'] });
    expect(c.replicates).toEqual([2]);
    expect(c.cells[0]![0]!.mean).toBeCloseTo(0.3, 12);
    expect(c.cells[0]![0]!.std).toBeCloseTo(Math.sqrt(0.02), 12);
  });

  it('warns and shows no % change when the baseline is missing', () => {
    const c = compareMethods(table(FIXED), { ...OPTS, baseline: 'sasrec' });
    expect(c.baseline).toBeUndefined();
    expect(c.warnings.join()).toMatch(/baseline method "sasrec" has no records in split "test"/);
    expect(c.cells.flat().every((cell) => Number.isNaN(cell.pct))).toBe(true);
  });
});

describe('comparison_table stage', () => {
  it('writes the Markdown file, publishes report:table and passes batches through unchanged', async () => {
    const dir = tmpDir('cmp');
    const batches = [metricsToBatch(FIXED.slice(0, 10)), metricsToBatch(FIXED.slice(10))];
    const file = path.join(dir, 'tables', 'cmp.md');
    const h = await runWith(testSource(batches), [[comparisonTableStage, { metrics: ['ndcg@10', 'mse'], baseline: 'bc', path: file }]], dir);
    expect(h.out).toEqual(batches);
    expect(h.out[0]).toBe(batches[0]);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('| exp_rsft | 3 | **0.1600 ± 0.0173** (+33.3%) | 1.0000 ± 0.1000 (-16.7%) |');
    expect(h.result.artifacts.get('report:table')).toBe(text.trimEnd());
    expect(fs.readdirSync(path.dirname(file))).toEqual(['cmp.md']);
  });

  it('does not count a mean-over-seeds record (seed −1) as one more seed', async () => {
    const dir = tmpDir('cmp-seed-agg');
    const rs = [
      rec('grpo', 0, 10, 'test', 'peak_gold', 1.0),
      rec('grpo', 1, 10, 'test', 'peak_gold', 2.0),
      rec('grpo', -1, 10, 'test', 'peak_gold', 1.4), // the peak of the mean curve: not a replicate
      rec('ppo', -1, 10, 'test', 'peak_gold', 1.2), // only an aggregate exists: it is shown
    ];
    await runWith(testSource([metricsToBatch(rs)]), [[comparisonTableStage, {}]], dir);
    const text = fs.readFileSync(path.join(dir, 'comparison.md'), 'utf8');
    expect(text).toContain(`| grpo | 2 | **1.5000 ± ${Math.SQRT1_2.toFixed(4)}** |`);
    expect(text).toContain('| ppo | 1 | 1.2000 |');
  });

  it('reads run records too, counting records that arrive both ways once', async () => {
    const dir = tmpDir('cmp-run');
    const both = [rec('bc', 0, 1, 'test', 'hr', 0.2), rec('bc', 1, 1, 'test', 'hr', 0.4)];
    const h = await runWith(testSource([metricsToBatch(both)], [...both, rec('bc', 2, 1, 'test', 'hr', 0.6)]), [[comparisonTableStage, {}]], dir);
    const text = fs.readFileSync(path.join(dir, 'comparison.md'), 'utf8');
    // three replicates (0.2, 0.4, 0.6): mean 0.4, std 0.2
    expect(text).toContain('| bc | 3 | **0.4000 ± 0.2000** |');
    expect(h.result.artifacts.get('report:comparison_table')).toMatchObject({ path: path.join(dir, 'comparison.md') });
  });
});
