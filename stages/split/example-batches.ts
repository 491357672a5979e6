/**
 * Cut `examples` batches (schemas/tables.ts) from a split plan, lazily: one
 * batch of at most `batchSize` rows is built per request, so the N × L context
 * lists never exist all at once. Because the plan's arrays are in (user, time)
 * order, a target's context is a contiguous slice of them and is copied with
 * one `set` per list. Rows come out user by user, in time order (a user's
 * train targets, then validation, then test).
 */
import type { Batch } from '../core/batch.js';
import type { SplitPlan } from './leave-last-out.js';

export function* exampleBatches(plan: SplitPlan, batchSize = 65536): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  const L = plan.maxLen;
  const total = plan.counts.examples[0] + plan.counts.examples[1] + plan.counts.examples[2];
  let remaining = total;
  const { runStart, runUser, item, reward, role, ret } = plan;
  const ts32 = new Int32Array(plan.timestamp.buffer, plan.timestamp.byteOffset, plan.timestamp.length * 2);

  let cap = 0;
  let rows = 0;
  let vals = 0;
  let userCol!: Int32Array;
  let actionCol!: Int32Array;
  let rewardCol!: Float32Array;
  let tsCol!: BigInt64Array;
  let tsOut!: Int32Array;
  let retCol!: Float32Array;
  let splitCol!: Int8Array;
  let offsets!: Int32Array;
  let ctxItems!: Int32Array;
  let ctxRewards!: Float32Array;
  const start = () => {
    cap = Math.min(batchSize, remaining);
    rows = 0;
    vals = 0;
    userCol = new Int32Array(cap);
    actionCol = new Int32Array(cap);
    rewardCol = new Float32Array(cap);
    tsCol = new BigInt64Array(cap);
    tsOut = new Int32Array(tsCol.buffer);
    retCol = new Float32Array(cap);
    splitCol = new Int8Array(cap);
    offsets = new Int32Array(cap + 1);
    ctxItems = new Int32Array(cap * L);
    ctxRewards = new Float32Array(cap * L);
  };
  const finish = (): Batch => {
    remaining -= rows;
    // Shrink the list values when they fill less than half the reserved space.
    const items = vals * 2 < ctxItems.length ? ctxItems.slice(0, vals) : ctxItems.subarray(0, vals);
    const rws = vals * 2 < ctxRewards.length ? ctxRewards.slice(0, vals) : ctxRewards.subarray(0, vals);
    return {
      table: 'examples',
      numRows: rows,
      columns: {
        user_id: userCol,
        context: { kind: 'list', offsets, values: items },
        context_rewards: { kind: 'list', offsets, values: rws },
        action: actionCol,
        reward: rewardCol,
        timestamp: tsCol,
        return: retCol,
        split: splitCol,
      },
    };
  };

  if (remaining === 0) return;
  start();
  for (let u = 0; u < runUser.length; u++) {
    const s = runStart[u]!;
    const e = runStart[u + 1]!;
    const user = runUser[u]!;
    for (let p = s; p < e; p++) {
      const split = role[p]!;
      if (split < 0) continue;
      const from = Math.max(s, p - L);
      const c = p - from;
      if (c <= 8) {
        for (let q = 0; q < c; q++) {
          ctxItems[vals + q] = item[from + q]!;
          ctxRewards[vals + q] = reward[from + q]!;
        }
      } else {
        ctxItems.set(item.subarray(from, p), vals);
        ctxRewards.set(reward.subarray(from, p), vals);
      }
      vals += c;
      userCol[rows] = user;
      actionCol[rows] = item[p]!;
      rewardCol[rows] = reward[p]!;
      tsOut[2 * rows] = ts32[2 * p]!;
      tsOut[2 * rows + 1] = ts32[2 * p + 1]!;
      retCol[rows] = ret[p]!;
      splitCol[rows] = split;
      rows++;
      offsets[rows] = vals;
      if (rows === cap) {
        yield finish();
        if (remaining === 0) return;
        start();
      }
    }
  }
}
