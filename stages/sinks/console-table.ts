/**
 * The console table: one row per method, one column per (split, metric), each
 * cell the value at the method's latest checkpoint (mean over replicates when
 * several seeds or runs report it), plus the latest epoch and step reached.
 */
import { compareCheckpoints, selectValues, summarize } from './aggregate.js';
import type { MetricTable } from './metric-table.js';
import { formatNumber } from './number-format.js';
import { formatTextTable, type Align } from './text-table.js';
import { defaultMetrics } from './default-metrics.js';

export interface ConsoleTableOptions {
  /** Metrics to show (default: the evaluation and training metrics seen, see default-metrics.ts; else every metric). */
  metrics?: readonly string[];
  /** Splits to show (default: every split except `batch`, the per-batch diagnostics). */
  splits?: readonly string[];
  /** Methods to show, in this order (default: all, in order of first appearance). */
  methods?: readonly string[];
  decimals: number;
}

export interface ConsoleColumn {
  split: string;
  metric: string;
  header: string;
}

/** The (split, metric) columns the table shows; headers name the split only when a metric appears in several. */
export function consoleColumns(t: MetricTable, o: Pick<ConsoleTableOptions, 'metrics' | 'splits'>): ConsoleColumn[] {
  const splits = o.splits && o.splits.length > 0 ? [...o.splits] : t.distinct('split').filter((s) => s !== 'batch');
  const splitSet = new Set(splits);
  const metrics = o.metrics && o.metrics.length > 0 ? [...o.metrics] : defaultMetrics(t.distinct('metric', (i) => splitSet.has(t.split[i]!)));
  const present = new Set<string>();
  for (let i = 0; i < t.size; i++) present.add(`${t.split[i]}\u0000${t.metric[i]}`);
  const cols: Omit<ConsoleColumn, 'header'>[] = [];
  for (const metric of metrics) for (const split of splits) if (present.has(`${split}\u0000${metric}`)) cols.push({ split, metric });
  const perMetric = new Map<string, number>();
  for (const c of cols) perMetric.set(c.metric, (perMetric.get(c.metric) ?? 0) + 1);
  return cols.map((c) => ({ ...c, header: perMetric.get(c.metric)! > 1 ? `${c.split}/${c.metric}` : c.metric }));
}

export function formatConsoleTable(t: MetricTable, o: ConsoleTableOptions): string {
  const cols = consoleColumns(t, o);
  if (cols.length === 0) return t.size === 0 ? '(no metric records yet)' : '(no evaluation or training metrics yet; name the columns in `metrics`)';
  const splits = [...new Set(cols.map((c) => c.split))];
  // value per (method, column), latest checkpoint per method, replicates per method.
  const cell = new Map<string, string>();
  const latest = new Map<string, { epoch: number; step: number }>();
  const reps = new Map<string, Set<string>>();
  const order: string[] = [];
  for (const split of splits) {
    const metrics = cols.filter((c) => c.split === split).map((c) => c.metric);
    const sel = selectValues(t, { split, metrics, methods: o.methods, select: 'last', lowerIsBetter: () => false });
    for (const m of sel.methods) {
      if (!order.includes(m)) order.push(m);
      for (const metric of metrics) {
        const vs = sel.values.get(m)?.get(metric);
        if (!vs) continue;
        cell.set(`${m}\u0000${split}\u0000${metric}`, formatNumber(summarize(vs).mean, o.decimals));
        let r = reps.get(m);
        if (!r) reps.set(m, (r = new Set()));
        for (const v of vs) {
          r.add(`${v.run}\u0000${v.seed}`);
          const l = latest.get(m);
          if (!l || compareCheckpoints(v.epoch, v.step, l.epoch, l.step) > 0) latest.set(m, { epoch: v.epoch, step: v.step });
        }
      }
    }
  }
  const methods = o.methods ? o.methods.filter((m) => order.includes(m)) : order;
  const header = ['method', 'n', 'epoch', 'step', ...cols.map((c) => c.header)];
  const align: Align[] = ['left', ...header.slice(1).map((): Align => 'right')];
  const rows = methods.map((m) => [
    m || '(none)',
    String(reps.get(m)?.size ?? 0),
    String(latest.get(m)?.epoch ?? ''),
    String(latest.get(m)?.step ?? ''),
    ...cols.map((c) => cell.get(`${m}\u0000${c.split}\u0000${c.metric}`) ?? '—'),
  ]);
  return formatTextTable(header, rows, align);
}
