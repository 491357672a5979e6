/**
 * Progress on stderr for long work: rows, rows/s and a percentage when the
 * total (rows or bytes) is known. Silent unless enabled (the runner enables it
 * only for a TTY without --quiet). Redraws at most every 250 ms.
 */
export class Progress {
  private readonly start = performance.now();
  private last = 0;
  private rows = 0;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
    /** Total in the unit of `advance`'s `done` argument (bytes or rows). */
    private readonly total?: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Add rows processed; `done` is the absolute position (bytes read) if known. */
  advance(rows: number, done?: number): void {
    this.rows += rows;
    if (done !== undefined) this.done = done;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 250) return;
    this.last = now;
    this.stream.write(`\r${this.line(now)}\x1b[K`);
  }

  private line(now: number): string {
    const secs = (now - this.start) / 1000;
    const rate = secs > 0 ? this.rows / secs : 0;
    const pct = this.total ? `  ${((100 * this.done) / this.total).toFixed(1)}%` : '';
    return `[${this.label}] ${formatCount(this.rows)} rows  ${formatCount(rate)} rows/s${pct}`;
  }

  finish(): void {
    if (!this.enabled) return;
    this.stream.write(`\r${this.line(performance.now())}  done\x1b[K\n`);
  }
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}K`;
  return `${Math.round(n)}`;
}
