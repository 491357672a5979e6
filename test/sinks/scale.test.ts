import { describe, expect, it } from 'vitest';
import { linearScale, logScale, niceStep, stepDecimals } from '../../stages/sinks/plot/scale.js';
import { nameWithout, numericParam, parseNameParams } from '../../stages/sinks/plot/name-params.js';

/** Deterministic pseudo-random numbers for the property checks. */
function rng(seed: number) {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

describe('nice steps and linear ticks', () => {
  it('picks 1, 2, 2.5 or 5 × 10^k, at least span/target and at most 2.5× it', () => {
    const r = rng(3);
    for (let k = 0; k < 500; k++) {
      const span = 10 ** (r() * 12 - 6) * (0.5 + r());
      const target = 2 + Math.floor(r() * 9);
      const step = niceStep(span, target);
      const mant = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      expect([1, 2, 2.5, 5].some((m) => Math.abs(mant - m) < 1e-9)).toBe(true);
      expect(step).toBeGreaterThanOrEqual((span / target) * (1 - 1e-9));
      expect(step).toBeLessThanOrEqual((span / target) * 2.5 * (1 + 1e-9));
    }
    expect(stepDecimals(0.25)).toBe(2);
    expect(stepDecimals(5)).toBe(0);
    expect(stepDecimals(0.002)).toBe(3);
  });

  it('covers the data, keeps ticks inside the domain at equal spacing, and maps affinely', () => {
    const r = rng(11);
    for (let k = 0; k < 300; k++) {
      const a = (r() - 0.5) * 10 ** (r() * 6 - 2);
      const b = a + r() * 10 ** (r() * 6 - 3);
      const s = linearScale(a, b, 50, 650);
      expect(s.domain[0]).toBeLessThanOrEqual(a);
      expect(s.domain[1]).toBeGreaterThanOrEqual(b);
      expect(s.map(s.domain[0])).toBeCloseTo(50, 5);
      expect(s.map(s.domain[1])).toBeCloseTo(650, 5);
      expect(s.map((a + b) / 2)).toBeCloseTo((s.map(a) + s.map(b)) / 2, 5);
      expect(s.ticks.length).toBeGreaterThanOrEqual(2);
      const step = s.ticks[1]! - s.ticks[0]!;
      s.ticks.forEach((t, i) => {
        expect(t).toBeGreaterThanOrEqual(s.domain[0] - Math.abs(step) * 1e-6);
        expect(t).toBeLessThanOrEqual(s.domain[1] + Math.abs(step) * 1e-6);
        if (i > 0) expect(Math.abs(t - s.ticks[i - 1]! - step)).toBeLessThan(step * 1e-6);
      });
      // labels are distinct (enough decimals for the step)
      expect(new Set(s.ticks.map(s.format)).size).toBe(s.ticks.length);
    }
  });

  it('widens an empty interval and formats zero without a sign', () => {
    const s = linearScale(3, 3, 0, 100);
    expect(s.domain[0]).toBeLessThan(3);
    expect(s.domain[1]).toBeGreaterThan(3);
    const z = linearScale(-0.3, 0.3, 0, 100);
    expect(z.ticks.map(z.format)).toContain('0.0');
  });

  it('inverts for a y axis (range top < bottom)', () => {
    const s = linearScale(0, 1, 400, 20);
    expect(s.map(1)).toBeLessThan(s.map(0));
  });
});

describe('log ticks', () => {
  it('maps log10 affinely and puts ticks on 1-2-5 × powers of ten', () => {
    const s = logScale(0.1, 5, 0, 300);
    expect(s.map(1) - s.map(0.1)).toBeCloseTo(s.map(10 ** 0.5) - s.map(10 ** -0.5), 9);
    expect(s.ticks).toEqual([0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5]);
    expect(s.ticks.map(s.format)).toEqual(['0.1', '0.2', '0.3', '0.5', '1', '2', '3', '5']);
    expect(logScale(0.01, 5, 0, 300).ticks).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]);
    // less than a decade: more multiples, so the axis keeps several labels
    expect(logScale(1.5, 7.9, 0, 300).ticks).toEqual([1.5, 2, 3, 4, 5, 7]);
    const wide = logScale(1e-3, 1e6, 0, 300);
    expect(wide.ticks).toEqual([1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1e4, 1e5, 1e6]);
    expect(wide.format(1e6)).toBe('1e6');
    expect(() => logScale(0, 1, 0, 1)).toThrow(/positive/);
  });
});

describe('name parameters', () => {
  it('parses base@key=value,key=value', () => {
    const p = parseNameParams('exp_rsft@lambda=0.5, k = 10');
    expect(p.base).toBe('exp_rsft');
    expect([...p.params]).toEqual([
      ['lambda', '0.5'],
      ['k', '10'],
    ]);
    expect(numericParam(p, 'lambda', 'n')).toBe(0.5);
    expect(numericParam(p, 'beta', 'n')).toBeUndefined();
    expect(nameWithout(p, 'lambda')).toBe('exp_rsft@k=10');
    expect(nameWithout(parseNameParams('bc@noise=0.2'), 'noise')).toBe('bc');
    expect(parseNameParams('bc').params.size).toBe(0);
    expect(() => parseNameParams('bc@fast')).toThrow(/"fast" is not of the form key=value/);
  });
});
