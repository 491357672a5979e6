/**
 * How many checkpoints a trainer keeps under <output>/checkpoints/<method>/.
 *
 *   keep_last: N   keep the N most recent step-<n> directories (0 = all)
 *   keep_best: N   also keep the N with the lowest validation score recorded
 *                  in their checkpoint.json (train_sasrec: the validation nll
 *                  of the epoch they end; checkpoints without one are never
 *                  "best")
 *
 * The most recent checkpoint is always kept (a resume continues from it), and
 * so is every step listed in `protect` (the online trainer's step 0, its π₀).
 * With both at 0 (the default) every checkpoint is kept, as before; a run
 * that would then write more than MAX_UNBOUNDED_CHECKPOINTS directories is
 * refused before it starts.
 */
import * as fs from 'node:fs';
import { ConfigError } from '../core/config-schema.js';
import { listCheckpoints, readCheckpointMeta } from './checkpoint.js';
import { recoverInterruptedCheckpoints } from './checkpoint-recovery.js';

export interface RetentionPolicy {
  keepLast: number;
  keepBest: number;
}

export const MAX_UNBOUNDED_CHECKPOINTS = 1000;

export interface RetentionCandidate {
  step: number;
  /** Validation score, lower is better. */
  score?: number;
}

/** Steps to delete under `policy` (pure). */
export function stepsToPrune(candidates: readonly RetentionCandidate[], policy: RetentionPolicy, protect: ReadonlySet<number> = new Set()): number[] {
  if (policy.keepLast <= 0 && policy.keepBest <= 0) return [];
  const byStep = [...candidates].sort((a, b) => a.step - b.step);
  const keep = new Set<number>(protect);
  const latest = byStep.at(-1);
  if (latest) keep.add(latest.step);
  for (const c of byStep.slice(Math.max(0, byStep.length - policy.keepLast))) if (policy.keepLast > 0) keep.add(c.step);
  if (policy.keepBest > 0) {
    const scored = byStep.filter((c) => c.score !== undefined && Number.isFinite(c.score)).sort((a, b) => a.score! - b.score! || a.step - b.step);
    for (const c of scored.slice(0, policy.keepBest)) keep.add(c.step);
  }
  return byStep.filter((c) => !keep.has(c.step)).map((c) => c.step);
}

/** Delete the checkpoints under `root` that `policy` does not keep; returns the directories removed. */
export function pruneCheckpoints(root: string, policy: RetentionPolicy, protect: ReadonlySet<number> = new Set()): string[] {
  if (policy.keepLast <= 0 && policy.keepBest <= 0) return [];
  const list = listCheckpoints(root);
  const candidates = list.map((c) => {
    let score: number | undefined;
    if (policy.keepBest > 0) {
      try {
        const v = readCheckpointMeta(c.dir).validation;
        score = v && v.mode === 'max' ? -v.value : v?.value;
      } catch {
        score = undefined;
      }
    }
    return { step: c.step, score };
  });
  const drop = new Set(stepsToPrune(candidates, policy, protect));
  const removed: string[] = [];
  for (const c of list) {
    if (!drop.has(c.step)) continue;
    fs.rmSync(c.dir, { recursive: true, force: true });
    removed.push(c.dir);
  }
  return removed;
}

/**
 * Refuse, before training, a run that would write more than
 * MAX_UNBOUNDED_CHECKPOINTS checkpoint directories with no retention bound
 * (e.g. `epochs: 1e12`).
 */
export function checkCheckpointCount(label: string, planned: number, policy: RetentionPolicy, what: string): void {
  if (policy.keepLast > 0 || policy.keepBest > 0 || planned <= MAX_UNBOUNDED_CHECKPOINTS) return;
  throw new ConfigError(
    `${label}: ${what} would write ${planned >= 1e15 ? planned.toExponential(2) : planned} checkpoint directories (more than ${MAX_UNBOUNDED_CHECKPOINTS}); set keep_last (e.g. 5) to bound them, write them less often, or train for fewer epochs`,
    ['keep_last'],
  );
}

/**
 * What a trainer does with its checkpoint directory before it starts: refuse
 * an unbounded run that plans too many checkpoints, then restore or remove the
 * leftovers of interrupted writes. No-op when no checkpoints are written.
 */
export function prepareCheckpointRoot(root: string | undefined, label: string, planned: number, policy: RetentionPolicy, what: string): void {
  if (!root) return;
  checkCheckpointCount(label, planned, policy, what);
  recoverInterruptedCheckpoints(root);
}
