/**
 * Parquet input: read only the mapped columns, one row group at a time, and
 * apply the same value rules as the text formats. Ids may be integer or utf8
 * columns; rewards any numeric column (or utf8 parsed strictly); timestamps
 * integer columns in the declared unix unit, Arrow timestamp/date columns
 * (their own unit, converted exactly), or utf8 in the declared format. Nulls
 * are rejected like empty fields. In messages, `line` is the 1-based row
 * number in the file (0 for the file's schema).
 */
import * as fs from 'node:fs';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { isMappingProblem, resolveMapping, type MappingRequest } from './column-mapping.js';
import type { IdVocabulary } from './id-vocabulary.js';
import { canonicalIdOfString, describeFailure, lastParseError, parseDecimal } from './number-parse.js';
import { unknownIdReason, type RowSink } from './row-sink.js';
import { lastTimestampError, stringBytes, timestampFromNumber, toUnit } from './timestamp-parse.js';

type Getter<T> = (i: number) => T | undefined;

/** Why the last getter returned undefined. */
let why = '';

function isIntType(t: arrow.DataType): boolean {
  return arrow.DataType.isInt(t);
}

function jsValue(v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function idGetter(vec: arrow.Vector, what: string): Getter<number | string> {
  const t = vec.type;
  const nulls = vec.nullCount > 0;
  if (isIntType(t) || arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t) || arrow.DataType.isDictionary(t)) {
    return (i) => {
      if (nulls && !vec.isValid(i)) {
        why = `${what} id is null`;
        return undefined;
      }
      const v = vec.get(i) as unknown;
      if (typeof v === 'bigint') return v >= 0n && v < 1_000_000_000_000_000n ? Number(v) : v.toString();
      if (typeof v === 'number') return v >= 0 ? v : String(v);
      const s = String(v).trim();
      if (s === '') {
        why = `${what} id is empty`;
        return undefined;
      }
      const n = canonicalIdOfString(s);
      return n >= 0 ? n : s;
    };
  }
  throw new Error(`a ${what} id column must be an integer or utf8 column, got ${t}`);
}

function numberGetter(vec: arrow.Vector, what: string): Getter<number> {
  const t = vec.type;
  const nulls = vec.nullCount > 0;
  const text = arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t);
  if (!text && !isIntType(t) && !arrow.DataType.isFloat(t) && !arrow.DataType.isDecimal(t)) {
    throw new Error(`the ${what} column must be numeric or utf8, got ${t}`);
  }
  return (i) => {
    if (nulls && !vec.isValid(i)) {
      why = `${what} is null`;
      return undefined;
    }
    const v = vec.get(i) as unknown;
    if (text) {
      const b = stringBytes(String(v).trim());
      const d = parseDecimal(b, 0, b.length);
      if (d !== d) {
        why = describeFailure(what, lastParseError);
        return undefined;
      }
      return d;
    }
    const n = Number(v);
    if (!Number.isFinite(n)) {
      why = `${what} is not finite (NaN or Inf)`;
      return undefined;
    }
    return n;
  };
}

const MS_PER: Record<number, number> = {
  [arrow.TimeUnit.SECOND]: 1000,
  [arrow.TimeUnit.MILLISECOND]: 1,
  [arrow.TimeUnit.MICROSECOND]: 1e-3,
  [arrow.TimeUnit.NANOSECOND]: 1e-6,
};

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
    // Raw stored values with the column's own unit; converted to ms exactly.
    const data = vec.data;
    const perMs = arrow.DataType.isTimestamp(t) ? MS_PER[(t as arrow.Timestamp).unit]! : (t as arrow.Date_).unit === arrow.DateUnit.DAY ? 86_400_000 : 1;
    return (i) => {
      if (isNull(i)) return undefined;
      let chunk = 0;
      let j = i;
      while (j >= data[chunk]!.length) j -= data[chunk++]!.length;
      const d = data[chunk]!;
      const raw = Number((d.values as ArrayLike<number | bigint>)[d.offset + j]);
      const ms = raw * perMs;
      if (!Number.isSafeInteger(ms)) {
        why = Number.isInteger(ms) ? 'timestamp is out of range' : 'timestamp has sub-millisecond precision, which is not stored';
        return undefined;
      }
      return done(toUnit(ms, sink.timestampUnit));
    };
  }
  if (isIntType(t)) {
    return (i) => {
      if (isNull(i)) return undefined;
      const v = vec.get(i) as number | bigint;
      const n = typeof v === 'bigint' ? (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(v)) : v;
      if (n !== n) {
        why = 'timestamp is out of range';
        return undefined;
      }
      return done(timestampFromNumber(n, sink.timestampFormat, sink.timestampUnit));
    };
  }
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) {
    return (i) => {
      if (isNull(i)) return undefined;
      const b = stringBytes(String(vec.get(i)).trim());
      return done(sink.parseTimestamp(b, 0, b.length));
    };
  }
  throw new Error(`the timestamp column must be an integer, timestamp, date or utf8 column, got ${t}`);
}

function assign(vocab: IdVocabulary, key: number | string): number {
  return typeof key === 'number' ? vocab.indexOfNumber(key) : vocab.indexOfString(key);
}

/**
 * Read one Parquet file into the sink, yielding after each row group the
 * fraction of the file's rows done (the caller emits the finished batches).
 */
export async function* readParquetInput(file: string, sink: RowSink, request: MappingRequest): AsyncGenerator<number> {
  const pf = await pw.ParquetFile.fromFile(await fs.openAsBlob(file));
  try {
    const names = arrow.tableFromIPC(pf.schema().intoIPCStream()).schema.fields.map((f) => f.name);
    const m = resolveMapping(names, request);
    if (isMappingProblem(m)) {
      sink.rejector.reject({ file, line: 0, field: m.column, value: names.join(','), reason: `${m.message}; the file is skipped`, raw: names.join(',') });
      sink.stats.skippedFiles++;
      sink.stats.skippedLines += pf.metadata().fileMetadata().numRows();
      yield 1;
      return;
    }
    const sessionCol = sink.sessions ? m.session_id : undefined;
    const wanted = [...new Set([m.user_id, m.item_id, m.timestamp, ...(m.reward ? [m.reward] : []), ...(sessionCol ? [sessionCol] : []), ...Object.values(m.extras)])];
    const nGroups = pf.metadata().numRowGroups();
    const totalRows = pf.metadata().fileMetadata().numRows();
    let rowBase = 0;
    for (let g = 0; g < nGroups; g++) {
      const wt = await pf.read({ rowGroups: [g], columns: wanted, batchSize: 1 << 30 });
      const table = arrow.tableFromIPC(wt.intoIPCStream());
      const col = (n: string) => table.getChild(n)!;
      const user = idGetter(col(m.user_id), 'user');
      const item = idGetter(col(m.item_id), 'item');
      const session = sessionCol ? idGetter(col(sessionCol), 'session') : null;
      const reward = m.reward ? numberGetter(col(m.reward), 'reward') : null;
      const ts = timestampGetter(col(m.timestamp), sink);
      const extras = sink.extraNames.map((n) => numberGetter(col(m.extras[n]!), n));
      const rowText = (i: number) => JSON.stringify(Object.fromEntries(wanted.map((n) => [n, jsValue(col(n).get(i))])));
      const fail = (i: number, column: string, reason: string) =>
        sink.rejector.reject({ file, line: rowBase + i + 1, field: column, value: String(jsValue(col(column).get(i)) ?? 'null'), reason, raw: rowText(i) });
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
      rowBase += table.numRows;
      yield totalRows > 0 ? rowBase / totalRows : 1;
    }
    if (nGroups === 0) yield 1;
  } finally {
    pf.free();
  }
}

/** Column names of a Parquet file, from its footer. */
export async function parquetSchemaNames(file: string): Promise<string[]> {
  const pf = await pw.ParquetFile.fromFile(await fs.openAsBlob(file));
  try {
    return arrow.tableFromIPC(pf.schema().intoIPCStream()).schema.fields.map((f) => f.name);
  } finally {
    pf.free();
  }
}
