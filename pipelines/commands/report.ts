/**
 * `recpost report <metrics files or dirs…>`: re-make the comparison table and
 * plots from the metric files of earlier runs (metrics.jsonl, metrics.parquet).
 * It runs read_metrics → comparison_table → plot… as a pipeline, so the output
 * is exactly what those stages write, and prints the table to stdout.
 */
import { ARTIFACT } from '../../stages/core/artifacts.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../stages/core/config-schema.js';
import { applyOptionAssignments, collect, commaList } from '../args.js';
import type { CliCommand } from '../command.js';
import type { StageSpec } from '../spec.js';

export interface ReportOptions {
  metrics?: string;
  split?: string;
  baseline?: string;
  select?: string;
  bestBy?: string;
  bestSplit?: string;
  methods?: string;
  title?: string;
  table?: string;
  plot?: string[];
  metric?: string[];
  x?: string;
  logX?: boolean;
  plotOpt?: string[];
  out?: string;
  quiet?: boolean;
}

/** The metric of the i-th --plot: one --metric for all plots, or one per plot in order. */
function plotMetric(metrics: string[], plots: string[], i: number): string | undefined {
  if (metrics.length <= 1) return metrics[0];
  if (metrics.length !== plots.length)
    throw new ConfigError(`report: --metric is given ${metrics.length} times for ${plots.length} --plot; give one for all plots or one per --plot`, ['metric']);
  return metrics[i];
}

/** The report pipeline's stages from the command line. */
export function reportStages(inputs: string[], opts: ReportOptions, outDir: string): StageSpec[] {
  if (inputs.length === 0) throw new ConfigError('report: name at least one metrics file or directory', ['usage']);
  const methods = opts.methods !== undefined ? commaList(opts.methods) : undefined;
  const shared: Record<string, unknown> = {};
  if (opts.select !== undefined) shared.select = opts.select;
  if (opts.bestBy !== undefined) shared.best_by = opts.bestBy;
  if (opts.bestSplit !== undefined) shared.best_split = opts.bestSplit;
  if (opts.split !== undefined) shared.split = opts.split;
  if (methods !== undefined) shared.methods = methods;
  const table: Record<string, unknown> = { path: opts.table ?? path.join(outDir, 'comparison.md'), ...shared };
  if (opts.metrics !== undefined) table.metrics = commaList(opts.metrics);
  if (opts.baseline !== undefined) table.baseline = opts.baseline;
  if (opts.title !== undefined) table.title = opts.title;
  const stages: StageSpec[] = [
    { stage: 'read_metrics', with: { paths: inputs } },
    { stage: 'comparison_table', with: table },
  ];
  const plots = opts.plot ?? [];
  plots.forEach((kind, i) => {
    const plot: Record<string, unknown> = { kind };
    applyOptionAssignments(plot, opts.plotOpt ?? [], '--plot-opt');
    const metric = plotMetric(opts.metric ?? [], plots, i);
    if (metric !== undefined) plot.metric = metric;
    if (opts.x !== undefined) plot.x = opts.x;
    if (opts.logX) plot.log_x = true;
    Object.assign(plot, shared);
    // Run directories given hold the checkpoints that say which run continued which (init: previous).
    const dirs = inputs.filter((p) => fs.existsSync(p) && fs.statSync(p).isDirectory());
    if (kind === 'metric_vs_step' && dirs.length > 0) plot.checkpoints_under = dirs;
    const label = (plot.metric as string | undefined) ?? (kind === 'reward_vs_noise' ? 'true_reward_top1' : '');
    if (plot.path === undefined) plot.path = path.join(outDir, 'plots', `${kind}${label ? `-${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}` : ''}`);
    stages.push({ stage: 'plot', id: `plot_${i + 1}_${kind}`, with: plot });
  });
  return stages;
}

export const reportCommand: CliCommand = {
  name: 'report',
  define: (program) =>
    program
      .command('report')
      .summary('comparison table and plots from the metric files of earlier runs')
      .description('Read *.jsonl / *.parquet metric files (a directory is searched recursively), write and print the comparison table, and draw plots.')
      .argument('<metrics...>', 'metric files or directories')
      .option('--metrics <a,b>', 'table columns (default: the evaluation metrics in the split, then training losses)')
      .option('--split <split>', 'split (default test)')
      .option('--baseline <method>', 'show the % change from this method')
      .option('--select <last|best>', 'checkpoint per seed (default last)')
      .option('--best-by <metric>', 'metric that picks the best checkpoint (--select best)')
      .option('--best-split <split>', 'split of --best-by')
      .option('--methods <a,b>', 'rows (and plotted methods), in this order')
      .option('--title <text>', 'table heading')
      .option('--table <file>', 'Markdown file of the table (default <out>/comparison.md)')
      .option(
        '--plot <kind>',
        'metric_vs_step | metric_vs_param | reward_vs_noise | gold_proxy_vs_kl; writes <out>/plots/<kind>-<metric>.svg and .png (repeatable)',
        collect,
      )
      .option('--metric <metric>', 'plotted metric: once for all plots, or once per --plot in order (repeatable)', collect)
      .option('--x <x>', 'plot x (step|epoch, or the swept parameter)')
      .option('--log-x', 'logarithmic x axis')
      .option('--plot-opt <key=value>', 'any other plot option, the value as YAML, e.g. --plot-opt png_text=bitmap (repeatable)', collect)
      .option('--out <dir>', 'output directory', path.join('runs', 'report'))
      .option('--quiet', 'no progress lines')
      .action(async (inputs: string[], opts: ReportOptions & { out: string }) => {
        const { resolvePipeline } = await import('../spec.js');
        const { runPipeline } = await import('../runner.js');
        const p = resolvePipeline({ name: 'report', out_dir: opts.out, stages: reportStages(inputs, opts, opts.out) }, 'report');
        const result = await runPipeline(p, { outDir: opts.out, quiet: opts.quiet ?? false, writeFiles: false });
        const table = result.artifacts.get(ARTIFACT.reportTable);
        if (typeof table === 'string') process.stdout.write(`${table}\n`);
      }),
};
