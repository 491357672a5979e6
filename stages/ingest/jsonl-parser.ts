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
 */
import { isMappingProblem, resolveMapping, type MappingRequest, type ResolvedMapping } from './column-mapping.js';
import type { IdVocabulary } from './id-vocabulary.js';
import { canonicalIdOfString, describeFailure, lastParseError, parseDecimal } from './number-parse.js';
import { assignId, unknownIdReason, type RowSink } from './row-sink.js';
import { lastTimestampError, stringBytes, timestampFromNumber } from './timestamp-parse.js';

const LF = 10;
const CR = 13;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class JsonlFileParser {
  private line = 0;
  private mapping: ResolvedMapping | null = null;
  private skipping = false;

  constructor(
    private readonly sink: RowSink,
    readonly file: string,
    private readonly request: MappingRequest,
  ) {}

  consume(buf: Buffer, eof: boolean): number {
    const end = buf.length;
    let pos = this.line === 0 && end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    while (pos < end) {
      let nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        if (!eof) break;
        nl = end;
      }
      let lineEnd = nl;
      if (lineEnd > pos && buf[lineEnd - 1] === CR) lineEnd--;
      this.line++;
      if (this.skipping) this.sink.stats.skippedLines++;
      else if (lineEnd === pos) this.sink.stats.blankLines++;
      else this.handleLine(buf.toString('utf8', pos, lineEnd));
      pos = nl + 1;
    }
    return Math.min(pos, end);
  }

  private reject(field: string, value: unknown, reason: string, raw: string): void {
    const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
    this.sink.rejector.reject({ file: this.file, line: this.line, field, value: text, reason, raw });
  }

  private handleLine(text: string): void {
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
      const m = resolveMapping(Object.keys(obj), this.request);
      if (isMappingProblem(m)) {
        this.reject(m.column, text, `${m.message} (keys of the first object); the rest of the file is skipped`, text);
        this.skipping = true;
        this.sink.stats.skippedFiles++;
        return;
      }
      this.mapping = m;
    }
    const m = this.mapping;
    const sink = this.sink;
    const asm = sink.asm;
    const row = asm.row;
    // reward
    if (m.reward !== undefined) {
      const v = this.number(obj[m.reward], 'reward');
      if (v === undefined) return this.reject(m.reward, obj[m.reward], this.why, text);
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
      const v = this.number(obj[src], name);
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

  /** Reason of the last failed `number`/`idKey` call. */
  private why = '';

  private number(v: Json | undefined, what: string): number | undefined {
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return v;
      this.why = `${what} is not finite (NaN or Inf)`;
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
      this.why = `${what} id must be an integer or a string, got ${v}`;
      return null;
    }
    if (typeof v === 'string') {
      const s = v.trim();
      if (s === '') {
        this.why = `${what} id is empty`;
        return null;
      }
      const n = canonicalIdOfString(s);
      return n >= 0 ? n : s;
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
