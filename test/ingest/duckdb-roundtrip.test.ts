import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAll, SAMPLES, tmpDir } from './helpers.js';

let db: DuckDBInstance;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
});
afterAll(() => {
  db.closeSync();
});

/** The written dataset read back by DuckDB, raw ids joined back from the vocabularies, in file order. */
async function readBack(out: string): Promise<[string, string, number, number][]> {
  const conn = await db.connect();
  try {
    const q = (p: string) => `'${p.replace(/'/g, "''")}'`;
    const sql = `
      SELECT u.raw_id AS user, i.raw_id AS item, d.reward, d.timestamp
      FROM read_parquet(${q(path.join(out, 'part-*.parquet'))}, filename = true, file_row_number = true) d
      JOIN read_parquet(${q(path.join(out, 'vocab', 'users.parquet'))}) u ON u.index = d.user_id
      JOIN read_parquet(${q(path.join(out, 'vocab', 'items.parquet'))}) i ON i.index = d.item_id
      ORDER BY d.filename, d.file_row_number`;
    const rows = (await conn.runAndReadAll(sql)).getRowsJS();
    return rows.map((r) => [String(r[0]), String(r[1]), Number(r[2]), Number(r[3])]);
  } finally {
    conn.closeSync();
  }
}

/** Source rows by a plain split (the sample files have no quoting). */
function sourceRows(file: string, delimiter: string, skipHeader: boolean): [string, string, number, number][] {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.slice(skipHeader ? 1 : 0).map((l) => {
    const [u, i, r, t] = l.split(delimiter);
    return [u!, i!, Number(r), Number(t)];
  });
}

describe('DuckDB reads the written dataset back row for row', () => {
  it('MovieLens :: file, several part files encoded on the worker', async () => {
    const out = path.join(tmpDir('duck'), 'ds');
    const { summary } = await ingestAll({ path: path.join(SAMPLES, 'ratings.dat'), output: out, rows_per_file: 5, batch_size: 3, encode_in_worker: true });
    expect(summary.manifest.files.map((f) => f.rows)).toEqual([5, 5, 2]);
    const back = await readBack(out);
    expect(back).toEqual(sourceRows(path.join(SAMPLES, 'ratings.dat'), '::', false));
    expect(back).toHaveLength(12);
  });

  it('CSV with a header, zstd, one part file on the main thread', async () => {
    const out = path.join(tmpDir('duck'), 'ds');
    await ingestAll({ path: path.join(SAMPLES, 'ratings.csv'), output: out, compression: 'zstd' });
    expect(await readBack(out)).toEqual(sourceRows(path.join(SAMPLES, 'ratings.csv'), ',', true));
  });

  it('declares the interactions schema (int32 ids, int64 timestamp, float reward) and the timestamp unit', async () => {
    const out = path.join(tmpDir('duck'), 'ds');
    await ingestAll({ path: path.join(SAMPLES, 'ratings.csv'), output: out, encode_in_worker: true });
    const conn = await db.connect();
    try {
      const f = path.join(out, 'part-00000.parquet');
      const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${f}')`)).getRowsJS().map((r) => [r[0], r[1]]);
      expect(types).toEqual([
        ['user_id', 'INTEGER'],
        ['item_id', 'INTEGER'],
        ['timestamp', 'BIGINT'],
        ['reward', 'FLOAT'],
      ]);
      const meta = (await conn.runAndReadAll(`SELECT decode(key), decode(value) FROM parquet_kv_metadata('${f}')`)).getRowsJS();
      expect(meta).toContainEqual(['recpost.timestamp_unit', 's']);
    } finally {
      conn.closeSync();
    }
  });
});
