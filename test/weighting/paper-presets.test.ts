/**
 * Issue 12, defects 5, 7, 8: the defaults and presets that make each paper's
 * configuration one line (Adaptive BC over the kept set, DRRO soft + dynamic
 * budget of paper 004 Algorithm 4, linear RSFT of paper 000).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stages/core/config-schema.js';
import { createGroupShaper, createOfflineObjective } from '../../stages/weighting/registry.js';

const stats = { count: 3, mean: 2, variance: 1, std: 1, min: 1, max: 3, quantiles: [], quantileRankError: 0, histogram: { edges: [], counts: [] } };

describe('Adaptive BC averages over the kept set by default (defect 5)', () => {
  it("w = N/K on B_top, so −(1/N)·Σ w·log π is the kept rows' mean NLL", () => {
    // r = 1..4, P₀ = 0.5 → K = 2, B_top = {3, 4}; N/K = 2.
    const o = createOfflineObjective('adaptive_bc', {});
    const out = o.weigh({ reward: Float64Array.from([1, 2, 3, 4]) }, o.initialState());
    expect(Array.from(out.result.weight)).toEqual([0, 0, 2, 2]);
  });
  it('mean_over: batch keeps the old unscaled weights', () => {
    const o = createOfflineObjective('adaptive_bc', { mean_over: 'batch' });
    const out = o.weigh({ reward: Float64Array.from([1, 2, 3, 4]) }, o.initialState());
    expect(Array.from(out.result.weight)).toEqual([0, 0, 1, 1]);
  });
});

describe('linear RSFT as paper 000 runs it (defect 8)', () => {
  it('preset paper: standardised, signed weights (r − μ)/σ', () => {
    const o = createOfflineObjective('rsft_linear', { preset: 'paper' }, { rewardStats: { ...stats, variance: 4, std: 2 } });
    const out = o.weigh({ reward: Float64Array.from([1, 2, 5]) }, o.initialState());
    expect(Array.from(out.result.weight)).toEqual([-0.5, 0, 1.5]);
  });
  it('the preset without statistics is a ConfigError saying how to supply them', () => {
    expect(() => createOfflineObjective('rsft_linear', { preset: 'paper' }, {})).toThrow(ConfigError);
  });
  it('an option contradicting the preset is a ConfigError naming it', () => {
    expect(() => createOfflineObjective('rsft_linear', { preset: 'paper', allow_negative: false }, { rewardStats: stats })).toThrow(
      'objective "rsft_linear": field "allow_negative" is fixed to true by preset "paper"',
    );
  });
});

describe('DRRO soft + dynamic budget of paper 004 Algorithm 4 as one preset (defect 7)', () => {
  // One group of G = 2: π̄ = (0.5, 0.5), π₀ = (0.25, 0.75): z = log π₀ − log π̄ = (log 0.5, log 1.5),
  // k3 = mean(e^z − z − 1) = ((0.5 + ln 2 − 1) + (1.5 − ln 1.5 − 1))/2 = 0.1438410362.
  const input = {
    groupSize: 2,
    proxyReward: Float64Array.from([1, 2]),
    rolloutLogProb: Float64Array.from([Math.log(0.5), Math.log(0.5)]),
    refLogProb: Float64Array.from([Math.log(0.25), Math.log(0.75)]),
  };
  const k3 = (0.5 + Math.LN2 - 1 + (1.5 - Math.log(1.5) - 1)) / 2;

  it('preset paper: δ̃ = α·KL̂ with α = 10, δ̃₀ = 0, τ = 2 (not the fixed 2.5·G)', () => {
    const s = createGroupShaper('drro_soft', { preset: 'paper' });
    const out = s.shape(input, s.initialState());
    expect(out.result.diagnostics.delta).toBeCloseTo(10 * k3, 12);
    const explicit = createGroupShaper('drro_soft', { budget: 'dynamic', delta0: 0, alpha: 10, tau: 2, window: 20, kl_estimator: 'k3' });
    expect(Array.from(out.result.shapedReward)).toEqual(Array.from(explicit.shape(input, explicit.initialState()).result.shapedReward));
  });
  it('options given beside the preset override it', () => {
    const s = createGroupShaper('drro_soft', { preset: 'paper', alpha: 5 });
    expect(s.shape(input, s.initialState()).result.diagnostics.delta).toBeCloseTo(5 * k3, 12);
  });
  it('without the preset the budget stays fixed at 2.5·G', () => {
    const s = createGroupShaper('drro_soft', {});
    expect(s.shape(input, s.initialState()).result.diagnostics.delta).toBe(5);
  });
});
