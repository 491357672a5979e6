/**
 * The sequence model as an offline training task: minibatches of training
 * rows (sequence-data.ts) → targets for the objective → the weighted
 * next-item loss (sasrec-loss.ts).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { OfflineTask, PreparedBatch } from './offline-trainer.js';
import type { ParamStore } from './params.js';
import { RNG_PURPOSE, streamFor } from './rng.js';
import type { SasrecConfig } from './sasrec.js';
import { sasrecStored } from './sasrec-codec.js';
import { sasrecLoss } from './sasrec-loss.js';
import { assembleMinibatch, type Minibatch, type SequenceSet } from './sequence-data.js';
import { NegativeSampler } from './softmax-output.js';

export interface SasrecTaskOptions {
  softmax: 'full' | 'sampled';
  /** Shared negatives per step (sampled softmax). */
  negatives: number;
  /** Proposal Q ∝ (count + 1)^alpha (sampled softmax). */
  negativeAlpha: number;
  rewardWeight: number;
  detachRewardHead: boolean;
  seed: number;
}

/** `rowOffset`: the batch is rows rowOffset.. of the step's minibatch (a data-parallel slice; dropout masks follow the whole minibatch). */
export type SasrecPrepared = PreparedBatch & { mb: Minibatch; rowOffset?: number };

export function sasrecTask(params: ParamStore, config: SasrecConfig, data: SequenceSet, opts: SasrecTaskOptions): OfflineTask<SasrecPrepared> {
  const sampler = opts.softmax === 'sampled' ? new NegativeSampler(config.numItems, data.targetCounts, opts.negativeAlpha) : undefined;
  return {
    stored: sasrecStored(config),
    params,
    numRows: data.numRows,
    prepare(rows: Int32Array): SasrecPrepared {
      const mb = assembleMinibatch(data, rows, config.maxLen);
      return { mb, rewards: mb.rewards, groups: mb.groups };
    },
    loss(batch: SasrecPrepared, weights: Float32Array, step: number) {
      const negatives = sampler ? sampler.sample(opts.negatives, streamFor(opts.seed, RNG_PURPOSE.negatives, step)) : undefined;
      const parts = sasrecLoss(
        params,
        config,
        batch.mb,
        weights,
        {
          softmax: opts.softmax,
          negatives,
          logQ: sampler?.logQ,
          rewardWeight: opts.rewardWeight,
          detachRewardHead: opts.detachRewardHead,
        },
        { seed: opts.seed, step, rowOffset: batch.rowOffset },
      );
      const extra: Record<string, tf.Scalar> = {};
      if (parts.rewardMse) extra.reward_mse = parts.rewardMse;
      return { loss: parts.loss, nll: parts.nll, extra, policyLoss: parts.policyLoss };
    },
  };
}
