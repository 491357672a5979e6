/**
 * Trajectory returns over a whole training input, for trajectory-level
 * Exp-RSFT inside a trainer (paper 000 §5, Eq. 20): R(τ) = Σ_t r_t over every
 * target of the trajectory, computed once before training, and the
 * statistics of R over trajectories (one value per trajectory) for the
 * standardisation R̃ = (R − μ)/σ and the global shift c = max R.
 *
 * A trainer's minibatch holds only some windows of a user's history, so the
 * sum of the user's rewards inside it is not R(τ); the objective is therefore
 * wrapped to receive each row's R from this table.
 */
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import type { ObjectiveBatch, ObjectiveGlobals, OfflineObjective } from '../core/objective.js';
import type { WeightingBatch } from './objective-types.js';
import { createOfflineObjective } from './registry.js';

/** Every training target's reward and trajectory key. */
export interface TrajectoryInput {
  rewards: ArrayLike<number>;
  groups: Int32Array;
}

export class TrajectoryTable {
  private constructor(private readonly totals: Map<number, number>) {}

  static fromTargets(input: TrajectoryInput): TrajectoryTable {
    const { rewards, groups } = input;
    if (rewards.length !== groups.length) throw new RangeError(`trajectory returns: ${rewards.length} rewards for ${groups.length} keys`);
    const totals = new Map<number, number>();
    for (let i = 0; i < groups.length; i++) {
      const r = rewards[i]!;
      if (!Number.isFinite(r)) throw new RangeError(`trajectory returns: target ${i} (trajectory ${groups[i]}) has the non-finite reward ${r}`);
      totals.set(groups[i]!, (totals.get(groups[i]!) ?? 0) + r);
    }
    return new TrajectoryTable(totals);
  }

  get trajectories(): number {
    return this.totals.size;
  }

  /** R(τ) of each row's trajectory. */
  returnsOf(groups: Int32Array): Float64Array {
    const out = new Float64Array(groups.length);
    for (let i = 0; i < groups.length; i++) {
      const R = this.totals.get(groups[i]!);
      if (R === undefined) throw new Error(`trajectory returns: trajectory ${groups[i]} was not in the training input`);
      out[i] = R;
    }
    return out;
  }

  /** Count, mean, population std, min and max of R over trajectories (no sketch: quantiles empty). */
  stats(): RewardStatsSummary {
    let n = 0;
    let mean = 0;
    let m2 = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const R of this.totals.values()) {
      n++;
      const d = R - mean;
      mean += d / n;
      m2 += d * (R - mean);
      if (R < min) min = R;
      if (R > max) max = R;
    }
    const variance = n > 0 ? m2 / n : 0;
    return { count: n, mean, variance, std: Math.sqrt(variance), min, max, quantiles: [], quantileRankError: 0, histogram: { edges: [], counts: [] } };
  }
}

/**
 * The objective `name` fed whole-trajectory returns: each batch's rows get R of
 * their trajectory from `table`. Its shift and scale come from `globals` when
 * given (a stats_path the user chose), else from the returns' own statistics
 * (the reward statistics of a pipeline describe one step, not a trajectory).
 */
export function trajectoryObjective(name: string, options: Record<string, unknown>, table: TrajectoryTable, globals?: ObjectiveGlobals): OfflineObjective {
  const inner = createOfflineObjective(name, options, globals ?? { rewardStats: table.stats() });
  return {
    name: inner.name,
    initialState: () => inner.initialState(),
    weigh(batch: ObjectiveBatch, state: unknown) {
      if (!batch.group) throw new Error(`${name}: the trainer passed no trajectory key (group) column`);
      const withReturn: WeightingBatch = { ...batch, trajectoryReturn: table.returnsOf(batch.group) };
      return inner.weigh(withReturn, state);
    },
  };
}
