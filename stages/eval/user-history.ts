/**
 * Each user's whole history, for ranking with the history excluded (SPEC S7,
 * paper 000 §6): the context column of an example holds only the last L items,
 * so a user who consumed more than L items would be recommended items they
 * already had. This index keeps, from every row of the stream (any split), the
 * user, the timestamp and the action, and per user the context of their
 * earliest row (the items before their first example). The history of an
 * evaluation row (u, t) is then
 *
 *   {actions of u's rows with timestamp < t} ∪ {earliest context of u} ∪ {the row's own context}
 *
 * i.e. everything u interacted with before the target, never a later item.
 * Memory: 16 bytes per row plus the earliest contexts.
 */
import type { Batch, ListColumn } from '../core/batch.js';
import { numericColumn } from '../core/batch.js';
import { ConfigError } from '../core/config-schema.js';
import { contextsOf, int32Of } from './eval-rows.js';

interface UserEntries {
  ts: number[];
  items: number[];
  earliestTs: number;
  earliest: Int32Array;
  sorted: boolean;
}

const timestamps = (b: Batch): Float64Array => Float64Array.from(numericColumn(b, 'timestamp') as ArrayLike<number | bigint>, (v) => Number(v));

export class UserHistoryIndex {
  private readonly users = new Map<number, UserEntries>();

  /** Record every row of a batch (columns user_id, timestamp, action, context). */
  add(b: Batch): void {
    if (b.numRows === 0) return;
    for (const c of ['user_id', 'timestamp']) {
      if (!(c in b.columns))
        throw new ConfigError(
          `evaluate_ranking: history: full needs the column "${c}" in "${b.table}" batches; set history: context to exclude the context column's items only`,
          ['history'],
        );
    }
    const user = int32Of(b, 'user_id');
    const ts = timestamps(b);
    const action = int32Of(b, 'action');
    const ctx = contextsOf(b);
    for (let i = 0; i < b.numRows; i++) {
      let e = this.users.get(user[i]!);
      if (!e) this.users.set(user[i]!, (e = { ts: [], items: [], earliestTs: Infinity, earliest: new Int32Array(0), sorted: true }));
      if (e.ts.length && ts[i]! < e.ts[e.ts.length - 1]!) e.sorted = false;
      e.ts.push(ts[i]!);
      e.items.push(action[i]!);
      if (ts[i]! < e.earliestTs) {
        e.earliestTs = ts[i]!;
        e.earliest = ctx.values.slice(ctx.offsets[i]!, ctx.offsets[i + 1]!);
      }
    }
  }

  /** The items to exclude for each row of `rows` (columns user_id, timestamp, context), as a list column. */
  exclusions(rows: Batch): ListColumn<Int32Array> {
    const user = int32Of(rows, 'user_id');
    const ts = timestamps(rows);
    const ctx = contextsOf(rows);
    const offsets = new Int32Array(rows.numRows + 1);
    const values: number[] = [];
    for (let r = 0; r < rows.numRows; r++) {
      const e = this.users.get(user[r]!);
      if (e) {
        this.sort(e);
        for (let j = 0; j < e.ts.length && e.ts[j]! < ts[r]!; j++) values.push(e.items[j]!);
        for (const it of e.earliest) values.push(it);
      }
      for (let p = ctx.offsets[r]!; p < ctx.offsets[r + 1]!; p++) values.push(ctx.values[p]!);
      offsets[r + 1] = values.length;
    }
    return { kind: 'list', offsets, values: Int32Array.from(values) };
  }

  private sort(e: UserEntries): void {
    if (e.sorted) return;
    const order = e.ts.map((_t, i) => i).sort((a, b) => e.ts[a]! - e.ts[b]! || a - b);
    e.ts = order.map((i) => e.ts[i]!);
    e.items = order.map((i) => e.items[i]!);
    e.sorted = true;
  }
}
