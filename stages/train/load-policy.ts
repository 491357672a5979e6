/**
 * Load a trainer checkpoint directory as a policy for evaluation and for
 * online training: the sequence model (kind "sasrec": scores, log π, samples,
 * reward head) or the Gaussian embedding policy (kind "gaussian": scores by
 * inner product with μ(s), the catalog-restricted Gaussian's log π and
 * samples; no reward head). Starts a TensorFlow.js backend if none is active
 * (auto order, silently).
 */
import type { RankingScorer, RewardPredictor, SamplingPolicy } from '../core/policy.js';
import { activeBackend, initBackend } from './backend.js';
import { readCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { GaussianPolicy, gaussianParamsFromCheckpoint } from './gaussian-policy.js';
import { ParamStore } from './params.js';
import { createSasrecParams, type SasrecConfig } from './sasrec.js';
import { SasrecPolicy } from './sasrec-policy.js';
import { resolveCheckpointDir } from './stage-support.js';

export type LoadedPolicy = RankingScorer &
  Partial<RewardPredictor & SamplingPolicy> & { method: string; step: number; epoch: number; seed: number; dispose(): void };

/** Build the in-memory policy of a checkpoint already read. */
export function policyFromCheckpoint(ck: LoadedCheckpoint): SasrecPolicy | GaussianPolicy {
  if (ck.meta.kind === 'sasrec') {
    const config = ck.meta.model as unknown as SasrecConfig;
    const params: ParamStore = createSasrecParams(config, ck.meta.seed);
    params.load(ck.params, `checkpoint ${ck.dir}`);
    return new SasrecPolicy(params, config);
  }
  if (ck.meta.kind === 'gaussian') {
    const { params, config, itemEmbeddings } = gaussianParamsFromCheckpoint(ck);
    return new GaussianPolicy(params, config, itemEmbeddings);
  }
  throw new Error(`checkpoint ${ck.dir}: unknown model kind ${JSON.stringify(ck.meta.kind)}`);
}

/**
 * Load `dir` (a checkpoint directory, or a directory of step-<n> checkpoints:
 * the latest) as a policy. The labels (method, step, epoch, seed) come from
 * checkpoint.json.
 */
export async function loadPolicy(dir: string): Promise<LoadedPolicy> {
  if (!activeBackend()) await initBackend('auto');
  const ck = readCheckpoint(resolveCheckpointDir(dir, 'loadPolicy'));
  const policy = policyFromCheckpoint(ck);
  const labels = { method: ck.meta.method, step: ck.meta.step, epoch: ck.meta.epoch, seed: ck.meta.seed };
  if (policy instanceof SasrecPolicy && !policy.hasRewardHead) {
    // No reward head: do not advertise predictRewards.
    return Object.assign(
      {
        numItems: policy.numItems,
        scoreContexts: policy.scoreContexts.bind(policy),
        sample: policy.sample.bind(policy),
        logProbs: policy.logProbs.bind(policy),
        dispose: policy.dispose.bind(policy),
      },
      labels,
    );
  }
  return Object.assign(policy, labels);
}
