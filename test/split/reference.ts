/**
 * A brute-force, one-object-per-row implementation of the leave-last-out split,
 * written independently of the stage, to compare against on random logs.
 */
import type { Batch, ListColumn } from '../../stages/core/batch.js';

export interface Row {
  user: number;
  item: number;
  ts: bigint;
  reward: number;
  session?: number;
}

export interface Example {
  user: number;
  context: number[];
  contextRewards: number[];
  action: number;
  reward: number;
  ts: bigint;
  ret: number;
  split: number;
}

export interface RefOptions {
  maxLen: number;
  threshold: number | null;
  minContext: number;
  shortUsers: 'train' | 'drop';
  bySession: boolean;
}

export function bruteForceSplit(rows: Row[], o: RefOptions): Example[] {
  const byUser = new Map<number, Row[]>();
  for (const r of rows) {
    if (!byUser.has(r.user)) byUser.set(r.user, []);
    byUser.get(r.user)!.push(r);
  }
  const out: Example[] = [];
  for (const user of [...byUser.keys()].sort((a, b) => a - b)) {
    const seq = byUser
      .get(user)!
      .slice()
      .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const n = seq.length;
    if (n < 3 && o.shortUsers === 'drop') continue;
    const trainEnd = n < 3 ? n : n - 2;
    seq.forEach((r, j) => {
      const split = j < trainEnd ? 0 : j === n - 2 ? 1 : 2;
      const c = Math.min(j, o.maxLen);
      if (c < o.minContext) return;
      if (split > 0 && o.threshold !== null && !(r.reward >= o.threshold)) return;
      let ret = 0;
      for (let t = 0; t < trainEnd; t++) if (!o.bySession || seq[t]!.session === r.session) ret += seq[t]!.reward;
      const ctx = seq.slice(j - c, j);
      out.push({
        user,
        context: ctx.map((x) => x.item),
        contextRewards: ctx.map((x) => x.reward),
        action: r.item,
        reward: r.reward,
        ts: r.ts,
        ret: Math.fround(ret),
        split,
      });
    });
  }
  return out;
}

/** Example batches → one object per row (tests only). */
export function batchesToExamples(batches: Batch[]): Example[] {
  const out: Example[] = [];
  for (const b of batches) {
    const c = b.columns;
    const ctx = c.context as ListColumn;
    const ctxR = c.context_rewards as ListColumn;
    for (let i = 0; i < b.numRows; i++) {
      out.push({
        user: (c.user_id as Int32Array)[i]!,
        context: Array.from(ctx.values.subarray(ctx.offsets[i]!, ctx.offsets[i + 1]!) as Int32Array),
        contextRewards: Array.from(ctxR.values.subarray(ctxR.offsets[i]!, ctxR.offsets[i + 1]!) as Float32Array),
        action: (c.action as Int32Array)[i]!,
        reward: (c.reward as Float32Array)[i]!,
        ts: (c.timestamp as BigInt64Array)[i]!,
        ret: (c.return as Float32Array)[i]!,
        split: (c.split as Int8Array)[i]!,
      });
    }
  }
  return out;
}

/** Rows → interactions batches of the given sizes. */
export function rowsToBatches(rows: Row[], sizes: number[]): Batch[] {
  const out: Batch[] = [];
  let at = 0;
  for (const n of sizes) {
    const part = rows.slice(at, at + n);
    at += n;
    const columns: Batch['columns'] = {
      user_id: Int32Array.from(part, (r) => r.user),
      item_id: Int32Array.from(part, (r) => r.item),
      timestamp: BigInt64Array.from(part, (r) => r.ts),
      reward: Float32Array.from(part, (r) => r.reward),
    };
    if (part.length && part[0]!.session !== undefined) columns.session_id = Int32Array.from(part, (r) => r.session!);
    out.push({ table: 'interactions', numRows: part.length, columns });
  }
  return out;
}
