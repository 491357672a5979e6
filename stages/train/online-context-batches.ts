/**
 * The contexts of each online update: B consecutive rows of per-pass
 * permutations of all contexts, each permutation drawn from (seed, pass), so
 * update u's batch depends only on (seed, u) (what exact resume relies on).
 */
import type { ContextBatch } from './online-model.js';
import { permutation, RNG_PURPOSE, streamFor } from './rng.js';

/** All prompts of a run: a list column of item ids and the user of each row. */
export interface OnlineContexts extends ContextBatch {
  rows: number;
}

/** Rows of update u: consecutive slices of per-pass permutations of the n contexts (the current pass's permutation is cached). */
export function contextRows(n: number, b: number, u: number, seed: number, cache: Map<number, Int32Array>): Int32Array {
  const out = new Int32Array(b);
  for (let j = 0; j < b; j++) {
    const idx = u * b + j;
    const pass = Math.floor(idx / n);
    let perm = cache.get(pass);
    if (!perm) {
      perm = permutation(n, streamFor(seed, RNG_PURPOSE.contexts, pass));
      cache.clear();
      cache.set(pass, perm);
    }
    out[j] = perm[idx % n]!;
  }
  return out;
}

/** The contexts `rows` of `all`, as a batch. */
export function subBatch(all: OnlineContexts, rows: Int32Array): ContextBatch {
  const offsets = new Int32Array(rows.length + 1);
  for (let j = 0; j < rows.length; j++) offsets[j + 1] = offsets[j]! + all.offsets[rows[j]! + 1]! - all.offsets[rows[j]!]!;
  const values = new Int32Array(offsets[rows.length]!);
  const users = new Int32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    values.set(all.values.subarray(all.offsets[r]!, all.offsets[r + 1]!), offsets[j]!);
    users[j] = all.users[r]!;
  }
  return { offsets, values, users };
}

/** The contexts of update u (B of them). */
export function contextsOfUpdate(all: OnlineContexts, b: number, u: number, seed: number, cache: Map<number, Int32Array>): ContextBatch {
  return subBatch(all, contextRows(all.rows, b, u, seed, cache));
}
