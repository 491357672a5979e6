/** report_html: one self-contained HTML file with the tables, inline SVG plots, run record and stage report. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { StageDefinition } from '../../stages/core/stage.js';
import { comparisonTableStage } from '../../stages/sinks/comparison-table-stage.js';
import { plotStage } from '../../stages/sinks/plot-stage.js';
import { reportHtmlStage } from '../../stages/sinks/report-html-stage.js';
import { runPipeline } from '../../pipelines/runner.js';
import type { ResolvedPipeline } from '../../pipelines/spec.js';
import { testSource } from '../sinks/helpers.js';
import { findAll, parseHtml, textOf } from './html-parse.js';

const rec = (method: string, seed: number, step: number, metric: string, value: number): MetricRecord =>
  metricRecord({ run: 'html', method, seed, step, split: 'test', metric, value });

const RECORDS = ['bc', 'exp_rsft'].flatMap((m, k) =>
  [0, 1].flatMap((seed) =>
    [0, 10, 20].flatMap((s) => [rec(m, seed, s, 'ndcg@10', 0.1 + k * 0.05 + s / 1000 + seed / 100), rec(m, seed, s, 'hr@10', 0.2 + k * 0.05 + s / 500)]),
  ),
);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- stages of different configuration types in one list
type AnyStage = StageDefinition<any>;

async function run(stages: [AnyStage, Record<string, unknown>][], outDir: string) {
  const all: [AnyStage, Record<string, unknown>][] = [[testSource([metricsToBatch(RECORDS)]), {}], ...stages];
  const p: ResolvedPipeline = {
    name: 'html-test',
    outDir,
    seed: 11,
    stages: all.map(([def, raw], index) => ({
      index,
      id: `${def.name}#${index}`,
      def,
      config: validateConfig(`stage ${index} "${def.name}"`, def.fields, raw),
    })),
  };
  return runPipeline(p, { outDir, logger: memoryLogger(), progress: false, writeFiles: true });
}

describe('report_html', () => {
  it('embeds the comparison table rows, every plot as inline SVG, the run record and the stage report, with no external URLs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-view-html-'));
    await run(
      [
        [plotStage, { kind: 'metric_vs_step', metric: 'ndcg@10', path: path.join(dir, 'plots', 'ndcg') }],
        [plotStage, { kind: 'metric_vs_step', metric: 'hr@10', path: path.join(dir, 'plots', 'hr.svg') }],
        [comparisonTableStage, { metrics: ['ndcg@10', 'hr@10'], baseline: 'bc', title: 'Test <table>' }],
        [reportHtmlStage, {}],
      ],
      dir,
    );
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    const doc = parseHtml(html);

    // The comparison table: one row per method with the same cells as the Markdown file.
    const md = fs.readFileSync(path.join(dir, 'comparison.md'), 'utf8');
    const mdRows = md.split('\n').filter((l) => /^\| (bc|exp_rsft)/.test(l));
    expect(mdRows).toHaveLength(2);
    const table = findAll(doc, (e) => e.tag === 'section' && e.attrs.class === 'comparison')[0]!;
    const rows = findAll(table, (e) => e.tag === 'tr')
      .slice(1)
      .map((tr) => findAll(tr, (e) => e.tag === 'td').map((td) => textOf(td).trim()));
    // bc: last step, seeds 0 and 1 → ndcg 0.12, 0.13 → 0.1250 ± 0.0071
    expect(rows[0]).toEqual(['bc (baseline)', '2', '0.1250 ± 0.0071', '0.2400 ± 0.0000']);
    expect(rows[1]![0]).toBe('exp_rsft');
    expect(rows[1]![2]).toBe('0.1750 ± 0.0071 (+40.0%)');
    // The best cells are bold, the title escaped.
    expect(findAll(table, (e) => e.tag === 'strong').map(textOf)).toEqual(['0.1750 ± 0.0071', '0.2900 ± 0.0000']);
    expect(findAll(doc, (e) => e.tag === 'h3').map(textOf)).toEqual(['Test <table>']);

    // Both plots inline, each the SVG written to disk.
    const svgs = findAll(doc, (e) => e.tag === 'svg');
    expect(svgs).toHaveLength(2);
    for (const f of [path.join(dir, 'plots', 'ndcg.svg'), path.join(dir, 'plots', 'hr.svg')]) {
      const onDisk = fs
        .readFileSync(f, 'utf8')
        .replace(/<\?xml[^>]*\?>\s*/, '')
        .trim();
      expect(html).toContain(onDisk);
    }
    expect(findAll(doc, (e) => e.tag === 'figcaption').map(textOf)).toEqual([path.join(dir, 'plots', 'ndcg.svg'), path.join(dir, 'plots', 'hr.svg')]);

    // Nothing loaded from elsewhere: no src, no href to a URL, no script, no link.
    const all = findAll(doc, () => true);
    expect(all.filter((e) => 'src' in e.attrs || /^(https?:)?\/\//.test(e.attrs.href ?? '') || /^(https?:)?\/\//.test(e.attrs['xlink:href'] ?? ''))).toEqual(
      [],
    );
    expect(all.filter((e) => ['script', 'link', 'img', 'iframe'].includes(e.tag))).toEqual([]);
    expect(html).not.toMatch(/url\(|@import/);

    // The run record (run.json, written by the runner) and the stage report.
    const record = findAll(doc, (e) => e.tag === 'table' && e.attrs.class === 'record')[0]!;
    const fields = Object.fromEntries(
      findAll(record, (e) => e.tag === 'tr').map((tr) => [textOf(findAll(tr, (e) => e.tag === 'th')[0]!), textOf(findAll(tr, (e) => e.tag === 'td')[0]!)]),
    );
    expect(fields.pipeline).toBe('html-test');
    expect(fields.seed).toBe('11');
    expect(fields.recpost).toMatch(/^\d+\.\d+\.\d+/);
    const stageRows = findAll(doc, (e) => e.tag === 'tr' && findAll(e, (c) => c.tag === 'td').length === 6).map((tr) =>
      textOf(findAll(tr, (e) => e.tag === 'td')[0]!),
    );
    expect(stageRows).toEqual(['test_source#0', 'plot#1', 'plot#2', 'comparison_table#3']);
    const rowsIn = findAll(doc, (e) => e.tag === 'tr').find(
      (tr) => textOf(findAll(tr, (c) => c.tag === 'td')[0] ?? { tag: '', attrs: {}, children: [], text: '' }) === 'plot#1',
    )!;
    expect(textOf(findAll(rowsIn, (e) => e.tag === 'td')[2]!)).toBe(String(RECORDS.length));
  });

  it('without tables, plots or run record it still writes a valid page that says what is missing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-view-html-empty-'));
    const file = path.join(dir, 'r.html');
    const p: ResolvedPipeline = {
      name: 'empty',
      outDir: dir,
      seed: 0,
      stages: [[testSource([]), {}] as const, [reportHtmlStage, { path: file, title: 'Nothing' }] as const].map(([def, raw], index) => ({
        index,
        id: `s${index}`,
        def,
        config: validateConfig('s', def.fields, raw),
      })),
    };
    await runPipeline(p, { outDir: dir, logger: memoryLogger(), progress: false, writeFiles: false });
    const doc = parseHtml(fs.readFileSync(file, 'utf8'));
    expect(findAll(doc, (e) => e.tag === 'title').map(textOf)).toEqual(['Nothing']);
    expect(findAll(doc, (e) => e.tag === 'svg')).toEqual([]);
    expect(findAll(doc, (e) => e.tag === 'p').map(textOf)).toContain('No run record (run.json) in the output directory.');
  });
});
