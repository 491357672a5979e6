/**
 * What happens to a row (or a whole file) that cannot be ingested.
 *
 * - strict: the first bad row throws a DataError naming file, line, field
 *   and value; a bad file throws a FileDataError naming the file (and
 *   column); nothing after it is read.
 * - quarantine: the row is appended to `<output>/_quarantine/rejected.jsonl`
 *   as {file, line, field, value, value_bytes, reason, raw, raw_bytes,
 *   whole_file}, counted by field and reason, and reading continues. `raw`
 *   and `value` are cut to their first QUARANTINE_TEXT_BYTES bytes (at a
 *   character boundary); `raw_bytes` and `value_bytes` give their full UTF-8
 *   length. A file set aside whole (corrupt Parquet, wrong column types, no
 *   mapped column) is one entry with `whole_file: true`, line 0, and its rows
 *   counted as skipped, not rejected. The file is written under a temporary
 *   name and renamed when the ingest completes (an empty file means nothing
 *   was rejected); a failed run removes the temporary file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../core/errors.js';
import { FileDataError } from './file-errors.js';
import { trackTemp, untrackTemp } from './temp-files.js';

export type IngestMode = 'strict' | 'quarantine';

/** Longest `raw` or `value` text kept per quarantine entry, in UTF-8 bytes. */
export const QUARANTINE_TEXT_BYTES = 4096;

export interface RejectedRow {
  file: string;
  /** 1-based line (counting a header line); for Parquet input, the 1-based row number. */
  line: number;
  field: string;
  value: string;
  reason: string;
  /** The row as written in the source (its text; a JSON object for Parquet rows). */
  raw: string;
  /** Full UTF-8 length of `raw` when the caller already cut it (see boundedText); else measured here. */
  rawBytes?: number;
  /** Full UTF-8 length of `value` when the caller already cut it. */
  valueBytes?: number;
}

export interface RejectedFile {
  file: string;
  reason: string;
  /** The column concerned, if any. */
  column?: string;
}

export interface Rejector {
  reject(row: RejectedRow): void;
  /** Set a whole file aside (quarantine) or stop with a FileDataError (strict). */
  rejectFile(f: RejectedFile): void;
  /** Rows rejected so far. */
  readonly count: number;
  /** Files set aside so far. */
  readonly files: number;
}

/** A text cut to `limit` UTF-8 bytes at a character boundary, with its full length. */
export interface BoundedText {
  text: string;
  bytes: number;
}

/** Bytes [start, end) of `buf` as text, decoding at most QUARANTINE_TEXT_BYTES of them. */
export function boundedText(buf: Uint8Array, start: number, end: number, limit = QUARANTINE_TEXT_BYTES): BoundedText {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (end - start <= limit) return { text: b.toString('utf8', start, end), bytes: end - start };
  let e = start + limit;
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (e > start && (b[e]! & 0xc0) === 0x80) e--;
  return { text: b.toString('utf8', start, e), bytes: end - start };
}

/** A string cut to `limit` UTF-8 bytes at a character boundary, with its full UTF-8 length. */
export function boundedString(s: string, limit = QUARANTINE_TEXT_BYTES): BoundedText {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no measuring.
  if (s.length * 3 <= limit) return { text: s, bytes: Buffer.byteLength(s, 'utf8') };
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes <= limit) return { text: s, bytes };
  const b = Buffer.from(s.length > limit ? s.slice(0, limit) : s, 'utf8');
  return { text: boundedText(b, 0, b.length, limit).text, bytes };
}

export class StrictRejector implements Rejector {
  readonly count = 0;
  readonly files = 0;
  reject(row: RejectedRow): never {
    throw new DataError(row.file, row.line, row.field, boundedString(row.value).text, row.reason);
  }
  rejectFile(f: RejectedFile): never {
    throw new FileDataError(f.file, f.reason, f.column);
  }
}

export class QuarantineLog implements Rejector {
  private fd = -1;
  private readonly tmp: string;
  private pending: string[] = [];
  count = 0;
  files = 0;
  /** Rejections per "field: reason kind" (the reason without parentheses, up to a colon or semicolon). */
  readonly byReason = new Map<string, number>();

  constructor(readonly file: string) {
    this.tmp = `${file}.tmp-${process.pid}`;
  }

  reject(row: RejectedRow): void {
    this.count++;
    this.write(row, false);
  }

  rejectFile(f: RejectedFile): void {
    this.files++;
    this.write({ file: f.file, line: 0, field: f.column ?? '(file)', value: '', reason: f.reason, raw: '' }, true);
  }

  private write(row: RejectedRow, wholeFile: boolean): void {
    if (this.fd < 0) this.open();
    const raw = boundedString(row.raw);
    const value = boundedString(row.value);
    this.pending.push(
      JSON.stringify({
        file: row.file,
        line: row.line,
        field: row.field,
        value: value.text,
        value_bytes: row.valueBytes ?? value.bytes,
        reason: row.reason,
        raw: raw.text,
        raw_bytes: row.rawBytes ?? raw.bytes,
        whole_file: wholeFile,
      }),
    );
    const kind = `${row.field}: ${row.reason
      .replace(/\s*\([^)]*\)/g, '')
      .split(/[:;]/)[0]!
      .trim()}`;
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
