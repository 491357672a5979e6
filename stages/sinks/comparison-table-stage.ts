/** `comparison_table` sink: the papers' methods × metrics table as Markdown. */
import * as path from 'node:path';
import { ARTIFACT } from '../core/artifacts.js';
import { defineStage } from '../core/stage.js';
import { writeFileAtomic } from '../io/parquet.js';
import { defaultLowerIsBetter } from './aggregate.js';
import { compareMethods, comparisonMarkdown } from './comparison.js';
import { defaultMetrics, isReportMetric } from './default-metrics.js';
import type { MetricTable } from './metric-table.js';
import { recordsField, ReportInput } from './report-input.js';
import { notesFor } from '../eval/report-notes.js';

/** Why a table without `metrics` has no columns, and where the evaluation or training metrics are. */
function noMetricsWarning(t: MetricTable, split: string): string {
  if (t.metricsIn(split).length === 0)
    return `comparison_table: no metric records in split "${split}" (splits seen: ${t.distinct('split').join(', ') || 'none'})`;
  const elsewhere = t.distinct('split', (i) => isReportMetric(t.metric[i]!));
  return `comparison_table: no evaluation or training metrics in split "${split}" (${elsewhere.length > 0 ? `they are in: ${elsewhere.join(', ')}` : 'only bookkeeping values'}); choose a split or name the metrics`;
}

export const comparisonTableStage = defineStage({
  name: 'comparison_table',
  role: 'sink',
  summary: 'Markdown table methods × metrics: mean ± std over seeds, % change from a baseline, best per column in bold.',
  doc: [
    'For each method and replicate (a run × seed pair) one checkpoint is chosen: `select: last` takes each',
    "metric's latest (epoch, step); `select: best` takes the checkpoint where `best_by` (read in `best_split`,",
    'e.g. valid) is best and reads every metric there. A cell is the mean over replicates ± the sample standard',
    'deviation (n − 1; shown from two replicates), then the change of the mean from the `baseline` method',
    'in percent, 100·(m − b)/|b| (e.g. "+12.3%"). The best mean per column is bold (highest, or lowest for',
    'lower-is-better metrics). The `n` column counts replicates.',
    '',
    'Written atomically to `path` and published as ctx.artifacts "report:table" (printed by `recpost run` at the',
    'end) and "report:comparison_table". "report:table" is shared with `console_table`: the last writer (the',
    'stage later in the pipeline) wins.',
  ].join('\n'),
  inputs: ['metrics'],
  output: 'metrics',
  fields: {
    metrics: {
      type: 'array',
      items: { type: 'string', doc: 'metric name' },
      default: [],
      doc: 'Metric columns, in this order (empty: the evaluation metrics recorded in `split` — ndcg@K, hr@K, mrr, reward_mse, true_reward_*, gold_gain… — or, if there are none, every metric there).',
    },
    split: { type: 'string', default: 'test', doc: 'Split the values are read from.' },
    baseline: { type: 'string', doc: 'Method the % change is computed against (none: no % change).' },
    select: { type: 'string', enum: ['last', 'best'], default: 'last', doc: 'Checkpoint per replicate: the latest, or the best by `best_by`.' },
    best_by: { type: 'string', doc: 'Metric that picks the checkpoint for `select: best` (default: the first of `metrics`).' },
    best_split: { type: 'string', doc: 'Split `best_by` is read from (default: `split`; `valid` for model selection on validation).' },
    lower_is_better: {
      type: 'array',
      items: { type: 'string', doc: 'metric name' },
      doc: 'Metrics where lower is better (for bold and `best`); default: names containing loss, mse, mae, rmse, error, nll or kl (and gaps: closest to 0).',
    },
    methods: {
      type: 'array',
      items: { type: 'string', doc: 'method name' },
      default: [],
      doc: 'Rows, in this order (empty: all methods, in order of first appearance).',
    },
    path: { type: 'string', doc: 'Markdown file written (default <out_dir>/comparison.md).' },
    decimals: { type: 'integer', min: 0, max: 12, default: 4, doc: 'Decimals of means and standard deviations.' },
    pct_decimals: { type: 'integer', min: 0, max: 6, default: 1, doc: 'Decimals of the % change.' },
    title: { type: 'string', doc: 'Heading written above the table.' },
    records: recordsField,
  },
  create(cfg, ctx) {
    const file = cfg.path ?? path.join(ctx.outDir, 'comparison.md');
    const lowerSet = cfg.lower_is_better ? new Set(cfg.lower_is_better) : undefined;
    const lowerIsBetter = (m: string) => (lowerSet ? lowerSet.has(m) : defaultLowerIsBetter(m));
    const source = new ReportInput(cfg.records, ctx);
    return {
      process(b) {
        source.addBatch(b);
        return b;
      },
      finish() {
        source.syncRun();
        const t = source.view();
        const metrics = cfg.metrics.length > 0 ? cfg.metrics : defaultMetrics(t.metricsIn(cfg.split));
        if (metrics.length === 0) ctx.log.warn(noMetricsWarning(t, cfg.split));
        const c = compareMethods(t, {
          split: cfg.split,
          metrics,
          methods: cfg.methods.length > 0 ? cfg.methods : undefined,
          select: cfg.select,
          bestBy: cfg.best_by,
          bestSplit: cfg.best_split,
          lowerIsBetter,
          baseline: cfg.baseline,
        });
        for (const w of c.warnings) ctx.log.warn(`comparison_table: ${w}`);
        const selectText =
          cfg.select === 'last'
            ? 'last checkpoint per replicate'
            : `checkpoint with the best \`${cfg.best_by ?? metrics[0]}\` (${cfg.best_split || cfg.split}) per replicate`;
        const text = comparisonMarkdown(c, {
          decimals: cfg.decimals,
          pctDecimals: cfg.pct_decimals,
          title: cfg.title,
          split: cfg.split,
          select: selectText,
          notes: [...new Set(notesFor(ctx.artifacts, metrics))],
        });
        writeFileAtomic(file, text);
        ctx.artifacts.set(ARTIFACT.reportTable, text.trimEnd());
        ctx.artifacts.set(ARTIFACT.reportComparisonTable, { path: file, text, comparison: c });
        ctx.log.info(`comparison_table: ${c.methods.length} method(s) × ${metrics.length} metric(s) → ${file}`);
      },
    };
  },
});
