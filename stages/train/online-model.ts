/**
 * The two policies as the online trainer sees them: log π over the whole
 * catalog as a differentiable function of the parameters (the ratios of the
 * clipped surrogate, DPO's log-ratios), state features for PPO's value head,
 * and the reward head as the proxy reward model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianStored } from './gaussian-codec.js';
import type { StoredModel } from './model-entry.js';
import { stopGradient } from './nn.js';
import { sasrecStored } from './sasrec-codec.js';
import type { ParamStore } from './params.js';
import { catalogGaussianLogits, createGaussianParams, gaussianMean, logSigma, meanEmbeddings, type GaussianConfig } from './gaussian-policy.js';
import { createSasrecParams, padContexts, rewardHeadForward, sasrecEncode, type SasrecConfig } from './sasrec.js';
import { paddingBias } from './softmax-output.js';
import { matMulNN } from './wasm-kernels.js';

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

interface SasrecPrep {
  ids: Int32Array;
  rows: number;
  T: number;
  last: Int32Array;
}

export function sasrecOnlineModel(config: SasrecConfig): OnlineModel<SasrecPrep> {
  const state = (params: ParamStore, prep: SasrecPrep): tf.Tensor2D =>
    tf.tidy(() => tf.gather(sasrecEncode(params, config, prep.ids, prep.rows, prep.T), tf.tensor1d(prep.last, 'int32')) as tf.Tensor2D);
  return {
    stored: sasrecStored(config),
    numItems: config.numItems,
    featureDim: config.d,
    createParams: (seed) => createSasrecParams(config, seed),
    policyNames: (params) => params.names().filter((n) => !n.startsWith('reward/')),
    prepare(batch) {
      const { ids, rows, T, lastPos } = padContexts(batch.offsets, batch.values, config.maxLen);
      const last = Int32Array.from(lastPos, (p, r) => r * T + p);
      return { ids, rows, T, last };
    },
    catalogLogProbs(params, prep) {
      return tf.tidy(() => {
        const h = state(params, prep);
        return tf.logSoftmax(tf.add(matMulNN(h, params.get('item_emb') as tf.Tensor2D, false, true), paddingBias(config.numItems))) as tf.Tensor2D;
      });
    },
    stateFeatures: (params, prep) => tf.tidy(() => stopGradient(state(params, prep))),
    predictRewards(params, prep, items, groupSize) {
      if (!config.rewardHead || !params.has('reward/w1')) throw new Error('the policy checkpoint has no reward head to use as the proxy (train it with reward_head: true, or use proxy: simulator)');
      const t = tf.tidy(() => {
        const h = state(params, prep);
        const rep = Int32Array.from({ length: items.length }, (_, i) => Math.floor(i / groupSize));
        const hr = tf.gather(h, tf.tensor1d(rep, 'int32')) as tf.Tensor2D;
        const e = tf.gather(params.get('item_emb'), tf.tensor1d(items, 'int32')) as tf.Tensor2D;
        return rewardHeadForward(params, hr, e);
      });
      const out = t.dataSync() as Float32Array;
      t.dispose();
      return out;
    },
    dispose() {},
  };
}

interface GaussianPrep {
  states: Float32Array;
  rows: number;
}

export function gaussianOnlineModel(config: GaussianConfig, itemEmbeddings: Float32Array): OnlineModel<GaussianPrep> {
  const items = tf.keep(tf.tensor2d(itemEmbeddings, [config.numItems, config.dim]));
  const itemSq = tf.keep(tf.tidy(() => tf.sum(tf.square(items), 1) as tf.Tensor1D));
  return {
    stored: gaussianStored(config),
    numItems: config.numItems,
    featureDim: config.dim,
    createParams: (seed) => createGaussianParams(config, seed),
    policyNames: (params) => params.names(),
    prepare(batch) {
      return { states: meanEmbeddings(batch.offsets, batch.values, itemEmbeddings, config.dim), rows: batch.offsets.length - 1 };
    },
    catalogLogProbs(params, prep) {
      return tf.tidy(() => {
        const mu = gaussianMean(params, config, tf.tensor2d(prep.states, [prep.rows, config.dim]));
        return tf.logSoftmax(catalogGaussianLogits(mu, items, itemSq, logSigma(params, config))) as tf.Tensor2D;
      });
    },
    stateFeatures: (_params, prep) => tf.tensor2d(prep.states, [prep.rows, config.dim]),
    dispose() {
      items.dispose();
      itemSq.dispose();
    },
  };
}
