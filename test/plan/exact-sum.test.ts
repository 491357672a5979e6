import { describe, expect, it } from 'vitest';
import { ExactMomentSums, ExactSum, ratioToDouble, twoProduct } from '../../stages/stats/exact-sum.js';
import { RewardStats } from '../../stages/stats/reward-stats.js';
import { mulberry32 } from '../helpers/mulberry32.js';

/** x as an exact multiple of 2^−1074 (brute force through the decimal-free binary expansion). */
function exactUnits(x: number): bigint {
  if (x === 0) return 0n;
  const neg = x < 0;
  let a = Math.abs(x);
  let e = 0;
  while (a !== Math.floor(a) && e < 1074) {
    a *= 2;
    e++;
  }
  const v = BigInt(a) << BigInt(1074 - e);
  return neg ? -v : v;
}

describe('exact sums (order-independent moments)', () => {
  it('sums exactly where float64 addition loses everything: 1e16 + 1 − 1e16 + 2^−1074', () => {
    const s = new ExactSum();
    for (const x of [1e16, 1, -1e16, 5e-324]) s.add(x);
    expect(s.toBigInt()).toBe((1n << 1074n) + 1n);
    expect(ratioToDouble(s.toBigInt(), 1n, -1074)).toBe(1);
  });

  it('equals the brute-force BigInt sum of random values of every magnitude, in any order and grouping', () => {
    const rand = mulberry32(11);
    const xs = Array.from({ length: 3000 }, () => (rand() - 0.5) * 2 ** Math.floor(rand() * 200 - 100));
    let truth = 0n;
    for (const x of xs) truth += exactUnits(x);
    const forward = new ExactSum();
    for (const x of xs) forward.add(x);
    expect(forward.toBigInt()).toBe(truth);
    // Reverse order, in three groups merged in another order.
    const groups = [new ExactSum(), new ExactSum(), new ExactSum()];
    xs.slice()
      .reverse()
      .forEach((x, i) => groups[i % 3]!.add(x));
    groups[2]!.merge(groups[0]!);
    groups[2]!.merge(groups[1]!);
    expect(groups[2]!.toBigInt()).toBe(truth);
    expect(ExactSum.fromJSON(JSON.parse(JSON.stringify(forward.toJSON())) as number[]).toBigInt()).toBe(truth);
  });

  it('twoProduct splits a product exactly: (2^27 + 1)² = 2^54 + 2^28 + 1', () => {
    const [hi, lo] = twoProduct(2 ** 27 + 1, 2 ** 27 + 1);
    expect(BigInt(hi) + BigInt(lo)).toBe(2n ** 54n + 2n ** 28n + 1n);
  });

  it('batch moments combined: {1e9+1, 1e9+2} and {1e9+3} give mean 1e9+2 and M2 = 2 exactly, in either order', () => {
    const a = { count: 2, mean: 1e9 + 1.5, m2: 0.5 };
    const b = { count: 1, mean: 1e9 + 3, m2: 0 };
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const m = new ExactMomentSums();
      for (const x of order) m.addBatch(x);
      expect(m.mean(3)).toBe(1e9 + 2);
      expect(m.m2(3)).toBe(2);
    }
    // 0.1, 0.2, 0.3 (float64s) as three batches of one: the mean is their exact sum over 3, rounded once.
    const t = new ExactMomentSums();
    for (const x of [0.1, 0.2, 0.3]) t.addBatch({ count: 1, mean: x, m2: 0 });
    expect(t.mean(3)).toBe(ratioToDouble(exactUnits(0.1) + exactUnits(0.2) + exactUnits(0.3), 3n, -1074));
  });

  it('RewardStats moments are identical bit for bit whatever the grouping and merge order of the same batches', () => {
    const rand = mulberry32(5);
    const v = Float32Array.from({ length: 10_000 }, () => 1 + 4 * rand());
    const cuts = [0, 1234, 5000, 7777, 10_000];
    const batch = (i: number) => v.subarray(cuts[i]!, cuts[i + 1]!);
    const whole = new RewardStats({ sketch: false });
    for (let i = 0; i < 4; i++) whole.add(batch(i));
    const a = new RewardStats({ sketch: false }).add(batch(0)).add(batch(1));
    const b = new RewardStats({ sketch: false }).add(batch(2));
    const c = new RewardStats({ sketch: false }).add(batch(3));
    const merged = c.merge(b).merge(a);
    expect(merged.moments).toEqual(whole.moments);
    expect(RewardStats.fromJSON(JSON.parse(JSON.stringify(merged.toJSON()))).moments).toEqual(whole.moments);
  });
});
