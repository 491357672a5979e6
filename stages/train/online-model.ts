/**
 * A policy as the online trainer sees it (each model implements it in its own
 * file: sasrec-online-model.ts, gaussian-online-model.ts): log π over the whole
 * catalog as a differentiable function of the parameters (the ratios of the
 * clipped surrogate, DPO's log-ratios), state features for PPO's value head,
 * and the reward head as the proxy reward model.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { StoredModel } from './model-entry.js';
import type { ParamStore } from './params.js';

/** A batch of contexts: list column of item ids (oldest first) and the user of each. */
export interface ContextBatch {
  offsets: Int32Array;
  values: Int32Array;
  users: Int32Array;
}

export interface OnlineModel<P = unknown> {
  /** The model's kind and configuration, stored in checkpoints. */
  readonly stored: StoredModel;
  readonly numItems: number;
  /** Width of stateFeatures. */
  readonly featureDim: number;
  /** A parameter store of this architecture (initial values from `seed`). */
  createParams(seed: number): ParamStore;
  /** Parameters a policy update changes (the reward head is the frozen proxy, never trained here). */
  policyNames(params: ParamStore): string[];
  prepare(batch: ContextBatch): P;
  /** log π(· | s) over the catalog, [rows, numItems] (padding ≈ −1e9), differentiable. */
  catalogLogProbs(params: ParamStore, prep: P): tf.Tensor2D;
  /** Detached state features for a value head, [rows, featureDim]. */
  stateFeatures(params: ParamStore, prep: P): tf.Tensor2D;
  /** The reward head's r̂(s_r, items[r·G + k]), if the model has one. */
  predictRewards?(params: ParamStore, prep: P, items: Int32Array, groupSize: number): Float32Array;
  dispose(): void;
}

// The two models' implementations, where callers have long found them.
export { sasrecOnlineModel } from './sasrec-online-model.js';
export { gaussianOnlineModel } from './gaussian-online-model.js';
