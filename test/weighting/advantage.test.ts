import { describe, expect, it } from 'vitest';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { createOfflineObjective } from '../../stages/weighting/registry.js';

const r = Float64Array.from([1, 2, 3, 4, 5]); // batch mean 3 → A = [-2, -1, 0, 1, 2]
const weigh = (name: string, cfg: Record<string, unknown>, reward = r, extra: Record<string, unknown> = {}, stats?: RewardStatsSummary) => {
  const o = createOfflineObjective(name, cfg, stats ? { rewardStats: stats } : {});
  return o.weigh({ reward, ...extra }, o.initialState()).result;
};

describe('advantage-weighted baselines (batch-mean baseline)', () => {
  it('AWR: w = min(exp(A/β), w_max), positive, increasing in A, clipped', () => {
    const res = weigh('awr', { beta: 0.5, w_max: 20 });
    const expected = [-2, -1, 0, 1, 2].map((a) => Math.min(Math.exp(a / 0.5), 20));
    Array.from(res.weight).forEach((w, i) => expect(w).toBeCloseTo(expected[i]!, 5));
    expect(Array.from(res.advantage!)).toEqual([-2, -1, 0, 1, 2]);
    expect(res.diagnostics.n_clipped).toBe(1); // exp(4) = 54.6 > 20
    expect(res.diagnostics.baseline).toBe(3);
    for (const w of res.weight) expect(w).toBeGreaterThan(0);
  });

  it('AsymRe: w = A above the baseline, 0.1·A below (negative but damped)', () => {
    const res = weigh('asymre', {});
    expect(Array.from(res.weight).map((v) => +v.toFixed(6))).toEqual([-0.2, -0.1, 0, 1, 2]);
    expect(res.diagnostics.n_negative).toBe(2);
    expect(res.diagnostics.w_min).toBeLessThan(0);
  });

  it('APG: w = A, negative below the baseline (the repulsive force)', () => {
    const res = weigh('apg', {});
    expect(Array.from(res.weight)).toEqual([-2, -1, 0, 1, 2]);
    expect(res.diagnostics.w_mean).toBeCloseTo(0, 12);
    // ESS = (Σw)²/Σw² (SPEC S4): the signed weights cancel, Σw = 0.
    expect(res.diagnostics.ess).toBe(0);
  });

  it('CRR: binary 1[A > 0] and exponential min(exp(A/β), w_max)', () => {
    expect(Array.from(weigh('crr', { variant: 'binary' }).weight)).toEqual([0, 0, 0, 1, 1]);
    const e = weigh('crr', { variant: 'exp', beta: 1, w_max: 5 });
    Array.from(e.weight).forEach((w, i) => expect(w).toBeCloseTo(Math.min(Math.exp(i - 2), 5), 5));
  });

  it('never gives Inf for rewards up to 1e4 and tiny β', () => {
    const x = Float64Array.from([-1e4, 0, 1e4]);
    for (const name of ['awr', 'crr']) {
      const res = weigh(name, { beta: 1e-3, w_max: 3e38 }, x);
      for (const w of res.weight) expect(Number.isFinite(w)).toBe(true);
    }
  });

  it('all-equal rewards give A = 0: AWR weights 1, AsymRe/APG 0, CRR-binary 0', () => {
    const flat = new Float64Array(4).fill(2.5);
    expect(Array.from(weigh('awr', {}, flat).weight)).toEqual([1, 1, 1, 1]);
    expect(Array.from(weigh('asymre', {}, flat).weight)).toEqual([0, 0, 0, 0]);
    expect(Array.from(weigh('apg', {}, flat).weight)).toEqual([0, 0, 0, 0]);
    expect(Array.from(weigh('crr', { variant: 'binary' }, flat).weight)).toEqual([0, 0, 0, 0]);
    const empty = weigh('apg', {}, new Float64Array(0));
    expect(empty.weight.length).toBe(0);
    expect(empty.diagnostics.n).toBe(0);
    expect(empty.diagnostics).not.toHaveProperty('w_mean');
  });
});

describe('baselines', () => {
  it('global_mean reads the statistics; zero uses b = 0; column uses a per-row value', () => {
    const stats = { count: 1, mean: 4, variance: 0, std: 0, min: 4, max: 4, quantiles: [], quantileRankError: 0, histogram: { edges: [], counts: [] } };
    expect(Array.from(weigh('apg', { baseline: 'global_mean' }, r, {}, stats).weight)).toEqual([-3, -2, -1, 0, 1]);
    expect(Array.from(weigh('apg', { baseline: 'zero' }).weight)).toEqual([1, 2, 3, 4, 5]);
    const v = Float64Array.from([1, 1, 4, 4, 4]);
    expect(Array.from(weigh('apg', { baseline: 'column' }, r, { baseline: v }).weight)).toEqual([0, 1, -1, 0, 1]);
    expect(() => weigh('apg', { baseline: 'column' })).toThrow(/baseline column/);
    expect(() => createOfflineObjective('awr', { baseline: 'global_mean' }, {})).toThrow(/reward_stats/);
  });
});
