/**
 * Which reward model judges "Avg Reward" (paper 000 §6) when none is named.
 * Every checkpoint must be judged by the same reward model, or methods are
 * scored by different judges (a post-trained checkpoint's own head has moved
 * with its policy). The default is the reward head of the last BC checkpoint
 * (the model every post-training method starts from); without a BC
 * checkpoint, the first published checkpoint that has a reward head (the
 * initial policy of whatever follows it).
 */
import { readCheckpointMeta } from '../train/checkpoint.js';
import type { CheckpointRef } from './checkpoints.js';

export interface JudgeCandidate {
  dir: string;
  method: string | undefined;
  step: number | undefined;
  hasRewardHead: boolean;
}

/** The default judge among checkpoints in publish order, or undefined when none has a reward head. */
export function chooseDefaultJudge<C extends JudgeCandidate>(candidates: readonly C[]): C | undefined {
  let bc: C | undefined;
  for (const c of candidates) {
    if (c.hasRewardHead && c.method === 'bc' && (bc === undefined || (c.step ?? -1) >= (bc.step ?? -1))) bc = c;
  }
  return bc ?? candidates.find((c) => c.hasRewardHead);
}

/** A checkpoint reference as a judge candidate: method, step and reward head from the reference or the checkpoint's metadata. */
export function judgeCandidate(ref: CheckpointRef): JudgeCandidate & { ref: CheckpointRef } {
  if (ref.policy)
    return {
      ref,
      dir: ref.dir,
      method: ref.method ?? ref.policy.method,
      step: ref.step ?? ref.policy.step,
      hasRewardHead: typeof ref.policy.predictRewards === 'function',
    };
  const meta = readCheckpointMeta(ref.dir);
  const model = meta.model as { rewardHead?: unknown } | undefined;
  return { ref, dir: ref.dir, method: ref.method ?? meta.method, step: ref.step ?? meta.step, hasRewardHead: model?.rewardHead === true };
}

/** How a judge is named in logs and captions: `method@step (dir)`. */
export function judgeName(c: Pick<JudgeCandidate, 'dir' | 'method' | 'step'>): string {
  return `${c.method ?? '?'}@${c.step ?? '?'} (${c.dir})`;
}
