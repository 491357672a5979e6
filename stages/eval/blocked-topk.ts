/**
 * Blocked top-K and target ranks over a catalog too large to score at once.
 *
 * The catalog is scored in item blocks [start, end) (contexts × block, a
 * score matrix of at most `maxScoreFloats` values); each block is folded into
 * a running state per context, then dropped:
 *
 * - the target's rank, exactly as ranking-metrics.ts `targetRanks` defines it
 *   on the full row (SPEC S7): rank = #{candidates j with score_j ≥ score_t},
 *   the target counted once, ties against the model, padding never ranked,
 *   history items other than the target removed; a NaN target score gets the
 *   worst rank (the number of candidates). The count is additive over blocks,
 *   so blocks may come in any order and from several threads (merge()).
 * - optionally the K best candidates, under the rule of export/top-k.ts
 *   `topKPerRow`: padding and (with history exclusion) every context item are
 *   never candidates, higher score first, ties to the lower item id, NaN as −∞.
 *
 * The target's score must be known before its row's blocks are folded in
 * (`targetScores`): a scorer gives it from the same kernel that scores blocks.
 */
import type { ListColumn } from '../core/batch.js';

/** Default bound of one score block (contexts × items × 4 bytes): 64 MB. */
export const DEFAULT_MAX_SCORE_BLOCK_MB = 64;

/** Floats in a score block of `mb` megabytes (2^20 bytes), at least 1. */
export function scoreBlockFloats(mb: number): number {
  return Math.max(1, Math.floor((mb * 2 ** 20) / 4));
}

/** Each row's excluded items, sorted and without duplicates, padding or out-of-catalog ids. */
export interface ExclusionLists {
  offsets: Int32Array;
  values: Int32Array;
}

/** Sorted unique history items per row (items 1..numItems−1 only); empty lists when `contexts` is undefined. */
export function exclusionLists(contexts: ListColumn<Int32Array> | undefined, rows: number, numItems: number): ExclusionLists {
  const offsets = new Int32Array(rows + 1);
  if (!contexts) return { offsets, values: new Int32Array(0) };
  if (contexts.offsets.length - 1 !== rows) throw new Error(`blocked ranking: ${contexts.offsets.length - 1} contexts for ${rows} targets`);
  const values = new Int32Array(contexts.values.length);
  let out = 0;
  for (let r = 0; r < rows; r++) {
    const seg = Array.from(contexts.values.subarray(contexts.offsets[r]!, contexts.offsets[r + 1]!)).filter((j) => j >= 1 && j < numItems);
    seg.sort((a, b) => a - b);
    for (let i = 0; i < seg.length; i++) if (i === 0 || seg[i] !== seg[i - 1]) values[out++] = seg[i]!;
    offsets[r + 1] = out;
  }
  return { offsets, values: values.slice(0, out) };
}

/** First index p in [lo, hi) of sorted `a` with a[p] ≥ x (hi when none). */
function lowerBound(a: Int32Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Check targets lie in 1..numItems−1, with the message targetRanks gives. */
export function checkTargets(targets: Int32Array, numItems: number): void {
  for (let r = 0; r < targets.length; r++) {
    const t = targets[r]!;
    if (!(t >= 1 && t < numItems)) throw new Error(`targetRanks: row ${r}: target item ${t} is outside the catalog 1..${numItems - 1} (0 is padding)`);
  }
}

/** What a finished blocked scan gives per row. */
export interface BlockedRankingResult {
  ranks: Int32Array;
  /** Candidates each target competed with (numItems − 1 minus the excluded history). */
  candidates: Int32Array;
  /** The K best candidates per row, best first (−1 where a row has fewer than K): [rows × k]. */
  topItems: Int32Array;
  topScores: Float32Array;
}

/**
 * The running state of one chunk of contexts over the catalog. Fold blocks
 * in with addBlock (any order, each item exactly once per row), or merge the
 * states of disjoint item ranges, then read result().
 */
export class BlockedRanking {
  readonly rows: number;
  /** Candidates (after exclusion) scored ≥ the target so far, excluded items not counted. */
  readonly atOrAbove: Int32Array;
  readonly topItems: Int32Array;
  readonly topScores: Float64Array;
  /** Entries filled in each row's top list. */
  readonly topFilled: Int32Array;

  constructor(
    readonly numItems: number,
    readonly targets: Int32Array,
    readonly targetScores: Float32Array,
    /** Items removed from the candidates (the target itself still competes for its rank). */
    readonly exclusions: ExclusionLists,
    readonly k = 0,
  ) {
    this.rows = targets.length;
    if (targetScores.length !== this.rows) throw new Error(`blocked ranking: ${targetScores.length} target scores for ${this.rows} targets`);
    if (exclusions.offsets.length - 1 !== this.rows)
      throw new Error(`blocked ranking: ${exclusions.offsets.length - 1} exclusion lists for ${this.rows} targets`);
    this.atOrAbove = new Int32Array(this.rows);
    this.topItems = new Int32Array(this.rows * k).fill(-1);
    this.topScores = new Float64Array(this.rows * k).fill(-Infinity);
    this.topFilled = new Int32Array(this.rows);
  }

  /** Fold in the scores of items [start, end) for every row: row-major [rows × (end − start)]. */
  addBlock(scores: Float32Array | Float64Array, start: number, end: number): void {
    const width = end - start;
    if (start < 0 || end > this.numItems || width < 0)
      throw new Error(`blocked ranking: block [${start}, ${end}) is outside the catalog 0..${this.numItems - 1}`);
    if (scores.length !== this.rows * width) throw new Error(`blocked ranking: ${scores.length} scores for ${this.rows} rows × ${width} items`);
    const first = Math.max(1, start); // padding never competes
    const ex = this.exclusions;
    for (let r = 0; r < this.rows; r++) {
      const base = r * width - start;
      const st = this.targetScores[r]!;
      const t = this.targets[r]!;
      const exLo = lowerBound(ex.values, ex.offsets[r]!, ex.offsets[r + 1]!, first);
      const exHi = lowerBound(ex.values, exLo, ex.offsets[r + 1]!, end);
      if (!Number.isNaN(st)) {
        let n = 0;
        for (let j = base + first, e = base + end; j < e; j++) if (scores[j]! >= st) n++;
        for (let p = exLo; p < exHi; p++) {
          const j = ex.values[p]!;
          if (j !== t && scores[base + j]! >= st) n--;
        }
        this.atOrAbove[r]! += n;
      }
      if (this.k > 0) this.foldTop(r, scores, base, first, end, exLo, exHi);
    }
  }

  /** Offer items [first, end) of row r to its top list, skipping excluded items. */
  private foldTop(r: number, scores: Float32Array | Float64Array, base: number, first: number, end: number, exLo: number, exHi: number): void {
    const k = this.k;
    const off = r * k;
    const ex = this.exclusions.values;
    let nextEx = exLo;
    for (let j = first; j < end; j++) {
      const raw = scores[base + j]!;
      const s = Number.isNaN(raw) ? -Infinity : raw;
      const n = this.topFilled[r]!;
      if (n === k && !this.better(s, j, this.topScores[off + k - 1]!, this.topItems[off + k - 1]!)) continue;
      while (nextEx < exHi && ex[nextEx]! < j) nextEx++;
      if (nextEx < exHi && ex[nextEx] === j) continue;
      this.insertTop(r, s, j);
    }
  }

  /** (s, j) ranks before (s2, j2): higher score, then lower item id. */
  private better(s: number, j: number, s2: number, j2: number): boolean {
    return s > s2 || (s === s2 && j < j2);
  }

  private insertTop(r: number, s: number, j: number): void {
    const k = this.k;
    const off = r * k;
    const n = this.topFilled[r]!;
    let i = n < k ? n : k - 1;
    if (n < k) this.topFilled[r] = n + 1;
    while (i > 0 && this.better(s, j, this.topScores[off + i - 1]!, this.topItems[off + i - 1]!)) {
      this.topItems[off + i] = this.topItems[off + i - 1]!;
      this.topScores[off + i] = this.topScores[off + i - 1]!;
      i--;
    }
    this.topItems[off + i] = j;
    this.topScores[off + i] = s;
  }

  /** Add the state of the same rows over a disjoint item range (another thread's share of the catalog). */
  merge(other: { atOrAbove: Int32Array; topItems: Int32Array; topScores: Float64Array | Float32Array; topFilled: Int32Array }): void {
    if (other.atOrAbove.length !== this.rows || other.topItems.length !== this.rows * this.k)
      throw new Error('blocked ranking: merging states of different shapes');
    for (let r = 0; r < this.rows; r++) {
      this.atOrAbove[r]! += other.atOrAbove[r]!;
      for (let i = 0; i < other.topFilled[r]!; i++) {
        const s = other.topScores[r * this.k + i]!;
        const j = other.topItems[r * this.k + i]!;
        const n = this.topFilled[r]!;
        if (n === this.k && !this.better(s, j, this.topScores[r * this.k + this.k - 1]!, this.topItems[r * this.k + this.k - 1]!)) break;
        this.insertTop(r, s, j);
      }
    }
  }

  result(): BlockedRankingResult {
    const ranks = new Int32Array(this.rows);
    const candidates = new Int32Array(this.rows);
    const ex = this.exclusions;
    for (let r = 0; r < this.rows; r++) {
      const t = this.targets[r]!;
      let excluded = ex.offsets[r + 1]! - ex.offsets[r]!;
      const p = lowerBound(ex.values, ex.offsets[r]!, ex.offsets[r + 1]!, t);
      if (p < ex.offsets[r + 1]! && ex.values[p] === t) excluded--; // the target stays a candidate
      candidates[r] = this.numItems - 1 - excluded;
      ranks[r] = Number.isNaN(this.targetScores[r]!) ? candidates[r]! : this.atOrAbove[r]!;
    }
    return { ranks, candidates, topItems: this.topItems, topScores: Float32Array.from(this.topScores) };
  }
}

/** Item blocks [start, end) covering items `from`..`to`−1, each at most `width` items. */
export function itemBlocks(from: number, to: number, width: number): [number, number][] {
  const out: [number, number][] = [];
  const w = Math.max(1, width);
  for (let s = from; s < to; s += w) out.push([s, Math.min(to, s + w)]);
  return out;
}
