import { describe, expect, it } from 'vitest';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { createOfflineObjective } from '../../stages/weighting/registry.js';
import { trajectoryReturns } from '../../stages/weighting/trajectory.js';
import { rng } from './helpers.js';

function stats(r: ArrayLike<number>): RewardStatsSummary {
  const x = Array.from(r);
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return {
    count: n,
    mean,
    variance,
    std: Math.sqrt(variance),
    min: Math.min(...x),
    max: Math.max(...x),
    quantiles: [],
    quantileRankError: 0,
    histogram: { edges: [], counts: [] },
  };
}

const weigh = (name: string, cfg: Record<string, unknown>, reward: Float64Array, s?: RewardStatsSummary, extra: Record<string, unknown> = {}) => {
  const o = createOfflineObjective(name, cfg, s ? { rewardStats: s } : {});
  return o.weigh({ reward, ...extra }, o.initialState()).result;
};

const normalised = (w: Float32Array) => {
  const s = w.reduce((a, b) => a + b, 0);
  return Array.from(w, (v) => v / s);
};

describe('exp_rsft', () => {
  const r = Float64Array.from([1, 2, 3, 4, 5, 3.5, 2.5]);

  it('is exp((r − max)/λ) with the global max: weights in (0, 1], the max row has weight 1', () => {
    const res = weigh('exp_rsft', { lambda: 0.5 }, r, stats(r));
    r.forEach((v, i) => expect(res.weight[i]).toBeCloseTo(Math.exp((v - 5) / 0.5), 6));
    expect(res.weight[4]).toBe(1);
    expect(res.diagnostics.shift).toBe(5);
    expect(res.diagnostics.w_max).toBe(1);
    for (const w of res.weight) expect(w > 0 && w <= 1).toBe(true);
  });

  it('adding a constant to every reward (and its statistics) leaves the weights unchanged', () => {
    const base = weigh('exp_rsft', { lambda: 0.7 }, r, stats(r));
    const shifted = Float64Array.from(r, (v) => v + 123.25);
    const moved = weigh('exp_rsft', { lambda: 0.7 }, shifted, stats(shifted));
    expect(normalised(moved.weight).map((v) => v.toFixed(6))).toEqual(normalised(base.weight).map((v) => v.toFixed(6)));
    // Also under a per-batch shift, and with standardisation.
    const a = weigh('exp_rsft', { lambda: 0.7, shift_mode: 'batch' }, r);
    const b = weigh('exp_rsft', { lambda: 0.7, shift_mode: 'batch' }, shifted);
    Array.from(a.weight).forEach((v, i) => expect(b.weight[i]).toBeCloseTo(v, 6));
  });

  it('scaling rewards by c equals dividing λ by c', () => {
    const c = 3.5;
    const scaled = Float64Array.from(r, (v) => v * c);
    const a = weigh('exp_rsft', { lambda: 2 }, scaled, stats(scaled));
    const b = weigh('exp_rsft', { lambda: 2 / c }, r, stats(r));
    Array.from(a.weight).forEach((v, i) => expect(v).toBeCloseTo(b.weight[i]!, 6));
  });

  it('standardisation is λ → λσ', () => {
    const s = stats(r);
    const a = weigh('exp_rsft', { lambda: 0.8, standardize: true }, r, s);
    const b = weigh('exp_rsft', { lambda: 0.8 * s.std }, r, s);
    Array.from(a.weight).forEach((v, i) => expect(v).toBeCloseTo(b.weight[i]!, 6));
    expect(a.diagnostics.temperature).toBeCloseTo(0.8 * s.std, 12);
  });

  it('all rewards equal (σ = 0): every weight is 1, no NaN, standardised or not', () => {
    const flat = new Float64Array(6).fill(4);
    for (const cfg of [{}, { standardize: true }, { shift_mode: 'batch', standardize: true }]) {
      const res = weigh('exp_rsft', cfg, flat, stats(flat));
      expect(Array.from(res.weight)).toEqual([1, 1, 1, 1, 1, 1]);
      expect(res.diagnostics.ess).toBe(6);
    }
  });

  it('per-batch shift uses each batch max: a different objective from the global one', () => {
    const lo = Float64Array.from([1, 2]);
    const g = weigh('exp_rsft', { lambda: 1 }, lo, stats([1, 2, 5]));
    const b = weigh('exp_rsft', { lambda: 1, shift_mode: 'batch' }, lo);
    expect(b.weight[1]).toBe(1);
    expect(g.weight[1]).toBeCloseTo(Math.exp(-3), 7);
    // The ratio within a batch is the same; the batch's total is not.
    expect(g.weight[0]! / g.weight[1]!).toBeCloseTo(b.weight[0]! / b.weight[1]!, 6);
  });

  it('no NaN or Inf at the extremes: rewards up to 1e4, λ down to 1e-3, empty batches', () => {
    const x = Float64Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1e4 : -1e4) * ((i % 7) / 7));
    for (const lambda of [1e-3, 1, 1e4]) {
      const res = weigh('exp_rsft', { lambda }, x, stats(x));
      for (const w of res.weight) expect(Number.isFinite(w) && w >= 0 && w <= 1).toBe(true);
      for (const v of Object.values(res.diagnostics)) expect(Number.isFinite(v)).toBe(true);
    }
    const empty = weigh('exp_rsft', {}, new Float64Array(0), stats([1]));
    expect(empty.weight.length).toBe(0);
    expect(empty.diagnostics).toEqual({ n: 0 });
  });

  it('says how to supply the statistics when they are missing', () => {
    expect(() => createOfflineObjective('exp_rsft', {}, {})).toThrow(/run the reward_stats stage .*barrier: true.*stats_path.*shift/is);
    // An explicit shift needs no statistics; standardising then needs `scale`.
    expect(weigh('exp_rsft', { shift: 5, lambda: 1 }, r).weight[4]).toBe(1);
    expect(() => createOfflineObjective('exp_rsft', { shift: 5, standardize: true }, {})).toThrow(/scale/);
    expect(() => createOfflineObjective('exp_rsft', { shift_mode: 'batch', shift: 2 }, {})).toThrow(
      /objective "exp_rsft": field "shift" applies to shift_mode global only/,
    );
    expect(() => createOfflineObjective('exp_rsft', { lambda: 0 }, {})).toThrow(/objective "exp_rsft": field "lambda" must be > 0/);
    expect(() => createOfflineObjective('exp_rsft', { lamda: 1 }, {})).toThrow(/unknown field "lamda"/);
  });

  it('a reward far above the shift is an error, not an Inf weight; NaN rewards name the row', () => {
    const o = createOfflineObjective('exp_rsft', { lambda: 0.1 }, { rewardStats: stats([0, 1]) });
    expect(() => o.weigh({ reward: Float64Array.from([0, 50]) }, null)).toThrow(/overflows float32/);
    expect(() => o.weigh({ reward: Float64Array.from([0, NaN, 1]) }, null)).toThrow(/reward at row 1 is NaN/);
    // Slightly above the shift is an error too since issue 12 (weights must stay in (0, 1]; stale-stats.test.ts).
    expect(() => o.weigh({ reward: Float64Array.from([0, 1.2]) }, null)).toThrow(/the reward 1.2 at row 1 is above the shift c = 1/);
  });

  it('a float32-stored reward above a float64 maximum only by rounding is that maximum: weights stay ≤ 1', () => {
    // reward_stats saw 5.01 (float64); the column stores Math.fround(5.01) = 5.0100002288…
    const o = createOfflineObjective('exp_rsft', { lambda: 1 }, { rewardStats: stats([1, 5.01]) });
    const stored = Math.fround(5.01);
    expect(stored).toBeGreaterThan(5.01);
    const { result } = o.weigh({ reward: Float64Array.from([stored, 1]) }, null);
    expect(result.weight[0]).toBe(1);
    expect(result.weight[1]).toBeCloseTo(Math.exp(1 - stored), 6);
    // One float32 step beyond the rounding is not rounding any more.
    expect(() => o.weigh({ reward: Float64Array.from([5.01 * (1 + 2 ** -21), 1]) }, null)).toThrow(/above the shift c = 5.01/);
  });
});

describe('bc and rsft_linear', () => {
  it('bc gives weight 1 everywhere', () => {
    const res = weigh('bc', {}, Float64Array.from([3, -2, 7]));
    expect(Array.from(res.weight)).toEqual([1, 1, 1]);
    expect(res.diagnostics.ess).toBe(3);
  });

  it('rsft_linear is w = r, negatives clipped unless allowed', () => {
    const x = Float64Array.from([2, -1, 0.5]);
    expect(Array.from(weigh('rsft_linear', {}, x).weight)).toEqual([2, 0, 0.5]);
    expect(Array.from(weigh('rsft_linear', { allow_negative: true }, x).weight)).toEqual([2, -1, 0.5]);
    expect(weigh('rsft_linear', {}, x).diagnostics.n_clipped).toBe(1);
  });

  it('rsft_linear standardised is (r − μ)/σ with global statistics; σ = 0 gives all zeros', () => {
    const x = Float64Array.from([1, 2, 3, 4, 5]);
    const s = stats(x);
    const res = weigh('rsft_linear', { standardize: true, allow_negative: true }, x, s);
    x.forEach((v, i) => expect(res.weight[i]).toBeCloseTo((v - 3) / s.std, 6));
    const flat = new Float64Array(3).fill(2);
    expect(Array.from(weigh('rsft_linear', { standardize: true }, flat, stats(flat)).weight)).toEqual([0, 0, 0]);
    expect(() => createOfflineObjective('rsft_linear', { standardize: true }, {})).toThrow(/reward_stats/);
  });
});

describe('exp_rsft_trajectory', () => {
  it('sums rewards per trajectory key, adjacent or not, against a brute-force sum', () => {
    const rand = rng(5);
    const n = 300;
    const reward = Float64Array.from({ length: n }, () => Math.round(rand() * 50) / 10);
    const group = Int32Array.from({ length: n }, (_, i) => (i < 150 ? Math.floor(i / 10) : Math.floor(rand() * 40)));
    const t = trajectoryReturns(reward, group);
    const sums = new Map<number, number>();
    group.forEach((g, i) => sums.set(g, (sums.get(g) ?? 0) + reward[i]!));
    group.forEach((g, i) => expect(t.perRow[i]).toBeCloseTo(sums.get(g)!, 9));
    expect(t.trajectories).toBe(sums.size);
  });

  it('gives every step of a trajectory w_τ = exp((R(τ) − c)/λ)', () => {
    const reward = Float64Array.from([1, 2, 3, 5, 1]);
    const group = Int32Array.from([7, 7, 9, 9, 9]);
    // Returns: τ7 = 3, τ9 = 9; shift c = 9 (an explicit global constant), no standardisation.
    const res = weigh('exp_rsft_trajectory', { lambda: 2, shift: 9, standardize: false }, reward, undefined, { group });
    const w7 = Math.exp((3 - 9) / 2);
    expect(Array.from(res.weight).map((v) => v.toFixed(6))).toEqual([w7, w7, 1, 1, 1].map((v) => v.toFixed(6)));
    expect(res.diagnostics.trajectories).toBe(2);
  });

  it('uses a supplied return column as R(τ) and standardises by default (λ → λσ)', () => {
    const R = Float64Array.from([10, 10, 4, 4, 4]);
    const s = stats([10, 4]);
    const o = createOfflineObjective('exp_rsft_trajectory', { lambda: 1 }, { rewardStats: s });
    const res = o.weigh({ reward: new Float64Array(5), trajectoryReturn: R } as never, null).result;
    expect(res.weight[0]).toBe(1);
    expect(res.weight[2]).toBeCloseTo(Math.exp((4 - 10) / (1 * s.std)), 6);
  });

  it('rejects per-step reward statistics as the shift of long trajectories, saying what to use', () => {
    const o = createOfflineObjective('exp_rsft_trajectory', { lambda: 0.1, standardize: false }, { rewardStats: stats([1, 5]) });
    const reward = new Float64Array(40).fill(5);
    expect(() => o.weigh({ reward, group: new Int32Array(40) }, null)).toThrow(/largest return R\(τ\).*column: return/);
  });

  it('needs a group or a return column', () => {
    const o = createOfflineObjective('exp_rsft_trajectory', { shift_mode: 'batch' }, {});
    expect(() => o.weigh({ reward: Float64Array.from([1]) }, null)).toThrow(/group/);
  });
});
