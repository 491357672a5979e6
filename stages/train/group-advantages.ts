/**
 * The advantage source of the grouped algorithms (GRPO, DRRO hard/soft, DRO;
 * paper 004 Algorithms 1–4): the group shaper turns the proxy rewards of each
 * context's G candidates into shaped rewards and within-group normalised
 * advantages (its state, e.g. the dynamic budget's KL window, carried from
 * update to update and kept in checkpoints); the loss is the clipped
 * surrogate (paper 004 Eq. 4.2).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GroupShaper } from '../core/objective.js';
import type { AdvantageSource } from './advantage-source.js';
import { clippedSurrogateLoss } from './losses/clipped-surrogate.js';
import { mean } from './online-records.js';
import { logProbsOf } from './online-rollout.js';

export function groupAdvantages<P>(shaper: GroupShaper<unknown>, groupSize: number, clip: number): AdvantageSource<P> {
  let state: unknown = shaper.initialState();
  return {
    groupSize,
    targets({ rollout, proxy }) {
      const shaped = shaper.shape(
        { groupSize, proxyReward: proxy, rolloutLogProb: rollout.rolloutLogProb, refLogProb: rollout.refLogProb, exactKl: rollout.exactKl },
        state,
      );
      state = shaped.state;
      const advantage = tf.tensor1d(Float32Array.from(shaped.result.advantage));
      const rolloutLogProb = tf.tensor1d(Float32Array.from(rollout.rolloutLogProb));
      return {
        diagnostics: { shaped_reward: mean(shaped.result.shapedReward), ...shaped.result.diagnostics },
        learnable: true,
        loss(catalogLogProbs) {
          const s = clippedSurrogateLoss(logProbsOf(catalogLogProbs, rollout.items, groupSize), rolloutLogProb, advantage, clip);
          return { loss: s.loss, parts: { clip_frac: s.clipFraction } };
        },
        dispose: () => tf.dispose([advantage, rolloutLogProb]),
      };
    },
    checkpointPart: () => ({ objectiveState: state, extra: {}, params: [], optimizer: [] }),
    restore(ck) {
      if (ck.meta.objectiveState !== undefined) state = ck.meta.objectiveState;
    },
    dispose() {},
  };
}
