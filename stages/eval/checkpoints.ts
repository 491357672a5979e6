/**
 * What an evaluation stage evaluates: trained checkpoints (loaded by
 * `loadPolicy`, the model registry's policy loading: no trainer code) and named baselines, each a target with a stable id
 * for the evaluation state file and the labels its metric records carry.
 *
 * Checkpoints come from the stage's `checkpoints` option (directories) or,
 * by default, from ctx.artifacts 'checkpoints': the array trainer stages
 * publish, [{ method, dir, step, epoch, seed }]. An entry may also carry an
 * already loaded `policy` (a trainer's in-memory model, or a CLI that loaded
 * it); it is then used as is and not disposed.
 */
import * as path from 'node:path';
import type { RankingScorer, RewardPredictor, SamplingPolicy } from '../core/policy.js';
import type { StageContext } from '../core/stage.js';
import { loadPolicy } from '../train/load-policy.js';
import { findCheckpoints } from './find-checkpoints.js';
import { checkpointIdentity } from './content-identity.js';
import { ARTIFACT } from '../core/artifacts.js';

/** What evaluation may ask of a model: scores always; rewards and sampling where it has them. */
export type EvalScorer = RankingScorer & Partial<RewardPredictor & SamplingPolicy>;

/** A loaded checkpoint (the shape `loadPolicy` returns). */
export type EvalPolicy = EvalScorer & { method: string; step: number; epoch: number; seed: number; dispose?(): void };

export interface CheckpointRef {
  dir: string;
  method?: string;
  step?: number;
  epoch?: number;
  seed?: number;
  policy?: EvalPolicy;
}

/** Labels of a target's metric records. */
export interface TargetLabels {
  method: string;
  seed: number;
  step: number;
  epoch: number;
}

export interface EvalTarget {
  /** Identity in the evaluation state file. */
  id: string;
  /** Short name for messages. */
  name: string;
  /** Where it lives (a checkpoint directory); a later target of other content there replaces its numbers in the state. */
  path?: string;
  /** Load (once) and return the scorer. */
  load(): Promise<{ policy: EvalScorer; labels: TargetLabels }>;
  /** Free what load() created (a no-op for policies owned by someone else). */
  release(): void;
}

export const CHECKPOINTS_ARTIFACT = ARTIFACT.checkpoints;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An in-memory policy in an artifact entry: a catalog size and a scorer, at least. */
function isEvalPolicy(v: unknown): v is EvalPolicy {
  return isRecord(v) && typeof v.numItems === 'number' && typeof v.scoreContexts === 'function';
}

/** The checkpoints to evaluate: the option's directories, else the 'checkpoints' artifact. */
export function resolveCheckpoints(option: string[] | undefined, ctx: Pick<StageContext, 'artifacts'>, stage: string): CheckpointRef[] {
  // A listed directory may be one checkpoint or hold several (a method's
  // checkpoints/<method>/step-*/): every checkpoint below it is evaluated.
  if (option !== undefined) return option.flatMap((dir) => findCheckpoints(dir));
  const published = ctx.artifacts.get(CHECKPOINTS_ARTIFACT);
  if (published === undefined) return [];
  if (!Array.isArray(published)) throw new Error(`${stage}: artifact "${CHECKPOINTS_ARTIFACT}" must be an array of {method, dir, step, epoch, seed}`);
  return published.map((p, i) => {
    if (!isRecord(p) || typeof p.dir !== 'string') throw new Error(`${stage}: artifact "${CHECKPOINTS_ARTIFACT}"[${i}] needs a "dir" string`);
    const num = (k: string) => (typeof p[k] === 'number' ? (p[k] as number) : undefined);
    if (isRecord(p.policy) && !isEvalPolicy(p.policy))
      throw new Error(`${stage}: artifact "${CHECKPOINTS_ARTIFACT}"[${i}].policy needs numItems and scoreContexts (a ranking scorer)`);
    return {
      dir: p.dir,
      method: typeof p.method === 'string' ? p.method : undefined,
      step: num('step'),
      epoch: num('epoch'),
      seed: num('seed'),
      policy: isEvalPolicy(p.policy) ? p.policy : undefined,
    };
  });
}

/** Identity of a checkpoint in state files: its content (content-identity.ts), never its path. */
export function checkpointId(dir: string): string {
  return checkpointIdentity(dir);
}

/** A target that loads a checkpoint on first use. */
export function checkpointTarget(ref: CheckpointRef): EvalTarget {
  let loaded: Promise<{ policy: EvalPolicy; labels: TargetLabels }> | undefined;
  let owned: EvalPolicy | undefined;
  return {
    id: checkpointId(ref.dir),
    path: path.resolve(ref.dir),
    name: ref.method ? `${ref.method}@${ref.step ?? '?'} (${ref.dir})` : ref.dir,
    load() {
      loaded ??= (async () => {
        let policy = ref.policy;
        if (!policy) {
          policy = (await loadPolicy(ref.dir)) as EvalPolicy;
          owned = policy;
        }
        const labels: TargetLabels = {
          method: ref.method ?? policy.method,
          seed: ref.seed ?? policy.seed,
          step: ref.step ?? policy.step,
          epoch: ref.epoch ?? policy.epoch,
        };
        return { policy, labels };
      })();
      return loaded;
    },
    release() {
      owned?.dispose?.();
      owned = undefined;
      loaded = undefined;
    },
  };
}

/** A target around a scorer built in memory (a baseline). */
export function baselineTarget(id: string, labels: TargetLabels, make: () => EvalScorer): EvalTarget {
  return {
    id: `baseline:${id}`,
    name: id,
    async load() {
      return { policy: make(), labels };
    },
    release() {},
  };
}
