/** Number formatting shared by the tables and the plot's tick labels. */

/**
 * Fixed `decimals`, switching to exponent notation when fixed notation would
 * show nothing useful (a non-zero value below the last decimal) or too many
 * digits (|v| ≥ 1e6). NaN prints as an em dash.
 */
export function formatNumber(v: number, decimals: number): string {
  if (Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const a = Math.abs(v);
  if (a >= 1e6 || (a > 0 && a < 0.5 * 10 ** -decimals)) return v.toExponential(Math.max(1, Math.min(decimals, 3)));
  return v.toFixed(decimals);
}

/** A signed percentage as the papers print it: "+12.3%", "-77.0%", "0.0%"; empty for NaN. */
export function formatPercent(p: number, decimals: number): string {
  if (!Number.isFinite(p)) return '';
  const text = Math.abs(p).toFixed(decimals);
  if (Number(text) === 0) return `${text}%`;
  return `${p > 0 ? '+' : '-'}${text}%`;
}
