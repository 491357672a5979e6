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
  const line = (cells: readonly string[]) => cells.map((c, j) => pad(c, j)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Redraws a block of text in place on a terminal: each draw moves the cursor
 * up over the previous block and clears to the end of the screen. Anything
 * else written to the same terminal between draws may be overdrawn.
 */
export class LiveBlock {
  private lines = 0;

  constructor(private readonly out: { write(s: string): unknown }) {}

  draw(text: string): void {
    const body = text.endsWith('\n') ? text : `${text}\n`;
    this.out.write(`${this.erase()}${body}`);
    this.lines = body.split('\n').length - 1;
  }

  /** Remove the block (before the final table is printed elsewhere). */
  clear(): void {
    if (this.lines === 0) return;
    this.out.write(this.erase());
    this.lines = 0;
  }

  private erase(): string {
    return this.lines > 0 ? `\r\x1b[${this.lines}A\x1b[J` : '';
  }
}
