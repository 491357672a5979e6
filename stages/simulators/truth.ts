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
import { readDenseToRaw } from './dense-truth.js';
import { RATINGS_WORLD_FORMAT, RatingsWorld } from './ratings-world.js';
import { RECSIM_WORLD_FORMAT, RecSimWorld } from './recsim-world.js';
import { ARTIFACT } from '../core/artifacts.js';

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
 * simulator output directory holding world/world.json or truth/world.json). The format field of
 * world.json says which simulator wrote it.
 */
export async function loadWorld(dir: string): Promise<TrueRewardOracle> {
  const candidates = [dir, path.join(dir, 'world'), path.join(dir, 'truth')];
  const base = candidates.find((d) => fs.existsSync(path.join(d, 'world.json')));
  if (!base) throw new Error(`world: no world.json in ${candidates.join(', ')}`);
  const file = path.join(base, 'world.json');
  let format: unknown;
  try {
    format = (JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown }).format;
  } catch (e) {
    throw new Error(`world: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (format === RECSIM_WORLD_FORMAT) return RecSimWorld.load(base);
  if (format === RATINGS_WORLD_FORMAT) return RatingsWorld.load(base);
  throw new Error(`world: ${file} has format ${JSON.stringify(format)}, which is neither a RecSim nor a ratings world`);
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

/** Which simulator a world comes from (eCPM is a RecSim figure; ratings are not revenue). */
export type WorldKind = 'recsim' | 'ratings' | 'other';

export function worldKind(world: unknown): WorldKind {
  if (world instanceof RecSimWorld) return 'recsim';
  if (world instanceof RatingsWorld) return 'ratings';
  return 'other';
}

export const WORLD_ARTIFACT = ARTIFACT.world;
export const VOCAB_ARTIFACT = ARTIFACT.vocab;

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
): Promise<{ oracle?: TrueRewardOracle; kind?: WorldKind; note: string }> {
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
  const kind = worldKind(inner);
  const files = vocabFiles(vocab ?? artifacts.get(VOCAB_ARTIFACT));
  if (!files) return { oracle: inner, kind, note: `true rewards from ${from}; ids passed to the world unchanged (no vocabulary given)` };
  const [users, items] = await Promise.all([readDenseToRaw(files.users), readDenseToRaw(files.items)]);
  return { oracle: new IdMappedOracle(inner, users, items), kind, note: `true rewards from ${from}; ids mapped through ${files.users} and ${files.items}` };
}
