import { describe, expect, it } from 'vitest';
import type { DrpoState } from '../../stages/weighting/drpo.js';
import { drpoFilter } from '../../stages/weighting/drpo.js';
import { createOfflineObjective } from '../../stages/weighting/registry.js';
import { rng } from './helpers.js';

const range = (a: number, b: number) => Float64Array.from({ length: b - a + 1 }, (_, i) => a + i);
const control = { rho: 0.5, pMin: 0.05, pMax: 1, rateUp: 1.02, rateDown: 0.98 };

describe('DRPO on a hand-computed three-batch example', () => {
  // Batch 1: r = 1..10, P = 0.5 → K = 5, B_top = 6..10.
  //   σ_batch = √8.25 = 2.8723, σ_subset = √2 = 1.4142 < 0.5·2.8723 = 1.4361 → expand: P = 0.51.
  //   ν = 6, A = 0..4, std(A) = √2, Ã = A/√2, weight = Ã·N/K = 2Ã.
  // Batch 2: r = [0,0,0,0,0,0,10,10,10,10], P = 0.51 → K = floor(5.1) = 5: the four 10s and row 0 (ties in row order).
  //   σ_batch = √24 = 4.899, subset {0,10,10,10,10}: mean 8, σ_subset = 4 ≥ 2.449 → shrink: P = 0.4998.
  //   ν = 0, A = (0,10,10,10,10), std(A) = 4 → Ã = 2.5 on the 10s, weight = 5.
  // Batch 3: r = 1..20, P = 0.4998 → K = floor(9.996) = 9: B_top = 12..20.
  //   σ_batch = √33.25 = 5.766, σ_subset = √(80/12) = 2.582 < 2.883 → expand: P = 0.509796.
  //   ν = 12, std(A) = 2.582, weight = (r − 12)/2.582 · 20/9.
  const batches = [range(1, 10), Float64Array.from([0, 0, 0, 0, 0, 0, 10, 10, 10, 10]), range(1, 20)];

  it('follows the P trajectory 0.5 → 0.51 → 0.4998 → 0.509796', () => {
    const o = createOfflineObjective('drpo', {});
    let s = o.initialState() as DrpoState;
    const Ps = [s.P];
    const kept: number[] = [];
    for (const b of batches) {
      const out = o.weigh({ reward: b }, s);
      s = out.state as DrpoState;
      Ps.push(s.P);
      kept.push(out.result.diagnostics.kept!);
    }
    expect(Ps[0]).toBe(0.5);
    expect(Ps[1]).toBeCloseTo(0.51, 15);
    expect(Ps[2]).toBeCloseTo(0.4998, 15);
    expect(Ps[3]).toBeCloseTo(0.509796, 15);
    expect(kept).toEqual([5, 5, 9]);
  });

  it('gives the hand-computed weights, kept masks and advantages', () => {
    const o = createOfflineObjective('drpo', {});
    let s = o.initialState();
    const res = batches.map((b) => {
      const out = o.weigh({ reward: b }, s);
      s = out.state;
      return out.result;
    });
    const r2 = Math.SQRT2 + 1e-8;
    expect(Array.from(res[0]!.weight).map((v) => +v.toFixed(5))).toEqual([0, 0, 0, 0, 0, 0, 2 / r2, 4 / r2, 6 / r2, 8 / r2].map((v) => +v.toFixed(5)));
    expect(Array.from(res[0]!.kept!)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(res[0]!.diagnostics.nu).toBe(6);
    expect(Array.from(res[1]!.kept!)).toEqual([1, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(res[1]!.weight).map((v) => +v.toFixed(5))).toEqual([0, 0, 0, 0, 0, 0, 5, 5, 5, 5]);
    const sd3 = Math.sqrt(80 / 12);
    const w3 = Array.from(res[2]!.weight);
    for (let i = 0; i < 20; i++) {
      const r = i + 1;
      expect(w3[i]).toBeCloseTo(r >= 12 ? ((r - 12) / (sd3 + 1e-8)) * (20 / 9) : 0, 5);
    }
    // Advantages are defined on every row; rejected rows carry a negative phantom weight.
    expect(res[2]!.advantage![0]).toBeCloseTo((1 - 12) / sd3, 5);
    expect(res[2]!.phantomWeight![0]).toBeCloseTo(((1 - 12) / sd3) * (20 / 9), 4);
    expect(res[2]!.phantomWeight![15]).toBe(0);
  });

  it('mean_over: batch leaves the weights unscaled', () => {
    const o = createOfflineObjective('drpo', { mean_over: 'batch' });
    const w = o.weigh({ reward: batches[0]! }, o.initialState()).result.weight;
    expect(w[9]).toBeCloseTo(4 / Math.SQRT2, 5);
  });
});

describe('DRPO edge cases', () => {
  it('std(A) = 0 gives all-zero weights (1e-8 guard); σ_batch = 0 shrinks P; no NaN', () => {
    const o = createOfflineObjective('drpo', {});
    const out = o.weigh({ reward: new Float64Array(8).fill(3) }, { P: 0.5 });
    expect(Array.from(out.result.weight)).toEqual(new Array(8).fill(0));
    expect(out.result.diagnostics.kept).toBe(4);
    expect((out.state as DrpoState).P).toBeCloseTo(0.49, 15);
    for (const v of Object.values(out.result.diagnostics)) expect(Number.isFinite(v)).toBe(true);
    // K = 1: a single kept row has A = 0, so its weight is 0 too.
    const one = o.weigh({ reward: Float64Array.from([1, 2, 3]) }, { P: 0.05 });
    expect(one.result.diagnostics.kept).toBe(1);
    expect(Array.from(one.result.weight)).toEqual([0, 0, 0]);
  });

  it('an empty batch leaves P unchanged and gives empty columns', () => {
    const o = createOfflineObjective('drpo', {});
    const out = o.weigh({ reward: new Float64Array(0) }, { P: 0.3 });
    expect(out.state).toEqual({ P: 0.3 });
    expect(out.result.weight.length).toBe(0);
    expect(out.result.diagnostics).toEqual({ n: 0, P: 0.3, kept: 0 });
  });

  it('K = floor(N·P) with a rounding guard, never 0, bounded by p_min and p_max', () => {
    expect(drpoFilter(range(1, 100), 0.29, control).K).toBe(29);
    expect(drpoFilter(range(1, 3), 0.05, control).K).toBe(1);
    let P = 0.06;
    for (let i = 0; i < 50; i++) P = drpoFilter(new Float64Array(10).fill(1), P, control).nextP;
    expect(P).toBe(0.05);
    // One low outlier: at P = 0.999 the top 99 rows exclude it and are homogeneous, so P expands, capped at 1;
    // at P = 1 the subset is the batch (σ_subset = σ_batch), so P shrinks again.
    const outlier = Float64Array.from({ length: 100 }, (_, i) => (i === 0 ? -1000 : 1 + (i % 2) * 1e-3));
    const up = drpoFilter(outlier, 0.999, control);
    expect(up.K).toBe(99);
    expect(up.nextP).toBe(1);
    expect(drpoFilter(outlier, 1, control).nextP).toBe(0.98);
  });

  it('stays finite for rewards up to 1e4 (DRPO, DRPO-Exp, Adaptive BC)', () => {
    const r = Float64Array.from({ length: 200 }, (_, i) => ((i * 7919) % 200) * 50 - 5000);
    for (const name of ['drpo', 'drpo_exp', 'adaptive_bc']) {
      const o = createOfflineObjective(name, name === 'drpo_exp' ? { beta: 1e-3 } : {});
      const res = o.weigh({ reward: r }, o.initialState()).result;
      for (const w of res.weight) expect(Number.isFinite(w)).toBe(true);
      for (const w of res.phantomWeight!) expect(Number.isFinite(w)).toBe(true);
      for (const v of Object.values(res.diagnostics)) expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('a NaN reward is an error naming the row', () => {
    const o = createOfflineObjective('drpo', {});
    expect(() => o.weigh({ reward: Float64Array.from([1, 2, NaN]) }, o.initialState())).toThrow(/row 2 is NaN/);
  });
});

describe('DRPO-Exp and Adaptive BC', () => {
  it('DRPO-Exp weights kept rows by min(exp((r − mean over B_top)/β), w_max)', () => {
    const o = createOfflineObjective('drpo_exp', { beta: 2, w_max: 1.5, mean_over: 'batch' });
    const r = range(1, 10);
    const res = o.weigh({ reward: r }, o.initialState()).result;
    // B_top = 6..10, mean 8.
    for (let i = 0; i < 10; i++) {
      const expected = i >= 5 ? Math.min(Math.exp((r[i]! - 8) / 2), 1.5) : 0;
      expect(res.weight[i]).toBeCloseTo(expected, 6);
    }
    expect(res.diagnostics.baseline).toBe(8);
  });

  it("Adaptive BC is N/|B_top| on B_top (the kept set's mean, issue 12) and 0 elsewhere, sharing DRPO's P trajectory", () => {
    const a = createOfflineObjective('adaptive_bc', {});
    const d = createOfflineObjective('drpo', {});
    const rand = rng(9);
    let sa = a.initialState();
    let sd = d.initialState();
    for (let t = 0; t < 20; t++) {
      const r = Float64Array.from({ length: 50 }, () => Math.floor(rand() * 5) + 1);
      const oa = a.weigh({ reward: r }, sa);
      const od = d.weigh({ reward: r }, sd);
      const K = oa.result.diagnostics.kept!;
      expect(Array.from(oa.result.weight)).toEqual(Array.from(oa.result.kept!, (k) => k * Math.fround(50 / K)));
      expect(Array.from(oa.result.kept!)).toEqual(Array.from(od.result.kept!));
      sa = oa.state;
      sd = od.state;
      expect(sa).toEqual(sd);
    }
  });

  it('validates its configuration, naming the objective and field', () => {
    expect(() => createOfflineObjective('drpo', { p_min: 0.5, p_max: 0.2 })).toThrow(/objective "drpo": field "p_min"/);
    expect(() => createOfflineObjective('drpo', { rho: -1 })).toThrow(/objective "drpo": field "rho" must be > 0/);
    expect(() => createOfflineObjective('drpo', { beta: 1 })).toThrow(/unknown field "beta"/);
    expect(() => createOfflineObjective('drpox', {})).toThrow(/unknown objective "drpox"/);
  });
});

describe('DRPO resumed from saved state', () => {
  it('produces exactly the weights of an uninterrupted run from batch k + 1 on', () => {
    const rand = rng(77);
    const batches = Array.from({ length: 12 }, (_, b) =>
      Float64Array.from({ length: 20 + ((b * 37) % 50) }, () => (b % 3 === 0 ? Math.floor(rand() * 5) + 1 : rand() * 3)),
    );
    for (const name of ['drpo', 'drpo_exp', 'adaptive_bc']) {
      const o = createOfflineObjective(name, {});
      let s = o.initialState();
      const full = batches.map((r) => {
        const out = o.weigh({ reward: r }, s);
        s = out.state;
        return out.result.weight;
      });
      for (const k of [0, 4, 10]) {
        const first = createOfflineObjective(name, {});
        let st = first.initialState();
        for (let i = 0; i <= k; i++) st = first.weigh({ reward: batches[i]! }, st).state;
        const saved = JSON.parse(JSON.stringify(st));
        const resumed = createOfflineObjective(name, {});
        let rs = saved;
        for (let i = k + 1; i < batches.length; i++) {
          const out = resumed.weigh({ reward: batches[i]! }, rs);
          rs = out.state;
          expect(Array.from(out.result.weight)).toEqual(Array.from(full[i]!));
        }
      }
    }
  });
});
