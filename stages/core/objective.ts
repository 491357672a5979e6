/**
 * Contracts shared by the objective stages (stages/weighting) and the trainers
 * (stages/train): the math is a pure function of columns and explicit state,
 * so the same objective runs as a stream stage, inside a trainer's epoch loop,
 * in a unit test and in a benchmark.
 */
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';

/** Columns an offline objective reads for one batch of N examples. */
export interface ObjectiveBatch {
  /** Observed reward per example. */
  reward: Float64Array;
  /** Trajectory key per example (session or user), for trajectory-level weights. */
  group?: Int32Array;
}

/** Weight column (loss = −(1/N) Σ w·log π) and diagnostics for one batch. */
export interface ObjectiveResult {
  weight: Float32Array;
  /** The (shaped) advantage where the objective has one (AWR, DRPO, APG…). */
  advantage?: Float32Array;
  /** 1 where the example is kept by a hard filter (top-κ, DRPO). */
  kept?: Uint8Array;
  /**
   * Weight the trainer should give a rejected example if it were applied,
   * for DRPO's "phantom gradient" monitor (measured, never applied).
   */
  phantomWeight?: Float32Array;
  /** Named numbers emitted as metric records (P, nu, kept, ess, w_min, w_mean, w_max…). */
  diagnostics: Record<string, number>;
}

/** Global facts an objective may need, fixed before the pass starts. */
export interface ObjectiveGlobals {
  rewardStats?: RewardStatsSummary;
}

export interface OfflineObjective<S = unknown> {
  readonly name: string;
  initialState(): S;
  /** Pure: the same batch and state give the same result and next state. */
  weigh(batch: ObjectiveBatch, state: S): { result: ObjectiveResult; state: S };
}

// Each objective's state type is its own; callers only pass it back to weigh().
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OfflineObjectiveFactory = (config: Record<string, unknown>, globals: ObjectiveGlobals) => OfflineObjective<any>;

/**
 * Grouped online shaping (SPEC S5): nGroups contexts × G candidates, flattened
 * group-major (candidate k of group g at g*G + k).
 */
export interface GroupShapingInput {
  groupSize: number;
  /** Proxy reward r̂ of each candidate (reward model or simulator proxy). */
  proxyReward: Float64Array;
  /** log π̄(y_k|x) of the frozen rollout policy. */
  rolloutLogProb: Float64Array;
  /** log π₀(y_k|x) of the initial/reference policy (dynamic budget's KL). */
  refLogProb?: Float64Array;
  /** Exact KL(π̄‖π₀) per group where the catalog is finite (better estimator). */
  exactKl?: Float64Array;
}

export interface GroupShapingResult {
  /** r̃ after the bonus or correction. */
  shapedReward: Float64Array;
  /** GRPO advantage (r̃ − mean_g)/(std_g + 1e-8). */
  advantage: Float64Array;
  diagnostics: Record<string, number>;
}

export interface GroupShaper<S = unknown> {
  readonly name: string;
  initialState(): S;
  shape(input: GroupShapingInput, state: S): { result: GroupShapingResult; state: S };
}

// Each shaper's state type is its own; callers only pass it back.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GroupShaperFactory = (config: Record<string, unknown>) => GroupShaper<any>;
