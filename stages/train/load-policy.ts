/**
 * Load a trainer checkpoint directory as a policy for evaluation.
 * (Interim signature; the implementation follows with the checkpoint format.)
 */
import type { RankingScorer, RewardPredictor, SamplingPolicy } from '../core/policy.js';

export type LoadedPolicy = RankingScorer &
  Partial<RewardPredictor & SamplingPolicy> & { method: string; step: number; epoch: number; seed: number; dispose(): void };

export async function loadPolicy(dir: string): Promise<LoadedPolicy> {
  throw new Error(`loadPolicy: not available yet (${dir})`);
}
