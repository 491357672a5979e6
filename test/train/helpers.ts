/**
 * Small fixtures for the training tests: a simulated examples log with a
 * learnable structure, and objectives written here (the trainer takes any
 * OfflineObjective; the real ones come from the weighting registry).
 */
import type { Batch, ListColumn } from '../../stages/core/batch.js';
import type { OfflineObjective } from '../../stages/core/objective.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { Rng } from '../../stages/train/rng.js';

export interface SimLog {
  batch: Batch;
  numItems: number;
}

/**
 * Users walk a ring of items: after item i the next item is i+1 (mod n) with
 * probability `follow`, otherwise uniform. Reward 1..5, higher when the walk
 * was followed. One example per interaction after the first (context = the
 * previous ≤ L items), all in the train split unless `splitLast`.
 */
export function simulateLog(opts: {
  users: number;
  length: number;
  numItems: number;
  seed: number;
  follow?: number;
  maxContext?: number;
  /** The last interaction is a test example (split 2). */
  splitLast?: boolean;
  /** The last two interactions are valid (1) and test (2) examples. */
  holdOut?: boolean;
}): SimLog {
  const { users, length, numItems, seed } = opts;
  const follow = opts.follow ?? 0.8;
  const L = opts.maxContext ?? 50;
  const rng = new Rng(seed, 99);
  const userId: number[] = [];
  const action: number[] = [];
  const reward: number[] = [];
  const ts: bigint[] = [];
  const split: number[] = [];
  const offsets: number[] = [0];
  const ctxItems: number[] = [];
  const ctxRewards: number[] = [];
  for (let u = 1; u <= users; u++) {
    const items: number[] = [];
    const rewards: number[] = [];
    let cur = 1 + rng.int(numItems - 1);
    for (let t = 0; t < length; t++) {
      const followed = t > 0 && rng.uniform() < follow;
      if (t > 0) cur = followed ? (cur % (numItems - 1)) + 1 : 1 + rng.int(numItems - 1);
      items.push(cur);
      rewards.push(followed ? 4 + rng.int(2) : 1 + rng.int(3));
    }
    for (let t = 1; t < length; t++) {
      userId.push(u);
      action.push(items[t]!);
      reward.push(rewards[t]!);
      ts.push(BigInt(u * 1000 + t));
      split.push((opts.splitLast || opts.holdOut) && t === length - 1 ? 2 : opts.holdOut && t === length - 2 ? 1 : 0);
      const s = Math.max(0, t - L);
      for (let q = s; q < t; q++) {
        ctxItems.push(items[q]!);
        ctxRewards.push(rewards[q]!);
      }
      offsets.push(ctxItems.length);
    }
  }
  const n = userId.length;
  const context: ListColumn<Int32Array> = { kind: 'list', offsets: Int32Array.from(offsets), values: Int32Array.from(ctxItems) };
  const contextRewards: ListColumn<Float32Array> = { kind: 'list', offsets: Int32Array.from(offsets), values: Float32Array.from(ctxRewards) };
  return {
    numItems,
    batch: {
      table: 'examples',
      numRows: n,
      columns: {
        user_id: Int32Array.from(userId),
        context,
        context_rewards: contextRewards,
        action: Int32Array.from(action),
        reward: Float32Array.from(reward),
        timestamp: BigInt64Array.from(ts),
        return: new Float32Array(n),
        split: Int8Array.from(split),
      },
    },
  };
}

/** BC: w = 1. */
export function bcObjective(): OfflineObjective<null> {
  return {
    name: 'bc',
    initialState: () => null,
    weigh: ({ reward }, state) => ({ result: { weight: new Float32Array(reward.length).fill(1), diagnostics: {} }, state }),
  };
}

/**
 * A stateful objective (like DRPO's P): w = exp((r − 5)/λ_t) with λ_t drifting
 * by batch, state = {batches, lambda}. Resume must restore it exactly.
 */
export function driftingObjective(): OfflineObjective<{ batches: number; lambda: number }> {
  return {
    name: 'drift',
    initialState: () => ({ batches: 0, lambda: 1 }),
    weigh: ({ reward }, state) => {
      const w = new Float32Array(reward.length);
      for (let i = 0; i < w.length; i++) w[i] = Math.exp((reward[i]! - 5) / state.lambda);
      const next = { batches: state.batches + 1, lambda: state.lambda * 1.07 + 0.013 };
      return { result: { weight: w, diagnostics: { lambda: state.lambda } }, state: next };
    },
  };
}

export function quietLog() {
  return memoryLogger();
}
