import { describe, expect, it } from 'vitest';
import { exampleBatches } from '../../stages/split/example-batches.js';
import { InteractionLogBuilder } from '../../stages/split/interaction-log.js';
import { planLeaveLastOut, type LeaveLastOutOptions } from '../../stages/split/leave-last-out.js';
import { batchesToExamples, rowsToBatches, type Example, type Row } from './reference.js';

const BIG = 2n ** 60n;

/** The hand-made log, deliberately out of order, with ties, short users and a > 2^53 timestamp. */
function handLog(withSessions = false): Row[] {
  const s = (x: number) => (withSessions ? x : undefined);
  return [
    { user: 4, item: 42, ts: 3000n, reward: 4.5, session: s(1) },
    { user: 1, item: 10, ts: 100n, reward: 5, session: s(1) },
    { user: 1, item: 11, ts: 200n, reward: 3, session: s(1) },
    { user: 70000, item: 50, ts: -5n, reward: 5, session: s(1) },
    { user: 2, item: 21, ts: 60n, reward: 5, session: s(1) },
    { user: 1, item: 15, ts: 500n, reward: 5, session: s(2) },
    { user: 1, item: 12, ts: 200n, reward: 4, session: s(2) }, // tie with item 11, later in input
    { user: 70000, item: 52, ts: BIG + 1n, reward: 5, session: s(1) },
    { user: 3, item: 30, ts: 10n, reward: 5, session: s(1) },
    { user: 4, item: 41, ts: 2000n, reward: 1, session: s(1) },
    { user: 1, item: 13, ts: 300n, reward: 5, session: s(2) },
    { user: 70000, item: 53, ts: BIG + 1n, reward: 4, session: s(1) }, // tie with 52, later in input
    { user: 2, item: 20, ts: 50n, reward: 1, session: s(1) },
    { user: 1, item: 14, ts: 400n, reward: 2, session: s(2) },
    { user: 4, item: 40, ts: 1000n, reward: 2, session: s(1) },
    { user: 70000, item: 51, ts: BIG, reward: 5, session: s(1) },
  ];
}

function split(
  rows: Row[],
  opts: LeaveLastOutOptions,
  sizes = [5, 0, 7, 4],
  batchSize = 3,
): { examples: Example[]; plan: ReturnType<typeof planLeaveLastOut> } {
  const b = new InteractionLogBuilder();
  for (const batch of rowsToBatches(rows, sizes)) b.add(batch);
  const plan = planLeaveLastOut(b.finish(), opts);
  const batches = [...exampleBatches(plan, batchSize)];
  for (const x of batches) expect(x.numRows).toBeLessThanOrEqual(batchSize);
  return { examples: batchesToExamples(batches), plan };
}

const ex = (user: number, context: number[], contextRewards: number[], action: number, reward: number, ts: bigint, ret: number, split: number): Example => ({
  user,
  context,
  contextRewards,
  action,
  reward,
  ts,
  ret,
  split,
});

describe('leave-last-out split on a hand-made log', () => {
  it('gives the hand-computed examples (L = 2, threshold 4.5, min_context 1, short users → train)', () => {
    const { examples, plan } = split(handLog(), { maxLen: 2 });
    expect(examples).toEqual([
      // user 1: sorted 10, 11, 12 (tie kept in input order), 13 | valid 14 (r 2: excluded) | test 15
      ex(1, [10], [5], 11, 3, 200n, 17, 0),
      ex(1, [10, 11], [5, 3], 12, 4, 200n, 17, 0),
      ex(1, [11, 12], [3, 4], 13, 5, 300n, 17, 0),
      ex(1, [13, 14], [5, 2], 15, 5, 500n, 17, 2),
      // user 2 (2 interactions): all train; the first has no context
      ex(2, [20], [1], 21, 5, 60n, 6, 0),
      // user 3 (1 interaction): nothing
      // user 4: input reversed; train 40 (no context), valid 41 (r 1: excluded), test 42 (r 4.5: kept)
      ex(4, [40, 41], [2, 1], 42, 4.5, 3000n, 2, 2),
      // user 70000: timestamps beyond 2^53 with a tie; test 53 (r 4) excluded
      ex(70000, [50], [5], 51, 5, BIG, 10, 0),
      ex(70000, [50, 51], [5, 5], 52, 5, BIG + 1n, 10, 1),
    ]);
    expect(plan.counts).toEqual({
      users: 5,
      interactions: 16,
      shortUsers: 2,
      droppedShortUserRows: 0,
      examples: [5, 1, 2],
      droppedMinContext: [5, 0, 0],
      belowThreshold: [0, 2, 1],
    });
  });

  it('keeps every held-out target without the threshold, and truncates contexts to the most recent L', () => {
    const { examples, plan } = split(handLog(), { maxLen: 3, threshold: null });
    expect(plan.counts.belowThreshold).toEqual([0, 0, 0]);
    expect(plan.counts.examples).toEqual([5, 3, 3]);
    const u1 = examples.filter((e) => e.user === 1);
    expect(u1.map((e) => [e.action, e.split])).toEqual([
      [11, 0],
      [12, 0],
      [13, 0],
      [14, 1],
      [15, 2],
    ]);
    expect(u1.find((e) => e.action === 14)!.context).toEqual([11, 12, 13]);
    expect(u1.find((e) => e.action === 15)!.context).toEqual([12, 13, 14]);
    expect(examples.find((e) => e.action === 53)).toEqual(ex(70000, [50, 51, 52], [5, 5, 5], 53, 4, BIG + 1n, 10, 2));
  });

  it('drops short users when asked, and min_context 0 makes first interactions targets with empty contexts', () => {
    const dropped = split(handLog(), { maxLen: 2, shortUsers: 'drop' });
    expect(dropped.examples.some((e) => e.user === 2 || e.user === 3)).toBe(false);
    expect(dropped.plan.counts.droppedShortUserRows).toBe(3);
    expect(dropped.plan.counts.shortUsers).toBe(2);
    const zero = split(handLog(), { maxLen: 2, minContext: 0 });
    expect(zero.plan.counts.droppedMinContext).toEqual([0, 0, 0]);
    expect(zero.examples.find((e) => e.action === 30)).toEqual(ex(3, [], [], 30, 5, 10n, 5, 0));
    expect(zero.examples.find((e) => e.action === 10)).toEqual(ex(1, [], [], 10, 5, 100n, 17, 0));
    const two = split(handLog(), { maxLen: 2, minContext: 2 });
    expect(two.examples.find((e) => e.action === 11)).toBeUndefined();
    expect(two.examples.find((e) => e.action === 51)).toBeUndefined();
    // j < 2 dropped: users 1, 2, 70000 lose two train targets, users 3 and 4 one; user 4's
    // validation target (j = 1) is dropped for context before the threshold is looked at.
    expect(two.plan.counts.droppedMinContext).toEqual([8, 1, 0]);
    expect(two.plan.counts.belowThreshold).toEqual([0, 1, 1]);
  });

  it('sums returns per session when sessions are present (train rewards of the target’s session only)', () => {
    const { examples } = split(handLog(true), { maxLen: 2 });
    // user 1: session 1 = {10, 11} → 5 + 3; session 2 = {12, 13 train; 14 valid; 15 test} → 4 + 5
    expect(examples.filter((e) => e.user === 1).map((e) => [e.action, e.ret])).toEqual([
      [11, 8],
      [12, 9],
      [13, 9],
      [15, 9],
    ]);
    const byUser = split(handLog(true), { maxLen: 2, returnBy: 'user' });
    expect(byUser.examples.filter((e) => e.user === 1).map((e) => e.ret)).toEqual([17, 17, 17, 17]);
  });

  it('rejects bad options and inputs with clear messages', () => {
    const b = new InteractionLogBuilder();
    b.add(rowsToBatches(handLog(), [16])[0]!);
    const log = b.finish();
    expect(() => planLeaveLastOut(log, { maxLen: 2, minContext: 3 })).toThrow(/minContext/);
    expect(() => planLeaveLastOut(log, { returnBy: 'session' })).toThrow(/session_id/);
    const text = new InteractionLogBuilder();
    expect(() =>
      text.add({
        table: 'interactions',
        numRows: 1,
        columns: { user_id: ['u1'], item_id: Int32Array.of(1), timestamp: BigInt64Array.of(1n), reward: Float32Array.of(1) },
      }),
    ).toThrow(/"user_id" holds text; map ids to dense integers first/);
    expect(() =>
      new InteractionLogBuilder().add({
        table: 'interactions',
        numRows: 1,
        columns: { user_id: Int32Array.of(1), timestamp: BigInt64Array.of(1n), reward: Float32Array.of(1) },
      }),
    ).toThrow(/column "item_id" is missing/);
    expect(() =>
      new InteractionLogBuilder().add({
        table: 'interactions',
        numRows: 1,
        columns: { user_id: Int32Array.of(1), item_id: Int32Array.of(1), timestamp: Float64Array.of(1.5), reward: Float32Array.of(1) },
      }),
    ).toThrow(/row 0: 1.5 is not an integer timestamp/);
  });

  it('accepts other numeric encodings (float64 ids and timestamps, float64 rewards)', () => {
    const b = new InteractionLogBuilder();
    b.add({
      table: 'interactions',
      numRows: 4,
      columns: {
        user_id: Float64Array.of(7, 7, 7, 7),
        item_id: Float64Array.of(1, 2, 3, 4),
        timestamp: Float64Array.of(-1, 4294967296 * 3 + 5, 4294967296 * 3 + 4, 2 ** 52),
        reward: Float64Array.of(1, 2, 3, 5),
      },
    });
    const plan = planLeaveLastOut(b.finish(), { maxLen: 10 });
    expect(Array.from(plan.item)).toEqual([1, 3, 2, 4]);
    expect(Array.from(plan.timestamp)).toEqual([-1n, 4294967296n * 3n + 4n, 4294967296n * 3n + 5n, 2n ** 52n]);
  });
});
