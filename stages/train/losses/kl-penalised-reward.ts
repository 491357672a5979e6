/**
 * The KL-penalised reward of RLHF's PPO (Stiennon et al., 2020, Eq. 2;
 * Ouyang et al., 2022), the PPO baseline of paper 000 §6. Per sampled
 * recommendation y_k of context s (one step of the one-step episode: the
 * recommendation bandit's "token"), the proxy reward is reduced by β times
 * the log-ratio of the rollout policy π̄ to the frozen reference π_ref:
 *
 *   r̃_k = r̂_k − β · (log π̄(y_k | s) − log π_ref(y_k | s)).
 *
 * Since y_k ~ π̄, the mean of the log-ratio is an unbiased estimate of
 * KL(π̄(·|s) ‖ π_ref(·|s)), so maximising E[r̃] maximises E[r̂] − β·KL: the
 * objective of paper 000 Eq. (3) with the learned reward head in place of the
 * observed reward. β = 0 returns the proxy reward unchanged.
 */

export interface KlPenalisedReward {
  /** r̃_k per candidate. */
  reward: Float64Array;
  /** Mean of log π̄(y_k) − log π_ref(y_k) over the candidates (the sampled KL estimate). */
  meanLogRatio: number;
}

/** r̃ = r̂ − β·(log π̄ − log π_ref), element by element (all three arrays pair up). */
export function klPenalisedReward(proxy: ArrayLike<number>, rolloutLogProb: ArrayLike<number>, refLogProb: ArrayLike<number>, beta: number): KlPenalisedReward {
  const n = proxy.length;
  if (rolloutLogProb.length !== n || refLogProb.length !== n)
    throw new Error(`klPenalisedReward: ${n} rewards for ${rolloutLogProb.length} rollout and ${refLogProb.length} reference log-probabilities`);
  if (!(beta >= 0)) throw new Error(`klPenalisedReward: β must be ≥ 0, got ${beta}`);
  const reward = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const logRatio = rolloutLogProb[i]! - refLogProb[i]!;
    sum += logRatio;
    reward[i] = proxy[i]! - beta * logRatio;
  }
  return { reward, meanLogRatio: n ? sum / n : 0 };
}
