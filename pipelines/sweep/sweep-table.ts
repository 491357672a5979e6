/**
 * The sweep's comparison table: per method × grid point, the mean ± sample
 * std over seeds of the pipeline's table metrics, computed and written by the
 * comparison table's own code (stages/sinks/comparison.ts) over the metric
 * records of every finished replicate (<replicate>/metrics.jsonl).
 *
 * Rows are the methods the replicates recorded, each once per grid point
 * (`drpo [rho=0.5]`); a replicate counts once per (replicate, seed). The
 * settings (metrics, split, checkpoint selection, baseline, decimals, title)
 * are those of the pipeline's last `comparison_table` stage, or that stage's
 * defaults. With a grid, the baseline is the baseline method at the first
 * grid point.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateStageConfig } from '../../stages/core/config-schema.js';
import type { StageDefinition } from '../../stages/core/stage.js';
import { defaultLowerIsBetter } from '../../stages/sinks/aggregate.js';
import { comparisonTableStage } from '../../stages/sinks/comparison-table-stage.js';
import { compareMethods, comparisonMarkdown, type Comparison } from '../../stages/sinks/comparison.js';
import { defaultMetrics } from '../../stages/sinks/default-metrics.js';
import { metricColumns } from '../../stages/sinks/metric-columns.js';
import { readMetricsJsonl } from '../../stages/sinks/metric-jsonl.js';
import { MetricTable } from '../../stages/sinks/metric-table.js';
import type { ResolvedPipeline } from '../spec.js';

/** The comparison_table stage's validated options. */
export type TableSettings = typeof comparisonTableStage extends StageDefinition<infer C> ? C : never;

/** The options of the pipeline's last comparison_table stage, or its defaults. */
export function tableSettings(p: ResolvedPipeline): TableSettings {
  const stage = [...p.stages].reverse().find((s) => s.def.name === comparisonTableStage.name);
  return (stage?.config as TableSettings | undefined) ?? validateStageConfig<TableSettings>('sweep table', comparisonTableStage, {});
}

/** A finished replicate, as the table reads it. */
export interface TableReplicate {
  name: string;
  dir: string;
  /** Index of its grid point, and how the point reads (`rho=0.5`; empty without a grid). */
  pointIndex: number;
  pointLabel: string;
}

export interface SweepTable {
  text: string;
  comparison: Comparison;
  /** Table rows: method and grid point of each row of `comparison.methods`. */
  rows: { label: string; method: string; point: string }[];
  split: string;
  select: string;
  warnings: string[];
}

const rowLabel = (method: string, point: string) => (point === '' ? method : `${method} [${point}]`);

/** Read the replicates' metrics.jsonl into one table, each replicate's method labelled with its grid point. */
async function readReplicates(reps: readonly TableReplicate[]): Promise<{ table: MetricTable; methods: string[] }> {
  const table = new MetricTable();
  const methods = new Set<string>();
  for (const r of reps) {
    const file = path.join(r.dir, 'metrics.jsonl');
    if (!fs.existsSync(file)) continue;
    for await (const b of readMetricsJsonl(file)) {
      const c = metricColumns(b);
      for (let i = 0; i < c.metric.length; i++) {
        methods.add(c.method[i]!);
        // A replicate is (run, seed): the run is made per replicate so that replicates never merge.
        table.add(
          `${r.name}/${c.run[i]}`,
          rowLabel(c.method[i]!, r.pointLabel),
          c.seed[i]!,
          c.step[i]!,
          c.epoch[i]!,
          c.split[i]!,
          c.metric[i]!,
          c.value[i]!,
          c.count[i]!,
        );
      }
    }
  }
  return { table: table.withoutSeedAggregates(), methods: [...methods] };
}

export async function sweepTable(reps: readonly TableReplicate[], cfg: TableSettings, title: string): Promise<SweepTable> {
  const { table, methods } = await readReplicates(reps);
  const points: string[] = [];
  for (const r of [...reps].sort((a, b) => a.pointIndex - b.pointIndex)) if (!points.includes(r.pointLabel)) points.push(r.pointLabel);
  const baseMethods = cfg.methods.length > 0 ? cfg.methods : methods;
  const rows = baseMethods.flatMap((method) => points.map((point) => ({ label: rowLabel(method, point), method, point })));
  const metrics = cfg.metrics.length > 0 ? cfg.metrics : defaultMetrics(table.metricsIn(cfg.split));
  const lowerSet = cfg.lower_is_better ? new Set(cfg.lower_is_better) : undefined;
  const comparison = compareMethods(table, {
    split: cfg.split,
    metrics,
    methods: rows.map((r) => r.label),
    select: cfg.select,
    bestBy: cfg.best_by,
    bestSplit: cfg.best_split,
    lowerIsBetter: (m) => (lowerSet ? lowerSet.has(m) : defaultLowerIsBetter(m)),
    baseline: cfg.baseline !== undefined && points.length > 0 ? rowLabel(cfg.baseline, points[0]!) : undefined,
  });
  // The same caption words as the comparison_table stage.
  const select =
    cfg.select === 'last'
      ? 'last checkpoint per replicate'
      : `checkpoint with the best \`${cfg.best_by ?? metrics[0]}\` (${cfg.best_split || cfg.split}) per replicate`;
  const text = comparisonMarkdown(comparison, { decimals: cfg.decimals, pctDecimals: cfg.pct_decimals, title, split: cfg.split, select });
  const shown = new Set(comparison.methods);
  return { text, comparison, rows: rows.filter((r) => shown.has(r.label)), split: cfg.split, select, warnings: comparison.warnings };
}
