/**
 * The rollout of one online update (paper 004 Algorithm 1, lines 4–7): with
 * the current policy frozen as π̄, draw G candidates per context from π̄ (the
 * draws keyed by (seed, update)), and keep what the update and the records
 * need: each candidate's log π̄ and log π₀ (the reference), and per context
 * the exact KL(π̄‖π₀) and entropy of π̄ over the whole catalog.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ContextBatch, OnlineModel } from './online-model.js';
import type { ParamStore } from './params.js';
import { RNG_PURPOSE, sampleCategorical, streamFor } from './rng.js';

export interface Rollout {
  /** Candidate k of context r at r·G + k. */
  items: Int32Array;
  rolloutLogProb: Float64Array;
  refLogProb: Float64Array;
  /** KL(π̄(·|s_r) ‖ π₀(·|s_r)) over the catalog, per context. */
  exactKl: Float64Array;
  /** Entropy of π̄(·|s_r), per context. */
  entropy: Float64Array;
}

/** The values of a tensor, which is disposed. */
export function readAll(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** Roll out `policy` (as π̄) on a prepared batch: G candidates per context and their statistics. */
export function rollout<P>(
  model: OnlineModel<P>,
  policy: ParamStore,
  reference: ParamStore,
  batch: ContextBatch,
  prep: P,
  groupSize: number,
  seed: number,
  update: number,
): Rollout {
  const V = model.numItems;
  const G = groupSize;
  const lpBar = readAll(model.catalogLogProbs(policy, prep));
  const lp0 = readAll(model.catalogLogProbs(reference, prep));
  const rows = batch.users.length;
  const items = new Int32Array(rows * G);
  const rng = streamFor(seed, RNG_PURPOSE.sample, update);
  const rolloutLogProb = new Float64Array(rows * G);
  const refLogProb = new Float64Array(rows * G);
  const exactKl = new Float64Array(rows);
  const entropy = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    sampleCategorical(lpBar, r * V, V, G, rng, items, r * G, 0);
    let kl = 0;
    let ent = 0;
    for (let i = 1; i < V; i++) {
      const lb = lpBar[r * V + i]!;
      const p = Math.exp(lb);
      if (p > 0) {
        kl += p * (lb - lp0[r * V + i]!);
        ent -= p * lb;
      }
    }
    exactKl[r] = Math.max(0, kl);
    entropy[r] = ent;
    for (let k = 0; k < G; k++) {
      rolloutLogProb[r * G + k] = lpBar[r * V + items[r * G + k]!]!;
      refLogProb[r * G + k] = lp0[r * V + items[r * G + k]!]!;
    }
  }
  return { items, rolloutLogProb, refLogProb, exactKl, entropy };
}

/** Differentiable log π(items[i] | s_{⌊i / perRow⌋}) from a [rows, V] log-probability tensor. */
export function logProbsOf(catalogLogProbs: tf.Tensor2D, items: Int32Array, perRow: number): tf.Tensor1D {
  const v = catalogLogProbs.shape[1];
  const idx = Int32Array.from(items, (it, i) => Math.floor(i / perRow) * v + it);
  return tf.gather(tf.reshape(catalogLogProbs, [-1]), tf.tensor1d(idx, 'int32')) as tf.Tensor1D;
}
