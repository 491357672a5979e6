/**
 * The live part of a terminal: progress lines and live tables redrawn in
 * place at the bottom of stderr, with permanent messages (log lines, a
 * finished progress line) printed above them.
 *
 * Redraws tell the truth on a real terminal:
 * - every live line is cut to the terminal width (minus one column, so the
 *   cursor never sits in the pending-wrap position), so a line never wraps;
 * - each redraw moves up over every terminal row the previous draw occupied
 *   (lines counted as wrapped at the current width, in case the terminal got
 *   narrower since), clears to the end of the screen, and clears each line
 *   to its end, so a shorter redraw leaves nothing stale behind.
 *
 * Only one region per stream: the progress bars and the console table share it.
 */

export interface TerminalStream {
  write(s: string): unknown;
  /** Terminal width; absent when not a terminal (80 is assumed). */
  columns?: number;
}

const ESC = '\x1b[';
const CLEAR_TO_EOL = `${ESC}K`;
const CLEAR_TO_END = `${ESC}J`;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Display width of plain text (code points; escapes count 0). */
export function displayWidth(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

/** Cut plain text to at most `width` columns, marking the cut with "…". */
export function fitToWidth(s: string, width: number): string {
  const cs = [...s];
  if (cs.length <= width) return s;
  return width <= 1 ? cs.slice(0, Math.max(0, width)).join('') : `${cs.slice(0, width - 1).join('')}…`;
}

export class LiveRegion {
  /** Live blocks by key, drawn in insertion order. */
  private readonly blocks = new Map<string, string[]>();
  /** Display widths of the lines on screen now (to count their rows at the next erase). */
  private drawn: number[] = [];

  constructor(private readonly out: TerminalStream) {}

  private width(): number {
    const c = this.out.columns;
    return c !== undefined && c > 1 ? c : 80;
  }

  /** Set (or, with undefined, remove) a live block and redraw. */
  set(key: string, text: string | undefined): void {
    if (text === undefined) {
      if (!this.blocks.delete(key)) return;
    } else this.blocks.set(key, text.replace(/\n+$/, '').split('\n'));
    this.out.write(this.erase() + this.render());
  }

  /** Print permanent text above the live lines (which are redrawn below it); it may wrap like any output. */
  printAbove(text: string): void {
    const body = text.endsWith('\n') ? text : `${text}\n`;
    this.out.write(this.erase() + body + this.render());
  }

  /** Columns a live line may use (one less than the terminal's). */
  get lineWidth(): number {
    return this.width() - 1;
  }

  /** Whether anything live is on screen. */
  get active(): boolean {
    return this.drawn.length > 0;
  }

  /** Terminal rows the lines drawn last occupy at the current width. */
  private drawnRows(): number {
    const w = this.width();
    return this.drawn.reduce((n, len) => n + Math.max(1, Math.ceil(len / w)), 0);
  }

  private erase(): string {
    const rows = this.drawnRows();
    this.drawn = [];
    if (rows === 0) return '';
    return `\r${ESC}${rows}A${CLEAR_TO_END}`;
  }

  private render(): string {
    const w = this.width() - 1;
    const lines = [...this.blocks.values()].flat().map((l) => fitToWidth(l, w));
    this.drawn = lines.map(displayWidth);
    return lines.map((l) => `${l}${CLEAR_TO_EOL}\n`).join('');
  }
}

const regions = new WeakMap<object, LiveRegion>();

/** The live region of a stream (one per stream). */
export function liveRegion(out: TerminalStream = process.stderr): LiveRegion {
  let r = regions.get(out);
  if (!r) regions.set(out, (r = new LiveRegion(out)));
  return r;
}

/** Write a permanent line to stderr: above the live lines when some are drawn, plainly otherwise. */
export function writeStderrLine(line: string): void {
  const r = regions.get(process.stderr);
  if (r?.active) r.printAbove(line);
  else process.stderr.write(`${line}\n`);
}
