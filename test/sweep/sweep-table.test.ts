import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../pipelines/spec.js';
import { sweepTable, tableSettings, type TableSettings } from '../../pipelines/sweep/sweep-table.js';
import { metricRecordLine, metricRecord } from '../../schemas/metric-record.js';
import { validateStageConfig } from '../../stages/core/config-schema.js';
import { comparisonTableStage } from '../../stages/sinks/comparison-table-stage.js';
import { removeTmpDirs, tmpDir } from '../cli/helpers.js';

afterAll(removeTmpDirs);

const settings = (o: Record<string, unknown>) => validateStageConfig<TableSettings>('test', comparisonTableStage, o);

/** A replicate directory whose metrics.jsonl holds test hr@10 of bc and drpo; every record has seed 7 and run "small". */
function replicate(root: string, name: string, bc: number, drpo: number): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const line = (method: string, value: number) =>
    metricRecordLine(metricRecord({ run: 'small', method, seed: 7, step: 3, split: 'test', metric: 'hr@10', value }));
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), line('bc', bc) + line('drpo', drpo));
  return dir;
}

describe('sweep table', () => {
  it('is mean ± sample std per method × grid point, each replicate counted once even when seeds coincide', async () => {
    const root = tmpDir('sweep-table');
    const reps = [
      { name: 'seed-1__rho-0.5', bc: 0.2, drpo: 0.3, pointIndex: 0, pointLabel: 'rho=0.5' },
      { name: 'seed-2__rho-0.5', bc: 0.4, drpo: 0.5, pointIndex: 0, pointLabel: 'rho=0.5' },
      { name: 'seed-1__rho-2', bc: 0.2, drpo: 0.6, pointIndex: 1, pointLabel: 'rho=2' },
      { name: 'seed-2__rho-2', bc: 0.4, drpo: 0.8, pointIndex: 1, pointLabel: 'rho=2' },
    ].map((r) => ({ ...r, dir: replicate(root, r.name, r.bc, r.drpo) }));
    // A replicate that left no metrics (never ran) adds nothing.
    reps.push({ name: 'seed-3__rho-2', bc: 0, drpo: 0, pointIndex: 1, pointLabel: 'rho=2', dir: path.join(root, 'missing') });
    const t = await sweepTable(reps, settings({ metrics: ['hr@10'], baseline: 'bc' }), 'Sweep');
    // bc: (0.2, 0.4) at both points → 0.3 ± 0.2/√2; drpo: (0.3, 0.5) → 0.4, +33.3 % from bc at the first point; (0.6, 0.8) → 0.7, +133.3 %.
    expect(t.text.split('\n').slice(0, 8)).toEqual([
      '### Sweep',
      '',
      '| method | n | hr@10 |',
      '| :--- | ---: | ---: |',
      '| bc [rho=0.5] (baseline) | 2 | 0.3000 ± 0.1414 |',
      '| bc [rho=2] | 2 | 0.3000 ± 0.1414 (0.0%) |',
      '| drpo [rho=0.5] | 2 | 0.4000 ± 0.1414 (+33.3%) |',
      '| drpo [rho=2] | 2 | **0.7000 ± 0.1414** (+133.3%) |',
    ]);
    expect(t.text).toContain('% change vs `bc [rho=0.5]`');
    expect(t.rows).toEqual([
      { label: 'bc [rho=0.5]', method: 'bc', point: 'rho=0.5' },
      { label: 'bc [rho=2]', method: 'bc', point: 'rho=2' },
      { label: 'drpo [rho=0.5]', method: 'drpo', point: 'rho=0.5' },
      { label: 'drpo [rho=2]', method: 'drpo', point: 'rho=2' },
    ]);
    // Rows in the order of the table's `methods` when given; no grid: plain method names.
    const seedsOnly = await sweepTable(
      reps.slice(0, 2).map((r) => ({ ...r, pointLabel: '' })),
      settings({ metrics: ['hr@10'], methods: ['drpo', 'bc'] }),
      'Seeds',
    );
    expect(seedsOnly.text).toContain('| drpo | 2 | **0.4000 ± 0.1414** |\n| bc | 2 | 0.3000 ± 0.1414 |\n');
  });

  it("takes the pipeline's last comparison_table options, or that stage's defaults", () => {
    const stages = [
      { stage: 'read_metrics', with: { paths: ['x.jsonl'] } },
      { stage: 'comparison_table', with: { metrics: ['mrr'], split: 'valid' } },
      { stage: 'comparison_table', with: { metrics: ['hr@10'], decimals: 2 } },
    ];
    const p = resolvePipeline({ name: 't', stages });
    expect(tableSettings(p)).toMatchObject({ metrics: ['hr@10'], decimals: 2, split: 'test' });
    const none = resolvePipeline({ name: 't', stages: stages.slice(0, 1) });
    expect(tableSettings(none)).toEqual(settings({}));
    expect(tableSettings(none)).toMatchObject({ metrics: [], split: 'test', select: 'last', decimals: 4, pct_decimals: 1 });
  });
});
