/**
 * The papers' leave-last-out protocol (SPEC S1), as plain functions on typed
 * arrays.
 *
 * Per user, rows sorted by timestamp (stable: ties keep input order):
 *   - the last interaction is the test target (split 2), the one before the
 *     validation target (1), every earlier one a train target (0);
 *   - a target's context is the up-to-L interactions right before it, oldest
 *     first, with their rewards. Train contexts hold only train interactions;
 *     the validation context holds train ones; the test context also holds the
 *     validation interaction (the usual SASRec convention);
 *   - a target needs at least `minContext` context items (default 1: a user's
 *     first interaction is never a target); targets dropped for it are
 *     counted per split;
 *   - validation and test targets are kept only if reward ≥ threshold
 *     (4.5 on 1–5 ratings: 5 stars); the excluded ones are counted, and their
 *     interactions stay in later contexts (the excluded validation item is
 *     still part of the test context). threshold = null keeps all;
 *   - users with fewer than 3 interactions cannot give train, valid and test
 *     targets: `shortUsers: 'train'` (default, as SASRec) makes every one of
 *     their interactions a train target; 'drop' leaves them out (counted).
 *
 * Return (trajectory reward, paper 000 §5): by user, the sum of the user's
 * train rewards, written on every example of the user (valid and test
 * rewards never enter a return, so nothing leaks from the held-out targets);
 * by session, the sum of the train rewards of the target's session (within
 * the user), again on every example. 'auto' means session when a session_id
 * column is present, else user.
 */
import type { InteractionLog } from './interaction-log.js';
import { sortByUserThenTime } from './sort-by-user-time.js';

export type ShortUserPolicy = 'train' | 'drop';
export type ReturnBy = 'user' | 'session';

export interface LeaveLastOutOptions {
  /** L: most context items per example (default 50). */
  maxLen?: number;
  /** Validation/test targets need reward ≥ threshold; null keeps all (default 4.5). */
  threshold?: number | null;
  /** Fewest context items a target needs (default 1). */
  minContext?: number;
  shortUsers?: ShortUserPolicy;
  /** How `return` is summed (default: session when the log has sessions, else user). */
  returnBy?: ReturnBy;
  /**
   * Release each column of the log as soon as its sorted copy exists (the log
   * is unusable afterwards); lowers the peak memory of the stage by ~20 bytes
   * per interaction. Default false.
   */
  consume?: boolean;
}

export interface SplitCounts {
  users: number;
  interactions: number;
  /** Users with fewer than 3 interactions. */
  shortUsers: number;
  /** Interactions of short users left out under shortUsers 'drop'. */
  droppedShortUserRows: number;
  /** Examples emitted, by split code. */
  examples: [number, number, number];
  /** Targets dropped for fewer than minContext context items, by split code. */
  droppedMinContext: [number, number, number];
  /** Validation/test targets excluded by the reward threshold, by split code (train always 0). */
  belowThreshold: [number, number, number];
}

/** The log in (user, time) order with each row's role; what example batches are cut from. */
export interface SplitPlan {
  maxLen: number;
  /** Rows of user run u: [runStart[u], runStart[u+1]) of the sorted arrays below. */
  runStart: Int32Array;
  runUser: Int32Array;
  item: Int32Array;
  reward: Float32Array;
  timestamp: BigInt64Array;
  /** Split code of the example this row is the target of, or −1 (no example). */
  role: Int8Array;
  /** The `return` of the row's example. */
  ret: Float32Array;
  counts: SplitCounts;
}

function gatherInt32(src: Int32Array, perm: Int32Array): Int32Array {
  const out = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) out[i] = src[perm[i]!]!;
  return out;
}

function gatherFloat32(src: Float32Array, perm: Int32Array): Float32Array {
  const out = new Float32Array(perm.length);
  for (let i = 0; i < perm.length; i++) out[i] = src[perm[i]!]!;
  return out;
}

function gatherInt64(src: BigInt64Array, perm: Int32Array): BigInt64Array {
  const out = new BigInt64Array(perm.length);
  const s = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
  const o = new Int32Array(out.buffer);
  for (let i = 0; i < perm.length; i++) {
    const p = perm[i]!;
    o[2 * i] = s[2 * p]!;
    o[2 * i + 1] = s[2 * p + 1]!;
  }
  return out;
}

/**
 * Sort the log and decide every row's role. The plan holds sorted copies of
 * the columns; with `consume` the log's own columns are released on the way.
 */
export function planLeaveLastOut(log: InteractionLog, opts: LeaveLastOutOptions = {}): SplitPlan {
  const maxLen = opts.maxLen ?? 50;
  const threshold = opts.threshold === undefined ? 4.5 : opts.threshold;
  const minContext = opts.minContext ?? 1;
  const shortUsers = opts.shortUsers ?? 'train';
  const returnBy = opts.returnBy ?? (log.session ? 'session' : 'user');
  if (!Number.isInteger(maxLen) || maxLen < 1) throw new RangeError(`maxLen must be an integer ≥ 1, got ${maxLen}`);
  if (!Number.isInteger(minContext) || minContext < 0 || minContext > maxLen) {
    throw new RangeError(`minContext must be an integer in [0, maxLen = ${maxLen}], got ${minContext}`);
  }
  if (returnBy === 'session' && !log.session) throw new Error('returnBy "session" needs a session_id column');

  const n = log.n;
  const { perm, runStart, runUser } = sortByUserThenTime(log.user, log.timestamp);
  const release = (k: 'user' | 'item' | 'timestamp' | 'reward' | 'session') => {
    if (opts.consume) (log as unknown as Record<string, unknown>)[k] = undefined;
  };
  release('user');
  const item = gatherInt32(log.item, perm);
  release('item');
  const reward = gatherFloat32(log.reward, perm);
  release('reward');
  const timestamp = gatherInt64(log.timestamp, perm);
  release('timestamp');
  const session = returnBy === 'session' ? gatherInt32(log.session!, perm) : undefined;
  release('session');

  const role = new Int8Array(n).fill(-1);
  const ret = new Float32Array(n);
  const counts: SplitCounts = {
    users: runUser.length,
    interactions: n,
    shortUsers: 0,
    droppedShortUserRows: 0,
    examples: [0, 0, 0],
    droppedMinContext: [0, 0, 0],
    belowThreshold: [0, 0, 0],
  };
  let maxRun = 0;
  for (let u = 0; u < runUser.length; u++) maxRun = Math.max(maxRun, runStart[u + 1]! - runStart[u]!);
  const scratch = session ? new Int32Array(maxRun) : undefined;
  const scratchTmp = session ? new Int32Array(maxRun) : undefined;

  for (let u = 0; u < runUser.length; u++) {
    const s = runStart[u]!;
    const e = runStart[u + 1]!;
    const len = e - s;
    const short = len < 3;
    if (short) {
      counts.shortUsers++;
      if (shortUsers === 'drop') {
        counts.droppedShortUserRows += len;
        continue;
      }
    }
    // Train rows are [s, trainEnd); the rest (valid, test) follow.
    const trainEnd = short ? e : e - 2;
    for (let p = s; p < e; p++) {
      const split = p < trainEnd ? 0 : p === e - 2 ? 1 : 2;
      if (Math.min(p - s, maxLen) < minContext) {
        counts.droppedMinContext[split]++;
        continue;
      }
      if (split > 0 && threshold !== null && !(reward[p]! >= threshold)) {
        counts.belowThreshold[split]++;
        continue;
      }
      role[p] = split;
      counts.examples[split]++;
    }
    if (session) sessionReturns(s, e, trainEnd, session, reward, ret, scratch!, scratchTmp!);
    else {
      let sum = 0;
      for (let p = s; p < trainEnd; p++) sum += reward[p]!;
      ret.fill(sum, s, e);
    }
  }
  return { maxLen, runStart, runUser, item, reward, timestamp, role, ret, counts };
}

/**
 * Per-session sums of train rewards within one user's rows [s, e), written on
 * every row of the session. Rows are grouped by session id with a stable
 * merge sort of positions in `order` (scratch of the run's length).
 */
function sessionReturns(
  s: number,
  e: number,
  trainEnd: number,
  session: Int32Array,
  reward: Float32Array,
  ret: Float32Array,
  order: Int32Array,
  tmp: Int32Array,
): void {
  const len = e - s;
  for (let i = 0; i < len; i++) order[i] = s + i;
  sortPositionsBy(order, len, session, tmp);
  let a = 0;
  while (a < len) {
    const sid = session[order[a]!]!;
    let b = a;
    let sum = 0;
    while (b < len && session[order[b]!] === sid) {
      const p = order[b]!;
      if (p < trainEnd) sum += reward[p]!;
      b++;
    }
    for (let i = a; i < b; i++) ret[order[i]!] = sum;
    a = b;
  }
}

/** Stable sort of positions order[0..len) by key[position] (insertion runs + bottom-up merges). */
function sortPositionsBy(order: Int32Array, len: number, key: Int32Array, tmp: Int32Array): void {
  const RUN = 16;
  for (let r = 0; r < len; r += RUN) {
    const end = Math.min(len, r + RUN);
    for (let j = r + 1; j < end; j++) {
      const x = order[j]!;
      const kx = key[x]!;
      let k = j - 1;
      while (k >= r && key[order[k]!]! > kx) {
        order[k + 1] = order[k]!;
        k--;
      }
      order[k + 1] = x;
    }
  }
  let src = order;
  let dst = tmp;
  for (let width = RUN; width < len; width *= 2) {
    for (let a = 0; a < len; a += 2 * width) {
      const m = Math.min(len, a + width);
      const b = Math.min(len, a + 2 * width);
      let i = a;
      let j = m;
      let o = a;
      while (i < m && j < b) dst[o++] = key[src[j]!]! < key[src[i]!]! ? src[j++]! : src[i++]!;
      while (i < m) dst[o++] = src[i++]!;
      while (j < b) dst[o++] = src[j++]!;
    }
    [src, dst] = [dst, src];
  }
  if (src !== order) order.set(src.subarray(0, len));
}
