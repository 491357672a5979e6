/**
 * The weighted next-item loss of the sequence model on one minibatch:
 *
 *   L = −(1/M) Σ_m w_m · log π(a_m | s_m)  +  c_r · (1/M) Σ_m (r̂(s_m, a_m) − r_m)²
 *
 * over the M targets of the minibatch (every position in `sequence` mode),
 * w from the objective (SPEC S3–S4: BC, Exp-RSFT, DRPO, … differ only in w),
 * the second term training the reward head (paper 000 §6) on the observed
 * rewards. By default the head reads its inputs through a stop-gradient, so
 * the policy is trained by the weighted log-likelihood alone and methods stay
 * comparable; `detachRewardHead: false` co-trains the trunk with it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamStore } from './params.js';
import { rewardHeadForward, sasrecEncode, type DropoutKey, type SasrecConfig } from './sasrec.js';
import { fullSoftmaxLogProb, sampledSoftmaxLogProb, type FullSoftmaxOptions } from './softmax-output.js';
import { stopGradient } from './nn.js';
import { weightedNll } from './losses/weighted-nll.js';
import type { Minibatch } from './sequence-data.js';

export interface SasrecLossOptions {
  softmax: 'full' | 'sampled';
  /** Sampled softmax: shared negatives and log Q of every item. */
  negatives?: Int32Array;
  logQ?: Float32Array;
  rewardWeight: number;
  detachRewardHead: boolean;
  fullSoftmax?: FullSoftmaxOptions;
}

export interface SasrecLossParts {
  /** The scalar minimised. */
  loss: tf.Scalar;
  /** −(1/M) Σ w log π (the policy part). */
  policyLoss: tf.Scalar;
  /** (1/M) Σ −log π, unweighted (the BC negative log-likelihood, for reporting). */
  nll: tf.Scalar;
  rewardMse?: tf.Scalar;
}

/** Per-target log π(a_m | s_m) and the targets' hidden states. */
export function targetLogProbs(
  p: ParamStore,
  c: SasrecConfig,
  mb: Minibatch,
  opts: SasrecLossOptions,
  key?: DropoutKey,
): { logp: tf.Tensor1D; h: tf.Tensor2D; targets: tf.Tensor1D } {
  return tf.tidy(() => {
    const H = sasrecEncode(p, c, mb.inputIds, mb.B, mb.T, key);
    const h = tf.gather(H, tf.tensor1d(mb.flatIndex, 'int32')) as tf.Tensor2D;
    const targets = tf.tensor1d(mb.targets, 'int32');
    const E = p.get('item_emb') as tf.Tensor2D;
    const logp =
      opts.softmax === 'full'
        ? fullSoftmaxLogProb(h, E, targets, opts.fullSoftmax)
        : sampledSoftmaxLogProb(h, E, targets, mb.targets, opts.negatives!, opts.logQ!);
    return { logp, h, targets };
  });
}

export function sasrecLoss(p: ParamStore, c: SasrecConfig, mb: Minibatch, weights: Float32Array, opts: SasrecLossOptions, key?: DropoutKey): SasrecLossParts {
  return tf.tidy(() => {
    const M = mb.targets.length;
    const { logp, h, targets } = targetLogProbs(p, c, mb, opts, key);
    const policyLoss = weightedNll(logp, weights);
    const nll = tf.div(tf.neg(tf.sum(logp)), Math.max(1, M)) as tf.Scalar;
    let loss = policyLoss;
    let rewardMse: tf.Scalar | undefined;
    if (c.rewardHead && opts.rewardWeight > 0) {
      const e = tf.gather(p.get('item_emb'), targets) as tf.Tensor2D;
      const hIn = opts.detachRewardHead ? stopGradient(h) : h;
      const eIn = opts.detachRewardHead ? stopGradient(e) : e;
      const pred = rewardHeadForward(p, hIn, eIn);
      rewardMse = tf.mean(tf.square(tf.sub(pred, tf.tensor1d(Float32Array.from(mb.rewards))))) as tf.Scalar;
      loss = tf.add(loss, tf.mul(rewardMse, opts.rewardWeight)) as tf.Scalar;
    }
    return { loss, policyLoss, nll, ...(rewardMse ? { rewardMse } : {}) };
  });
}
