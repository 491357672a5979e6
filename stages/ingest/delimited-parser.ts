/**
 * Byte-level parser of delimited text (CSV, TSV, MovieLens `::`) straight
 * into typed-array columns.
 *
 * The fast path finds each line with a native byte search, splits it on the
 * delimiter in one pass over its bytes and parses ids, rewards and
 * timestamps from the byte ranges (no strings, no split, no per-row objects;
 * integer ids are looked up as numbers). A record whose field starts with a
 * quote goes through the RFC 4180 parser instead, which may continue over
 * line breaks inside quotes.
 *
 * Rules: lines end in LF or CRLF; a UTF-8 byte-order mark is skipped; blank
 * lines are skipped and counted; spaces around a field are trimmed (and tabs,
 * unless tab is the delimiter); every line must have exactly as many fields
 * as the header; the file's last line may lack its line break.
 *
 * Values are stored as read (see stored-values.ts): a reward that float32
 * would turn into ±Infinity, 0 or a subnormal is rejected, as is an id that
 * is not valid UTF-8, a header that names a mapped column twice, a file that
 * starts with a UTF-16/UTF-32 byte-order mark, and a line longer than
 * `max_line_bytes` (rejected from its first bytes, then skipped to its end
 * without being held in memory).
 */
import { ConfigError } from '../core/config-schema.js';
import { isMappingProblem, MOVIELENS_FIELD_NAMES, resolveMapping, type MappingRequest, type ResolvedMapping } from './column-mapping.js';
import { describeFailure, lastParseError, parseCanonicalId, parseDecimal } from './number-parse.js';
import { boundedText } from './rejects.js';
import { parseQuotedRecord } from './rfc4180.js';
import { unknownIdReason, type RowSink } from './row-sink.js';
import { float32Problem, invalidUtf8Reason, validUtf8 } from './stored-values.js';
import { utf16Bom } from './text-encoding.js';
import { lastTimestampError } from './timestamp-parse.js';
import { NumericLine, numericLineDelimiter, ROLE_ITEM, ROLE_REWARD, ROLE_TIMESTAMP, ROLE_USER, scanNumericLine, type NumericLinePlan } from './numeric-line.js';

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

/** A record whose quoted field is still open after this many bytes is rejected (stray quote). */
export const MAX_QUOTED_RECORD_BYTES = 1 << 20;

export interface DelimitedOptions {
  /** Field separator, one or more bytes (",", "\t", "::"). */
  delimiter: Uint8Array;
  /** Quote byte (RFC 4180), or -1 for none. */
  quote: number;
  /** Names of the fields when the file has no header line; null: the first line is the header. */
  headerNames: readonly string[] | null;
  mapping: MappingRequest;
}

/**
 * Where a parser starts when it reads a byte range that begins after the
 * file's first record (ingest on several threads, shards): past any
 * byte-order mark and header (the header's names come as `headerNames`),
 * with `line` lines before it.
 */
export interface ParserResume {
  line: number;
}

export class DelimitedFileParser {
  /** Line number of the last line started (1-based). */
  private line = 0;
  private started = false;
  private skipping = false;
  /** Inside a line longer than max_line_bytes: bytes are dropped up to its line break. */
  private discarding = false;
  /** The record being handled came through the quoted parser and its source bytes are not valid UTF-8. */
  private quotedInvalidUtf8 = false;
  private nFields = 0;
  private names: readonly string[] = [];
  private starts = new Int32Array(16);
  private ends = new Int32Array(16);
  private userCol = -1;
  private itemCol = -1;
  private rewardCol = -1;
  private tsCol = -1;
  private sessionCol = -1;
  private extraCols: number[] = [];
  private readonly d0: number;
  private readonly dlen: number;
  private readonly trimTab: boolean;
  /** Set when the mapped fields allow the one-pass numeric line (numeric-line.ts). */
  private numericPlan: NumericLinePlan | null = null;
  private readonly numericValues = new NumericLine();
  /** Stored timestamp per parsed integer (1, or 1000 for unix_s stored in ms). */
  private numericTimestampScale = 1;

  constructor(
    private readonly sink: RowSink,
    readonly file: string,
    private readonly opts: DelimitedOptions,
    resume?: ParserResume,
  ) {
    if (resume) {
      this.started = true;
      this.line = resume.line;
    }
    this.d0 = opts.delimiter[0]!;
    this.dlen = opts.delimiter.length;
    this.trimTab = !(this.dlen === 1 && this.d0 === TAB);
    if (opts.headerNames) this.setColumns(opts.headerNames, null);
  }

  /**
   * Parse the complete records of `buf` (all of it when `eof`). Returns the
   * number of bytes consumed; the caller keeps the rest and passes it again
   * with more input. No record starting at or after `stop` is read (the end
   * of a byte range: the records starting there belong to the next range).
   */
  consume(buf: Buffer, eof: boolean, stop = Infinity): number {
    const end = buf.length;
    const max = this.sink.maxLineBytes;
    let pos = 0;
    if (!this.started && end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    if (!this.started && (end > pos || eof)) {
      this.started = true;
      const bom = utf16Bom(buf);
      if (bom) this.fileProblem(`the file starts with a ${bom} byte-order mark; ingest reads UTF-8 text: convert it, e.g. iconv -f ${bom} -t utf-8`);
    }
    // Records read through readRecord, added to stats.rowsIn once per call (a local counter on the hot path).
    let records = 0;
    while (pos < end) {
      if (this.discarding) {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) {
          pos = end;
          break;
        }
        this.discarding = false;
        pos = nl + 1;
        continue;
      }
      if (pos >= stop) break;
      if (this.numericPlan !== null && !this.skipping) {
        const next = this.readNumericLine(buf, pos, end, max);
        if (next >= 0) {
          records++;
          pos = next;
          continue;
        }
      }
      let nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        if (!eof && end - pos <= max) break;
        nl = end;
      }
      if (nl - pos > max) {
        this.overlongLine(buf, pos, nl);
        if (nl === end && !eof) {
          pos = end;
          break;
        }
        pos = nl + 1;
        continue;
      }
      let lineEnd = nl;
      if (lineEnd > pos && buf[lineEnd - 1] === CR) lineEnd--;
      this.line++;
      if (this.skipping) {
        this.sink.stats.rowsIn++;
        this.sink.stats.skippedLines++;
        pos = nl + 1;
        continue;
      }
      if (lineEnd === pos) {
        this.sink.stats.rowsIn++;
        this.sink.stats.blankLines++;
        pos = nl + 1;
        continue;
      }
      if (this.nFields === 0) {
        const next = this.readHeader(buf, pos, lineEnd, nl, end, eof);
        if (next < 0) {
          this.line--;
          break;
        }
        pos = next;
        continue;
      }
      const next = this.readRecord(buf, pos, lineEnd, nl, end, eof);
      if (next < 0) {
        this.line--;
        break;
      }
      records++;
      pos = next;
    }
    this.sink.stats.rowsIn += records;
    return Math.min(pos, end);
  }

  /**
   * A line of more than max_line_bytes from `pos` (its break at `nl`, or not
   * yet seen when `nl` is the end of the buffer): rejected (or skipped with
   * its file) from its first bytes; the rest is dropped as it is read.
   */
  private overlongLine(buf: Buffer, pos: number, nl: number): void {
    this.line++;
    this.sink.stats.rowsIn++;
    this.discarding = nl === buf.length;
    if (this.skipping) {
      this.sink.stats.skippedLines++;
      return;
    }
    const head = boundedText(buf, pos, nl);
    const reason = `line is longer than max_line_bytes (${this.sink.maxLineBytes} bytes)`;
    if (this.nFields === 0) {
      this.sink.stats.rowsIn--; // headerProblem counts it
      this.headerProblem('(header)', head.text, `header ${reason}`, nl - pos);
      return;
    }
    this.sink.rejector.reject({
      file: this.file,
      line: this.line,
      field: '(row)',
      value: head.text,
      valueBytes: nl - pos,
      reason,
      raw: head.text,
      rawBytes: nl - pos,
    });
  }

  /** Set the whole file aside (strict mode: stop); its lines are counted as skipped. */
  private fileProblem(reason: string): void {
    this.sink.rejector.rejectFile({ file: this.file, reason });
    this.skipping = true;
    this.sink.stats.skippedFiles++;
  }

  /**
   * A line of plain numbers read in one pass (numeric-line.ts) and stored.
   * Returns the next position, or -1 when the line needs the general path,
   * which then reads it from `pos` as if this was never tried (nothing is
   * stored or counted here unless the row is kept).
   */
  private readNumericLine(buf: Buffer, pos: number, end: number, max: number): number {
    const out = this.numericValues;
    const next = scanNumericLine(buf, pos, Math.min(end, pos + max + 1), this.numericPlan!, out);
    if (next < 0 || !out.ok) return -1;
    const sink = this.sink;
    let reward = sink.defaultReward!;
    if (this.rewardCol >= 0) {
      reward = out.reward;
      if (Math.fround(reward) !== reward && float32Problem('reward', reward) !== null) return -1;
    }
    const timestamp = out.timestamp * this.numericTimestampScale;
    if (timestamp > Number.MAX_SAFE_INTEGER) return -1;
    const u = sink.users.indexOfNumber(out.user);
    if (u === 0) return -1;
    const it = sink.items.indexOfNumber(out.item);
    if (it === 0) return -1;
    const asm = sink.asm;
    const row = asm.row;
    this.line++;
    asm.reward[row] = reward;
    asm.setTimestamp(timestamp);
    asm.user[row] = u;
    asm.item[row] = it;
    if (asm.session) asm.session[row] = 0;
    asm.commit();
    return next;
  }

  /** Fast path for one line; falls back to the quoted parser. Returns the next position, or -1 for "need more input". */
  private readRecord(buf: Buffer, pos: number, lineEnd: number, nl: number, end: number, eof: boolean): number {
    const q = this.opts.quote;
    const starts = this.starts;
    const ends = this.ends;
    const cap = starts.length;
    const d0 = this.d0;
    let k = 0;
    let fs = pos;
    let quoted = buf[pos] === q;
    if (!quoted) {
      if (this.dlen === 1) {
        for (let i = pos; i < lineEnd; i++) {
          if (buf[i] === d0) {
            if (k < cap) {
              starts[k] = fs;
              ends[k] = i;
            }
            k++;
            fs = i + 1;
            if (buf[fs] === q) {
              quoted = true;
              break;
            }
          }
        }
      } else {
        const dl = this.opts.delimiter;
        const dlen = this.dlen;
        for (let i = pos; i <= lineEnd - dlen; i++) {
          if (buf[i] === d0) {
            let m = 1;
            while (m < dlen && buf[i + m] === dl[m]) m++;
            if (m < dlen) continue;
            if (k < cap) {
              starts[k] = fs;
              ends[k] = i;
            }
            k++;
            i += dlen - 1;
            fs = i + 1;
            if (buf[fs] === q) {
              quoted = true;
              break;
            }
          }
        }
      }
    }
    if (!quoted) {
      if (k < cap) {
        starts[k] = fs;
        ends[k] = lineEnd;
      }
      k++;
      this.handleRow(buf, k, pos, lineEnd);
      return nl + 1;
    }
    return this.readQuoted(buf, pos, lineEnd, nl, end, eof);
  }

  private readQuoted(buf: Buffer, pos: number, lineEnd: number, nl: number, end: number, eof: boolean): number {
    const maxRecord = Math.min(MAX_QUOTED_RECORD_BYTES, this.sink.maxLineBytes);
    const limit = Math.min(end, pos + maxRecord);
    const r = parseQuotedRecord(buf, pos, limit, eof || limit < end, this.opts.delimiter, this.opts.quote);
    if (r.kind === 'more') return -1;
    if (r.kind === 'error') {
      // Reject the physical line and resume at the next one.
      const reason = limit < end && r.reason.includes('not closed') ? `quoted field is not closed within ${maxRecord} bytes` : r.reason;
      const text = boundedText(buf, pos, lineEnd);
      this.sink.rejector.reject({
        file: this.file,
        line: this.line,
        field: '(row)',
        value: text.text,
        valueBytes: text.bytes,
        reason,
        raw: text.text,
        rawBytes: text.bytes,
      });
      return nl + 1;
    }
    // Re-encode the decoded fields so the byte-level value parsers apply unchanged.
    const parts = r.fields.map((f) => Buffer.from(f, 'utf8'));
    const joined = Buffer.concat(parts);
    this.ensureCapacity(parts.length);
    let off = 0;
    parts.forEach((p, i) => {
      if (i < this.starts.length) {
        this.starts[i] = off;
        this.ends[i] = off + p.length;
      }
      off += p.length;
    });
    let rawEnd = r.next;
    if (rawEnd > pos && buf[rawEnd - 1] === LF) rawEnd--;
    if (rawEnd > pos && buf[rawEnd - 1] === CR) rawEnd--;
    // Decoding replaced invalid UTF-8 by U+FFFD, which re-encodes as valid bytes: judge the source bytes.
    this.quotedInvalidUtf8 = r.fields.some((f) => f.includes('\uFFFD')) && !validUtf8(buf, pos, rawEnd);
    this.handleRow(joined, parts.length, pos, rawEnd, buf);
    this.quotedInvalidUtf8 = false;
    this.line += r.innerNewlines;
    return r.next;
  }

  private readHeader(buf: Buffer, pos: number, lineEnd: number, nl: number, end: number, eof: boolean): number {
    const r = parseQuotedRecord(buf, pos, Math.min(end, pos + MAX_QUOTED_RECORD_BYTES), eof, this.opts.delimiter, this.opts.quote);
    if (r.kind === 'more') return -1;
    const headerText = boundedText(buf, pos, lineEnd).text;
    if (r.kind === 'error') {
      this.headerProblem('(header)', headerText, `header line is malformed: ${r.reason}`);
      return nl + 1;
    }
    const names = r.fields.map((f) => f.trim());
    if (names.every((n) => n !== '' && !Number.isNaN(Number(n)))) {
      if (names.length === MOVIELENS_FIELD_NAMES.length) {
        this.sink.info(
          `${this.file}: the first line is numeric, so the file has no header; reading its fields as ${MOVIELENS_FIELD_NAMES.join(', ')} (MovieLens order; set header_names to override)`,
        );
        this.setColumns(MOVIELENS_FIELD_NAMES, headerText);
        this.line--; // the line is data: read it again as a record
        return pos;
      }
      this.headerProblem(
        '(header)',
        headerText,
        `the first line looks like data, not a header (${names.length} numeric fields); name the fields with header_names`,
      );
      return nl + 1;
    }
    this.setColumns(names, headerText);
    this.line += r.innerNewlines;
    return r.next;
  }

  /** A header line that cannot be used: rejected (counted as a record read), and the rest of the file skipped. */
  private headerProblem(field: string, value: string, reason: string, rawBytes?: number): void {
    this.sink.stats.rowsIn++;
    this.sink.rejector.reject({
      file: this.file,
      line: this.line,
      field,
      value,
      reason: `${reason}; the rest of the file is skipped`,
      raw: value,
      ...(rawBytes === undefined ? {} : { rawBytes, valueBytes: rawBytes }),
    });
    this.skipping = true;
    this.sink.stats.skippedFiles++;
  }

  private setColumns(names: readonly string[], headerText: string | null): void {
    const m = resolveMapping(names, this.opts.mapping);
    if (isMappingProblem(m)) {
      if (headerText === null) throw new ConfigError(`ingest: header_names do not cover the mapping: ${m.message}`, [m.message]);
      this.headerProblem(m.column, headerText, m.message);
      return;
    }
    const dup = duplicateMappedName(names, m, this.sink.sessions !== null);
    if (dup) {
      if (headerText === null) throw new ConfigError(`ingest: header_names: ${dup.message}`, [dup.message]);
      this.headerProblem(dup.column, headerText, dup.message);
      return;
    }
    const unused = repeatedNames(names);
    if (unused.length > 0) this.sink.info(`${this.file}: the header repeats ${unused.map((n) => `"${n}"`).join(', ')}, which no field reads (ignored)`);
    this.names = names;
    this.nFields = names.length;
    this.ensureCapacity(names.length + 1);
    this.bindColumns(m);
  }

  private bindColumns(m: ResolvedMapping): void {
    const at = (n: string | undefined) => (n === undefined ? -1 : this.names.indexOf(n));
    this.userCol = at(m.user_id);
    this.itemCol = at(m.item_id);
    this.rewardCol = at(m.reward);
    this.tsCol = at(m.timestamp);
    this.sessionCol = this.sink.sessions ? at(m.session_id) : -1;
    this.extraCols = this.sink.extraNames.map((n) => at(m.extras[n]));
    this.numericPlan = this.planNumericLines();
  }

  /**
   * The one-pass numeric line applies to a one-byte delimiter, integer
   * timestamps stored without division, and a row of user, item, reward and
   * timestamp only (no session, no extra columns), each from its own field.
   */
  private planNumericLines(): NumericLinePlan | null {
    const sink = this.sink;
    if (this.dlen !== 1 || !numericLineDelimiter(this.d0)) return null;
    if (this.sessionCol >= 0 || this.extraCols.length > 0) return null;
    if (sink.timestampFormat === 'iso8601' || (sink.timestampFormat === 'unix_ms' && sink.timestampUnit === 's')) return null;
    this.numericTimestampScale = sink.timestampFormat === 'unix_s' && sink.timestampUnit === 'ms' ? 1000 : 1;
    const mapped = [this.userCol, this.itemCol, this.tsCol, ...(this.rewardCol >= 0 ? [this.rewardCol] : [])];
    if (mapped.some((c) => c < 0) || new Set(mapped).size !== mapped.length) return null;
    const roles = new Uint8Array(this.nFields);
    roles[this.userCol] = ROLE_USER;
    roles[this.itemCol] = ROLE_ITEM;
    roles[this.tsCol] = ROLE_TIMESTAMP;
    if (this.rewardCol >= 0) roles[this.rewardCol] = ROLE_REWARD;
    return { roles, delimiter: this.d0, quote: this.opts.quote };
  }

  private ensureCapacity(n: number): void {
    if (this.starts.length >= n) return;
    let cap = this.starts.length;
    while (cap < n) cap *= 2;
    this.starts = new Int32Array(cap);
    this.ends = new Int32Array(cap);
  }

  /**
   * Validate and store one record whose fields are byte ranges of `b`.
   * `rawSrc[rawStart, rawEnd)` is the record as written (for messages).
   */
  private handleRow(b: Buffer, count: number, rawStart: number, rawEnd: number, rawSrc: Buffer = b): void {
    const sink = this.sink;
    if (count !== this.nFields) {
      const raw = boundedText(rawSrc, rawStart, rawEnd);
      sink.rejector.reject({
        file: this.file,
        line: this.line,
        field: '(row)',
        value: raw.text,
        valueBytes: raw.bytes,
        reason: `expected ${this.nFields} fields, found ${count}`,
        raw: raw.text,
        rawBytes: raw.bytes,
      });
      return;
    }
    const starts = this.starts;
    const ends = this.ends;
    const asm = sink.asm;
    const row = asm.row;
    // reward
    if (this.rewardCol >= 0) {
      let s = starts[this.rewardCol]!;
      let e = ends[this.rewardCol]!;
      while (s < e && (b[s] === SPACE || (b[s] === TAB && this.trimTab))) s++;
      while (e > s && (b[e - 1] === SPACE || (b[e - 1] === TAB && this.trimTab))) e--;
      const v = parseDecimal(b, s, e);
      if (v !== v) return this.fail(b, this.rewardCol, describeFailure('reward', lastParseError), rawSrc, rawStart, rawEnd);
      if (Math.fround(v) !== v) {
        const problem = float32Problem('reward', v);
        if (problem !== null) return this.fail(b, this.rewardCol, problem, rawSrc, rawStart, rawEnd);
      }
      asm.reward[row] = v;
    } else asm.reward[row] = sink.defaultReward!;
    // timestamp
    {
      let s = starts[this.tsCol]!;
      let e = ends[this.tsCol]!;
      while (s < e && (b[s] === SPACE || (b[s] === TAB && this.trimTab))) s++;
      while (e > s && (b[e - 1] === SPACE || (b[e - 1] === TAB && this.trimTab))) e--;
      const t = sink.parseTimestamp(b, s, e);
      if (t !== t) return this.fail(b, this.tsCol, lastTimestampError, rawSrc, rawStart, rawEnd);
      asm.setTimestamp(t);
    }
    // extra float64 columns
    for (let x = 0; x < this.extraCols.length; x++) {
      const col = this.extraCols[x]!;
      const s = this.trimStart(b, col);
      const v = parseDecimal(b, s, this.trimEnd(b, col, s));
      if (v !== v) return this.fail(b, col, describeFailure(sink.extraNames[x]!, lastParseError), rawSrc, rawStart, rawEnd);
      asm.extras[x]![row] = v;
    }
    // ids: check before assigning any, so a rejected row adds nothing to a vocabulary
    const us = this.trimStart(b, this.userCol);
    const ue = this.trimEnd(b, this.userCol, us);
    if (us === ue) return this.fail(b, this.userCol, 'user id is empty', rawSrc, rawStart, rawEnd);
    const is = this.trimStart(b, this.itemCol);
    const ie = this.trimEnd(b, this.itemCol, is);
    if (is === ie) return this.fail(b, this.itemCol, 'item id is empty', rawSrc, rawStart, rawEnd);
    const un = parseCanonicalId(b, us, ue);
    const inum = parseCanonicalId(b, is, ie);
    if (un < 0 || inum < 0 || this.sessionCol >= 0) return this.storeIdsSlow(b, us, ue, un, is, ie, inum, rawSrc, rawStart, rawEnd);
    // Fast path: integer user and item ids, no session.
    const u = sink.users.indexOfNumber(un);
    if (u === 0) return this.fail(b, this.userCol, unknownIdReason(sink.users), rawSrc, rawStart, rawEnd);
    const it = sink.items.indexOfNumber(inum);
    if (it === 0) return this.fail(b, this.itemCol, unknownIdReason(sink.items), rawSrc, rawStart, rawEnd);
    asm.user[row] = u;
    asm.item[row] = it;
    if (asm.session) asm.session[row] = 0;
    asm.commit();
  }

  /**
   * Ids when one is text or a session is read: every id is validated (non-empty,
   * valid UTF-8) before any is assigned, so a rejected row adds nothing to a vocabulary.
   */
  private storeIdsSlow(
    b: Buffer,
    us: number,
    ue: number,
    un: number,
    is: number,
    ie: number,
    inum: number,
    rawSrc: Buffer,
    rawStart: number,
    rawEnd: number,
  ): void {
    const sink = this.sink;
    const asm = sink.asm;
    const row = asm.row;
    let ss = 0;
    let se = 0;
    if (this.sessionCol >= 0) {
      ss = this.trimStart(b, this.sessionCol);
      se = this.trimEnd(b, this.sessionCol, ss);
      if (ss === se) return this.fail(b, this.sessionCol, 'session id is empty', rawSrc, rawStart, rawEnd);
    }
    const ut = un < 0 ? this.idText(b, us, ue) : '';
    if (ut === null) return this.fail(b, this.userCol, invalidUtf8Reason('user'), rawSrc, rawStart, rawEnd);
    const itx = inum < 0 ? this.idText(b, is, ie) : '';
    if (itx === null) return this.fail(b, this.itemCol, invalidUtf8Reason('item'), rawSrc, rawStart, rawEnd);
    let sn = 0;
    let st: string | null = '';
    if (this.sessionCol >= 0) {
      sn = parseCanonicalId(b, ss, se);
      st = sn < 0 ? this.idText(b, ss, se) : '';
      if (st === null) return this.fail(b, this.sessionCol, invalidUtf8Reason('session'), rawSrc, rawStart, rawEnd);
    }
    const u = un >= 0 ? sink.users.indexOfNumber(un) : sink.users.indexOfString(ut);
    if (u === 0) return this.fail(b, this.userCol, unknownIdReason(sink.users), rawSrc, rawStart, rawEnd);
    const it = inum >= 0 ? sink.items.indexOfNumber(inum) : sink.items.indexOfString(itx);
    if (it === 0) return this.fail(b, this.itemCol, unknownIdReason(sink.items), rawSrc, rawStart, rawEnd);
    asm.user[row] = u;
    asm.item[row] = it;
    if (this.sessionCol >= 0) {
      const sess = sn >= 0 ? sink.sessions!.indexOfNumber(sn) : sink.sessions!.indexOfString(st);
      if (sess === 0) return this.fail(b, this.sessionCol, unknownIdReason(sink.sessions!), rawSrc, rawStart, rawEnd);
      asm.session![row] = sess;
    } else if (asm.session) asm.session[row] = 0;
    asm.commit();
  }

  /** An id's text, or null when its bytes are not valid UTF-8 (checked only when decoding produced U+FFFD). */
  private idText(b: Buffer, s: number, e: number): string | null {
    const text = b.toString('utf8', s, e);
    if (text.includes('\uFFFD') && (this.quotedInvalidUtf8 || !validUtf8(b, s, e))) return null;
    return text;
  }

  private trimStart(b: Buffer, col: number): number {
    let s = this.starts[col]!;
    const e = this.ends[col]!;
    while (s < e && (b[s] === SPACE || (b[s] === TAB && this.trimTab))) s++;
    return s;
  }

  /** End of field `col` without trailing blanks, never below `s` (its trimmed start). */
  private trimEnd(b: Buffer, col: number, s: number): number {
    let e = this.ends[col]!;
    while (e > s && (b[e - 1] === SPACE || (b[e - 1] === TAB && this.trimTab))) e--;
    return e;
  }

  private fail(b: Buffer, col: number, reason: string, rawSrc: Buffer, rawStart: number, rawEnd: number): void {
    const value = boundedText(b, this.starts[col]!, this.ends[col]!);
    const raw = boundedText(rawSrc, rawStart, rawEnd);
    this.sink.rejector.reject({
      file: this.file,
      line: this.line,
      field: this.names[col]!,
      value: value.text,
      valueBytes: value.bytes,
      reason,
      raw: raw.text,
      rawBytes: raw.bytes,
    });
  }

  /** Lines started so far (for progress and messages). */
  get lines(): number {
    return this.line;
  }

  /** The field names records are read with, once the header is read and accepted (null before, or when the file is skipped). */
  get columnNames(): readonly string[] | null {
    return this.nFields > 0 && !this.skipping ? this.names : null;
  }
}

/**
 * The first mapped source column that a header names more than once (which
 * of the copies a field would read is not knowable), or null.
 */
function duplicateMappedName(names: readonly string[], m: ResolvedMapping, withSessions: boolean): { column: string; message: string } | null {
  const mapped: [string, string | undefined][] = [
    ['user_id', m.user_id],
    ['item_id', m.item_id],
    ['reward', m.reward],
    ['timestamp', m.timestamp],
    ...(withSessions ? ([['session_id', m.session_id]] as [string, string | undefined][]) : []),
    ...Object.entries(m.extras).map(([out, src]) => [`extra column ${out}`, src] as [string, string]),
  ];
  for (const [field, name] of mapped) {
    if (name === undefined) continue;
    const first = names.indexOf(name);
    const second = names.indexOf(name, first + 1);
    if (second >= 0) {
      return {
        column: name,
        message: `column "${name}" (for ${field}) appears twice in the header, as fields ${first + 1} and ${second + 1}; rename one of them`,
      };
    }
  }
  return null;
}

/** Names that occur more than once, each once, in order of first repeat. */
function repeatedNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) out.add(n);
    seen.add(n);
  }
  return [...out];
}
