/**
 * Every objective and shaper at the numeric extremes the issue names: rewards
 * up to ±1e4, temperatures down to 1e-3, probabilities down to 1e-30, empty
 * batches and batches whose rewards are all equal. Nothing may be NaN or ±Inf.
 */
import { describe, expect, it } from 'vitest';
import { createGroupShaper, createOfflineObjective, GROUP_SHAPERS, OFFLINE_OBJECTIVES } from '../../stages/weighting/registry.js';
import { fastExp } from '../../stages/weighting/numeric.js';
import { rng } from './helpers.js';

const rand = rng(2718);
const wide = Float64Array.from({ length: 500 }, (_, i) => (i === 0 ? 1e4 : i === 1 ? -1e4 : (rand() * 2 - 1) * 1e4));
const stats = {
  count: 500,
  mean: 0,
  variance: 3e7,
  std: Math.sqrt(3e7),
  min: -1e4,
  max: 1e4,
  quantiles: [],
  quantileRankError: 0,
  histogram: { edges: [], counts: [] },
};

/** Configurations with the smallest temperatures each objective has. */
const COLD: Record<string, Record<string, unknown>> = {
  exp_rsft: { lambda: 1e-3 },
  exp_rsft_trajectory: { lambda: 1e-3, standardize: false, shift_mode: 'batch' },
  awr: { beta: 1e-3, w_max: 3e38 },
  crr: { beta: 1e-3, w_max: 3e38 },
  drpo_exp: { beta: 1e-3, w_max: 3e38 },
  rsft_linear: { standardize: true, allow_negative: true },
};

function finite(name: string, values: ArrayLike<number> | undefined): void {
  if (!values) return;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) throw new Error(`${name}: entry ${i} is ${values[i]}`);
}

describe('numeric extremes', () => {
  for (const name of Object.keys(OFFLINE_OBJECTIVES)) {
    it(`${name}: wide rewards, empty and all-equal batches stay finite`, () => {
      // Trajectory returns are sums of rewards: the reward statistics' max is no shift for them (that is an error, tested elsewhere).
      const base = name === 'exp_rsft_trajectory' ? { shift_mode: 'batch' } : {};
      for (const cfg of [base, COLD[name] ?? {}]) {
        const o = createOfflineObjective(name, cfg, { rewardStats: stats });
        let s = o.initialState();
        const group = (n: number) => Int32Array.from({ length: n }, (_, i) => Math.floor(i / 7));
        for (const reward of [wide, new Float64Array(0), new Float64Array(64).fill(3.25), new Float64Array(1).fill(-1e4)]) {
          // Critic-based objectives (IQL, CRR with a critic, BPPO, DRPO-Q) read a learned Q and baseline: the wide rewards and 0.
          const critic = OFFLINE_OBJECTIVES[name]!.inputs?.critic ? { critic: { q: reward, baseline: new Float64Array(reward.length) } } : {};
          const batch: { reward: Float64Array; group: Int32Array } = { reward, group: group(reward.length), ...critic };
          const out = o.weigh(batch, s);
          s = out.state;
          const r = out.result;
          expect(r.weight.length).toBe(reward.length);
          finite(`${name} weight`, r.weight);
          finite(`${name} advantage`, r.advantage);
          finite(`${name} phantom`, r.phantomWeight);
          for (const [k, v] of Object.entries(r.diagnostics)) expect(Number.isFinite(v), `${name} ${k}`).toBe(true);
          if (r.kept) for (const k of r.kept) expect(k === 0 || k === 1).toBe(true);
        }
        expect(JSON.parse(JSON.stringify(s))).toEqual(s);
      }
    });
  }

  for (const name of Object.keys(GROUP_SHAPERS)) {
    it(`${name}: probabilities down to 1e-30 (and 1e-300), rewards ±1e4, all-equal groups`, () => {
      const G = 16;
      const proxy = Float64Array.from({ length: 3 * G }, (_, i) => (i < G ? (rand() * 2 - 1) * 1e4 : i < 2 * G ? 7 : rand()));
      const logp = Float64Array.from({ length: 3 * G }, (_, i) => Math.log(i % 5 === 0 ? 1e-300 : i % 2 ? 1e-30 : 1e-3 * rand()));
      const ref = Float64Array.from(logp, (v, i) => v + (i % 3) - 1);
      const cfgs: Record<string, unknown>[] = name === 'grpo' ? [{}] : [{}, { budget: 'dynamic' }, { delta: 1e4 }];
      if (name === 'drro_soft') cfgs.push({ tau: 1e-3 });
      for (const cfg of cfgs) {
        const s = createGroupShaper(name, cfg);
        const out = s.shape({ groupSize: G, proxyReward: proxy, rolloutLogProb: logp, refLogProb: ref }, s.initialState());
        finite(`${name} shaped`, out.result.shapedReward);
        finite(`${name} advantage`, out.result.advantage);
        for (const [k, v] of Object.entries(out.result.diagnostics)) expect(Number.isFinite(v), `${name} ${k}`).toBe(true);
      }
    });
  }

  it('fastExp matches Math.exp to 1e-8 relative over the float32 range and is exactly 1 at 0', () => {
    expect(fastExp(0)).toBe(1);
    for (let v = -103; v <= 88.7; v += 0.0137) {
      const e = Math.exp(v);
      expect(Math.abs(fastExp(v) - e) / e).toBeLessThan(1e-8);
    }
    expect(Math.fround(fastExp(-200))).toBe(0);
  });
});
