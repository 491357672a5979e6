/**
 * Training data of the sequence model, built from `examples` batches
 * (schemas/tables.ts) and held as a few typed arrays.
 *
 * Two ways to turn examples into training rows:
 * - `sequence` (default): per user, the train examples sorted by time give the
 *   user's train history: the context of the earliest example followed by
 *   every example's action. The loss is taken at every position (predict item
 *   p from items < p), each target weighted through the objective with its own
 *   reward. Histories longer than max_len + 1 are cut into consecutive
 *   windows, aligned to the end (the most recent targets keep the longest
 *   context), so that every item after the first is a target exactly once.
 * - `last`: one row per train example: its context (the last max_len items)
 *   and its action, the loss at the last position only (one example = one
 *   target).
 *
 * A row is a run of item ids (oldest first) with the reward of each item, and
 * `targetFrom`: positions p ≥ targetFrom (and ≥ 1) are targets.
 */
import { column, isListColumn, numericColumn, type Batch, type ListColumn } from '../core/batch.js';

export type SequenceMode = 'sequence' | 'last';

export interface SequenceSet {
  /** Row r spans items[offsets[r] .. offsets[r+1]). */
  offsets: Int32Array;
  items: Int32Array;
  rewards: Float32Array;
  targetFrom: Int32Array;
  /** User of each row (the objective's trajectory group). */
  users: Int32Array;
  numRows: number;
  numTargets: number;
  /** Largest item id seen in any split, plus one. */
  numItemsSeen: number;
  /** Times each item is a target (proposal for sampled softmax). */
  targetCounts: Float64Array;
}

export interface Minibatch {
  B: number;
  T: number;
  /** [B·T] right-padded input ids. */
  inputIds: Int32Array;
  /** Flat position (b·T + p − 1) of each target in the input. */
  flatIndex: Int32Array;
  targets: Int32Array;
  rewards: Float64Array;
  groups: Int32Array;
}

function toNumberArray(c: ArrayLike<number | bigint>): Float64Array {
  const out = new Float64Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = Number(c[i]);
  return out;
}

function concatInt32(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatF32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatF64(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface Earliest {
  ts: number;
  seq: number;
  items: Int32Array;
  rewards: Float32Array;
}

/** Accumulates examples batch by batch; `finish` builds the training rows. */
export class ExampleCollector {
  private maxItem = 0;
  private seqCounter = 0;
  private rowsSeen = 0;
  // sequence mode: one entry per train example
  private readonly users: Int32Array[] = [];
  private readonly ts: Float64Array[] = [];
  private readonly seqs: Int32Array[] = [];
  private readonly actions: Int32Array[] = [];
  private readonly rewards: Float32Array[] = [];
  private readonly earliest = new Map<number, Earliest>();
  // held-out rows (split `heldOut`): contexts and targets, for a validation loss
  private readonly heldOffsets: number[] = [0];
  private readonly heldItems: number[] = [];
  private readonly heldTargets: number[] = [];
  // last mode: rows directly
  private readonly rowLens: Int32Array[] = [];
  private readonly rowItems: Int32Array[] = [];
  private readonly rowRewards: Float32Array[] = [];

  constructor(
    readonly mode: SequenceMode,
    readonly maxLen: number,
    /** Split codes used for training (0 = train). */
    readonly splits: readonly number[] = [0],
    /** Split code whose examples are kept as (context, target) pairs for a validation loss (−1 = none). */
    readonly heldOut = 1,
  ) {}

  /** The held-out examples: contexts (last maxLen items) and their targets. */
  heldOutRows(): { offsets: Int32Array; values: Int32Array; targets: Int32Array } {
    return { offsets: Int32Array.from(this.heldOffsets), values: Int32Array.from(this.heldItems), targets: Int32Array.from(this.heldTargets) };
  }

  get numItemsSeen(): number {
    return this.maxItem + 1;
  }

  get examplesSeen(): number {
    return this.rowsSeen;
  }

  add(batch: Batch): void {
    const n = batch.numRows;
    if (n === 0) return;
    this.rowsSeen += n;
    const ctx = column(batch, 'context');
    if (!isListColumn(ctx)) throw new Error(`"${batch.table}" batch: column "context" must be a list column`);
    const context = ctx as ListColumn<Int32Array>;
    const ctxR = batch.columns.context_rewards;
    const ctxRewards = isListColumn(ctxR) ? (ctxR as ListColumn).values : undefined;
    const action = numericColumn(batch, 'action');
    const reward = numericColumn(batch, 'reward');
    const user = numericColumn(batch, 'user_id');
    const split = batch.columns.split ? numericColumn(batch, 'split') : undefined;
    const tsCol = batch.columns.timestamp ? toNumberArray(numericColumn(batch, 'timestamp') as ArrayLike<number | bigint>) : undefined;
    for (let i = 0; i < action.length; i++) if ((action[i] as number) > this.maxItem) this.maxItem = action[i] as number;
    for (let i = 0; i < context.values.length; i++) if (context.values[i]! > this.maxItem) this.maxItem = context.values[i]!;

    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (!split || this.splits.includes(Number(split[i]))) if ((action[i] as number) > 0) keep.push(i);
    if (split && this.heldOut >= 0) {
      for (let i = 0; i < n; i++) {
        if (Number(split[i]) !== this.heldOut || !((action[i] as number) > 0)) continue;
        const e = context.offsets[i + 1]!;
        for (let q = Math.max(context.offsets[i]!, e - this.maxLen); q < e; q++) this.heldItems.push(context.values[q]!);
        this.heldOffsets.push(this.heldItems.length);
        this.heldTargets.push(Number(action[i]));
      }
    }
    if (keep.length === 0) {
      this.seqCounter += n;
      return;
    }
    if (this.mode === 'sequence') {
      const k = keep.length;
      const u = new Int32Array(k);
      const t = new Float64Array(k);
      const s = new Int32Array(k);
      const a = new Int32Array(k);
      const r = new Float32Array(k);
      keep.forEach((i, j) => {
        u[j] = Number(user[i]);
        t[j] = tsCol ? tsCol[i]! : 0;
        s[j] = this.seqCounter + i;
        a[j] = Number(action[i]);
        r[j] = Number(reward[i]);
        const cur = this.earliest.get(u[j]!);
        if (!cur || t[j]! < cur.ts || (t[j] === cur.ts && s[j]! < cur.seq)) {
          const o0 = context.offsets[i]!;
          const o1 = context.offsets[i + 1]!;
          const items = context.values.slice(o0, o1);
          const rw = new Float32Array(o1 - o0);
          if (ctxRewards) for (let q = o0; q < o1; q++) rw[q - o0] = Number(ctxRewards[q]);
          this.earliest.set(u[j]!, { ts: t[j]!, seq: s[j]!, items, rewards: rw });
        }
      });
      this.users.push(u);
      this.ts.push(t);
      this.seqs.push(s);
      this.actions.push(a);
      this.rewards.push(r);
    } else {
      const lens = new Int32Array(keep.length);
      let total = 0;
      keep.forEach((i, j) => {
        const len = Math.min(this.maxLen, context.offsets[i + 1]! - context.offsets[i]!) + 1;
        lens[j] = len;
        total += len;
      });
      const items = new Int32Array(total);
      const rw = new Float32Array(total);
      const us = new Int32Array(keep.length);
      let o = 0;
      keep.forEach((i, j) => {
        const e = context.offsets[i + 1]!;
        const s = e - (lens[j]! - 1);
        for (let q = s; q < e; q++) {
          items[o] = context.values[q]!;
          rw[o] = ctxRewards ? Number(ctxRewards[q]) : 0;
          o++;
        }
        items[o] = Number(action[i]);
        rw[o] = Number(reward[i]);
        o++;
        us[j] = Number(user[i]);
      });
      this.rowLens.push(lens);
      this.rowItems.push(items);
      this.rowRewards.push(rw);
      this.users.push(us);
    }
    this.seqCounter += n;
  }

  finish(): SequenceSet {
    return this.mode === 'sequence' ? this.finishSequences() : this.finishLast();
  }

  private finishLast(): SequenceSet {
    const lens = concatInt32(this.rowLens);
    const items = concatInt32(this.rowItems);
    const rewards = concatF32(this.rowRewards);
    const users = concatInt32(this.users);
    const numRows = lens.length;
    const offsets = new Int32Array(numRows + 1);
    const targetFrom = new Int32Array(numRows);
    for (let r = 0; r < numRows; r++) {
      offsets[r + 1] = offsets[r]! + lens[r]!;
      targetFrom[r] = Math.max(1, lens[r]! - 1);
    }
    return this.finalise(offsets, items, rewards, targetFrom, users);
  }

  private finishSequences(): SequenceSet {
    const users = concatInt32(this.users);
    const ts = concatF64(this.ts);
    const seqs = concatInt32(this.seqs);
    const actions = concatInt32(this.actions);
    const rewards = concatF32(this.rewards);
    const n = users.length;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => users[a]! - users[b]! || ts[a]! - ts[b]! || seqs[a]! - seqs[b]!);
    const outItems: Int32Array[] = [];
    const outRewards: Float32Array[] = [];
    const lens: number[] = [];
    const tFrom: number[] = [];
    const rowUsers: number[] = [];
    const window = this.maxLen + 1;
    let i = 0;
    while (i < n) {
      const u = users[order[i]!]!;
      let j = i;
      while (j < n && users[order[j]!] === u) j++;
      const first = this.earliest.get(u)!;
      const len = first.items.length + (j - i);
      const seq = new Int32Array(len);
      const rw = new Float32Array(len);
      seq.set(first.items, 0);
      rw.set(first.rewards, 0);
      for (let q = i; q < j; q++) {
        seq[first.items.length + q - i] = actions[order[q]!]!;
        rw[first.items.length + q - i] = rewards[order[q]!]!;
      }
      // Windows aligned to the end: [len − window, len), [len − 2·window + 1, len − window + 1), …
      // consecutive windows overlap by one item, which is a target in the later
      // window and the first input of the next one.
      const rows: [number, number][] = [];
      let end = len;
      while (end > 1) {
        const start = Math.max(0, end - window);
        rows.push([start, end]);
        end = start + 1;
        if (start === 0) break;
      }
      rows.reverse();
      for (const [s, e] of rows) {
        outItems.push(seq.subarray(s, e));
        outRewards.push(rw.subarray(s, e));
        lens.push(e - s);
        tFrom.push(1);
        rowUsers.push(u);
      }
      i = j;
    }
    const numRows = lens.length;
    const offsets = new Int32Array(numRows + 1);
    for (let r = 0; r < numRows; r++) offsets[r + 1] = offsets[r]! + lens[r]!;
    return this.finalise(offsets, concatInt32(outItems), concatF32(outRewards), Int32Array.from(tFrom), Int32Array.from(rowUsers));
  }

  private finalise(offsets: Int32Array, items: Int32Array, rewards: Float32Array, targetFrom: Int32Array, users: Int32Array): SequenceSet {
    const numRows = targetFrom.length;
    const counts = new Float64Array(this.maxItem + 1);
    let numTargets = 0;
    for (let r = 0; r < numRows; r++) {
      for (let p = Math.max(1, targetFrom[r]!); p < offsets[r + 1]! - offsets[r]!; p++) {
        counts[items[offsets[r]! + p]!]! += 1;
        numTargets++;
      }
    }
    return { offsets, items, rewards, targetFrom, users, numRows, numTargets, numItemsSeen: this.maxItem + 1, targetCounts: counts };
  }
}

/** Assemble the padded inputs and the targets of rows `rows`. */
export function assembleMinibatch(set: SequenceSet, rows: ArrayLike<number>, maxLen: number): Minibatch {
  const B = rows.length;
  let T = 1;
  let M = 0;
  for (let b = 0; b < B; b++) {
    const r = rows[b]!;
    const len = set.offsets[r + 1]! - set.offsets[r]!;
    T = Math.max(T, len - 1);
    M += Math.max(0, len - Math.max(1, set.targetFrom[r]!));
  }
  if (T > maxLen) throw new Error(`a training row has ${T} inputs, more than max_len ${maxLen}`);
  const inputIds = new Int32Array(B * T);
  const flatIndex = new Int32Array(M);
  const targets = new Int32Array(M);
  const rewards = new Float64Array(M);
  const groups = new Int32Array(M);
  let m = 0;
  for (let b = 0; b < B; b++) {
    const r = rows[b]!;
    const o = set.offsets[r]!;
    const len = set.offsets[r + 1]! - o;
    for (let p = 0; p < len - 1; p++) inputIds[b * T + p] = set.items[o + p]!;
    for (let p = Math.max(1, set.targetFrom[r]!); p < len; p++) {
      flatIndex[m] = b * T + p - 1;
      targets[m] = set.items[o + p]!;
      rewards[m] = set.rewards[o + p]!;
      groups[m] = set.users[r]!;
      m++;
    }
  }
  return { B, T, inputIds, flatIndex, targets, rewards, groups };
}
