import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdVocabulary } from '../../stages/ingest/id-vocabulary.js';
import { loadVocabulary, mapRawIds, saveVocabulary } from '../../stages/ingest/vocab-files.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import * as arrow from 'apache-arrow';
import { tmpDir } from './helpers.js';

describe('IdVocabulary', () => {
  it('numbers ids by first appearance from 1, whatever their spelling', () => {
    const v = new IdVocabulary('items');
    const seq = [50, 'u7', 3, 50, 'u7', 20_000_000, 1e15 + 1, '007', 7, 3];
    const got = seq.map((r) => (typeof r === 'number' ? v.indexOfNumber(r) : v.indexOfString(r)));
    expect(got).toEqual([1, 2, 3, 1, 2, 4, 5, 6, 7, 3]);
    expect(v.size).toBe(7);
    expect(v.rawIds()).toEqual(['50', 'u7', '3', '20000000', '1000000000000001', '007', '7']);
  });

  it('treats a canonical integer string and its number as one id', () => {
    const v = new IdVocabulary('users');
    expect(v.indexOfString('42')).toBe(1);
    expect(v.indexOfNumber(42)).toBe(1);
    expect(v.get(42)).toBe(1);
    expect(v.get('42')).toBe(1);
    expect(v.get('042')).toBeUndefined();
    expect(v.indexOfString('042')).toBe(2);
  });

  it('agrees with a Map on many random ids (direct table growth and map ranges)', () => {
    const v = new IdVocabulary('users');
    const ref = new Map<string, number>();
    let seed = 99;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let k = 0; k < 20000; k++) {
      const r = rand();
      const raw = r < 0.6 ? Math.floor(rand() * 5000) : r < 0.8 ? Math.floor(rand() * 1e9) : `s${Math.floor(rand() * 3000)}`;
      const key = String(raw);
      if (!ref.has(key)) ref.set(key, ref.size + 1);
      const got = typeof raw === 'number' ? v.indexOfNumber(raw) : v.indexOfString(raw);
      expect(got).toBe(ref.get(key));
    }
    expect(v.rawIds()).toEqual([...ref.keys()]);
  });

  it('does not grow when frozen', () => {
    const v = new IdVocabulary('items');
    v.indexOfNumber(5);
    v.frozen = true;
    expect(v.indexOfNumber(6)).toBe(0);
    expect(v.indexOfString('x')).toBe(0);
    expect(v.indexOfNumber(5)).toBe(1);
    expect(v.size).toBe(1);
    expect(() => v.rawId(2)).toThrow(/outside 1…1/);
  });
});

describe('vocabulary files', () => {
  it('round-trips through Parquet and maps raw ids back', async () => {
    const dir = tmpDir('vocab');
    const v = new IdVocabulary('items');
    for (const r of ['b', '10', 'a', '0', 'é"x']) v.indexOfString(r);
    const file = path.join(dir, 'items.parquet');
    saveVocabulary(v, file);
    const back = await loadVocabulary(file);
    expect(back.rawIds()).toEqual(['b', '10', 'a', '0', 'é"x']);
    expect(Array.from(mapRawIds(back, ['a', 10, '0', 'é"x']))).toEqual([3, 2, 4, 5]);
    expect(() => mapRawIds(back, ['zz'])).toThrow(/items vocabulary has no id "zz"/);
    expect(Array.from(mapRawIds(back, ['zz', 'b'], { missing: 'padding' }))).toEqual([0, 1]);
  });

  it('refuses files whose indices are not 1…n', async () => {
    const dir = tmpDir('vocab');
    const file = path.join(dir, 'bad.parquet');
    writeParquetFile(file, new arrow.Table({ raw_id: arrow.vectorFromArray(['a', 'b'], new arrow.Utf8()), index: arrow.makeVector(Int32Array.from([1, 3])) }));
    await expect(loadVocabulary(file)).rejects.toThrow(/index 3 of raw id "b" is outside 1…2/);
    const dup = path.join(dir, 'dup.parquet');
    writeParquetFile(dup, new arrow.Table({ raw_id: arrow.vectorFromArray(['a', 'a'], new arrow.Utf8()), index: arrow.makeVector(Int32Array.from([1, 2])) }));
    await expect(loadVocabulary(dup)).rejects.toThrow(/raw id "a" appears twice/);
  });
});
