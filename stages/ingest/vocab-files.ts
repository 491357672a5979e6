/**
 * Vocabularies on disk: one Parquet file per id kind (`users.parquet`,
 * `items.parquet`, and `sessions.parquet` when sessions are mapped) with two
 * columns, `raw_id` (utf8, the id as written in the source) and `index`
 * (int32, 1 … n, 0 being padding and never stored). Any Parquet reader can
 * join them back onto the data; `loadVocabulary` and `mapRawIds` do it here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { readParquetAll, writeParquetFile } from '../io/parquet.js';
import { IdVocabulary } from './id-vocabulary.js';

export type VocabKind = 'users' | 'items' | 'sessions';

export interface VocabPaths {
  users: string;
  items: string;
  /** Present when a session column was mapped. */
  sessions?: string;
}

export function vocabPaths(dir: string, withSessions: boolean): VocabPaths {
  return {
    users: path.join(dir, 'users.parquet'),
    items: path.join(dir, 'items.parquet'),
    ...(withSessions ? { sessions: path.join(dir, 'sessions.parquet') } : {}),
  };
}

/** Write a vocabulary atomically (temporary name, then rename). Returns bytes written. */
export function saveVocabulary(vocab: IdVocabulary, file: string): number {
  const rawIds = vocab.rawIds();
  const index = new Int32Array(rawIds.length);
  for (let i = 0; i < index.length; i++) index[i] = i + 1;
  const table = new arrow.Table({
    raw_id: utf8Vector(rawIds),
    index: arrow.makeVector(index),
  });
  return writeParquetFile(file, table, { compression: 'zstd', metadata: { 'recpost.vocabulary': vocab.name } });
}

/**
 * A Utf8 vector of `texts` (no nulls) built from one encoded buffer and its
 * offsets: the same vector as `vectorFromArray(texts, new Utf8())`, whose
 * builder costs ~1 µs per string (a third of a second for ML-20M's ids).
 */
export function utf8Vector(texts: string[]): arrow.Vector<arrow.Utf8> {
  const joined = texts.join('');
  const data = Buffer.from(joined, 'utf8');
  const valueOffsets = new Int32Array(texts.length + 1);
  const ascii = data.length === joined.length;
  let off = 0;
  for (let i = 0; i < texts.length; i++) valueOffsets[i + 1] = off += ascii ? texts[i]!.length : Buffer.byteLength(texts[i]!, 'utf8');
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
  return arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: texts.length, nullCount: 0, valueOffsets, data: bytes }));
}

/**
 * Read a vocabulary file back. The indices must be exactly 1 … n (in any row
 * order) and the raw ids distinct, otherwise the file is not a vocabulary and
 * an error says what is wrong.
 */
export async function loadVocabulary(file: string, name = path.basename(file, '.parquet')): Promise<IdVocabulary> {
  if (!fs.existsSync(file)) throw new Error(`vocabulary file not found: ${file}`);
  const batches = await readParquetAll(file, { table: 'vocabulary' });
  let n = 0;
  for (const b of batches) n += b.numRows;
  const byIndex = new Array<string | undefined>(n + 1);
  for (const b of batches) {
    const raw = b.columns.raw_id;
    const idx = b.columns.index;
    if (!Array.isArray(raw) || !(idx instanceof Int32Array)) {
      throw new Error(`${file}: a vocabulary needs columns raw_id (utf8) and index (int32)`);
    }
    for (let i = 0; i < b.numRows; i++) {
      const k = idx[i]!;
      if (k < 1 || k > n) throw new Error(`${file}: index ${k} of raw id ${JSON.stringify(raw[i])} is outside 1…${n}`);
      if (byIndex[k] !== undefined) throw new Error(`${file}: index ${k} appears twice`);
      byIndex[k] = raw[i]!;
    }
  }
  const vocab = new IdVocabulary(name);
  for (let k = 1; k <= n; k++) {
    const got = vocab.indexOfString(byIndex[k]!);
    if (got !== k) throw new Error(`${file}: raw id ${JSON.stringify(byIndex[k])} appears twice (indices ${got} and ${k})`);
  }
  return vocab;
}

export interface MapRawIdsOptions {
  /** What an id absent from the vocabulary becomes: an error (default) or 0 (padding). */
  missing?: 'error' | 'padding';
}

/** Map raw ids (numbers or strings) to their dense indices with a loaded vocabulary. */
export function mapRawIds(vocab: IdVocabulary, raws: ArrayLike<string | number>, opts: MapRawIdsOptions = {}): Int32Array {
  const out = new Int32Array(raws.length);
  for (let i = 0; i < raws.length; i++) {
    const idx = vocab.get(raws[i]!);
    if (idx === undefined) {
      if (opts.missing === 'padding') continue;
      throw new Error(`${vocab.name} vocabulary has no id ${JSON.stringify(raws[i])}`);
    }
    out[i] = idx;
  }
  return out;
}
