/**
 * Checkpoints of the online trainer: after update u, the policy (with the
 * model's constant arrays), its Adam moments, what the algorithm keeps (the
 * shaper's state; PPO's value head and its Adam state) and u. Resuming
 * checks that the checkpoint is of the same algorithm, seed and contexts.
 */
import * as path from 'node:path';
import { ConfigError } from '../core/config-schema.js';
import type { Adam, AdamConfig } from './adam.js';
import type { CheckpointPart } from './advantage-source.js';
import { listCheckpoints, readCheckpointMeta, writeCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import type { StoredModel } from './model-entry.js';
import type { CheckpointInfo } from './offline-trainer.js';
import type { NamedArray, ParamStore } from './params.js';

/** What identifies a run's checkpoints. */
export interface OnlineRunIdentity {
  algorithm: string;
  method: string;
  seed: number;
  adam: AdamConfig;
  trainerConfig?: Record<string, unknown>;
  /** Constant arrays stored with the parameters (the Gaussian policy's catalog embeddings). */
  extraArrays?: NamedArray[];
  /** The training configuration a resume must repeat (resume-check.ts). */
  trainingConfig?: Record<string, unknown>;
}

/** Write <root>/step-<updates>/ and describe it. */
export function writeOnlineCheckpoint(
  root: string,
  updates: number,
  run: OnlineRunIdentity,
  stored: StoredModel,
  contexts: number,
  policy: ParamStore,
  adam: Adam,
  part: CheckpointPart,
): CheckpointInfo {
  const dir = path.join(root, `step-${updates}`);
  const st = adam.state();
  writeCheckpoint(
    dir,
    {
      kind: stored.kind,
      method: run.method,
      model: stored.config,
      trainer: run.trainerConfig,
      step: updates,
      epoch: 0,
      seed: run.seed,
      position: { epoch: 0, batch: updates, rows: contexts },
      objectiveState: part.objectiveState,
      rng: { seed: run.seed, step: updates, epoch: 0, batch: updates },
      optimizer: { kind: 'adam', step: st.step, config: { ...run.adam } },
      extra: { algorithm: run.algorithm, updates, ...part.extra },
      ...(run.trainingConfig ? { training: run.trainingConfig } : {}),
    },
    // An algorithm's own parameters go after the policy's, named apart (value/…); a policy loader ignores them.
    [...policy.toArrays(), ...(run.extraArrays ?? []), ...part.params],
    [...st.arrays, ...part.optimizer],
  );
  return { method: run.method, dir, step: updates, epoch: 0, seed: run.seed };
}

/** Load the policy and its Adam state from `resume` after checking it continues this run; returns the updates it had done. */
export function restorePolicy(resume: LoadedCheckpoint, run: OnlineRunIdentity, contexts: number, policy: ParamStore, adam: Adam, cannot: string): number {
  const m = resume.meta;
  const algorithm = m.extra?.algorithm;
  if (algorithm !== run.algorithm)
    throw new ConfigError(`${cannot}: it is ${typeof algorithm === 'string' ? `a ${algorithm}` : 'not an online'} checkpoint, this run is ${run.algorithm}`, [
      'resume_from',
    ]);
  if (m.seed !== run.seed)
    throw new ConfigError(`${cannot}: it was trained with seed ${m.seed}, this run has seed ${run.seed} (resume needs the same seed)`, ['resume_from']);
  if (m.position && m.position.rows !== contexts)
    throw new ConfigError(`${cannot}: it was trained on ${m.position.rows} contexts, this data has ${contexts} (resume needs the same contexts)`, [
      'resume_from',
    ]);
  const updates = typeof m.extra?.updates === 'number' ? m.extra.updates : m.step;
  policy.load(resume.params, `checkpoint ${resume.dir}`);
  if (m.optimizer) adam.load(m.optimizer.step, resume.optimizer);
  else if (updates > 0) throw new ConfigError(`${cannot}: it holds no optimiser state`, ['resume_from']);
  return updates;
}

/** The checkpoints of the resumed series up to the resume point (same directory of step-<n>, same method), step ascending. */
export function earlierCheckpoints(resume: LoadedCheckpoint, run: Pick<OnlineRunIdentity, 'method' | 'seed'>, upTo: number): CheckpointInfo[] {
  const out: CheckpointInfo[] = [];
  for (const c of listCheckpoints(path.dirname(resume.dir))) {
    if (c.step > upTo) continue;
    const m = path.resolve(c.dir) === path.resolve(resume.dir) ? resume.meta : readCheckpointMeta(c.dir);
    if (m.method !== resume.meta.method) continue;
    out.push({ method: run.method, dir: c.dir, step: c.step, epoch: 0, seed: run.seed });
  }
  if (!out.some((c) => path.resolve(c.dir) === path.resolve(resume.dir)))
    out.push({ method: run.method, dir: resume.dir, step: upTo, epoch: 0, seed: run.seed });
  return out;
}
