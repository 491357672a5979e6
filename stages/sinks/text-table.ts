/** Plain-text tables for terminals: aligned columns, a dashed rule under the header. */

export type Align = 'left' | 'right';

/** Display width of a string (code points; the tables hold no wide characters). */
const width = (s: string) => [...s].length;

export function formatTextTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string {
  const widths = header.map((h, j) => Math.max(width(h), ...rows.map((r) => width(r[j] ?? ''))));
  const pad = (s: string, j: number) => {
    const fill = ' '.repeat(Math.max(0, widths[j]! - width(s)));
    return align[j] === 'right' ? fill + s : s + fill;
  };
  const line = (cells: readonly string[]) =>
    cells
      .map((c, j) => pad(c, j))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
