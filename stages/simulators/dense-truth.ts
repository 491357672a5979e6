/**
 * Expected ratings for DENSE ids. The ratings simulator writes raw ids
 * (1-based simulator ids) into ratings.dat; `ingest` remaps them to dense
 * indices through vocabularies persisted as Parquet (`raw_id` utf8 → `index`
 * int32, files users.parquet and items.parquet under <ingest output>/vocab/).
 * Everything downstream (examples, policies, evaluation) speaks dense ids, so
 * the truth must be asked through the inverse maps dense → raw built here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readParquetAll } from '../io/parquet.js';
import type { RatingsWorld } from './ratings-world.js';

/** Something that says which raw id each dense index stands for. */
export type VocabularyLike =
  /** dense → raw, index 0 = padding (−1 where unknown) */
  | Int32Array
  /** dense index → raw id (a Map) */
  | ReadonlyMap<number, string | number>
  /** an ingest IdVocabulary: rawIds()[k − 1] is the raw id of index k */
  | { rawIds(): ArrayLike<string | number> };

function rawNumber(raw: string | number, what: string): number {
  const v = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) throw new Error(`${what}: raw id ${JSON.stringify(raw)} is not a simulator id (a positive integer)`);
  return v;
}

/** A dense → raw table (Int32Array, −1 for indices that map to nothing) from any VocabularyLike. */
export function denseToRaw(v: VocabularyLike, what = 'vocabulary'): Int32Array {
  if (v instanceof Int32Array) return v;
  if (v instanceof Map) {
    const m = v as ReadonlyMap<number, string | number>;
    let max = 0;
    for (const k of m.keys()) max = Math.max(max, k);
    const out = new Int32Array(max + 1).fill(-1);
    out[0] = 0;
    for (const [k, raw] of m) {
      if (!Number.isInteger(k) || k < 1) throw new Error(`${what}: dense index ${k} must be an integer ≥ 1`);
      out[k] = rawNumber(raw, what);
    }
    return out;
  }
  const raws = (v as { rawIds(): ArrayLike<string | number> }).rawIds();
  const out = new Int32Array(raws.length + 1);
  for (let i = 0; i < raws.length; i++) out[i + 1] = rawNumber(raws[i]!, what);
  return out;
}

/** Read a vocabulary Parquet file (raw_id utf8, index int32) as a dense → raw table. */
export async function readDenseToRaw(file: string): Promise<Int32Array> {
  if (!fs.existsSync(file)) throw new Error(`vocabulary file not found: ${file}`);
  const batches = await readParquetAll(file, { table: 'vocabulary' });
  let n = 0;
  for (const b of batches) n += b.numRows;
  const out = new Int32Array(n + 1).fill(-1);
  out[0] = 0;
  for (const b of batches) {
    const raw = b.columns.raw_id;
    const idx = b.columns.index;
    if (!Array.isArray(raw) || !(idx instanceof Int32Array)) throw new Error(`${file}: a vocabulary needs columns raw_id (utf8) and index (int32)`);
    for (let i = 0; i < b.numRows; i++) {
      const k = idx[i]!;
      if (k < 1 || k > n) throw new Error(`${file}: index ${k} is outside 1..${n}`);
      if (out[k] !== -1) throw new Error(`${file}: index ${k} appears twice`);
      out[k] = rawNumber(raw[i]!, file);
    }
  }
  return out;
}

/** Expected ratings of (denseUsers[i], denseItems[i]) through the dense → raw maps. */
export function denseExpectedRatings(
  world: RatingsWorld,
  userVocab: VocabularyLike,
  itemVocab: VocabularyLike,
  denseUsers: Int32Array,
  denseItems: Int32Array,
): Float64Array {
  return new DenseRatingsTruth(world, userVocab, itemVocab).expectedRatings(denseUsers, denseItems);
}

/** A ratings world answering in dense ids (the pipeline's ids after ingest). */
export class DenseRatingsTruth {
  readonly userRaw: Int32Array;
  readonly itemRaw: Int32Array;

  constructor(
    readonly world: RatingsWorld,
    userVocab: VocabularyLike,
    itemVocab: VocabularyLike,
  ) {
    this.userRaw = denseToRaw(userVocab, 'user vocabulary');
    this.itemRaw = denseToRaw(itemVocab, 'item vocabulary');
  }

  /** From an ingest vocabulary directory holding users.parquet and items.parquet. */
  static async fromVocabDir(world: RatingsWorld, vocabDir: string): Promise<DenseRatingsTruth> {
    const [users, items] = await Promise.all([readDenseToRaw(path.join(vocabDir, 'users.parquet')), readDenseToRaw(path.join(vocabDir, 'items.parquet'))]);
    return new DenseRatingsTruth(world, users, items);
  }

  private static map(ids: Int32Array, table: Int32Array, what: string): Int32Array {
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const raw = id >= 1 && id < table.length ? table[id]! : -1;
      if (raw < 1) throw new RangeError(`ratings truth: dense ${what} index ${id} is not in the ${what} vocabulary (1..${table.length - 1})`);
      out[i] = raw;
    }
    return out;
  }

  /** Raw simulator ids of dense user indices. */
  rawUsers(denseUsers: Int32Array): Int32Array {
    return DenseRatingsTruth.map(denseUsers, this.userRaw, 'user');
  }

  /** Raw simulator ids of dense item indices. */
  rawItems(denseItems: Int32Array): Int32Array {
    return DenseRatingsTruth.map(denseItems, this.itemRaw, 'item');
  }

  expectedRating(denseUser: number, denseItem: number): number {
    return this.expectedRatings(Int32Array.of(denseUser), Int32Array.of(denseItem))[0]!;
  }

  expectedRatings(denseUsers: Int32Array, denseItems: Int32Array): Float64Array {
    return this.world.expectedRatings(this.rawUsers(denseUsers), this.rawItems(denseItems));
  }

  /** Same as expectedRatings (the true-reward oracle interface). */
  trueRewards(denseUsers: Int32Array, denseItems: Int32Array): Float64Array {
    return this.expectedRatings(denseUsers, denseItems);
  }
}
