import { describe, expect, it } from 'vitest';
import { addMoments, emptyMoments, mergeMoments, momentsOf, momentsVariance, NonFiniteValueError, type Moments } from '../../stages/stats/moments.js';
import { rng } from './helpers.js';

/** Two-pass reference in float64: mean, then the sum of squared deviations. */
function twoPass(x: ArrayLike<number>): { mean: number; m2: number; min: number; max: number } {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  const mean = s / x.length;
  let m2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    m2 += (x[i]! - mean) ** 2;
    min = Math.min(min, x[i]!);
    max = Math.max(max, x[i]!);
  }
  return { mean, m2, min, max };
}

function expectClose(m: Moments, x: ArrayLike<number>, rel = 1e-11): void {
  const r = twoPass(x);
  expect(m.count).toBe(x.length);
  expect(Math.abs(m.mean - r.mean)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(r.mean)));
  expect(Math.abs(m.m2 - r.m2)).toBeLessThanOrEqual(rel * Math.max(1e-300, r.m2) + 1e-9 * x.length * Number.EPSILON);
  expect(m.min).toBe(r.min);
  expect(m.max).toBe(r.max);
}

function randomColumn(n: number, seed: number, offset = 0, scale = 1): Float64Array {
  const u = rng(seed);
  return Float64Array.from({ length: n }, () => offset + scale * (u() * 2 - 1) ** 3);
}

describe('moments (Welford within a column, Chan to merge)', () => {
  it('match a two-pass computation on random data, including a large offset', () => {
    for (const [n, off] of [
      [1000, 0],
      [20000, 1e6],
      [777, -3.5],
    ] as const) {
      const x = randomColumn(n, n, off, 5);
      expectClose(momentsOf(x), x);
    }
  });

  it('two shards merged equal the whole data, at every split point tried (empty shards included)', () => {
    const x = randomColumn(5000, 7, 3, 2);
    for (const cut of [0, 1, 2, 17, 2500, 4999, 5000]) {
      const merged = mergeMoments(momentsOf(x.subarray(0, cut)), momentsOf(x.subarray(cut)));
      const whole = momentsOf(x);
      expectClose(merged, x);
      expect(merged.count).toBe(whole.count);
      expect(Math.abs(merged.mean - whole.mean)).toBeLessThan(1e-13 * Math.abs(whole.mean));
      expect(Math.abs(merged.m2 - whole.m2)).toBeLessThan(1e-11 * whole.m2);
    }
  });

  it('many shards merged in different trees agree with each other and the whole', () => {
    const x = randomColumn(9000, 11, 0.5, 1);
    const parts: Moments[] = [];
    for (let s = 0; s < x.length; s += 700) parts.push(momentsOf(x.subarray(s, Math.min(x.length, s + 700))));
    const left = parts.reduce((a, b) => mergeMoments(a, b), emptyMoments());
    const right = parts.reduceRight((a, b) => mergeMoments(b, a), emptyMoments());
    expectClose(left, x);
    expectClose(right, x);
  });

  it('constant data has variance exactly 0, also after merging shards', () => {
    const c = new Float32Array(1000).fill(4.5);
    const m = mergeMoments(momentsOf(c.subarray(0, 333)), momentsOf(c.subarray(333)));
    expect(m.count).toBe(1000);
    expect(m.mean).toBe(4.5);
    expect(m.m2).toBe(0);
    expect(momentsVariance(m)).toBe(0);
    expect(m.min).toBe(4.5);
    expect(m.max).toBe(4.5);
  });

  it('a single value, and two single values merged (variance (a − b)²/4)', () => {
    const a = momentsOf(Float64Array.of(3));
    expect(a).toEqual({ count: 1, mean: 3, m2: 0, min: 3, max: 3 });
    const ab = mergeMoments(a, momentsOf(Float64Array.of(7)));
    expect(ab.mean).toBe(5);
    expect(momentsVariance(ab)).toBe(4);
    expect(ab.min).toBe(3);
    expect(ab.max).toBe(7);
  });

  it('empty moments merge as the identity', () => {
    const x = randomColumn(10, 1);
    const m = momentsOf(x);
    expect(mergeMoments(emptyMoments(), m)).toEqual(m);
    expect(mergeMoments(m, emptyMoments())).toEqual(m);
    expect(momentsVariance(emptyMoments())).toBe(0);
  });

  it('finds a non-finite value anywhere in a long column (interleaved lanes and the tail)', () => {
    for (const [at, bad] of [
      [1001, NaN],
      [0, -Infinity],
      [2046, Infinity],
      [2049, NaN],
    ] as const) {
      const x = randomColumn(2050, 3);
      x[at] = bad;
      try {
        momentsOf(x);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(NonFiniteValueError);
        expect((e as NonFiniteValueError).index).toBe(at);
      }
    }
  });

  it('rejects NaN and infinities, naming the row, and leaves the state unchanged', () => {
    const m = momentsOf(Float64Array.of(1, 2));
    const before = { ...m };
    for (const bad of [NaN, Infinity, -Infinity]) {
      try {
        addMoments(m, Float64Array.of(5, 6, bad, 7));
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(NonFiniteValueError);
        expect((e as NonFiniteValueError).index).toBe(2);
        expect((e as Error).message).toContain('row 2');
      }
      expect(m).toEqual(before);
    }
  });
});
