/**
 * Metric records as a console table for the `evaluate` command: one line per
 * (run, method, seed, step, epoch, split), one column per metric, and `n`,
 * the largest count on the line (test cases behind the means).
 */
import type { MetricRecord } from '../../schemas/metric-record.js';

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return v.toFixed(4);
}

/** Paper order for columns: NDCG@K, HR@K (K ascending), MRR, then the rest alphabetically. */
const FAMILIES = ['ndcg@', 'hr@', 'mrr'];
function compareMetrics(a: string, b: string): number {
  const fam = (m: string) => {
    const i = FAMILIES.findIndex((f) => (f.endsWith('@') ? m.startsWith(f) : m === f));
    return i < 0 ? FAMILIES.length : i;
  };
  const k = (m: string) => Number(m.split('@')[1] ?? 0);
  return fam(a) - fam(b) || k(a) - k(b) || a.localeCompare(b);
}

export function formatRecordsTable(records: readonly MetricRecord[]): string {
  if (records.length === 0) return '(no metric records)';
  const metrics: string[] = [];
  const lines = new Map<string, { label: string[]; cells: Map<string, string>; n: number }>();
  const showRun = new Set(records.map((r) => r.run)).size > 1;
  for (const r of records) {
    if (!metrics.includes(r.metric)) metrics.push(r.metric);
    const id = JSON.stringify([r.run, r.method, r.seed, r.step, r.epoch, r.split]);
    let line = lines.get(id);
    if (!line) {
      const label = [...(showRun ? [r.run] : []), r.method, String(r.seed), String(r.step), String(r.epoch), r.split];
      lines.set(id, (line = { label, cells: new Map(), n: 0 }));
    }
    line.cells.set(r.metric, formatValue(r.value));
    line.n = Math.max(line.n, r.count);
  }
  metrics.sort(compareMetrics);
  const header = [...(showRun ? ['run'] : []), 'method', 'seed', 'step', 'epoch', 'split', ...metrics, 'n'];
  const rows = [header, ...[...lines.values()].map((l) => [...l.label, ...metrics.map((m) => l.cells.get(m) ?? '—'), String(l.n)])];
  const nLabel = header.length - metrics.length - 1;
  const widths = header.map((_h, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const text = rows.map((row) => row.map((c, i) => (i < nLabel ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  text.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return text.join('\n');
}
