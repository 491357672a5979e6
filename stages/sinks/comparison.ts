/**
 * The comparison table of the papers (e.g. paper 000 Table 3, paper 002
 * Table 1): methods × metrics, each cell the mean ± sample std over
 * replicates of the selected checkpoint's value, the relative change from a
 * baseline method in percent, and the best mean of each column in bold.
 */
import { isBetter, isTowardZeroMetric, percentChange, selectValues, summarize, type SelectOptions } from './aggregate.js';
import type { MetricTable } from './metric-table.js';
import { formatNumber, formatPercent } from './number-format.js';

export interface ComparisonCell {
  mean: number;
  std: number;
  /** Replicates behind the cell. */
  n: number;
  /** % change of the mean from the baseline's mean (NaN: none). */
  pct: number;
  best: boolean;
}

export interface Comparison {
  methods: string[];
  metrics: string[];
  /** cells[methodIndex][metricIndex]. */
  cells: ComparisonCell[][];
  /** Replicates per method (the most behind any of its cells). */
  replicates: number[];
  baseline?: string;
  warnings: string[];
}

/** Compute the table's numbers (no formatting). */
export function compareMethods(t: MetricTable, o: SelectOptions & { baseline?: string }): Comparison {
  const sel = selectValues(t, o);
  const warnings = [...sel.warnings];
  const metrics = [...o.metrics];
  const cells = sel.methods.map((m) =>
    metrics.map((metric): ComparisonCell => ({ ...summarize(sel.values.get(m)?.get(metric)), pct: Number.NaN, best: false })),
  );
  let baseline = o.baseline;
  if (baseline !== undefined && baseline !== '') {
    const bi = sel.methods.indexOf(baseline);
    if (bi < 0) {
      warnings.push(`baseline method "${baseline}" has no records in split "${o.split}" (methods: ${sel.methods.join(', ') || 'none'}); no % change shown`);
      baseline = undefined;
    } else {
      cells.forEach((row, mi) => {
        if (mi === bi) return;
        row.forEach((c, j) => (c.pct = percentChange(c.mean, cells[bi]![j]!.mean)));
      });
    }
  } else baseline = undefined;
  metrics.forEach((metric, j) => {
    // Gap metrics rank by magnitude (closest to 0 wins); others by direction.
    const toward = isTowardZeroMetric(metric);
    const lower = toward || o.lowerIsBetter(metric);
    const key = (v: number) => (toward ? Math.abs(v) : v);
    let best = Number.NaN;
    for (const row of cells) if (isBetter(key(row[j]!.mean), best, lower)) best = key(row[j]!.mean);
    if (Number.isNaN(best)) return;
    const tol = 1e-12 * Math.max(1, Math.abs(best));
    for (const row of cells) if (Math.abs(key(row[j]!.mean) - best) <= tol) row[j]!.best = true;
  });
  const replicates = cells.map((row) => row.reduce((n, c) => Math.max(n, c.n), 0));
  return { methods: sel.methods, metrics, cells, replicates, ...(baseline ? { baseline } : {}), warnings };
}

export interface MarkdownOptions {
  decimals: number;
  pctDecimals: number;
  title?: string;
  /** Words for the caption: the split and the checkpoint selection. */
  split: string;
  select: string;
  /** How metrics were measured (e.g. the judge of avg_reward), appended to the caption. */
  notes?: string[];
}

const escapeCell = (s: string) => (s === '' ? '(none)' : s.replace(/\|/g, '\\|'));

/** One cell: "**0.1465 ± 0.0021** (+12.3%)"; the std only with ≥ 2 replicates. */
export function formatCell(c: ComparisonCell, decimals: number, pctDecimals: number): string {
  if (c.n === 0) return '—';
  let text = formatNumber(c.mean, decimals);
  if (c.n >= 2) text += ` ± ${formatNumber(c.std, decimals)}`;
  if (c.best) text = `**${text}**`;
  const pct = formatPercent(c.pct, pctDecimals);
  return pct ? `${text} (${pct})` : text;
}

export function comparisonMarkdown(c: Comparison, o: MarkdownOptions): string {
  const lines: string[] = [];
  if (o.title) lines.push(`### ${o.title}`, '');
  lines.push(`| method | n | ${c.metrics.map(escapeCell).join(' | ')} |`);
  lines.push(`| :--- | ---: | ${c.metrics.map(() => '---:').join(' | ')} |`);
  c.methods.forEach((m, i) => {
    const label = m === c.baseline ? `${escapeCell(m)} (baseline)` : escapeCell(m);
    lines.push(`| ${label} | ${c.replicates[i]} | ${c.cells[i]!.map((cell) => formatCell(cell, o.decimals, o.pctDecimals)).join(' | ')} |`);
  });
  if (c.methods.length === 0) lines.push(`| (no records) | 0 | ${c.metrics.map(() => '—').join(' | ')} |`);
  const parts = [
    'mean ± sample std over replicates (n = runs × seeds)',
    `split \`${o.split}\``,
    o.select,
    ...(c.baseline ? [`% change vs \`${c.baseline}\``] : []),
    'best per column in bold',
    ...(o.notes ?? []),
  ];
  lines.push('', `_${parts.join('; ')}._`);
  return `${lines.join('\n')}\n`;
}
