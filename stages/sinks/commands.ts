/**
 * `recpost report <metrics files or dirs…>`: re-make the comparison table and
 * plots from the metric files of earlier runs (metrics.jsonl, metrics.parquet).
 * It runs read_metrics → comparison_table → plot… as a pipeline, so the output
 * is exactly what those stages write, and prints the table to stdout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from '../../pipelines/command.js';
import { applySets, flag, hasFlag, type ParsedArgs } from '../../pipelines/args.js';
import { resolvePipeline, type StageSpec } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { ConfigError } from '../core/config-schema.js';
import { ARTIFACT } from '../core/artifacts.js';

const USAGE = `usage: recpost report <metrics file | directory>... [options]
  reads *.jsonl / *.parquet metric files (a directory is searched recursively), writes and prints
  the comparison table, and draws plots.
  --metrics a,b        table columns (default: the evaluation metrics in the split, then training losses)
  --split S            split (default test)
  --baseline M         show the % change from method M
  --select last|best   checkpoint per seed (default last)   --best-by M   --best-split S
  --methods a,b        rows (and plotted methods), in this order
  --title T            table heading
  --table FILE         Markdown file of the table (default <out>/comparison.md)
  --plot KIND          metric_vs_step | metric_vs_param | reward_vs_noise | gold_proxy_vs_kl (repeatable;
                       each writes <out>/plots/<kind>-<metric>.svg and .png)
  --metric M           plotted metric: one per --plot, in the same order (one alone applies to all)   --x X   plot x (step|epoch, or the swept parameter)   --log-x
  --plot-opt k=v       any other plot option (repeatable), e.g. --plot-opt png_text=bitmap
  --out DIR            output directory (default runs/report)   --quiet`;

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The metric of each plot: the i-th --metric goes with the i-th --plot; a
 * single --metric applies to every plot; none leaves each kind's default.
 */
function pairedMetrics(plots: number, metrics: readonly string[]): (string | undefined)[] {
  if (metrics.length === 0) return Array.from({ length: plots }, () => undefined);
  if (metrics.length === 1) return Array.from({ length: plots }, () => metrics[0]);
  if (metrics.length !== plots) {
    throw new ConfigError(`report: ${plots} --plot flag(s) but ${metrics.length} --metric flag(s); give one --metric per --plot, in the same order (or one for all)`, ['metric']);
  }
  return [...metrics];
}

/** The report pipeline's stages from the command line. */
export function reportStages(args: ParsedArgs, outDir: string): StageSpec[] {
  const inputs = args.positionals.slice(1);
  if (inputs.length === 0) throw new ConfigError(`report: name at least one metrics file or directory\n${USAGE}`, ['usage']);
  const methods = flag(args, 'methods');
  const table: Record<string, unknown> = { path: flag(args, 'table') ?? path.join(outDir, 'comparison.md') };
  const metrics = flag(args, 'metrics');
  if (metrics !== undefined) table.metrics = list(metrics);
  for (const [opt, key] of [
    ['split', 'split'],
    ['baseline', 'baseline'],
    ['select', 'select'],
    ['best-by', 'best_by'],
    ['best-split', 'best_split'],
    ['title', 'title'],
  ] as const) {
    const v = flag(args, opt);
    if (v !== undefined) table[key] = v;
  }
  if (methods !== undefined) table.methods = list(methods);
  const stages: StageSpec[] = [
    { stage: 'read_metrics', with: { paths: inputs } },
    { stage: 'comparison_table', with: table },
  ];
  const kinds = args.flags.get('plot') ?? [];
  const plotMetrics = pairedMetrics(kinds.length, args.flags.get('metric') ?? []);
  kinds.forEach((kind, i) => {
    const plot: Record<string, unknown> = { kind };
    applySets(plot, args.flags.get('plot-opt') ?? []);
    const metric = plotMetrics[i];
    if (metric !== undefined) plot.metric = metric;
    const x = flag(args, 'x');
    if (x !== undefined) plot.x = x;
    if (hasFlag(args, 'log-x')) plot.log_x = true;
    if (flag(args, 'split') !== undefined) plot.split = flag(args, 'split');
    for (const k of ['select', 'best-by', 'best-split'] as const) if (flag(args, k) !== undefined) plot[k.replace('-', '_')] = flag(args, k);
    if (methods !== undefined) plot.methods = list(methods);
    // Run directories given hold the checkpoints that say which run continued which (init: previous).
    const dirs = inputs.filter((p) => fs.existsSync(p) && fs.statSync(p).isDirectory());
    if (kind === 'metric_vs_step' && dirs.length > 0) plot.checkpoints_under = dirs;
    const label = (plot.metric as string | undefined) ?? (kind === 'gold_proxy_vs_kl' ? '' : kind === 'reward_vs_noise' ? 'true_reward_top1' : '');
    if (plot.path === undefined) plot.path = path.join(outDir, 'plots', `${kind}${label ? `-${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}` : ''}`);
    stages.push({ stage: 'plot', id: `plot_${i + 1}_${kind}`, with: plot });
  });
  return stages;
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'comparison table and plots from the metric files of earlier runs',
  usage: 'report <metrics>...',
  async run(args) {
    if (hasFlag(args, 'help')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const outDir = flag(args, 'out') ?? path.join('runs', 'report');
    const p = resolvePipeline({ name: 'report', out_dir: outDir, stages: reportStages(args, outDir) }, 'report');
    const result = await runPipeline(p, { outDir, quiet: hasFlag(args, 'quiet'), writeFiles: false });
    const table = result.artifacts.get(ARTIFACT.reportTable);
    if (typeof table === 'string') process.stdout.write(`${table}\n`);
    return 0;
  },
};

/** CLI subcommands contributed by this concern (to be joined in pipelines/commands.ts). */
export const sinksCommands: Command[] = [reportCommand];
