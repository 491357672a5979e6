/**
 * The advantage source of the PPO baseline (paper 000; Schulman et al.,
 * 2017): a value head V(s) (a one-hidden-layer ReLU MLP on the model's
 * detached state features, trained with its own Adam) is the baseline,
 *
 *   A_k = (a_k − mean(a)) / (std(a) + 1e-8),   a_k = r̂_k − V(s_{r(k)}),
 *
 * normalised over the whole batch (one-step episodes: no GAE), and the loss
 * is the clipped surrogate plus c_v times the value loss (losses/). With
 * klCoef β > 0, r̂_k is first replaced by the KL-penalised reward
 * r̂_k − β·(log π̄(y_k) − log π₀(y_k)) (losses/kl-penalised-reward.ts), for the
 * advantages and the value target alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/config-schema.js';
import { Adam, type AdamConfig } from './adam.js';
import type { AdvantageSource } from './advantage-source.js';
import { linear } from './fast-ops.js';
import { clippedSurrogateLoss } from './losses/clipped-surrogate.js';
import { klPenalisedReward } from './losses/kl-penalised-reward.js';
import { ppoLoss, ppoValueLoss } from './losses/ppo-value-loss.js';
import type { OnlineModel } from './online-model.js';
import { mean } from './online-records.js';
import { logProbsOf, readAll } from './online-rollout.js';
import { ParamStore } from './params.js';

/** The names the value head's parameters and Adam moments carry in a checkpoint (a policy loader ignores them). */
export const VALUE_PREFIX = 'value/';

export interface PpoOptions {
  seed: number;
  groupSize: number;
  clip: number;
  adam: AdamConfig;
  valueCoef: number;
  valueHidden: number;
  /** β of the KL-penalised reward (0 or undefined: the proxy reward as it is). */
  klCoef?: number;
}

/** A_k from proxy rewards [B·G] and one value per context [B], normalised over the batch. */
export function valueBaselineAdvantages(proxy: Float64Array, values: ArrayLike<number>, groupSize: number): Float32Array {
  const raw = Float64Array.from(proxy, (r, i) => r - values[Math.floor(i / groupSize)]!);
  const m = mean(raw);
  let s2 = 0;
  for (const x of raw) s2 += (x - m) ** 2;
  const sd = Math.sqrt(s2 / raw.length);
  return Float32Array.from(raw, (x) => (x - m) / (sd + 1e-8));
}

export function ppoValueBaseline<P>(model: OnlineModel<P>, policy: ParamStore, opts: PpoOptions): AdvantageSource<P> {
  const G = opts.groupSize;
  const value = new ParamStore(true);
  value.init(`${VALUE_PREFIX}w1`, [model.featureDim, opts.valueHidden], { kind: 'glorot' }, opts.seed);
  value.init(`${VALUE_PREFIX}b1`, [opts.valueHidden], { kind: 'zeros' }, opts.seed);
  value.init(`${VALUE_PREFIX}w2`, [opts.valueHidden, 1], { kind: 'glorot' }, opts.seed);
  value.init(`${VALUE_PREFIX}b2`, [1], { kind: 'zeros' }, opts.seed);
  const adam = new Adam(value, opts.adam);
  /** V(s) per context from state features [rows, featureDim]. */
  const valueOf = (feats: tf.Tensor2D): tf.Tensor1D =>
    tf.tidy(() => {
      const hidden = linear(feats, value.get(`${VALUE_PREFIX}w1`) as tf.Tensor2D, value.get(`${VALUE_PREFIX}b1`) as tf.Tensor1D, true);
      return tf.reshape(linear(hidden, value.get(`${VALUE_PREFIX}w2`) as tf.Tensor2D, value.get(`${VALUE_PREFIX}b2`) as tf.Tensor1D), [-1]) as tf.Tensor1D;
    });
  return {
    groupSize: G,
    companion: { params: value, adam },
    targets({ prep, rollout, proxy }) {
      const v = readAll(tf.tidy(() => valueOf(model.stateFeatures(policy, prep))));
      const beta = opts.klCoef ?? 0;
      const penalised = beta > 0 ? klPenalisedReward(proxy, rollout.rolloutLogProb, rollout.refLogProb, beta) : undefined;
      const reward = penalised?.reward ?? proxy;
      const advantage = tf.tensor1d(valueBaselineAdvantages(reward, v, G));
      const rolloutLogProb = tf.tensor1d(Float32Array.from(rollout.rolloutLogProb));
      const proxyReward = tf.tensor1d(Float32Array.from(reward));
      return {
        diagnostics: { value_mean: mean(v), ...(penalised ? { kl_penalty: beta * penalised.meanLogRatio, penalised_reward: mean(reward) } : {}) },
        learnable: true,
        loss(catalogLogProbs) {
          const s = clippedSurrogateLoss(logProbsOf(catalogLogProbs, rollout.items, G), rolloutLogProb, advantage, opts.clip);
          const valueLoss = ppoValueLoss(valueOf(model.stateFeatures(policy, prep)), proxyReward, G);
          return { loss: ppoLoss(s.loss, valueLoss, opts.valueCoef), parts: { clip_frac: s.clipFraction, value_loss: valueLoss } };
        },
        dispose: () => tf.dispose([advantage, rolloutLogProb, proxyReward]),
      };
    },
    checkpointPart() {
      const st = adam.state();
      return { extra: { valueOptimizerStep: st.step }, params: value.toArrays(), optimizer: st.arrays };
    },
    restore(ck, updates, cannot) {
      if (updates === 0) return;
      if (![...ck.params.keys()].some((n) => n.startsWith(VALUE_PREFIX)))
        throw new ConfigError(`${cannot}: it holds no PPO value head (written by a version that did not save it)`, ['resume_from']);
      value.load(ck.params, `checkpoint ${ck.dir}`);
      const m = ck.meta;
      const step = typeof m.extra?.valueOptimizerStep === 'number' ? m.extra.valueOptimizerStep : (m.optimizer?.step ?? 0);
      adam.load(step, ck.optimizer);
    },
    dispose() {
      adam.dispose();
      value.dispose();
    },
  };
}
