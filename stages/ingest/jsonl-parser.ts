/**
 * JSON Lines: one JSON object per line. The column mapping is resolved
 * against the keys of the first object in the file (later objects may carry
 * more keys; a mapped key missing from a later object rejects that row).
 *
 * Value rules: an id is an integer ≥ 0 or a non-empty string (a negative
 * integer is kept as the string id "-3"; 1.5, true or null are rejected); a
 * reward is a finite number or a string that parses strictly as one; a
 * timestamp is an integer (unix_s / unix_ms) or a string in the declared
 * format.
 *
 * Values are stored as read: a key that a field reads and that occurs twice
 * in an object rejects the row (JSON.parse would silently keep the last); a
 * number that JSON.parse turned into ±Infinity (1e400) or 0 / a subnormal
 * (1e-400) is rejected, as is a reward beyond float32 (stored-values.ts); a
 * string id with invalid UTF-8 bytes is rejected. Lines longer than
 * `max_line_bytes` are rejected without being held whole.
 */
import { isMappingProblem, resolveMapping, type MappingRequest, type ResolvedMapping } from './column-mapping.js';
import type { IdVocabulary } from './id-vocabulary.js';
import { firstRepeatedKey, topLevelKeys } from './json-keys.js';
import { canonicalIdOfString, describeFailure, FLOAT64_MIN_NORMAL, lastParseError, parseDecimal } from './number-parse.js';
import { boundedText } from './rejects.js';
import { assignId, unknownIdReason, type RowSink } from './row-sink.js';
import { float32Problem, invalidUtf8Reason, validUtf8 } from './stored-values.js';
import { utf16Bom } from './text-encoding.js';
import { lastTimestampError, stringBytes, timestampFromNumber } from './timestamp-parse.js';

const LF = 10;
const CR = 13;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class JsonlFileParser {
  private line = 0;
  private mapping: ResolvedMapping | null = null;
  /** Source keys the mapping reads, and the same as JSON string literals. */
  private mappedKeys = new Set<string>();
  private quotedKeys: string[] = [];
  private skipping = false;
  private started = false;
  /** Inside a line longer than max_line_bytes: bytes are dropped up to its line break. */
  private discarding = false;

  constructor(
    private readonly sink: RowSink,
    readonly file: string,
    private readonly request: MappingRequest,
    /** Reading a byte range after the file's first object: lines before it, and the keys of that first object. */
    resume?: { line: number; keys: readonly string[] },
  ) {
    if (resume) {
      this.started = true;
      this.line = resume.line;
      const m = resolveMapping([...resume.keys], request);
      if (isMappingProblem(m)) throw new Error(`ingest: ${file}: the keys of the first object do not cover the mapping: ${m.message}`);
      this.adopt(m, resume.keys);
    }
  }

  /** Keys of the file's first object, once it is read and its mapping accepted (null before, or when the file is skipped). */
  get firstKeys(): readonly string[] | null {
    return this.skipping ? null : this.keysOfFirst;
  }

  private keysOfFirst: readonly string[] | null = null;

  private adopt(m: ResolvedMapping, keys: readonly string[]): void {
    this.mapping = m;
    this.keysOfFirst = keys;
    this.mappedKeys = new Set([
      m.user_id,
      m.item_id,
      m.timestamp,
      ...(m.reward ? [m.reward] : []),
      ...(m.session_id ? [m.session_id] : []),
      ...Object.values(m.extras),
    ]);
    this.quotedKeys = [...this.mappedKeys].map((k) => JSON.stringify(k));
  }

  /** Parse the complete lines of `buf`; no line starting at or after `stop` is read (see DelimitedFileParser.consume). */
  consume(buf: Buffer, eof: boolean, stop = Infinity): number {
    const end = buf.length;
    const max = this.sink.maxLineBytes;
    let pos = 0;
    if (!this.started && (end > 0 || eof)) {
      this.started = true;
      if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
      const bom = utf16Bom(buf);
      if (bom) {
        this.sink.rejector.rejectFile({
          file: this.file,
          reason: `the file starts with a ${bom} byte-order mark; ingest reads UTF-8 text: convert it, e.g. iconv -f ${bom} -t utf-8`,
        });
        this.skipping = true;
        this.sink.stats.skippedFiles++;
      }
    }
    while (pos < end) {
      if (this.discarding) {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) return end;
        this.discarding = false;
        pos = nl + 1;
        continue;
      }
      if (pos >= stop) break;
      let nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        if (!eof && end - pos <= max) break;
        nl = end;
      }
      let lineEnd = nl;
      if (lineEnd > pos && buf[lineEnd - 1] === CR) lineEnd--;
      this.line++;
      this.sink.stats.rowsIn++;
      if (nl - pos > max) {
        this.discarding = nl === end;
        if (this.skipping) this.sink.stats.skippedLines++;
        else {
          const head = boundedText(buf, pos, nl);
          this.sink.rejector.reject({
            file: this.file,
            line: this.line,
            field: '(row)',
            value: head.text,
            valueBytes: nl - pos,
            reason: `line is longer than max_line_bytes (${max} bytes)`,
            raw: head.text,
            rawBytes: nl - pos,
          });
        }
        if (nl === end && !eof) return end;
      } else if (this.skipping) this.sink.stats.skippedLines++;
      else if (lineEnd === pos) this.sink.stats.blankLines++;
      else this.handleLine(buf, pos, lineEnd);
      pos = nl + 1;
    }
    return Math.min(pos, end);
  }

  private reject(field: string, value: unknown, reason: string, raw: string): void {
    // A number is shown as written (JSON.stringify would show 1e400 as null and 1e-400 as 0).
    const text =
      typeof value === 'string'
        ? value
        : value === undefined
          ? ''
          : typeof value === 'number'
            ? this.sourceText(field) || String(value)
            : JSON.stringify(value);
    this.sink.rejector.reject({ file: this.file, line: this.line, field, value: text, reason, raw });
  }

  /** The line has invalid UTF-8 (decoded as U+FFFD): string ids holding U+FFFD are rejected. */
  private invalidUtf8 = false;
  /** Top-level keys of the current line with their value spans, scanned on demand. */
  private scanned: ReturnType<typeof topLevelKeys> | null = null;
  private text = '';

  private handleLine(buf: Buffer, pos: number, lineEnd: number): void {
    const text = buf.toString('utf8', pos, lineEnd);
    this.text = text;
    this.scanned = null;
    this.invalidUtf8 = text.includes('\uFFFD') && !validUtf8(buf, pos, lineEnd);
    this.handleObject(text);
  }

  /** The value text of top-level key `key` as written in the line (the last one when repeated). */
  private sourceText(key: string): string {
    this.scanned ??= topLevelKeys(this.text);
    const k = this.scanned.keys.lastIndexOf(key);
    return k < 0 ? '' : this.text.slice(this.scanned.valueStart[k], this.scanned.valueEnd[k]);
  }

  private handleObject(text: string): void {
    let obj: Json;
    try {
      obj = JSON.parse(text) as Json;
    } catch (e) {
      return this.reject('(row)', text, `invalid JSON: ${(e as Error).message}`, text);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      return this.reject('(row)', text, 'a JSON Lines row must be an object', text);
    }
    if (!this.mapping) {
      const keys = Object.keys(obj);
      const m = resolveMapping(keys, this.request);
      if (isMappingProblem(m)) {
        this.reject(m.column, text, `${m.message} (keys of the first object); the rest of the file is skipped`, text);
        this.skipping = true;
        this.sink.stats.skippedFiles++;
        return;
      }
      this.adopt(m, keys);
    }
    const m = this.mapping!;
    // A repeated key: JSON.parse kept the last value. Only keys that a field reads matter. Cheap
    // test first (native searches): a mapped key's quoted name twice, or any escape (a key may be
    // spelled "user\u005fid"); then the exact scan of top-level keys.
    if (this.mayRepeatMappedKey(text)) {
      this.scanned ??= topLevelKeys(text);
      const dup = firstRepeatedKey(this.scanned.keys, this.mappedKeys);
      if (dup) {
        return this.reject(
          dup.key,
          obj[dup.key],
          `key "${dup.key}" appears twice in the object, as keys ${dup.first + 1} and ${dup.second + 1}; which value is meant is not knowable`,
          text,
        );
      }
    }
    const sink = this.sink;
    const asm = sink.asm;
    const row = asm.row;
    // reward
    if (m.reward !== undefined) {
      const v = this.number(obj[m.reward], 'reward', m.reward);
      if (v === undefined) return this.reject(m.reward, obj[m.reward], this.why, text);
      if (Math.fround(v) !== v) {
        const problem = float32Problem('reward', v);
        if (problem !== null) return this.reject(m.reward, obj[m.reward], problem, text);
      }
      asm.reward[row] = v;
    } else asm.reward[row] = sink.defaultReward!;
    // timestamp
    const tv = obj[m.timestamp];
    let t: number;
    if (typeof tv === 'number') t = timestampFromNumber(tv, sink.timestampFormat, sink.timestampUnit);
    else if (typeof tv === 'string') {
      const bytes = stringBytes(tv.trim());
      t = sink.parseTimestamp(bytes, 0, bytes.length);
    } else return this.reject(m.timestamp, tv, tv === undefined ? 'timestamp is missing' : 'timestamp must be a number or a string', text);
    if (t !== t) return this.reject(m.timestamp, tv, lastTimestampError, text);
    asm.setTimestamp(t);
    // extras
    for (let x = 0; x < sink.extraNames.length; x++) {
      const name = sink.extraNames[x]!;
      const src = m.extras[name]!;
      const v = this.number(obj[src], name, src);
      if (v === undefined) return this.reject(src, obj[src], this.why, text);
      asm.extras[x]![row] = v;
    }
    // ids: validate all, then assign
    const u = this.idKey(obj[m.user_id], 'user');
    if (u === null) return this.reject(m.user_id, obj[m.user_id], this.why, text);
    const it = this.idKey(obj[m.item_id], 'item');
    if (it === null) return this.reject(m.item_id, obj[m.item_id], this.why, text);
    let sess: number | string | null = null;
    const sessionKey = sink.sessions ? m.session_id : undefined;
    if (sessionKey !== undefined) {
      sess = this.idKey(obj[sessionKey], 'session');
      if (sess === null) return this.reject(sessionKey, obj[sessionKey], this.why, text);
    }
    const ui = this.assign(sink.users, u);
    if (ui === 0) return this.reject(m.user_id, obj[m.user_id], unknownIdReason(sink.users), text);
    const ii = this.assign(sink.items, it);
    if (ii === 0) return this.reject(m.item_id, obj[m.item_id], unknownIdReason(sink.items), text);
    asm.user[row] = ui;
    asm.item[row] = ii;
    if (sess !== null) {
      const si = this.assign(sink.sessions!, sess);
      if (si === 0) return this.reject(sessionKey!, obj[sessionKey!], unknownIdReason(sink.sessions!), text);
      asm.session![row] = si;
    } else if (asm.session) asm.session[row] = 0;
    asm.commit();
  }

  /**
   * False when no number in the line can have underflowed: a numeral that
   * JSON.parse turns into 0 or a subnormal needs a negative exponent, or
   * more than 300 digits. Keeps rows with a reward of 0 off the slow path.
   */
  private mayHoldUnderflow(): boolean {
    return this.text.length > 300 || this.text.includes('e-') || this.text.includes('E-');
  }

  /** False when no mapped key can occur twice at the top level of `text` (true may be a false alarm). */
  private mayRepeatMappedKey(text: string): boolean {
    if (text.includes('\\')) return true;
    for (const q of this.quotedKeys) {
      const at = text.indexOf(q);
      if (at >= 0 && text.indexOf(q, at + q.length) >= 0) return true;
    }
    return false;
  }

  /** Reason of the last failed `number`/`idKey` call. */
  private why = '';

  private number(v: Json | undefined, what: string, key: string): number | undefined {
    if (typeof v === 'number') {
      if (v < FLOAT64_MIN_NORMAL && v > -FLOAT64_MIN_NORMAL && this.mayHoldUnderflow()) {
        // 0 or subnormal: was it written so, or did JSON.parse round 1e-400 to it?
        const written = stringBytes(this.sourceText(key));
        if (parseDecimal(written, 0, written.length) !== v) {
          this.why = describeFailure(what, lastParseError === 'underflow' ? 'underflow' : 'not_a_number');
          return undefined;
        }
        return v;
      }
      if (Number.isFinite(v)) return v;
      // JSON has no NaN or Infinity literals: JSON.parse gives Infinity only for a numeral beyond the double range.
      this.why = describeFailure(what, 'overflow');
      return undefined;
    }
    if (typeof v === 'string') {
      const bytes = stringBytes(v.trim());
      const d = parseDecimal(bytes, 0, bytes.length);
      if (d === d) return d;
      this.why = describeFailure(what, lastParseError);
      return undefined;
    }
    this.why = v === undefined ? `${what} is missing` : `${what} must be a number, got ${v === null ? 'null' : typeof v}`;
    return undefined;
  }

  /** A validated id: a canonical integer as a number, any other id as its string; null if invalid. */
  private idKey(v: Json | undefined, what: string): number | string | null {
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) return v >= 0 ? v : String(v);
      this.why = Number.isInteger(v)
        ? `${what} id is a number beyond 2^53 − 1, which JSON.parse rounds (to ${v}); write large ids as strings`
        : `${what} id must be an integer or a string, got ${v}`;
      return null;
    }
    if (typeof v === 'string') {
      const s = v.trim();
      if (s === '') {
        this.why = `${what} id is empty`;
        return null;
      }
      const n = canonicalIdOfString(s);
      if (n >= 0) return n;
      if (this.invalidUtf8 && s.includes('\uFFFD')) {
        this.why = invalidUtf8Reason(what);
        return null;
      }
      return s;
    }
    this.why = v === undefined ? `${what} id is missing` : `${what} id must be an integer or a string, got ${v === null ? 'null' : typeof v}`;
    return null;
  }

  private assign(vocab: IdVocabulary, key: number | string): number {
    return typeof key === 'number' ? vocab.indexOfNumber(key) : assignId(vocab, -1, () => key);
  }

  get lines(): number {
    return this.line;
  }
}
