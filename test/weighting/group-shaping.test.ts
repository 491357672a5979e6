import { describe, expect, it } from 'vitest';
import type { GroupShapingInput } from '../../stages/core/objective.js';
import { droCorrection, groupNormalisedLogProbs, grpoAdvantages, hardRegretBonus, softRegretBonus } from '../../stages/weighting/group-shaping.js';
import { k3Kl } from '../../stages/weighting/kl-budget.js';
import { createGroupShaper, GROUP_SHAPERS } from '../../stages/weighting/registry.js';
import { rng } from './helpers.js';

const F = (x: number[]) => Float64Array.from(x);
const logs = (p: number[]) => Float64Array.from(p, Math.log);

describe('regret bonuses: closed forms', () => {
  const proxy = F([1, 2, 3, 0.5]);
  const logPt = groupNormalisedLogProbs(logs([0.1, 0.2, 0.6, 0.1]), 4);

  it('hard bonus adds δ̃ to argmax(r̂ − δ̃π̃)', () => {
    // δ̃ = 2: r̂ − δ̃π̃ = [0.8, 1.6, 1.8, 0.3] → k* = 2.
    expect(Array.from(hardRegretBonus(proxy, logPt, 4, 2).shaped)).toEqual([1, 2, 5, 0.5]);
    // δ̃ = 5: [0.5, 1.0, 0, 0] → k* = 1.
    const h = hardRegretBonus(proxy, logPt, 4, 5);
    expect(Array.from(h.shaped)).toEqual([1, 7, 3, 0.5]);
    expect(Array.from(h.winner)).toEqual([1]);
  });

  it('soft bonus equals Eq. 4.15 computed naively where that is safe', () => {
    const delta = 3;
    const tau = 2;
    const pt = [0.1, 0.2, 0.6, 0.1];
    const u = pt.map((p, k) => Math.exp((proxy[k]! - delta * p) / tau) / p);
    const Z = u.reduce((a, b) => a + b, 0);
    const expected = pt.map((p, k) => proxy[k]! + delta * 4 * (u[k]! / Z) * p);
    Array.from(softRegretBonus(proxy, logPt, 4, delta, tau)).forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 12));
  });

  it('DRO penalises the most probable candidate by δ̃', () => {
    expect(Array.from(droCorrection(proxy, logPt, 4, 0.7))).toEqual([1, 2, 3 - 0.7, 0.5]);
  });

  it('probabilities of 1e-30 give the same shaping as their ratios (group normalisation in log space)', () => {
    const tiny = logs([1e-30, 2e-30, 1e-30, 4e-30]);
    const plain = logs([1, 2, 1, 4]);
    const a = groupNormalisedLogProbs(tiny, 4);
    const b = groupNormalisedLogProbs(plain, 4);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 12));
    expect(Math.exp(a[3]!)).toBeCloseTo(0.5, 12);
    const s1 = softRegretBonus(proxy, a, 4, 40, 2);
    const s2 = softRegretBonus(proxy, b, 4, 40, 2);
    s1.forEach((v, i) => expect(v).toBeCloseTo(s2[i]!, 10));
  });

  it('soft bonus: large rewards, tiny τ and probabilities spanning 1e-300 stay finite and scale exactly', () => {
    const rand = rng(3);
    const G = 16;
    const r = Float64Array.from({ length: G }, () => rand() * 2);
    const lp = Float64Array.from({ length: G }, (_, k) => (k === 0 ? Math.log(1e-300) : Math.log(1e-30) * rand()));
    const logP = groupNormalisedLogProbs(lp, G);
    const base = softRegretBonus(r, logP, G, 3, 0.5);
    // Scaling r̂, δ̃ and τ by c leaves x = (r̂ − δ̃π̃)/τ unchanged, so r̃ scales by c.
    const c = 1e4;
    const big = softRegretBonus(
      Float64Array.from(r, (v) => v * c),
      logP,
      G,
      3 * c,
      0.5 * c,
    );
    big.forEach((v, k) => {
      expect(Number.isFinite(v)).toBe(true);
      expect(v / c).toBeCloseTo(base[k]!, 9);
    });
    // Bonuses are ≥ 0 and sum to δ̃·G·Σ_k w_k·π̃_k ≤ δ̃·G·max π̃.
    const maxPt = Math.max(...Array.from(logP, Math.exp));
    let total = 0;
    base.forEach((v, k) => {
      expect(v - r[k]!).toBeGreaterThanOrEqual(0);
      total += v - r[k]!;
    });
    expect(total).toBeLessThanOrEqual(3 * G * maxPt + 1e-9);
    const cold = softRegretBonus(r, logP, G, 3, 1e-6);
    for (const v of cold) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('GRPO advantages and the clipped surrogate', () => {
  it('are zero-mean, unit-std per group; a constant group gets 0', () => {
    const shaped = F([1, 2, 3, 4, 5, 5, 5, 5]);
    const { advantage, zeroStdGroups } = grpoAdvantages(shaped, 4);
    const sd = Math.sqrt(1.25);
    expect(Array.from(advantage.subarray(0, 4)).map((v) => +v.toFixed(6))).toEqual([-1.5, -0.5, 0.5, 1.5].map((v) => +(v / sd).toFixed(6)));
    expect(Array.from(advantage.subarray(4))).toEqual([0, 0, 0, 0]);
    expect(zeroStdGroups).toBe(1);
  });
});

describe('group shapers and budgets', () => {
  const G = 4;
  const input = (nGroups: number, extra: Partial<GroupShapingInput> = {}): GroupShapingInput => ({
    groupSize: G,
    proxyReward: Float64Array.from({ length: nGroups * G }, (_, i) => (i * 7) % 5),
    rolloutLogProb: Float64Array.from({ length: nGroups * G }, (_, i) => -1 - (i % 3)),
    ...extra,
  });

  it('are registered under grpo, drro_hard, drro_soft, dro', () => {
    expect(Object.keys(GROUP_SHAPERS).sort()).toEqual(['dro', 'drro_hard', 'drro_soft', 'grpo']);
    const g = createGroupShaper('grpo');
    const out = g.shape(input(2), g.initialState());
    expect(Array.from(out.result.shapedReward)).toEqual(Array.from(input(2).proxyReward));
    expect(() => createGroupShaper('grpo', { budget: 'fixed' })).toThrow(/group shaper "grpo": unknown field "budget"/);
    expect(() => createGroupShaper('drro_soft', { tau: 0 })).toThrow(/field "tau" must be > 0/);
  });

  it('fixed budget defaults to 2.5·G', () => {
    const s = createGroupShaper('drro_hard');
    const out = s.shape(input(3), s.initialState());
    expect(out.result.diagnostics.delta).toBe(10);
    // One bonus of 10 per group.
    expect(out.result.diagnostics.bonus_mean).toBeCloseTo((3 * 10) / 12, 12);
    const d = createGroupShaper('dro', { delta: 1.5 });
    expect(d.shape(input(3), d.initialState()).result.diagnostics.bonus_mean).toBeCloseTo(-(3 * 1.5) / 12, 12);
  });

  it('k3 is mean(exp(z) − z − 1) with z = log π₀ − log π̄', () => {
    const z = [0, Math.log(2), -1, 0.5];
    const expected = z.reduce((a, v) => a + Math.exp(v) - v - 1, 0) / 4;
    expect(k3Kl(F(z), F([0, 0, 0, 0]))).toBeCloseTo(expected, 14);
    expect(k3Kl(F([1e-12]), F([0]))).toBeCloseTo(0.5e-24, 30);
  });

  it('dynamic budget: δ̃ = δ̃₀ + α·(mean KL over the last 20 updates)', () => {
    const s = createGroupShaper('drro_soft', { budget: 'dynamic', kl_estimator: 'exact', delta0: 1, alpha: 10 });
    let st = s.initialState();
    const deltas: number[] = [];
    for (let t = 1; t <= 25; t++) {
      const out = s.shape(input(2, { exactKl: F([t - 0.5, t + 0.5]) }), st);
      st = out.state;
      deltas.push(out.result.diagnostics.delta!);
    }
    // Update t has KL t; after 25 updates the window holds 6..25 (mean 15.5).
    expect(deltas[0]).toBeCloseTo(1 + 10 * 1, 12);
    expect(deltas[2]).toBeCloseTo(1 + 10 * 2, 12);
    expect(deltas[24]).toBeCloseTo(1 + 10 * 15.5, 12);
    expect(st.window).toHaveLength(20);
    // k3 from reference log-probabilities.
    const k = createGroupShaper('drro_hard', { budget: 'dynamic', alpha: 2 });
    const inp = input(1, { refLogProb: F([-1, -2 + Math.log(2), -3, -1]) });
    const kl = k3Kl(inp.refLogProb!, inp.rolloutLogProb);
    expect(k.shape(inp, k.initialState()).result.diagnostics.delta).toBeCloseTo(2 * kl, 12);
  });

  it('state is JSON: a shaper resumed from saved state continues exactly', () => {
    const make = () => createGroupShaper('drro_soft', { budget: 'dynamic', window: 3 });
    const rand = rng(11);
    const inputs = Array.from({ length: 8 }, () => input(2, { refLogProb: Float64Array.from({ length: 8 }, () => -1 - rand() * 3) }));
    const a = make();
    let sa = a.initialState();
    const full = inputs.map((x) => {
      const o = a.shape(x, sa);
      sa = o.state;
      return Array.from(o.result.advantage);
    });
    const b = make();
    let sb = b.initialState();
    for (let i = 0; i < 4; i++) sb = b.shape(inputs[i]!, sb).state;
    let sc = JSON.parse(JSON.stringify(sb));
    const c = make();
    for (let i = 4; i < 8; i++) {
      const o = c.shape(inputs[i]!, sc);
      sc = o.state;
      expect(Array.from(o.result.advantage)).toEqual(full[i]);
    }
  });

  it('rejects missing inputs and bad shapes with clear messages', () => {
    const dyn = createGroupShaper('drro_hard', { budget: 'dynamic' });
    expect(() => dyn.shape(input(1), dyn.initialState())).toThrow(/needs refLogProb/);
    const ex = createGroupShaper('drro_hard', { budget: 'dynamic', kl_estimator: 'exact' });
    expect(() => ex.shape(input(1), ex.initialState())).toThrow(/needs exactKl/);
    const s = createGroupShaper('drro_soft');
    expect(() => s.shape({ groupSize: 4, proxyReward: F([1, 2, 3]), rolloutLogProb: F([0, 0, 0]) }, s.initialState())).toThrow(
      /not a multiple of the group size 4/,
    );
    expect(() => s.shape({ groupSize: 2, proxyReward: F([1, 2]), rolloutLogProb: F([0, -Infinity]) }, s.initialState())).toThrow(
      /rolloutLogProb at row 1 is -Infinity/,
    );
    expect(() => s.shape({ groupSize: 2, proxyReward: F([1, 2]), rolloutLogProb: F([0]) }, s.initialState())).toThrow(/rolloutLogProb has 1 entries/);
  });

  it('an empty input gives empty outputs', () => {
    const s = createGroupShaper('drro_soft');
    const out = s.shape({ groupSize: 16, proxyReward: F([]), rolloutLogProb: F([]) }, s.initialState());
    expect(out.result.shapedReward.length).toBe(0);
    expect(out.result.diagnostics.groups).toBe(0);
  });
});
