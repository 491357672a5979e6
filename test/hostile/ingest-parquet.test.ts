/**
 * Hostile Parquet inputs, written with DuckDB and then damaged: ids that a
 * double cannot hold (uint64, int64 beyond 2^53), timestamps in µs/ns/s and
 * dates, columns of the wrong type, corrupt pages (which used to kill Node
 * with an uncaught WASM `RuntimeError: unreachable`), truncated files and
 * text named .parquet. Strict mode names the file (and column); quarantine
 * mode sets the whole file aside and goes on with the next one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../stages/core/errors.js';
import { loadVocabulary } from '../../stages/ingest/vocab-files.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { ingestError, quarantined, tmpDir, writeText } from './ingest-helpers.js';

let db: DuckDBInstance;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
});
afterAll(() => db.closeSync());

async function sql<T = unknown[]>(q: string): Promise<T[]> {
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(q)).getRowsJS() as T[];
  } finally {
    c.closeSync();
  }
}

async function parquet(file: string, select: string, extra = ''): Promise<string> {
  await sql(`COPY (${select}) TO '${file}' (FORMAT parquet${extra})`);
  return file;
}

/** 20,000 rows in 4 row groups. */
function manyRows(): string {
  return 'SELECT i AS user_id, i % 97 AS item_id, (i % 10) / 2 AS reward, 1000 + i AS timestamp FROM range(1, 20001) t(i)';
}

/** Byte offset of the first data page of `column` in row group `group` (0-based), from DuckDB's parquet_metadata. */
async function pageOffset(file: string, group: number, column: string): Promise<number> {
  const rows = await sql<[bigint]>(`SELECT data_page_offset FROM parquet_metadata('${file}') WHERE row_group_id = ${group} AND path_in_schema = '${column}'`);
  return Number(rows[0]![0]);
}

/** Flip `n` bytes of `file` from `offset`. */
function damage(file: string, offset: number, n = 32): void {
  const b = fs.readFileSync(file);
  for (let k = 0; k < n; k++) b[offset + k] = b[offset + k]! ^ 0x5a;
  fs.writeFileSync(file, b);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('values a double cannot hold are stored exactly', () => {
  it('uint64 and int64 ids beyond 2^53 stay distinct, with their exact decimal text', async () => {
    const d = tmpDir('pq');
    const f = await parquet(
      path.join(d, 'ids.parquet'),
      `SELECT * FROM (VALUES (9007199254740992::UBIGINT, 1, 1.0, 1), (9007199254740993::UBIGINT, 1, 1.0, 2), (18446744073709551615::UBIGINT, 1, 1.0, 3), (7::UBIGINT, 1, 1.0, 4)) t(user_id, item_id, reward, timestamp)`,
    );
    const r = await quarantined({ path: f }, 4);
    expect(Array.from(r.all!.columns.user_id as Int32Array)).toEqual([1, 2, 3, 4]);
    expect((await loadVocabulary(r.summary.vocab.users)).rawIds()).toEqual(['9007199254740992', '9007199254740993', '18446744073709551615', '7']);
    const g = await parquet(
      path.join(d, 'neg.parquet'),
      `SELECT * FROM (VALUES ((-9223372036854775807 - 1)::BIGINT, 9223372036854775807::BIGINT, 1.0, 1)) t(user_id, item_id, reward, timestamp)`,
    );
    const n = await quarantined({ path: g }, 1);
    expect((await loadVocabulary(n.summary.vocab.users)).rawIds()).toEqual(['-9223372036854775808']);
    expect((await loadVocabulary(n.summary.vocab.items)).rawIds()).toEqual(['9223372036854775807']);
  });

  it('timestamps in µs, ns, s and dates convert exactly to the stored unit', async () => {
    const d = tmpDir('pq');
    const f = await parquet(
      path.join(d, 'ts.parquet'),
      `SELECT 1 AS user_id, 2 AS item_id, 1.0 AS reward, TIMESTAMP '2024-01-02 03:04:05.123' AS timestamp, TIMESTAMP_NS '2024-01-02 03:04:05.123000000' AS tns, TIMESTAMP_S '2024-01-02 03:04:05' AS tsec, DATE '2024-01-02' AS day`,
    );
    const ms = Date.UTC(2024, 0, 2, 3, 4, 5, 123);
    const read = async (col: string, unit: 's' | 'ms') => {
      const r = await quarantined({ path: f, columns: { timestamp: col }, timestamp_unit: unit }, 1);
      return Number((r.all!.columns.timestamp as BigInt64Array)[0]);
    };
    expect(await read('timestamp', 'ms')).toBe(ms);
    expect(await read('tns', 'ms')).toBe(ms);
    expect(await read('tsec', 's')).toBe((ms - 123) / 1000);
    expect(await read('day', 's')).toBe(Date.UTC(2024, 0, 2) / 1000);
  });

  it('integer timestamps beyond 2^53 − 1 and null cells are rejected row by row; the rest is stored and balanced', async () => {
    const d = tmpDir('pq');
    const f = await parquet(
      path.join(d, 'big-ts.parquet'),
      `SELECT * FROM (VALUES (1, 1, 1.0, 9007199254740991::UBIGINT), (1, 2, 1.0, 9007199254740992::UBIGINT), (1, 3, 1.0, 18446744073709551615::UBIGINT), (NULL, 4, 1.0, 5::UBIGINT), (1, 5, NULL, 6::UBIGINT)) t(user_id, item_id, reward, timestamp)`,
    );
    const r = await quarantined({ path: f }, 5);
    expect(Array.from(r.all!.columns.timestamp as BigInt64Array)).toEqual([9007199254740991n]);
    expect(r.entries.map((e) => [e.line, e.field, e.reason, e.value])).toEqual([
      [2, 'timestamp', 'timestamp is out of range', '9007199254740992'],
      [3, 'timestamp', 'timestamp is out of range', '18446744073709551615'],
      [4, 'user_id', 'user id is null', 'null'],
      [5, 'reward', 'reward is null', 'null'],
    ]);
  });

  it('nanoseconds below a millisecond are a located error, not a rounded time', async () => {
    const d = tmpDir('pq');
    const f = await parquet(
      path.join(d, 'ns.parquet'),
      `SELECT 1 AS user_id, 2 AS item_id, 1.0 AS reward, TIMESTAMP_NS '2024-01-02 03:04:05.123456789' AS timestamp`,
    );
    const err = await ingestError({ path: f, output: path.join(d, 'ds'), timestamp_unit: 'ms' });
    expect(err.message).toMatch(new RegExp(`^${esc(f)}:1: field "timestamp": timestamp has sub-millisecond precision, which is not stored`));
  });
});

describe('columns of a type the mapping cannot store name the file and column', () => {
  it.each([
    ['user_id', '1.5::DOUBLE', 'has type Float64, but an id must be an integer or utf8 column'],
    ['item_id', 'true', 'has type Bool, but an id must be an integer or utf8 column'],
    ['reward', 'true', 'has type Bool, but a reward or signal must be a numeric (integer, float, decimal) or utf8 column'],
    ['timestamp', '1.5::DOUBLE', 'has type Float64, but a timestamp must be an integer, timestamp, date or utf8 column'],
    ['reward', '[1, 2]', 'has type List<Int32>, but a reward or signal must be a numeric (integer, float, decimal) or utf8 column'],
  ])('%s as %s', async (column, expr, reason) => {
    const d = tmpDir('pq');
    const cols: Record<string, string> = { user_id: '1', item_id: '2', reward: '3.0', timestamp: '4' };
    cols[column] = expr;
    const f = await parquet(
      path.join(d, 'typed.parquet'),
      `SELECT ${Object.entries(cols)
        .map(([k, v]) => `${v} AS ${k}`)
        .join(', ')}`,
    );
    const err = await ingestError({ path: f, output: path.join(d, 'ds') });
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toBe(`${f}: column "${column}": ${reason}`);
  });

  it('two columns with the name of a mapped column name the file and both positions', async () => {
    const d = tmpDir('pq');
    const f = path.join(d, 'dup.parquet');
    const i32 = (v: number) => arrow.makeData({ type: new arrow.Int32(), length: 1, nullCount: 0, data: new Int32Array([v]) });
    const f32 = (v: number) => arrow.makeData({ type: new arrow.Float32(), length: 1, nullCount: 0, data: new Float32Array([v]) });
    const names: [string, arrow.DataType][] = [
      ['user_id', new arrow.Int32()],
      ['item_id', new arrow.Int32()],
      ['reward', new arrow.Float32()],
      ['timestamp', new arrow.Int32()],
      ['reward', new arrow.Float32()],
    ];
    const fields = names.map(([n, t]) => new arrow.Field(n, t));
    const struct = arrow.makeData({ type: new arrow.Struct(fields), length: 1, nullCount: 0, children: [i32(1), i32(2), f32(3), i32(4), f32(5)] });
    writeParquetFile(f, new arrow.Table([new arrow.RecordBatch(new arrow.Schema(fields), struct)]));
    const err = await ingestError({ path: f, output: path.join(d, 'ds') });
    expect(err.message).toBe(`${f}: column "reward": the schema has two columns named "reward" (fields 3 and 5); which one is meant is not knowable`);
  });

  it('a missing mapped column names the file and what it has', async () => {
    const d = tmpDir('pq');
    const f = await parquet(path.join(d, 'nocol.parquet'), 'SELECT 1 AS user_id, 2 AS thing, 3.0 AS reward, 4 AS timestamp');
    const err = await ingestError({ path: f, output: path.join(d, 'ds') });
    expect(err.message).toBe(
      `${f}: column "item_id": no column for item_id (looked for "item_id", "itemId", "movieId", "MovieID", "movie_id", "movieid", "item"; the source has: user_id, thing, reward, timestamp); name it with columns.item_id`,
    );
  });
});

describe('damaged files', () => {
  it('a corrupt page header in row group 3 of 4: strict mode names the file and the row group', async () => {
    const d = tmpDir('pq');
    const f = await parquet(path.join(d, 'bad.parquet'), manyRows(), ', ROW_GROUP_SIZE 5000');
    damage(f, await pageOffset(f, 2, 'reward'));
    const err = await ingestError({ path: f, output: path.join(d, 'ds') });
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(new RegExp(`^${esc(f)}: corrupt data in row group 3 of 4 \\(.+\\)$`));
  });

  it('bytes flipped early in the data (which trapped the WASM decoder and killed Node) give an error naming the file', async () => {
    const d = tmpDir('pq');
    const f = await parquet(path.join(d, 'trap.parquet'), manyRows(), ', ROW_GROUP_SIZE 5000');
    damage(f, 200, 64);
    const err = await ingestError({ path: f, output: path.join(d, 'ds') });
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(new RegExp(`^${esc(f)}: corrupt data in row group 1 of 4 \\(.+\\)$`));
  });

  it('invalid UTF-8 in a utf8 id column (latin-1 é, è patched into the file) is a file error, never merged ids', async () => {
    const d = tmpDir('pq');
    const f = await parquet(
      path.join(d, 'u.parquet'),
      `SELECT * FROM (VALUES ('cafX', 1, 1.0, 1), ('cafY', 2, 1.0, 2)) t(user_id, item_id, reward, timestamp)`,
      ", COMPRESSION 'uncompressed'",
    );
    const b = fs.readFileSync(f);
    let patched = 0;
    for (let i = 0; i + 4 <= b.length; i++) {
      if (b.toString('latin1', i, i + 3) === 'caf' && (b[i + 3] === 0x58 || b[i + 3] === 0x59)) {
        b[i + 3] = b[i + 3] === 0x58 ? 0xe9 : 0xe8;
        patched++;
      }
    }
    expect(patched).toBeGreaterThanOrEqual(2);
    fs.writeFileSync(f, b);
    const err = await ingestError({ path: f, output: path.join(d, 'ds') });
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(new RegExp(`^${esc(f)}: corrupt data in row group 1 of 1 \\(.+\\)$`));
  });

  it.each([
    ['truncated (last 100 bytes cut)', (f: string) => fs.truncateSync(f, fs.statSync(f).size - 100)],
    ['text with a .parquet name', (f: string) => fs.writeFileSync(f, 'user_id,item_id,reward,timestamp\n1,2,3,4\n')],
    ['empty', (f: string) => fs.writeFileSync(f, '')],
    ['a footer claiming more bytes than the file has', (f: string) => damage(f, fs.statSync(f).size - 8, 4)],
  ])('%s: not a readable Parquet file, naming it', async (_what, spoil) => {
    const d = tmpDir('pq');
    const f = await parquet(path.join(d, 'x.parquet'), manyRows());
    spoil(f);
    const err = await ingestError({ path: f, output: path.join(d, 'ds') });
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(new RegExp(`^${esc(f)}: not a readable Parquet file \\(.+\\)$`));
  });

  it('quarantine mode sets each bad file aside whole (none of its rows stored) and reads the others', async () => {
    const d = tmpDir('pq');
    const dir = path.join(d, 'in');
    fs.mkdirSync(dir);
    const late = await parquet(path.join(dir, 'a-late-corruption.parquet'), manyRows(), ', ROW_GROUP_SIZE 5000');
    damage(late, await pageOffset(late, 3, 'timestamp'));
    const trap = await parquet(path.join(dir, 'b-trap.parquet'), manyRows(), ', ROW_GROUP_SIZE 5000');
    damage(trap, 200, 64);
    writeText(dir, 'c-good.csv', 'user_id,item_id,reward,timestamp\n1,2,3,4\n5,6,7,8\n');
    const typed = await parquet(path.join(dir, 'd-typed.parquet'), 'SELECT 1.5::DOUBLE AS user_id, 2 AS item_id, 3.0 AS reward, 4 AS timestamp');
    writeText(dir, 'e-text.parquet', 'not parquet\n');
    const good = await parquet(path.join(dir, 'f-good.parquet'), 'SELECT 9 AS user_id, 9 AS item_id, 4.5::DECIMAL(4,1) AS reward, 9 AS timestamp');
    const r = await quarantined({ path: dir, output: path.join(d, 'ds') }, 20_000 + 20_000 + 2 + 1 + 0 + 1);
    expect(r.summary.rows).toBe(3);
    expect(r.summary.filesSetAside).toBe(4);
    expect(r.summary.skippedLines).toBe(40_001);
    expect(r.entries.map((e) => [path.basename(e.file), e.field, e.whole_file])).toEqual([
      ['a-late-corruption.parquet', '(file)', true],
      ['b-trap.parquet', '(file)', true],
      ['d-typed.parquet', 'user_id', true],
      ['e-text.parquet', '(file)', true],
    ]);
    expect(r.entries[0]!.reason).toMatch(/^corrupt data in row group 4 of 4 /);
    expect(r.entries[1]!.reason).toMatch(/^corrupt data in row group 1 of 4 /);
    expect(r.entries[3]!.reason).toMatch(/^not a readable Parquet file /);
    expect(Array.from(r.all!.columns.reward as Float32Array)).toEqual([3, 7, 4.5]);
    expect([typed, good].every((f) => r.summary.files.some((x) => x.path === f))).toBe(true);
  });
});
