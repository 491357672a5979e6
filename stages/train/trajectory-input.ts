/**
 * Every training target's reward and trajectory key (the user), over the whole
 * training input, in one pass: what trajectory-level objectives need to know
 * R(τ) of each trajectory before the first minibatch (paper 000 §5), since a
 * minibatch holds only some windows of a user's history.
 */
import type { TrajectoryInput } from '../weighting/trajectory-table.js';
import type { GaussianData } from './gaussian-task.js';
import type { SequenceSet } from './sequence-data.js';

/** The targets of a sequence set, as assembleMinibatch enumerates them (positions p ≥ max(1, targetFrom)). */
export function sequenceTrajectoryInput(set: SequenceSet): TrajectoryInput {
  const rewards = new Float64Array(set.numTargets);
  const groups = new Int32Array(set.numTargets);
  let m = 0;
  for (let r = 0; r < set.numRows; r++) {
    const o = set.offsets[r]!;
    const len = set.offsets[r + 1]! - o;
    for (let p = Math.max(1, set.targetFrom[r]!); p < len; p++) {
      rewards[m] = set.rewards[o + p]!;
      groups[m] = set.users[r]!;
      m++;
    }
  }
  if (m !== set.numTargets) throw new Error(`sequence set: counted ${m} targets, the set says ${set.numTargets}`);
  return { rewards, groups };
}

/** The Gaussian policy's rows: one target per row. */
export function gaussianTrajectoryInput(data: GaussianData): TrajectoryInput {
  return { rewards: data.rewards, groups: data.users };
}
