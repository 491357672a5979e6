/**
 * Where `evaluate --watch` puts its records as units are evaluated:
 *
 * - `jsonl`: one line per record on stdout, as they come;
 * - `table` on a terminal: the table of every record so far, redrawn in place
 *   with a status line under it (the cursor goes back over exactly the rows
 *   the previous drawing took, wrapped lines included, and clears below, so no
 *   line is cut and none is left stale);
 * - `table` elsewhere (a pipe, a file): the new rows as a small table per unit;
 *
 * and, with a metrics file, every record appended to it as a JSON line
 * (the format of `<out>/metrics.jsonl`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { metricRecordLine, type MetricRecord } from '../../schemas/metric-record.js';
import { formatRecordsTable } from './format.js';

export interface WatchOutputOptions {
  format: 'table' | 'jsonl';
  write: (text: string) => void;
  /** Terminal width when stdout is a terminal (redraw mode), asked at each drawing (the window may be resized); undefined otherwise. */
  columns?: number | (() => number);
  /** Append records here (JSON lines). */
  metricsFile?: string;
  /** Status lines when not redrawing (stderr), unless quiet. */
  status?: (line: string) => void;
}

/** Terminal rows that `text` takes at `columns` (each line at least one row; long lines wrap). */
export function terminalRows(text: string, columns: number): number {
  const width = Math.max(1, columns);
  return text.split('\n').reduce((n, line) => n + Math.max(1, Math.ceil([...line].length / width)), 0);
}

export class WatchOutput {
  private readonly all: MetricRecord[] = [];
  private drawnRows = 0;
  private statusLine = '';

  constructor(private readonly opts: WatchOutputOptions) {
    if (opts.metricsFile) fs.mkdirSync(path.dirname(opts.metricsFile), { recursive: true });
  }

  private get redrawing(): boolean {
    return this.opts.format === 'table' && this.opts.columns !== undefined;
  }

  /** Records of one unit. */
  add(records: readonly MetricRecord[]): void {
    if (records.length === 0) return;
    if (this.opts.metricsFile) fs.appendFileSync(this.opts.metricsFile, records.map(metricRecordLine).join(''));
    if (this.opts.format === 'jsonl') this.opts.write(records.map(metricRecordLine).join(''));
    else if (this.redrawing) {
      this.all.push(...records);
      this.redraw();
    } else this.opts.write(`${formatRecordsTable(records)}\n\n`);
  }

  /** A status line: under the table when redrawing, else to the status stream. */
  status(line: string): void {
    if (this.redrawing) {
      this.statusLine = line;
      this.redraw();
    } else this.opts.status?.(line);
  }

  private redraw(): void {
    const text = [...(this.all.length ? [formatRecordsTable(this.all)] : []), ...(this.statusLine ? [this.statusLine] : [])].join('\n');
    const up = this.drawnRows > 0 ? `\x1b[${this.drawnRows}A\r\x1b[J` : '';
    this.opts.write(`${up}${text}\n`);
    const columns = this.opts.columns!;
    this.drawnRows = terminalRows(text, typeof columns === 'function' ? columns() : columns);
  }
}
