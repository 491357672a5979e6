/**
 * What evaluation needs from a trained policy, independent of the model:
 * scores over the catalog (ranking metrics), predicted rewards (reward head),
 * and sampling (reward-model-as-judge, proxy vs gold). Trainers' checkpoints
 * load into objects implementing these.
 *
 * Contexts are list columns of dense item ids (oldest first, 0 = padding never
 * appears inside a list). Item ids run 1..numItems-1; index 0 is padding and
 * must never be ranked or sampled.
 */
import type { ListColumn } from './batch.js';

export interface RankingScorer {
  /** Catalog size including the padding index 0. */
  readonly numItems: number;
  /** Row-major scores [rows × numItems] for each context. */
  scoreContexts(contexts: ListColumn<Int32Array>): Promise<Float32Array>;
  /**
   * Optional: the factors of scores that are dot products ⟨h(s), e_j⟩, so that
   * evaluation can score the catalog in item blocks and on several threads
   * (stages/eval/blocked-topk.ts) instead of whole rows.
   */
  scoreFactors?(): ScoreFactors;
}

/** score(s, j) = ⟨h(s), e_j⟩ for items j ≥ 1 (padding 0 is never scored this way). */
export interface ScoreFactors {
  readonly dim: number;
  /** Context vectors h(s), row-major [rows × dim], equal to those scoreContexts multiplies. */
  contextVectors(contexts: ListColumn<Int32Array>): Float32Array;
  /** Item vectors e_j, row-major [numItems × dim] (row 0: padding); read only (it may be the backend's own storage). */
  itemVectors(): Float32Array;
}

export interface RewardPredictor {
  /** Predicted reward of (context_i, item_i) for each row. */
  predictRewards(contexts: ListColumn<Int32Array>, items: Int32Array): Promise<Float32Array>;
}

export interface SamplingPolicy {
  readonly numItems: number;
  /** k samples per context from π(·|s), row-major [rows × k]. */
  sample(contexts: ListColumn<Int32Array>, k: number, seed: number): Promise<Int32Array>;
  /** Full log-probabilities [rows × numItems] (exact KL over a finite catalog). */
  logProbs(contexts: ListColumn<Int32Array>): Promise<Float32Array>;
}
