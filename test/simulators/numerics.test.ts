import { describe, expect, it } from 'vitest';
import { Rng } from '../../stages/simulators/rng.js';
import { AliasTable } from '../../stages/simulators/alias-table.js';
import { erf, erfc, normalCdf, normalPdf } from '../../stages/simulators/normal-cdf.js';
import { fitZipfExponent, zipfWeights } from '../../stages/simulators/zipf.js';
import { topKIndices } from '../../stages/simulators/vectors.js';

describe('Rng', () => {
  it('repeats its stream for a seed and differs across seeds and derived keys', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextUint32());
    const sb = Array.from({ length: 100 }, () => b.nextUint32());
    const sc = Array.from({ length: 100 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa.filter((v, i) => v === sc[i]).length).toBeLessThan(3);
    const d1 = Array.from(
      { length: 20 },
      (
        (r) => () =>
          r.nextUint32()
      )(Rng.derive(42, 10, 1)),
    );
    const d2 = Array.from(
      { length: 20 },
      (
        (r) => () =>
          r.nextUint32()
      )(Rng.derive(42, 10, 2)),
    );
    const d1again = Array.from(
      { length: 20 },
      (
        (r) => () =>
          r.nextUint32()
      )(Rng.derive(42, 10, 1)),
    );
    expect(d1).toEqual(d1again);
    expect(d1.filter((v, i) => v === d2[i]).length).toBeLessThan(2);
  });

  it('accepts seeds beyond 32 bits and negative seeds, distinguishing them', () => {
    const big = new Rng(2 ** 40 + 5).nextUint32();
    const small = new Rng(5).nextUint32();
    const neg = new Rng(-5).nextUint32();
    expect(new Set([big, small, neg]).size).toBe(3);
    expect(() => new Rng(NaN)).toThrow(/seed/);
  });

  it('draws uniforms, integers and normals with the right moments (4σ bounds)', () => {
    const r = new Rng(7);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    let ns = 0;
    let ns2 = 0;
    let ns4 = 0;
    const counts = new Float64Array(10);
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      s += u;
      s2 += u * u;
      counts[r.int(10)]! += 1;
      const z = r.normal();
      ns += z;
      ns2 += z * z;
      ns4 += z ** 4;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(Math.abs(s / n - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - 1 / 3)).toBeLessThan(0.005);
    for (const c of counts) expect(Math.abs(c / n - 0.1)).toBeLessThan(4 * Math.sqrt(0.09 / n));
    expect(Math.abs(ns / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(ns2 / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(ns4 / n - 3)).toBeLessThan(0.1);
  });

  it('gives Gumbel deviates with mean γ and variance π²/6', () => {
    const r = new Rng(3);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    let finite = true;
    for (let i = 0; i < n; i++) {
      const g = r.gumbel();
      finite &&= Number.isFinite(g);
      s += g;
      s2 += g * g;
    }
    expect(finite).toBe(true);
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 0.5772156649)).toBeLessThan(4 * Math.sqrt(Math.PI ** 2 / 6 / n));
    expect(Math.abs(variance - Math.PI ** 2 / 6)).toBeLessThan(0.05);
  });

  it('shuffles into a permutation', () => {
    const a = Int32Array.from({ length: 50 }, (_, i) => i);
    new Rng(1).shuffle(a);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(a)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('AliasTable', () => {
  it('assigns each index its normalised weight exactly and samples accordingly', () => {
    const w = [5, 0, 1, 3, 0.5, 0.5];
    const total = w.reduce((a, b) => a + b, 0);
    const t = new AliasTable(w);
    w.forEach((wi, i) => expect(t.probability(i)).toBeCloseTo(wi / total, 12));
    const r = new Rng(11);
    const n = 100_000;
    const counts = new Float64Array(w.length);
    for (let i = 0; i < n; i++) counts[t.sample(r)]! += 1;
    w.forEach((wi, i) => {
      const p = wi / total;
      expect(Math.abs(counts[i]! / n - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / n));
    });
    expect(counts[1]).toBe(0);
  });

  it('rejects bad weights', () => {
    expect(() => new AliasTable([])).toThrow(/no weights/);
    expect(() => new AliasTable([0, 0])).toThrow(/sum to 0/);
    expect(() => new AliasTable([1, -1])).toThrow(/weight 1/);
  });
});

describe('erf, erfc and the normal CDF', () => {
  it('match reference values', () => {
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(normalCdf(-1.96)).toBeCloseTo(0.024997895148220435, 14);
    expect(normalCdf(2)).toBeCloseTo(0.9772498680518208, 14);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erfc(-2.5)).toBeCloseTo(1.999593047982555, 14);
    // Tails keep relative accuracy.
    expect(Math.abs(erfc(3) / 2.2090496998585438e-5 - 1)).toBeLessThan(1e-10);
    expect(Math.abs(erfc(5) / 1.5374597944280351e-12 - 1)).toBeLessThan(1e-10);
    expect(Math.abs(normalCdf(-5) / 2.866515718791946e-7 - 1)).toBeLessThan(1e-10);
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(erf(-0.7)).toBe(-erf(0.7));
  });

  it('is the integral of the density (Simpson) to 1e-9 everywhere, both sides of the series/fraction switch', () => {
    // Φ(b) − Φ(a) = ∫_a^b φ, checked on consecutive intervals from −8 to 8.
    const simpson = (a: number, b: number, n = 200) => {
      const h = (b - a) / n;
      let s = normalPdf(a) + normalPdf(b);
      for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * normalPdf(a + i * h);
      return (s * h) / 3;
    };
    let worst = 0;
    for (let a = -8; a < 8; a += 0.25) {
      const got = normalCdf(a + 0.25) - normalCdf(a);
      worst = Math.max(worst, Math.abs(got - simpson(a, a + 0.25)));
    }
    expect(worst).toBeLessThan(1e-12);
    for (const z of [-6, -4.3, -4.24, -2, -0.3, 0.3, 2, 4.24, 4.3, 6]) expect(normalCdf(z) + normalCdf(-z)).toBeCloseTo(1, 15);
  });
});

describe('Zipf helpers', () => {
  it('recovers the exponent of an exact power law', () => {
    for (const s of [0.6, 1, 1.4]) {
      const fit = fitZipfExponent(zipfWeights(500, s).map((w) => w * 1e6));
      expect(fit.exponent).toBeCloseTo(s, 10);
      expect(fit.r2).toBeCloseTo(1, 10);
    }
  });

  it('sorts counts itself and honours minCount and maxRank', () => {
    const counts = [1, 1000, 3, 250, 111, 62.5, 40, 0];
    const fit = fitZipfExponent(counts, { minCount: 40 });
    expect(fit.points).toBe(5);
    expect(fit.exponent).toBeCloseTo(2, 1);
    expect(fitZipfExponent(counts, { maxRank: 2 }).exponent).toBeCloseTo(2, 10);
    expect(() => fitZipfExponent([5, 0, 0])).toThrow(/at least 2/);
  });
});

describe('topKIndices', () => {
  it('agrees with a full sort (ties to the smaller index)', () => {
    const r = new Rng(5);
    const scores = Float64Array.from({ length: 300 }, () => Math.floor(r.next() * 40));
    for (const k of [0, 1, 7, 50, 299, 400]) {
      const want = Array.from({ length: 299 }, (_, i) => i + 1)
        .sort((a, b) => scores[b]! - scores[a]! || a - b)
        .slice(0, k);
      expect(Array.from(topKIndices(scores, k, 1))).toEqual(want);
    }
  });
});
