/**
 * Load a trainer checkpoint directory as a policy, for evaluation and the
 * library API: the model registry finds the checkpoint's model by its kind
 * (model-registry.ts), which builds the policy (the sequence model: scores,
 * log π, samples, reward head; the Gaussian embedding policy: scores by
 * inner product with μ(s), the catalog-restricted Gaussian's log π and
 * samples). Starts a TensorFlow.js backend if none is active (auto order,
 * silently). No trainer code is reachable from here (tested).
 */
import { activeBackend, initBackend } from './backend.js';
import { readCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { resolveCheckpointDir } from './checkpoint-dir.js';
import type { ModelPolicy } from './model-entry.js';
import { checkpointModel } from './model-registry.js';

export type LoadedPolicy = ModelPolicy & { method: string; step: number; epoch: number; seed: number };

/** Build the in-memory policy of a checkpoint already read. */
export function policyFromCheckpoint(ck: LoadedCheckpoint): ModelPolicy {
  return checkpointModel(ck.meta, ck.dir).policy(ck);
}

/**
 * Load `dir` (a checkpoint directory, or a directory of step-<n> checkpoints:
 * the latest) as a policy. The labels (method, step, epoch, seed) come from
 * checkpoint.json.
 */
export async function loadPolicy(dir: string): Promise<LoadedPolicy> {
  if (!activeBackend()) await initBackend('auto');
  const ck = readCheckpoint(resolveCheckpointDir(dir, 'loadPolicy'));
  const labels = { method: ck.meta.method, step: ck.meta.step, epoch: ck.meta.epoch, seed: ck.meta.seed };
  return Object.assign(policyFromCheckpoint(ck), labels);
}
