/**
 * Two reference rankers implemented as real RankingScorers, so they go through
 * exactly the same metric code as trained checkpoints:
 *
 * - popularity: score_j = number of train rows whose target is item j (the
 *   same list for every context; items with equal counts tie, and ties count
 *   against the ranker).
 * - random: score_j = a uniform number in [0, 1) hashed from (seed, context,
 *   j). It depends only on the context's items, never on the batch or row
 *   position, so a test case gets the same scores however the data is
 *   partitioned (required by incremental evaluation). Expected HR@K ≈ K / #candidates.
 */
import type { ListColumn } from '../core/batch.js';
import type { RankingScorer } from '../core/policy.js';
import { mix32 } from '../core/seeded-random.js';

export const RANKING_BASELINES = ['popularity', 'random'] as const;
export type RankingBaselineName = (typeof RANKING_BASELINES)[number];

export class PopularityScorer implements RankingScorer {
  private readonly counts: Float32Array;

  /** `counts[j]` = train occurrences of item j (index 0, padding, is ignored). */
  constructor(
    counts: ArrayLike<number>,
    readonly numItems: number = counts.length,
  ) {
    if (numItems < 2) throw new Error(`popularity: the catalog needs at least one item besides padding (numItems = ${numItems})`);
    this.counts = new Float32Array(numItems);
    for (let j = 1; j < Math.min(numItems, counts.length); j++) this.counts[j] = counts[j]!;
  }

  async scoreContexts(contexts: ListColumn<Int32Array>): Promise<Float32Array> {
    const rows = contexts.offsets.length - 1;
    const out = new Float32Array(rows * this.numItems);
    for (let r = 0; r < rows; r++) out.set(this.counts, r * this.numItems);
    return out;
  }
}

/** Item counts from target columns (grows with the largest id seen). */
export class ItemCounter {
  counts = new Float64Array(0);

  add(items: ArrayLike<number>): void {
    let max = -1;
    for (let i = 0; i < items.length; i++) if (items[i]! > max) max = items[i]!;
    if (max >= this.counts.length) {
      const next = new Float64Array(Math.max(max + 1, this.counts.length * 2, 16));
      next.set(this.counts);
      this.counts = next;
    }
    for (let i = 0; i < items.length; i++) {
      const j = items[i]!;
      if (j > 0) this.counts[j]! += 1;
    }
  }

  /** One past the largest item id counted (0 when empty). */
  get extent(): number {
    for (let j = this.counts.length - 1; j > 0; j--) if (this.counts[j]! > 0) return j + 1;
    return 0;
  }
}

/** Hash of a sequence of integers, seeded. */
export function hashInts(seed: number, values: ArrayLike<number>, start = 0, end = values.length): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (let i = start; i < end; i++) h = mix32(h ^ Math.imul(values[i]! + 0x632be5ab, 0x27d4eb2d));
  return mix32(h ^ (end - start));
}

/** Hash of a string (FNV-1a, then mixed), for seeds derived from names. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

export class RandomScorer implements RankingScorer {
  constructor(
    readonly numItems: number,
    readonly seed = 0,
  ) {
    if (numItems < 2) throw new Error(`random: the catalog needs at least one item besides padding (numItems = ${numItems})`);
  }

  async scoreContexts(contexts: ListColumn<Int32Array>): Promise<Float32Array> {
    const rows = contexts.offsets.length - 1;
    const n = this.numItems;
    const out = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) {
      const h = hashInts(this.seed, contexts.values, contexts.offsets[r]!, contexts.offsets[r + 1]!);
      const base = r * n;
      // 24 random bits: exactly representable in float32, so distinct hashes give distinct scores.
      for (let j = 0; j < n; j++) out[base + j] = (mix32(h ^ Math.imul(j + 1, 0x9e3779b1)) >>> 8) / 16777216;
    }
    return out;
  }
}
