/**
 * What turns a scored rollout into an update, one per family of online
 * algorithms: group shaping (GRPO, DRRO, DRO: group-advantages.ts), PPO's
 * value baseline (ppo-value-baseline.ts) and online DPO's preference pairs
 * (dpo-pairs.ts). The trainer (online-trainer.ts) only samples, scores, asks
 * its source for the loss, steps and logs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Adam } from './adam.js';
import type { LoadedCheckpoint } from './checkpoint.js';
import type { ContextBatch } from './online-model.js';
import type { Rollout } from './online-rollout.js';
import type { NamedArray, ParamStore } from './params.js';

/** One update's rollout with its proxy rewards. */
export interface ScoredRollout<P> {
  update: number;
  batch: ContextBatch;
  /** The model's prepared form of `batch`. */
  prep: P;
  rollout: Rollout;
  /** r̂ of candidate rollout.items[i]. */
  proxy: Float64Array;
}

/** The loss the inner steps minimise, built inside the gradient scope, and named parts reported with it. */
export interface StepLoss {
  loss: tf.Scalar;
  parts: Record<string, tf.Scalar>;
}

/** What one scored rollout gives the inner steps. */
export interface UpdateTargets {
  /** Per-rollout figures, recorded before the loss's (shaped_reward and the shaper's diagnostics, value_mean, dpo_pairs). */
  diagnostics: Record<string, number>;
  /** False when the rollout gives nothing to learn (online DPO without a single preference): no inner steps. */
  learnable: boolean;
  /** The loss as a function of π_θ's catalog log-probabilities on the batch [rows, V]. */
  loss(catalogLogProbs: tf.Tensor2D): StepLoss;
  /** Free the constants held for the inner steps. */
  dispose(): void;
}

/** Parameters an algorithm trains beside the policy (PPO's value head), with their optimiser. */
export interface CompanionParams {
  params: ParamStore;
  adam: Adam;
}

/** What an algorithm adds to a checkpoint. */
export interface CheckpointPart {
  /** The `objectiveState` of checkpoint.json (the shaper's state, e.g. the dynamic budget's KL window). */
  objectiveState?: unknown;
  /** Entries of checkpoint.json's `extra`. */
  extra: Record<string, unknown>;
  params: NamedArray[];
  optimizer: NamedArray[];
}

export interface AdvantageSource<P> {
  /** Candidates drawn per context. */
  readonly groupSize: number;
  readonly companion?: CompanionParams;
  targets(scored: ScoredRollout<P>): UpdateTargets;
  checkpointPart(): CheckpointPart;
  /** Continue from a checkpoint after `updates` updates; `cannot` prefixes error messages. */
  restore(ck: LoadedCheckpoint, updates: number, cannot: string): void;
  dispose(): void;
}
