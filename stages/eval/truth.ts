/**
 * The true (noise-free) reward of a recommendation, where a simulator knows
 * it (SPEC S7 "simulator metrics", S8): RecSimWorld.trueRewards (paper 002
 * App. H, Eq. 48) or RatingsWorld.expectedRatings (the ratings simulator's
 * expected rating). Both answer per (user, item) pairs in the simulator's own
 * ids; the pipeline's data carries dense vocabulary indices, so an
 * IdMappedOracle translates through the vocabulary files (raw_id ↔ index)
 * when they are given, and passes ids through unchanged otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readParquetAll } from '../io/parquet.js';
import { RecSimWorld } from '../simulators/recsim-world.js';

export interface TrueRewardOracle {
  /** Noise-free reward of items[i] for users[i]. */
  trueRewards(users: Int32Array, items: Int32Array): ArrayLike<number>;
}

type RatingsLike = { expectedRatings(users: Int32Array, items: Int32Array): ArrayLike<number> };

/** A world object as an oracle: anything with trueRewards, or expectedRatings (ratings world). */
export function asOracle(world: unknown): TrueRewardOracle | undefined {
  if (typeof world !== 'object' || world === null) return undefined;
  const w = world as Partial<TrueRewardOracle & RatingsLike>;
  if (typeof w.trueRewards === 'function') return w as TrueRewardOracle;
  if (typeof w.expectedRatings === 'function') return { trueRewards: (u, i) => w.expectedRatings!(u, i) };
  return undefined;
}

/**
 * Load a saved simulator world: a directory holding world.json (or a
 * simulator output directory holding world/world.json). The format field of
 * world.json says which simulator wrote it.
 */
export async function loadWorld(dir: string): Promise<TrueRewardOracle> {
  const base = fs.existsSync(path.join(dir, 'world.json')) ? dir : path.join(dir, 'world');
  const file = path.join(base, 'world.json');
  if (!fs.existsSync(file)) throw new Error(`world: no world.json in ${dir} or ${path.join(dir, 'world')}`);
  let format: unknown;
  try {
    format = (JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown }).format;
  } catch (e) {
    throw new Error(`world: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (format === 'recpost-recsim-world') return RecSimWorld.load(base);
  // The ratings world is loaded by name so this module does not depend on it at build time.
  const ratingsModule = '../simulators/ratings-world.js';
  const mod = (await import(ratingsModule).catch(() => undefined)) as Record<string, unknown> | undefined;
  const Ratings = mod?.RatingsWorld as { load?: (d: string) => Promise<unknown> } | undefined;
  if (Ratings?.load) {
    const w = await Ratings.load(base);
    const o = asOracle(w);
    if (o) return o;
  }
  throw new Error(`world: ${file} has format ${JSON.stringify(format)}, which no loaded simulator reads`);
}

/** Dense index → the raw id as an integer, from a vocabulary file (raw_id utf8, index int32). */
export async function loadIndexToRaw(file: string): Promise<Int32Array> {
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
      const v = Number(raw[i]);
      if (k < 1 || k > n) throw new Error(`${file}: index ${k} is outside 1..${n}`);
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new Error(`${file}: raw id ${JSON.stringify(raw[i])} is not a simulator id (a non-negative integer)`);
      out[k] = v;
    }
  }
  return out;
}

/** An oracle over dense indices: maps users and items to the world's ids first. */
export class IdMappedOracle implements TrueRewardOracle {
  constructor(
    private readonly inner: TrueRewardOracle,
    private readonly userRaw?: Int32Array,
    private readonly itemRaw?: Int32Array,
  ) {}

  private static map(ids: Int32Array, table: Int32Array | undefined, what: string): Int32Array {
    if (!table) return ids;
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const raw = id >= 0 && id < table.length ? table[id]! : -1;
      if (raw < 0) throw new Error(`true reward: ${what} index ${id} is not in the vocabulary`);
      out[i] = raw;
    }
    return out;
  }

  trueRewards(users: Int32Array, items: Int32Array): ArrayLike<number> {
    return this.inner.trueRewards(IdMappedOracle.map(users, this.userRaw, 'user'), IdMappedOracle.map(items, this.itemRaw, 'item'));
  }
}

/** Vocabulary file paths from a directory or an artifact value ({users, items}). */
export function vocabFiles(v: unknown): { users: string; items: string } | undefined {
  if (typeof v === 'string') return { users: path.join(v, 'users.parquet'), items: path.join(v, 'items.parquet') };
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o.users === 'string' && typeof o.items === 'string') return { users: o.users, items: o.items };
  }
  return undefined;
}

export const WORLD_ARTIFACT = 'world';
export const VOCAB_ARTIFACT = 'vocab';

/**
 * The oracle a stage uses: `world` (a saved world directory) or the artifact
 * "world" (a world object or its directory); ids mapped through `vocab` (a
 * directory with users.parquet / items.parquet) or the artifact "vocab".
 * Undefined when no world is known. `note` says what was chosen, for the log.
 */
export async function resolveOracle(
  world: string | undefined,
  vocab: string | undefined,
  artifacts: ReadonlyMap<string, unknown>,
): Promise<{ oracle?: TrueRewardOracle; note: string }> {
  let inner: TrueRewardOracle | undefined;
  let from: string;
  if (world !== undefined) {
    inner = await loadWorld(world);
    from = world;
  } else {
    const a = artifacts.get(WORLD_ARTIFACT);
    if (typeof a === 'string') inner = await loadWorld(a);
    else inner = asOracle(a);
    from = typeof a === 'string' ? a : `artifact "${WORLD_ARTIFACT}"`;
    if (a !== undefined && !inner) throw new Error(`artifact "${WORLD_ARTIFACT}" is neither a world directory nor an object with trueRewards/expectedRatings`);
  }
  if (!inner) return { note: 'no simulator world: true-reward metrics are not computed' };
  const files = vocabFiles(vocab ?? artifacts.get(VOCAB_ARTIFACT));
  if (!files) return { oracle: inner, note: `true rewards from ${from}; ids passed to the world unchanged (no vocabulary given)` };
  const [users, items] = await Promise.all([loadIndexToRaw(files.users), loadIndexToRaw(files.items)]);
  return { oracle: new IdMappedOracle(inner, users, items), note: `true rewards from ${from}; ids mapped through ${files.users} and ${files.items}` };
}
