import { describe, expect, it } from 'vitest';
import type { ObjectiveBatch, ObjectiveResult } from '../../stages/core/objective.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { createOfflineObjective, OFFLINE_OBJECTIVES } from '../../stages/weighting/registry.js';
import type { WeightingBatch } from '../../stages/weighting/objective-types.js';

function weigh(name: string, cfg: Record<string, unknown>, batch: WeightingBatch): ObjectiveResult {
  const o = createOfflineObjective(name, cfg);
  return o.weigh(batch as ObjectiveBatch, o.initialState()).result;
}

const reward = Float64Array.from([0.9, 0.2, 0.5, 0.7]);

describe('critic-based objectives (IQL, CRR with a critic, BPPO, DRPO-Q)', () => {
  it('are registered with their documented defaults and ask for a critic', () => {
    for (const name of ['iql', 'crr_critic', 'bppo', 'drpo_q']) {
      expect(OFFLINE_OBJECTIVES[name]).toBeDefined();
      expect(OFFLINE_OBJECTIVES[name]!.inputs?.critic).toBeTypeOf('function');
    }
    expect(OFFLINE_OBJECTIVES.iql!.fields.tau!.default).toBe(0.7);
    expect(OFFLINE_OBJECTIVES.bppo!.fields.epsilon!.default).toBe(0.2);
    const iqlCritic = OFFLINE_OBJECTIVES.iql!.inputs!.critic!({ ...defaults('iql'), tau: 0.9 });
    expect(iqlCritic).toMatchObject({ tau: 0.9, baseline: 'value' });
    expect(OFFLINE_OBJECTIVES.crr_critic!.inputs!.critic!(defaults('crr_critic'))).toMatchObject({ tau: 0.5, baseline: 'policy_mean', samples: 4 });
    expect(OFFLINE_OBJECTIVES.bppo!.inputs!.proximal!(defaults('bppo'))).toEqual({ epsilon: 0.2, refreshSteps: 50 });
  });

  it('IQL: w = min(exp(β·(Q − V)), w_max), by hand', () => {
    const critic = { q: Float64Array.from([1, 0.5, 2, 0.8]), baseline: Float64Array.from([0.8, 0.8, 0.1, 0.8]) };
    const r = weigh('iql', { beta: 3, w_max: 100 }, { reward, critic });
    expect(r.weight[0]).toBeCloseTo(Math.exp(3 * 0.2), 4);
    expect(r.weight[1]).toBeCloseTo(Math.exp(3 * -0.3), 4);
    expect(r.weight[2]).toBe(100); // exp(5.7) = 299 clipped
    expect(r.weight[3]).toBeCloseTo(1, 5);
    expect(r.advantage![0]).toBeCloseTo(0.2, 6);
  });

  it('CRR with a critic differs from AWR, and with Q = r and the batch-mean baseline it is `crr` (and AWR at β = 1)', () => {
    const q = Float64Array.from([0.3, 0.6, 0.55, 0.2]);
    const policyMean = Float64Array.from([0.4, 0.4, 0.4, 0.4]);
    const withCritic = weigh('crr_critic', { beta: 1 }, { reward, critic: { q, baseline: policyMean } });
    const awr = weigh('awr', { beta: 1 }, { reward });
    // A = Q − mean_π Q = (−0.1, 0.2, 0.15, −0.2) against AWR's r − mean r = (0.325, −0.375, −0.075, 0.125)
    expect(withCritic.weight[0]).toBeCloseTo(Math.exp(-0.1), 5);
    expect(withCritic.weight[1]).toBeCloseTo(Math.exp(0.2), 5);
    expect(Array.from(withCritic.weight)).not.toEqual(Array.from(awr.weight));
    const binary = weigh('crr_critic', { variant: 'binary' }, { reward, critic: { q, baseline: policyMean } });
    expect(Array.from(binary.weight)).toEqual([0, 1, 1, 0]);
    // The special case: Q(s, a) = r and the sampled mean replaced by the batch mean reward.
    const mean = reward.reduce((a, b) => a + b, 0) / reward.length;
    const special = weigh('crr_critic', { beta: 1 }, { reward, critic: { q: reward, baseline: new Float64Array(4).fill(mean) } });
    const crr = weigh('crr', { beta: 1 }, { reward });
    Array.from(special.weight).forEach((w, i) => expect(w).toBeCloseTo(crr.weight[i]!, 6));
    Array.from(special.weight).forEach((w, i) => expect(w).toBeCloseTo(awr.weight[i]!, 6));
  });

  it('BPPO supplies the critic advantage A = Q − V as the weight (negative allowed)', () => {
    const critic = { q: Float64Array.from([1, 0.5, 0.2, 0.8]), baseline: Float64Array.from([0.6, 0.6, 0.6, 0.6]) };
    const r = weigh('bppo', {}, { reward, critic });
    [0.4, -0.1, -0.4, 0.2].forEach((a, i) => expect(r.weight[i]).toBeCloseTo(a, 6));
  });

  it('DRPO-Q is DRPO run on Q: identical weights and P when Q = r, different when Q ≠ r', () => {
    const n = 64;
    const r = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 0.5 + 0.5);
    const q = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.9) * 0.5 + 0.5);
    const drpo = createOfflineObjective('drpo', { rho: 0.5 });
    const drpoQ = createOfflineObjective('drpo_q', { rho: 0.5 });
    const a = drpo.weigh({ reward: r }, drpo.initialState());
    const same = drpoQ.weigh({ reward: q, critic: { q: r, baseline: r } } as ObjectiveBatch, drpoQ.initialState());
    expect(Array.from(same.result.weight)).toEqual(Array.from(a.result.weight));
    expect(same.state).toEqual(a.state);
    const other = drpoQ.weigh({ reward: r, critic: { q, baseline: q } } as ObjectiveBatch, drpoQ.initialState());
    expect(Array.from(other.result.weight)).not.toEqual(Array.from(a.result.weight));
    const onQ = drpo.weigh({ reward: q }, drpo.initialState());
    expect(Array.from(other.result.weight)).toEqual(Array.from(onQ.result.weight));
  });

  it('without a critic (a trainer that fits none) each says so as a ConfigError', () => {
    for (const name of ['iql', 'crr_critic', 'bppo', 'drpo_q']) {
      const o = createOfflineObjective(name, {});
      expect(() => o.weigh({ reward }, o.initialState())).toThrow(ConfigError);
      expect(() => o.weigh({ reward }, o.initialState())).toThrow(
        `objective "${name}" needs a learned critic Q(s, a) per row, which only train_gaussian fits (not other trainers, nor the objective as a stream stage)`,
      );
    }
  });

  it('rejects out-of-range options with the field named', () => {
    expect(() => createOfflineObjective('iql', { tau: 1 })).toThrow(/tau/);
    expect(() => createOfflineObjective('bppo', { epsilon: 0 })).toThrow(/epsilon/);
  });
});

function defaults(name: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(OFFLINE_OBJECTIVES[name]!.fields).map(([k, f]) => [k, (f as { default?: unknown }).default]));
}
