import { describe, expect, it } from 'vitest';
import { essFromSums } from '../../stages/core/effective-sample-size.js';
import { summariseWeights } from '../../stages/weighting/weight-summary.js';
import { weightStats } from '../../stages/train/offline-trainer.js';

/** ESS of a weight vector through the definition's one implementation. */
const effectiveSampleSize = (w: number[]) =>
  essFromSums(
    w.reduce((s, v) => s + v, 0),
    w.reduce((s, v) => s + v * v, 0),
  );

describe('effective sample size (Σw)²/Σw² (SPEC S4)', () => {
  it('is n for equal weights, 1 for a single carrier, 0 when nothing is weighted', () => {
    expect(effectiveSampleSize([2, 2, 2, 2])).toBe(4);
    expect(effectiveSampleSize([0, 0, 5, 0])).toBe(1);
    expect(effectiveSampleSize([0, 0])).toBe(0);
    expect(effectiveSampleSize([])).toBe(0);
  });

  it('by hand: w = (1, 2, 3) → 36/14', () => {
    expect(effectiveSampleSize([1, 2, 3])).toBeCloseTo(36 / 14, 14);
    expect(essFromSums(6, 14)).toBeCloseTo(36 / 14, 14);
  });

  it('uses the signed sum: w = (−1, 3) → 4/10, not (Σ|w|)²/Σw² = 16/10', () => {
    expect(effectiveSampleSize([-1, 3])).toBeCloseTo(0.4, 14);
  });

  it('the weighting stream and the trainers report the same value, signed weights included', () => {
    const w = Float32Array.from([-2, -0.5, 0, 1, 4]);
    const expected = (2.5 * 2.5) / (4 + 0.25 + 1 + 16);
    expect(summariseWeights(w).ess).toBeCloseTo(expected, 12);
    expect(weightStats(w).ess).toBe(summariseWeights(w).ess);
  });
});
