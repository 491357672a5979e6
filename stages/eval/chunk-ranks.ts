/**
 * Target ranks of one chunk of evaluation contexts, holding at most
 * `maxScoreFloats` scores at a time (the `max_score_block_mb` bound):
 *
 * - a factored scorer (ScoreFactors: SASRec) on the wasm or cpu backend, or
 *   on another backend when the chunk does not fit: item blocks of the
 *   catalog (blocked-topk.ts), split across the threads when there are
 *   several; on wasm and cpu the block kernel (factor-scores.ts) gives
 *   scoreContexts' numbers bit for bit (≈ 5× faster on wasm);
 * - any other scorer whose chunk fits: scoreContexts and targetRanks, as
 *   evaluation always did;
 * - any other scorer that does not fit: fewer contexts per scoring call, down
 *   to one (a single row of numItems scores is the least any scorer can give).
 *
 * On wasm and cpu every path gives exactly the ranks of targetRanks on the
 * full score matrix (test/eval/blocked-topk.test.ts, eval-threads.test.ts);
 * on another backend a chunk too large for whole rows is ranked from that
 * backend's product per block, equal up to its float rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ListColumn } from '../core/batch.js';
import type { RankingScorer, ScoreFactors } from '../core/policy.js';
import { BlockedRanking, checkTargets, exclusionLists, itemBlocks } from './blocked-topk.js';
import type { EvalThreadPool } from './eval-threads.js';
import { blockScores, targetScores } from './factor-scores.js';
import { targetRanks } from './ranking-metrics.js';
import { sliceList } from '../train/sasrec-policy.js';

export interface ChunkRankOptions {
  excludeHistory: boolean;
  /** Most scores held at once (contexts × items). */
  maxScoreFloats: number;
  /** Worker threads sharing the catalog of factored scorers (absent: this thread alone). */
  pool?: EvalThreadPool | undefined;
}

/** Item vectors per scorer, copied out once (a policy's embeddings do not change during evaluation). */
const itemVectorCache = new WeakMap<RankingScorer, { factors: ScoreFactors; items: Float32Array }>();

function factorsOf(scorer: RankingScorer): { factors: ScoreFactors; items: Float32Array } | undefined {
  if (!scorer.scoreFactors) return undefined;
  let f = itemVectorCache.get(scorer);
  if (!f) {
    const factors = scorer.scoreFactors();
    // In shared memory, so evaluation threads read the same copy (eval-threads.ts).
    const vectors = factors.itemVectors();
    const items = new Float32Array(new SharedArrayBuffer(vectors.byteLength));
    items.set(vectors);
    f = { factors, items };
    itemVectorCache.set(scorer, f);
  }
  return f;
}

export async function chunkRanks(
  scorer: RankingScorer,
  contexts: ListColumn<Int32Array>,
  targets: Int32Array,
  excluded: ListColumn<Int32Array>,
  opts: ChunkRankOptions,
): Promise<{ ranks: Int32Array; candidates: Int32Array }> {
  const rows = targets.length;
  const n = scorer.numItems;
  const fits = rows * n <= opts.maxScoreFloats;
  // Blocks always on wasm and cpu, where the block kernel is tested bit-equal to whole-row scoring; elsewhere only when the rows do not fit.
  const exactBlocks = tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';
  if (scorer.scoreFactors && (exactBlocks || !fits)) return factoredRanks(scorer, contexts, targets, excluded, opts);
  // Whole rows, as many as the bound allows per call (all of them when they fit).
  const step = Math.max(1, Math.floor(opts.maxScoreFloats / n));
  const ranks = new Int32Array(rows);
  const candidates = new Int32Array(rows);
  for (let s = 0; s < rows; s += step) {
    const e = Math.min(rows, s + step);
    const scores = await scorer.scoreContexts({ kind: 'list', ...sliceList(contexts, s, e) });
    const ex = { kind: 'list' as const, ...sliceList(excluded, s, e) };
    ranks.set(targetRanks(scores, n, targets.subarray(s, e), ex, { excludeHistory: opts.excludeHistory, candidates: candidates.subarray(s, e) }), s);
  }
  return { ranks, candidates };
}

/** Ranks of a factored scorer over item blocks (and threads). */
async function factoredRanks(
  scorer: RankingScorer,
  contexts: ListColumn<Int32Array>,
  targets: Int32Array,
  excluded: ListColumn<Int32Array>,
  opts: ChunkRankOptions,
): Promise<{ ranks: Int32Array; candidates: Int32Array }> {
  const n = scorer.numItems;
  const rows = targets.length;
  checkTargets(targets, n);
  const { factors, items } = factorsOf(scorer)!;
  const dim = factors.dim;
  const h = factors.contextVectors(contexts);
  const st = targetScores(h, dim, items, targets);
  const exclusions = exclusionLists(opts.excludeHistory ? excluded : undefined, rows, n);
  const state = new BlockedRanking(n, targets, st, exclusions);
  if (opts.pool) {
    await opts.pool.rank(state, { scorer, dim, items, h, maxScoreFloats: opts.maxScoreFloats });
  } else {
    const width = Math.max(1, Math.floor(opts.maxScoreFloats / Math.max(1, rows)));
    for (const [s, e] of itemBlocks(1, n, width)) state.addBlock(blockScores(h, rows, dim, items.subarray(s * dim, e * dim), e - s), s, e);
  }
  const { ranks, candidates } = state.result();
  return { ranks, candidates };
}
