import { describe, expect, it } from 'vitest';
import { exampleBatches } from '../../stages/split/example-batches.js';
import { InteractionLogBuilder } from '../../stages/split/interaction-log.js';
import { planLeaveLastOut } from '../../stages/split/leave-last-out.js';
import { radixSortByUser, sortByUserThenTime } from '../../stages/split/sort-by-user-time.js';
import { rng } from '../stats/helpers.js';
import { batchesToExamples, bruteForceSplit, rowsToBatches, type RefOptions, type Row } from './reference.js';

function randomLog(seed: number, n: number, sessions: boolean): Row[] {
  const u = rng(seed);
  const wideIds = u() < 0.5;
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const user = wideIds ? (u() < 0.5 ? 1 + Math.floor(u() * 30) : 65530 + Math.floor(u() * 200000)) : 1 + Math.floor(u() * 40);
    // Few distinct timestamps → many ties; some negative, some beyond 2^53.
    const tsKind = u();
    const ts = tsKind < 0.1 ? -BigInt(Math.floor(u() * 5)) : tsKind < 0.2 ? 2n ** 55n + BigInt(Math.floor(u() * 4)) : BigInt(Math.floor(u() * 20));
    rows.push({
      user,
      item: 1 + Math.floor(u() * 500),
      ts,
      reward: Math.fround(1 + Math.floor(u() * 5) + (u() < 0.3 ? 0.5 : 0)),
      ...(sessions ? { session: Math.floor(u() * 4) } : {}),
    });
  }
  return rows;
}

function randomSizes(n: number, u: () => number): number[] {
  const sizes: number[] = [];
  let left = n;
  while (left > 0) {
    const s = Math.min(left, Math.floor(u() * 300));
    sizes.push(s);
    left -= s;
  }
  return sizes;
}

describe('split against a brute-force per-row implementation', () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`agrees on random log #${seed}`, () => {
      const u = rng(1000 + seed);
      const sessions = seed % 2 === 0;
      const rows = randomLog(seed, 400 + Math.floor(u() * 1500), sessions);
      const o: RefOptions = {
        maxLen: 1 + Math.floor(u() * 8),
        threshold: u() < 0.3 ? null : 3.5 + u() * 1.5,
        minContext: 0,
        shortUsers: u() < 0.5 ? 'train' : 'drop',
        bySession: sessions,
      };
      o.minContext = Math.floor(u() * Math.min(3, o.maxLen + 1));
      const b = new InteractionLogBuilder();
      for (const batch of rowsToBatches(rows, randomSizes(rows.length, u))) b.add(batch);
      const plan = planLeaveLastOut(b.finish(), { maxLen: o.maxLen, threshold: o.threshold, minContext: o.minContext, shortUsers: o.shortUsers });
      const got = batchesToExamples([...exampleBatches(plan, 1 + Math.floor(u() * 200))]);
      const want = bruteForceSplit(rows, o);
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
      const c = plan.counts;
      expect(c.examples[0] + c.examples[1] + c.examples[2]).toBe(want.length);
      for (let s = 0; s < 3; s++) expect(c.examples[s]).toBe(want.filter((e) => e.split === s).length);
    });
  }
});

describe('sorting by (user, timestamp)', () => {
  it('radix sort by user is stable and matches a stable comparison sort (negative and wide ids)', () => {
    const u = rng(3);
    const user = Int32Array.from({ length: 5000 }, () => (u() < 0.5 ? Math.floor(u() * 10) - 5 : Math.floor((u() - 0.5) * 2 ** 31)));
    const perm = radixSortByUser(user);
    const ref = Array.from(user.keys()).sort((a, b) => user[a]! - user[b]!);
    expect(Array.from(perm)).toEqual(ref);
  });

  it('long runs (merge sort path) are ordered by time with ties in input order', () => {
    const u = rng(4);
    const n = 3000;
    const user = Int32Array.from({ length: n }, () => 1 + Math.floor(u() * 3));
    const ts = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(u() * 50)) - 25n);
    const { perm, runStart, runUser } = sortByUserThenTime(user, ts);
    const ref = Array.from(user.keys()).sort((a, b) => user[a]! - user[b]! || (ts[a]! < ts[b]! ? -1 : ts[a]! > ts[b]! ? 1 : 0));
    expect(Array.from(perm)).toEqual(ref);
    expect(Array.from(runUser)).toEqual([1, 2, 3]);
    expect(runStart[3]).toBe(n);
  });
});
