/**
 * Collects the columns the leave-last-out split needs (user_id, item_id,
 * timestamp, reward, optional session_id) from a stream of `interactions`
 * batches, copying each into its own typed array so nothing else of the input
 * (other columns, the IPC buffers they came in) stays alive. `finish()` joins
 * the chunks one column at a time, releasing each column's chunks as it goes.
 */
import type { Batch, Column, NumericColumn } from '../core/batch.js';
import { isListColumn, isNumericColumn } from '../core/batch.js';

/** The interaction log in memory, one typed array per column (row i is the i-th row received). */
export interface InteractionLog {
  n: number;
  user: Int32Array;
  item: Int32Array;
  /** int64 timestamps; compared through their 32-bit halves, never as BigInt. */
  timestamp: BigInt64Array;
  reward: Float32Array;
  session?: Int32Array;
}

const STAGE = 'split_sequences';

function numeric(b: Batch, name: string, batchIndex: number): NumericColumn {
  const c: Column | undefined = b.columns[name];
  if (c === undefined) {
    throw new Error(`${STAGE}: column "${name}" is missing from "${b.table}" batch ${batchIndex} (has: ${Object.keys(b.columns).join(', ') || 'none'})`);
  }
  if (Array.isArray(c)) throw new Error(`${STAGE}: column "${name}" holds text; map ids to dense integers first (the ingest vocabulary pass)`);
  if (isListColumn(c) || !isNumericColumn(c)) throw new Error(`${STAGE}: column "${name}" of batch ${batchIndex} must be a numeric column`);
  return c;
}

/** A copy of an integer id column as int32, rejecting fractions and values outside int32. */
export function toInt32Copy(c: NumericColumn, name: string, batchIndex: number): Int32Array {
  if (c instanceof Int32Array) return c.slice();
  const out = new Int32Array(c.length);
  for (let i = 0; i < c.length; i++) {
    const v = typeof c[i] === 'bigint' ? Number(c[i] as bigint) : (c[i] as number);
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new Error(`${STAGE}: column "${name}" of batch ${batchIndex}, row ${i}: ${String(c[i])} is not an int32 id`);
    }
    out[i] = v;
  }
  return out;
}

/** A copy of a timestamp column as int64 (BigInt64Array), written through 32-bit halves. */
export function toInt64Copy(c: NumericColumn, name: string, batchIndex: number): BigInt64Array {
  if (c instanceof BigInt64Array) return c.slice();
  const out = new BigInt64Array(c.length);
  const halves = new Int32Array(out.buffer);
  const src = c as Exclude<NumericColumn, BigInt64Array>;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (!Number.isSafeInteger(v)) throw new Error(`${STAGE}: column "${name}" of batch ${batchIndex}, row ${i}: ${v} is not an integer timestamp`);
    halves[2 * i] = v >>> 0;
    halves[2 * i + 1] = Math.floor(v / 4294967296);
  }
  return out;
}

function concatInt32(parts: Int32Array[], n: number): Int32Array {
  if (parts.length === 1 && parts[0]!.length === n) return parts[0]!;
  const out = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export class InteractionLogBuilder {
  private users: Int32Array[] = [];
  private items: Int32Array[] = [];
  private times: BigInt64Array[] = [];
  private rewards: Float32Array[] = [];
  private sessions: Int32Array[] = [];
  private hasSession: boolean | undefined;
  private batches = 0;
  n = 0;

  /**
   * Copy the needed columns of one batch. `useSession`: true requires
   * session_id, false ignores it, undefined uses it when the first non-empty
   * batch has it (and then requires it in every batch).
   */
  add(b: Batch, useSession?: boolean): void {
    const bi = this.batches++;
    if (b.numRows === 0) return;
    const user = toInt32Copy(numeric(b, 'user_id', bi), 'user_id', bi);
    const item = toInt32Copy(numeric(b, 'item_id', bi), 'item_id', bi);
    const ts = toInt64Copy(numeric(b, 'timestamp', bi), 'timestamp', bi);
    const r = numeric(b, 'reward', bi);
    const reward = r instanceof Float32Array ? r.slice() : r instanceof BigInt64Array ? Float32Array.from(r, Number) : Float32Array.from(r);
    this.hasSession ??= useSession ?? b.columns.session_id !== undefined;
    if (this.hasSession) {
      if (b.columns.session_id === undefined) {
        throw new Error(
          useSession
            ? `${STAGE}: return_by "session" needs a session_id column, missing from batch ${bi}`
            : `${STAGE}: batch ${bi} has no session_id column while earlier batches had one`,
        );
      }
      this.sessions.push(toInt32Copy(numeric(b, 'session_id', bi), 'session_id', bi));
    }
    this.users.push(user);
    this.items.push(item);
    this.times.push(ts);
    this.rewards.push(reward);
    this.n += b.numRows;
  }

  /** Join the chunks into one log; the builder is empty afterwards. */
  finish(): InteractionLog {
    const n = this.n;
    const user = concatInt32(this.users, n);
    this.users = [];
    const item = concatInt32(this.items, n);
    this.items = [];
    const timestamp = new BigInt64Array(n);
    let o = 0;
    for (const t of this.times) {
      timestamp.set(t, o);
      o += t.length;
    }
    this.times = [];
    const reward = new Float32Array(n);
    o = 0;
    for (const r of this.rewards) {
      reward.set(r, o);
      o += r.length;
    }
    this.rewards = [];
    const log: InteractionLog = { n, user, item, timestamp, reward };
    if (this.hasSession) log.session = concatInt32(this.sessions, n);
    this.sessions = [];
    this.n = 0;
    return log;
  }
}
