/**
 * The prompts of online training: one context per user, taken from the
 * `examples` stream.
 * - `train_last`: the user's whole train history (context + action of the
 *   user's latest train example): "what to recommend next".
 * - `valid` / `test`: the contexts of the held-out examples (history before
 *   the held-out target).
 */
import { column, isListColumn, numericColumn, type Batch, type ListColumn } from '../core/batch.js';
import { SPLIT_CODES } from '../../schemas/tables.js';
import type { OnlineContexts } from './online-context-batches.js';

export type ContextSource = 'train_last' | 'valid' | 'test';

interface Latest {
  ts: number;
  seq: number;
  items: Int32Array;
}

export class OnlineContextCollector {
  private readonly latest = new Map<number, Latest>();
  private seq = 0;
  maxItem = 0;

  constructor(
    readonly source: ContextSource,
    /** Keep at most this many most recent items per context. */
    readonly maxLen: number,
  ) {}

  add(b: Batch): void {
    const ctx = column(b, 'context');
    if (!isListColumn(ctx)) throw new Error(`"${b.table}" batch: column "context" must be a list column`);
    const context = ctx as ListColumn<Int32Array>;
    const action = numericColumn(b, 'action');
    const user = numericColumn(b, 'user_id');
    const split = b.columns.split ? numericColumn(b, 'split') : undefined;
    const ts = b.columns.timestamp ? numericColumn(b, 'timestamp') : undefined;
    const want = this.source === 'train_last' ? SPLIT_CODES.train : SPLIT_CODES[this.source];
    for (let i = 0; i < b.numRows; i++) {
      const a = Number(action[i]);
      if (a > this.maxItem) this.maxItem = a;
      const seq = this.seq++;
      if ((split ? Number(split[i]) : 0) !== want) continue;
      const u = Number(user[i]);
      const t = ts ? Number(ts[i]) : seq;
      const cur = this.latest.get(u);
      if (cur && (cur.ts > t || (cur.ts === t && cur.seq > seq))) continue;
      const s = context.offsets[i]!;
      const e = context.offsets[i + 1]!;
      const full = this.source === 'train_last' ? Int32Array.from([...context.values.subarray(s, e), a]) : context.values.slice(s, e);
      this.latest.set(u, { ts: t, seq, items: full.length > this.maxLen ? full.slice(full.length - this.maxLen) : full });
    }
    for (let j = 0; j < context.values.length; j++) if (context.values[j]! > this.maxItem) this.maxItem = context.values[j]!;
  }

  finish(): OnlineContexts {
    const users = [...this.latest.keys()].sort((a, b) => a - b);
    const offsets = new Int32Array(users.length + 1);
    users.forEach((u, i) => (offsets[i + 1] = offsets[i]! + this.latest.get(u)!.items.length));
    const values = new Int32Array(offsets[users.length]!);
    users.forEach((u, i) => values.set(this.latest.get(u)!.items, offsets[i]!));
    return { offsets, values, users: Int32Array.from(users), rows: users.length };
  }
}
