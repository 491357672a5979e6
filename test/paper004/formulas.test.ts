/** Paper 004's baseline formulas against hand-computed values: ensembles, BSPO, δ̃₀ calibration, InfoRM's KL. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { combineEnsemble } from '../../stages/weighting/reward-ensemble.js';
import { bspoRewards } from '../../stages/weighting/bspo.js';
import { calibrateDelta0 } from '../../stages/weighting/delta0-calibration.js';
import { createInformParams, informEncode, informKl, klToStandardNormal } from '../../stages/train/inform-head.js';

describe('reward ensembles', () => {
  // Three members on two candidates: candidate 0 scored 1, 2, 3; candidate 1 scored 4, 4, 4.
  const members = [Float64Array.of(1, 4), Float64Array.of(2, 4), Float64Array.of(3, 4)];

  it('Ensemble-Mean is the members’ mean', () => {
    const { reward } = combineEnsemble(members, { combine: 'mean', lambda: 1, disagreement: 'var' });
    expect([...reward]).toEqual([2, 4]);
  });

  it('Ensemble-UWO subtracts λ·(population variance), or λ·std', () => {
    // Var(1, 2, 3) = ((−1)² + 0² + 1²)/3 = 2/3; a unanimous candidate has variance 0.
    const v = combineEnsemble(members, { combine: 'uwo', lambda: 1, disagreement: 'var' });
    expect(v.reward[0]).toBeCloseTo(2 - 2 / 3, 12);
    expect(v.reward[1]).toBe(4);
    expect(v.disagreement).toBeCloseTo(1 / 3, 12);
    const s = combineEnsemble(members, { combine: 'uwo', lambda: 0.5, disagreement: 'std' });
    expect(s.reward[0]).toBeCloseTo(2 - 0.5 * Math.sqrt(2 / 3), 12);
  });

  it('refuses members of different lengths and non-finite scores', () => {
    expect(() => combineEnsemble([Float64Array.of(1), Float64Array.of(1, 2)], { combine: 'mean', lambda: 1, disagreement: 'var' })).toThrow(
      'reward ensemble: member 1 scored 2 candidates, member 0 scored 1',
    );
    expect(() => combineEnsemble([Float64Array.of(NaN)], { combine: 'mean', lambda: 1, disagreement: 'var' })).toThrow(/member 0 at row 0 is NaN/);
  });
});

describe('BSPO on a toy catalog', () => {
  // β(·|s) over four items: 0.5, 0.3, 0.19, 0.01; with ε_β = 0.05 only the last is out of support.
  const beta = [0.5, 0.3, 0.19, 0.01];
  it('replaces the reward of candidates with β(a|s) < ε_β by the pessimistic value', () => {
    const items = [0, 3, 2, 3, 1];
    const proxy = Float64Array.of(1, 9, 2, 8, 3);
    const { reward, outOfSupport } = bspoRewards(
      proxy,
      items.map((i) => Math.log(beta[i]!)),
      { threshold: 0.05, value: -15 },
    );
    expect([...reward]).toEqual([1, -15, 2, -15, 3]);
    expect(outOfSupport).toBeCloseTo(2 / 5, 12);
  });
  it('an item never logged (β = 0) is out of support; ε_β = β exactly is inside', () => {
    const { reward } = bspoRewards(Float64Array.of(5, 6), [-Infinity, Math.log(0.25)], { threshold: 0.25, value: -1 });
    expect([...reward]).toEqual([-1, 6]);
  });
});

describe('δ̃₀ calibration (paper 004 §4.5)', () => {
  it('is the mean over pilot groups of Σ_k |r̂_k − r*_k|', () => {
    // Group 1: |1 − 1.5| + |2 − 2| = 0.5; group 2: |3 − 2| + |4 − 5| = 2; mean 1.25.
    expect(calibrateDelta0([1, 2, 3, 4], [1.5, 2, 2, 5], 2)).toBeCloseTo(1.25, 12);
    expect(calibrateDelta0([1, 2, 3, 4], [1.5, 2, 2, 5], 4)).toBeCloseTo(2.5, 12);
  });
  it('refuses a length that is not a multiple of the group size', () => {
    expect(() => calibrateDelta0([1, 2, 3], [1, 2, 3], 2)).toThrow('δ̃₀ calibration: 3 rewards is not a positive multiple of the group size 2');
  });
});

describe('InfoRM bottleneck KL', () => {
  it('matches ½Σ(μ² + σ² − 1 − log σ²) by hand', () => {
    // Row 0: μ = (1, 0), log σ² = (0, ln 4): ½[(1 + 1 − 1 − 0) + (0 + 4 − 1 − ln 4)] = ½(4 − ln 4).
    // Row 1: μ = 0, σ² = 1: the prior itself, KL 0.
    const kl = klToStandardNormal([1, 0, 0, 0], [0, Math.log(4), 0, 0], 2);
    expect(kl[0]).toBeCloseTo(0.5 * (4 - Math.log(4)), 12);
    expect(kl[1]).toBe(0);
  });

  it("the head's tensor KL equals the closed form of its own μ and log σ²", async () => {
    await tf.setBackend('cpu');
    const dims = { featureDim: 3, numItems: 5, itemDim: 2, hidden: 4, latent: 3 };
    const p = createInformParams(dims, 7);
    const features = tf.tensor2d([0.3, -1, 2, 1, 0.5, -0.2], [2, 3]);
    const out = informEncode(p, features, Int32Array.of(1, 4));
    const kl = informKl(out);
    const expected = klToStandardNormal(out.mu.dataSync(), out.logVar.dataSync(), 3);
    const got = kl.dataSync();
    expect(got[0]).toBeCloseTo(expected[0]!, 4);
    expect(got[1]).toBeCloseTo(expected[1]!, 4);
    expect(expected[0]).toBeGreaterThan(0);
    tf.dispose([features, out.mu, out.logVar, kl]);
    p.dispose();
  });
});
