/**
 * How ingest parts are encoded (dataset-sink.ts INGEST_ENCODING): plain pages
 * without dictionaries or statistics, in the codec asked for, read back by
 * DuckDB; and vocabulary files whose Utf8 column is built from one buffer.
 */
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { IdVocabulary } from '../../stages/ingest/id-vocabulary.js';
import { loadVocabulary, saveVocabulary, utf8Vector } from '../../stages/ingest/vocab-files.js';
import { ingestAll, tmpDir, writeText } from './helpers.js';

const q = (p: string) => `'${p.replace(/'/g, "''")}'`;

describe('ingest part encoding', () => {
  for (const encode_in_worker of [true, false]) {
    it(`no dictionary pages and no statistics, snappy, read back by DuckDB (encoded ${encode_in_worker ? 'on the worker' : 'on the main thread'})`, async () => {
      const dir = tmpDir('partenc');
      const lines = Array.from({ length: 300 }, (_, i) => `${1 + (i % 7)},${100 + (i % 13)},${(1 + (i % 10)) / 2},${1_000_000_000 + i}`);
      const file = writeText(dir, 'r.csv', `userId,movieId,rating,timestamp\n${lines.join('\n')}\n`);
      const out = path.join(dir, 'ds');
      await ingestAll({ path: file, output: out, compression: 'snappy', rows_per_file: 128, encode_in_worker });
      const db = await DuckDBInstance.create(':memory:');
      const con = await db.connect();
      try {
        const meta = (
          await con.runAndReadAll(
            `SELECT path_in_schema, compression, encodings, stats_min, stats_max, dictionary_page_offset FROM parquet_metadata(${q(path.join(out, 'part-*.parquet'))})`,
          )
        ).getRowObjectsJS();
        expect(meta.length).toBe(3 * 4); // 3 parts × 4 columns, one row group each
        for (const m of meta) {
          expect(m.compression).toBe('SNAPPY');
          expect(String(m.encodings)).not.toMatch(/DICTIONARY/);
          expect(m.dictionary_page_offset).toBeNull();
          expect([m.stats_min, m.stats_max]).toEqual([null, null]);
        }
        const rows = (
          await con.runAndReadAll(
            `SELECT d.reward, d.timestamp, u.raw_id AS u, i.raw_id AS i FROM read_parquet(${q(path.join(out, 'part-*.parquet'))}, filename = true, file_row_number = true) d
             JOIN read_parquet(${q(path.join(out, 'vocab', 'users.parquet'))}) u ON u.index = d.user_id
             JOIN read_parquet(${q(path.join(out, 'vocab', 'items.parquet'))}) i ON i.index = d.item_id
             ORDER BY d.filename, d.file_row_number`,
          )
        ).getRowsJS();
        expect(rows.map((r) => `${String(r[2])},${String(r[3])},${Number(r[0])},${Number(r[1])}`)).toEqual(lines);
      } finally {
        con.closeSync();
        db.closeSync();
      }
    });
  }

  it('vocabulary Utf8 column equals the Arrow builder’s, and the file loads back', async () => {
    const texts = ['17', '', 'é', '日本語', 'u7', '0', 'a\u0000b', '😀'];
    const built = utf8Vector(texts);
    const reference = arrow.vectorFromArray(texts, new arrow.Utf8());
    expect(built.toArray()).toEqual(reference.toArray());
    expect(String(built.type)).toBe(String(reference.type));
    expect(built.nullCount).toBe(0);
    const vocab = new IdVocabulary('users');
    for (const t of texts) vocab.indexOfString(t);
    const file = path.join(tmpDir('vocab'), 'users.parquet');
    saveVocabulary(vocab, file);
    const back = await loadVocabulary(file);
    expect(back.rawIds()).toEqual(vocab.rawIds());
    expect(back.rawIds()).toEqual(texts);
  });
});
