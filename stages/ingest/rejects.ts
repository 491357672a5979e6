/**
 * What happens to a row that cannot be ingested.
 *
 * - strict: the first bad row throws a DataError naming file, line, field
 *   and value; nothing after it is read.
 * - quarantine: the row is appended to `<output>/_quarantine/rejected.jsonl`
 *   as {file, line, field, value, reason, raw}, counted by field and reason,
 *   and reading continues. The file is written under a temporary name and
 *   renamed when the ingest completes (an empty file means nothing was
 *   rejected); a failed run removes the temporary file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../core/errors.js';
import { trackTemp, untrackTemp } from './temp-files.js';

export type IngestMode = 'strict' | 'quarantine';

export interface RejectedRow {
  file: string;
  /** 1-based line (counting a header line); for Parquet input, the 1-based row number. */
  line: number;
  field: string;
  value: string;
  reason: string;
  /** The row as written in the source (its text; a JSON object for Parquet rows). */
  raw: string;
}

export interface Rejector {
  reject(row: RejectedRow): void;
  /** Rows rejected so far. */
  readonly count: number;
}

export class StrictRejector implements Rejector {
  readonly count = 0;
  reject(row: RejectedRow): never {
    throw new DataError(row.file, row.line, row.field, row.value, row.reason);
  }
}

/** Longest raw text kept per rejected row (a runaway line is cut, and says so). */
const MAX_RAW = 10_000;

export class QuarantineLog implements Rejector {
  private fd = -1;
  private readonly tmp: string;
  private pending: string[] = [];
  count = 0;
  /** Rejections per "field: reason kind" (the reason without parentheses, up to a colon or semicolon). */
  readonly byReason = new Map<string, number>();

  constructor(readonly file: string) {
    this.tmp = `${file}.tmp-${process.pid}`;
  }

  reject(row: RejectedRow): void {
    if (this.fd < 0) this.open();
    const raw = row.raw.length > MAX_RAW ? `${row.raw.slice(0, MAX_RAW)}…[${row.raw.length - MAX_RAW} more characters]` : row.raw;
    this.pending.push(JSON.stringify({ ...row, raw }));
    this.count++;
    const kind = `${row.field}: ${row.reason.replace(/\s*\([^)]*\)/g, '').split(/[:;]/)[0]!.trim()}`;
    this.byReason.set(kind, (this.byReason.get(kind) ?? 0) + 1);
    if (this.pending.length >= 512) this.drain();
  }

  private drain(): void {
    if (this.pending.length === 0) return;
    fs.writeSync(this.fd, `${this.pending.join('\n')}\n`);
    this.pending = [];
  }

  private open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    trackTemp(this.tmp);
    this.fd = fs.openSync(this.tmp, 'w');
  }

  /** Finish the file (empty when nothing was rejected) and move it into place. */
  close(): void {
    if (this.fd < 0) this.open();
    this.drain();
    fs.closeSync(this.fd);
    this.fd = -1;
    fs.renameSync(this.tmp, this.file);
    untrackTemp(this.tmp);
  }

  /** Drop the temporary file after a failure. */
  abort(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    fs.rmSync(this.tmp, { force: true });
    untrackTemp(this.tmp);
  }
}
