/**
 * Parquet input: read only the mapped columns, one row group at a time, and
 * apply the same value rules as the text formats. Ids may be integer (signed
 * or unsigned, any width) or utf8 columns; rewards any numeric column
 * (DECIMAL(p,s) read with its scale: DECIMAL(4,1) 4.5 is 4.5) or utf8 parsed
 * strictly; timestamps integer columns in the declared unix unit, Arrow
 * timestamp/date columns (their own unit, converted exactly in integer
 * arithmetic), or utf8 in the declared format. Nulls are rejected like
 * empty fields. In messages, `line` is the 1-based row number in the file.
 *
 * Exactness: an integer id of 10^15 or more (int64 beyond 2^53, uint64) is
 * kept as its exact decimal text, never rounded through a double; a reward
 * goes through the float32 rule of stored-values.ts.
 *
 * A file that cannot be read whole (not Parquet, truncated, a corrupt page,
 * a mapped column missing, repeated or of a type the mapping cannot store)
 * is a file-level problem: strict mode stops with a FileDataError naming the
 * file (and column); quarantine mode sets the whole file aside, recorded in
 * the quarantine file, its rows counted as skipped. So that a corrupt page
 * late in a file cannot leave half of it ingested, quarantine mode first
 * decodes every row group once before reading any row (the file is decoded
 * twice); strict mode reads once, since any failure aborts the ingest.
 */
import * as arrow from 'apache-arrow';
import { isMappingProblem, resolveMapping, type MappingRequest, type ResolvedMapping } from './column-mapping.js';
import { errorText } from './file-errors.js';
import type { IdVocabulary } from './id-vocabulary.js';
import { canonicalIdOfString, describeFailure, lastParseError, parseDecimal } from './number-parse.js';
import type { ParquetReadWorker } from './parquet-read-worker.js';
import { unknownIdReason, type RowSink } from './row-sink.js';
import { float32Problem, invalidUtf8Reason, validUtf8 } from './stored-values.js';
import { lastTimestampError, stringBytes, timestampFromNumber, toUnit } from './timestamp-parse.js';

type Getter<T> = (i: number) => T | undefined;

/** Why the last getter returned undefined. */
let why = '';

/** Integer ids below this are looked up as numbers (exact in a double); larger ones as their decimal text. */
const NUMERIC_ID_LIMIT = 1_000_000_000_000_000n;

function isText(t: arrow.DataType): boolean {
  return arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t);
}

/** A cell as JSON-friendly text or value, for messages and quarantine entries (decimals with their scale). */
function jsValue(v: unknown, t: arrow.DataType): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint32Array && arrow.DataType.isDecimal(t)) return decimalText(v, (t as arrow.Decimal).scale);
  return v;
}

/** What a field's column may be, as a phrase for messages; null when `t` is acceptable. */
function typeProblem(role: 'id' | 'number' | 'timestamp', t: arrow.DataType): string | null {
  const int = arrow.DataType.isInt(t);
  if (role === 'id') {
    if (int || isText(t)) return null;
    if (arrow.DataType.isDictionary(t) && (isText((t as arrow.Dictionary).dictionary) || arrow.DataType.isInt((t as arrow.Dictionary).dictionary))) return null;
    return 'an integer or utf8 column';
  }
  if (role === 'number')
    return int || isText(t) || arrow.DataType.isFloat(t) || arrow.DataType.isDecimal(t) ? null : 'a numeric (integer, float, decimal) or utf8 column';
  return int || isText(t) || arrow.DataType.isTimestamp(t) || arrow.DataType.isDate(t) ? null : 'an integer, timestamp, date or utf8 column';
}

/** The utf8 bytes of value `i` of a string vector (to tell a real U+FFFD from a decoded invalid byte). */
function utf8BytesValid(vec: arrow.Vector, i: number): boolean {
  let chunk = 0;
  let j = i;
  while (j >= vec.data[chunk]!.length) j -= vec.data[chunk++]!.length;
  const d = vec.data[chunk]!;
  const offs = d.valueOffsets as ArrayLike<number | bigint> | undefined;
  if (!offs || !(d.values instanceof Uint8Array)) return true;
  return validUtf8(d.values, Number(offs[d.offset + j]!), Number(offs[d.offset + j + 1]!));
}

function idGetter(vec: arrow.Vector, what: string): Getter<number | string> {
  const nulls = vec.nullCount > 0;
  const plainText = isText(vec.type);
  return (i) => {
    if (nulls && !vec.isValid(i)) {
      why = `${what} id is null`;
      return undefined;
    }
    const v = vec.get(i) as unknown;
    if (typeof v === 'bigint') return v >= 0n && v < NUMERIC_ID_LIMIT ? Number(v) : v.toString();
    if (typeof v === 'number') return v >= 0 ? v : String(v);
    const s = String(v).trim();
    if (s === '') {
      why = `${what} id is empty`;
      return undefined;
    }
    const n = canonicalIdOfString(s);
    if (n >= 0) return n;
    if (plainText && s.includes('\uFFFD') && !utf8BytesValid(vec, i)) {
      why = invalidUtf8Reason(what);
      return undefined;
    }
    return s;
  };
}

/**
 * A DECIMAL(p,s) value as exact decimal text: the stored unscaled integer
 * (two's complement, little-endian 32-bit words) with the point put back
 * `scale` digits from the right (45 in DECIMAL(4,1) → "4.5").
 */
export function decimalText(words: Uint32Array, scale: number): string {
  let v = 0n;
  for (let k = words.length - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[k]!);
  if (words[words.length - 1]! & 0x80000000) v -= 1n << BigInt(words.length * 32);
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) digits += '0'.repeat(-scale);
  return neg ? `-${digits}` : digits;
}

function numberGetter(vec: arrow.Vector, what: string, float32: boolean): Getter<number> {
  const t = vec.type;
  const nulls = vec.nullCount > 0;
  const text = isText(t);
  // DECIMAL(p,s) stores the unscaled integer: 4.5 in DECIMAL(4,1) is 45 × 10^-1. Read its exact text (one correctly rounded step).
  const scale = arrow.DataType.isDecimal(t) ? (t as arrow.Decimal).scale : 0;
  const decimal = arrow.DataType.isDecimal(t);
  return (i) => {
    if (nulls && !vec.isValid(i)) {
      why = `${what} is null`;
      return undefined;
    }
    const v = vec.get(i) as unknown;
    let n: number;
    if (text) {
      const b = stringBytes(String(v).trim());
      n = parseDecimal(b, 0, b.length);
      if (n !== n) {
        why = describeFailure(what, lastParseError);
        return undefined;
      }
    } else if (decimal) {
      n = Number(decimalText(v as Uint32Array, scale));
    } else n = Number(v);
    if (!Number.isFinite(n)) {
      why = `${what} is not finite (NaN or Inf)`;
      return undefined;
    }
    if (float32 && Math.fround(n) !== n) {
      const problem = float32Problem(what, n);
      if (problem !== null) {
        why = problem;
        return undefined;
      }
    }
    return n;
  };
}

/** Divisor from a timestamp column's unit to milliseconds (or multiplier, for seconds). */
const UNIT_TO_MS: Record<number, { mul: bigint; div: bigint }> = {
  [arrow.TimeUnit.SECOND]: { mul: 1000n, div: 1n },
  [arrow.TimeUnit.MILLISECOND]: { mul: 1n, div: 1n },
  [arrow.TimeUnit.MICROSECOND]: { mul: 1n, div: 1000n },
  [arrow.TimeUnit.NANOSECOND]: { mul: 1n, div: 1_000_000n },
};
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function timestampGetter(vec: arrow.Vector, sink: RowSink): Getter<number> {
  const t = vec.type;
  const nulls = vec.nullCount > 0;
  const done = (v: number): number | undefined => {
    if (v !== v) {
      why = lastTimestampError;
      return undefined;
    }
    return v;
  };
  const isNull = (i: number) => {
    if (nulls && !vec.isValid(i)) {
      why = 'timestamp is null';
      return true;
    }
    return false;
  };
  if (arrow.DataType.isTimestamp(t) || arrow.DataType.isDate(t)) {
    // Raw stored values in the column's own unit, converted to ms in integer arithmetic (exact).
    const data = vec.data;
    const conv = arrow.DataType.isTimestamp(t)
      ? UNIT_TO_MS[(t as arrow.Timestamp).unit]!
      : (t as arrow.Date_).unit === arrow.DateUnit.DAY
        ? { mul: 86_400_000n, div: 1n }
        : { mul: 1n, div: 1n };
    return (i) => {
      if (isNull(i)) return undefined;
      let chunk = 0;
      let j = i;
      while (j >= data[chunk]!.length) j -= data[chunk++]!.length;
      const d = data[chunk]!;
      const raw = (d.values as ArrayLike<number | bigint>)[d.offset + j]!;
      const r = typeof raw === 'bigint' ? raw : BigInt(raw);
      if (r % conv.div !== 0n) {
        why = 'timestamp has sub-millisecond precision, which is not stored';
        return undefined;
      }
      const ms = (r / conv.div) * conv.mul;
      if (ms > MAX_SAFE || ms < -MAX_SAFE) {
        why = 'timestamp is out of range';
        return undefined;
      }
      return done(toUnit(Number(ms), sink.timestampUnit));
    };
  }
  if (arrow.DataType.isInt(t)) {
    return (i) => {
      if (isNull(i)) return undefined;
      const v = vec.get(i) as number | bigint;
      const n = typeof v === 'bigint' ? (v > MAX_SAFE || v < -MAX_SAFE ? Number.NaN : Number(v)) : v;
      if (n !== n) {
        why = 'timestamp is out of range';
        return undefined;
      }
      return done(timestampFromNumber(n, sink.timestampFormat, sink.timestampUnit));
    };
  }
  return (i) => {
    if (isNull(i)) return undefined;
    const b = stringBytes(String(vec.get(i)).trim());
    return done(sink.parseTimestamp(b, 0, b.length));
  };
}

function assign(vocab: IdVocabulary, key: number | string): number {
  return typeof key === 'number' ? vocab.indexOfNumber(key) : vocab.indexOfString(key);
}

/** The mapped columns with the role each is read in. */
function mappedColumns(m: ResolvedMapping, sink: RowSink): [string, 'id' | 'number' | 'timestamp'][] {
  return [
    [m.user_id, 'id'],
    [m.item_id, 'id'],
    [m.timestamp, 'timestamp'],
    ...(m.reward ? ([[m.reward, 'number']] as [string, 'number'][]) : []),
    ...(sink.sessions && m.session_id ? ([[m.session_id, 'id']] as [string, 'id'][]) : []),
    ...sink.extraNames.map((n) => [m.extras[n]!, 'number'] as [string, 'number']),
  ];
}

/** Set `file` aside (quarantine) or stop (strict); its `rows` count as read and skipped. */
function setAside(file: string, sink: RowSink, rows: number, reason: string, column?: string): void {
  sink.rejector.rejectFile({ file, reason, ...(column === undefined ? {} : { column }) });
  sink.stats.skippedFiles++;
  sink.stats.skippedLines += rows;
  sink.stats.rowsIn += rows;
}

/**
 * Read one Parquet file into the sink, yielding after each row group the
 * fraction of the file's rows done (the caller emits the finished batches).
 * `verifyFirst`: decode every row group once before storing any row (quarantine mode).
 */
export async function* readParquetInput(
  file: string,
  sink: RowSink,
  request: MappingRequest,
  reader: ParquetReadWorker,
  verifyFirst: boolean,
): AsyncGenerator<number> {
  let info;
  try {
    info = await reader.open(file);
  } catch (e) {
    setAside(file, sink, 0, `not a readable Parquet file (${errorText(e)})`);
    yield 1;
    return;
  }
  let prefetch: Promise<unknown> | null = null;
  try {
    const fields = info.schema.fields;
    const names = fields.map((f) => f.name);
    const m = resolveMapping(names, request);
    if (isMappingProblem(m)) {
      setAside(file, sink, info.rows, m.message, m.column);
      yield 1;
      return;
    }
    const mapped = mappedColumns(m, sink);
    for (const [name, role] of mapped) {
      const at = names.indexOf(name);
      if (names.indexOf(name, at + 1) >= 0) {
        setAside(
          file,
          sink,
          info.rows,
          `the schema has two columns named "${name}" (fields ${at + 1} and ${names.indexOf(name, at + 1) + 1}); which one is meant is not knowable`,
          name,
        );
        yield 1;
        return;
      }
      const need = typeProblem(role, fields[at]!.type);
      if (need !== null) {
        setAside(
          file,
          sink,
          info.rows,
          `has type ${fields[at]!.type}, but ${role === 'id' ? 'an id' : role === 'number' ? 'a reward or signal' : 'a timestamp'} must be ${need}`,
          name,
        );
        yield 1;
        return;
      }
    }
    const wanted = [...new Set(mapped.map(([n]) => n))];
    const readGroup = async (g: number): Promise<arrow.Table | string> => {
      try {
        return await reader.read(g, wanted);
      } catch (e) {
        return `corrupt data in row group ${g + 1} of ${info.rowGroups} (${errorText(e)})`;
      }
    };
    if (verifyFirst) {
      for (let g = 0; g < info.rowGroups; g++) {
        const t = await readGroup(g);
        if (typeof t === 'string') {
          setAside(file, sink, info.rows, t);
          yield 1;
          return;
        }
      }
    }
    const sessionCol = sink.sessions ? m.session_id : undefined;
    let rowBase = 0;
    // The worker decodes row group g + 1 while this thread stores the rows of g.
    let next: Promise<arrow.Table | string> | null = info.rowGroups > 0 ? readGroup(0) : null;
    prefetch = next;
    for (let g = 0; g < info.rowGroups; g++) {
      const table = await next!;
      next = g + 1 < info.rowGroups ? readGroup(g + 1) : null;
      prefetch = next;
      if (typeof table === 'string') {
        // Strict mode stops here; quarantine mode gets here only if a verified group fails on the second read.
        setAside(file, sink, info.rows - rowBase, table);
        yield 1;
        return;
      }
      sink.stats.rowsIn += table.numRows;
      readRows(file, table, m, sessionCol, sink, wanted, rowBase);
      rowBase += table.numRows;
      yield info.rows > 0 ? rowBase / info.rows : 1;
    }
    if (info.rowGroups === 0) yield 1;
  } finally {
    // Never release the file under a decode in flight (its result, an error included, is dropped).
    if (prefetch) await prefetch;
    await reader.close();
  }
}

function readRows(
  file: string,
  table: arrow.Table,
  m: ResolvedMapping,
  sessionCol: string | undefined,
  sink: RowSink,
  wanted: string[],
  rowBase: number,
): void {
  const col = (n: string) => table.getChild(n)!;
  const user = idGetter(col(m.user_id), 'user');
  const item = idGetter(col(m.item_id), 'item');
  const session = sessionCol ? idGetter(col(sessionCol), 'session') : null;
  const reward = m.reward ? numberGetter(col(m.reward), 'reward', true) : null;
  const ts = timestampGetter(col(m.timestamp), sink);
  const extras = sink.extraNames.map((n) => numberGetter(col(m.extras[n]!), n, false));
  const cell = (n: string, i: number) => jsValue(col(n).get(i), col(n).type);
  const rowText = (i: number) => JSON.stringify(Object.fromEntries(wanted.map((n) => [n, cell(n, i)])));
  const fail = (i: number, column: string, reason: string) =>
    sink.rejector.reject({ file, line: rowBase + i + 1, field: column, value: String(cell(column, i) ?? 'null'), reason, raw: rowText(i) });
  const asm = sink.asm;
  for (let i = 0; i < table.numRows; i++) {
    const row = asm.row;
    if (reward) {
      const r = reward(i);
      if (r === undefined) {
        fail(i, m.reward!, why);
        continue;
      }
      asm.reward[row] = r;
    } else asm.reward[row] = sink.defaultReward!;
    const t = ts(i);
    if (t === undefined) {
      fail(i, m.timestamp, why);
      continue;
    }
    asm.setTimestamp(t);
    let bad = -1;
    for (let x = 0; x < extras.length && bad < 0; x++) {
      const v = extras[x]!(i);
      if (v === undefined) bad = x;
      else asm.extras[x]![row] = v;
    }
    if (bad >= 0) {
      fail(i, m.extras[sink.extraNames[bad]!]!, why);
      continue;
    }
    const u = user(i);
    if (u === undefined) {
      fail(i, m.user_id, why);
      continue;
    }
    const it = item(i);
    if (it === undefined) {
      fail(i, m.item_id, why);
      continue;
    }
    const s = session ? session(i) : null;
    if (s === undefined) {
      fail(i, sessionCol!, why);
      continue;
    }
    const ui = assign(sink.users, u);
    if (ui === 0) {
      fail(i, m.user_id, unknownIdReason(sink.users));
      continue;
    }
    const ii = assign(sink.items, it);
    if (ii === 0) {
      fail(i, m.item_id, unknownIdReason(sink.items));
      continue;
    }
    asm.user[row] = ui;
    asm.item[row] = ii;
    if (s !== null) asm.session![row] = assign(sink.sessions!, s);
    else if (asm.session) asm.session[row] = 0;
    asm.commit();
  }
}

/** Column names of a Parquet file, from its footer ([] when it cannot be opened: the read reports that). */
export async function parquetSchemaNames(file: string, reader: ParquetReadWorker): Promise<string[]> {
  try {
    const info = await reader.open(file);
    return info.schema.fields.map((f) => f.name);
  } catch {
    return [];
  } finally {
    await reader.close();
  }
}
