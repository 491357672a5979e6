import { describe, expect, it } from 'vitest';
import { createOfflineObjective } from '../../stages/weighting/registry.js';
import { kthLargest, selectInPlace, topKMask } from '../../stages/weighting/selection.js';
import { cvarDualObjective, cvarDualThreshold, topKappaCount, topKappaThreshold } from '../../stages/weighting/top-kappa.js';
import { rng } from './helpers.js';

describe('selection', () => {
  it('quickselect returns the same order statistic as a full sort, ties included', () => {
    const rand = rng(1);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 60);
      const distinct = trial % 3 === 0 ? 3 : 1000;
      const x = Float64Array.from({ length: n }, () => Math.floor(rand() * distinct));
      const sorted = Float64Array.from(x).sort();
      const k = Math.floor(rand() * n);
      expect(selectInPlace(Float64Array.from(x), k)).toBe(sorted[k]);
      expect(kthLargest(x, k + 1)).toBe(sorted[n - 1 - k]);
    }
  });

  it('bucket select on large inputs agrees with a sort: continuous, tied, wide-range and constant data', () => {
    const rand = rng(17);
    const inputs = [
      Float64Array.from({ length: 20000 }, () => rand() * 10 - 5),
      Float64Array.from({ length: 10000 }, () => 1 + Math.floor(rand() * 5)),
      Float64Array.from({ length: 9000 }, (_, i) => (i % 3 === 0 ? 1e300 * rand() : i % 3 === 1 ? -1e-300 * rand() : rand())),
      Float64Array.from({ length: 8000 }, (_, i) => (i === 7 ? 1e308 : i === 9 ? -1e308 : rand())),
      Float64Array.from({ length: 5000 }, (_, i) => (i < 4999 ? 2 : 3)),
      new Float64Array(6000).fill(-1.5),
    ];
    for (const x of inputs) {
      const sorted = x.slice().sort();
      for (const k of [1, 2, 3, Math.floor(x.length / 3), Math.floor(x.length / 2), x.length - 1, x.length]) {
        expect(kthLargest(x, k)).toBe(sorted[x.length - k]);
      }
    }
  });

  it('topKMask keeps exactly K rows, ties at the threshold in row order', () => {
    const x = Float64Array.from([3, 5, 3, 1, 5, 3]);
    const { mask, threshold } = topKMask(x, 4);
    expect(threshold).toBe(3);
    expect(Array.from(mask)).toEqual([1, 1, 1, 0, 1, 0]);
  });
});

describe('fixed-κ threshold: quantile and CVaR dual', () => {
  it('agree on random data, with and without ties, and minimise g against brute force', () => {
    const rand = rng(42);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rand() * 80);
      const kind = trial % 3;
      const x = Float64Array.from({ length: n }, () => (kind === 0 ? 1 + Math.floor(rand() * 5) : kind === 1 ? Math.round(rand() * 20) / 4 : rand() * 10 - 5));
      const kappa = trial % 5 === 0 ? [0.1, 0.2, 0.25, 0.5, 1][trial % 4]! : 0.01 + rand() * 0.99;
      const q = topKappaThreshold(x, kappa);
      const d = cvarDualThreshold(x, kappa);
      expect(d.nu).toBe(q);
      // Brute force: g at every data point; its minimum is attained at ν.
      let best = Infinity;
      for (const v of x) best = Math.min(best, cvarDualObjective(x, kappa, v));
      expect(cvarDualObjective(x, kappa, q)).toBeCloseTo(best, 9);
      expect(d.value).toBeCloseTo(best, 9);
      // ν is the (1 − κ)-quantile: at most κN rows strictly above it, at least κN at or above.
      const above = x.filter((v) => v > q).length;
      const atOrAbove = x.filter((v) => v >= q).length;
      expect(above).toBeLessThanOrEqual(kappa * n + 1e-9);
      expect(atOrAbove).toBeGreaterThanOrEqual(kappa * n - 1e-9);
    }
  });

  it('min g is the mean of the top κ fraction (the optimistic CVaR) when κN is an integer', () => {
    const x = Float64Array.from([9, 1, 7, 3, 5, 2, 8, 4, 6, 10]);
    expect(cvarDualThreshold(x, 0.3).value).toBeCloseTo((10 + 9 + 8) / 3, 12);
    expect(topKappaThreshold(x, 0.3)).toBe(8);
  });

  it('rounds κN with a guard: κ = 0.07 of 100 keeps 7, not 8', () => {
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(topKappaCount(100, 0.07)).toBe(7);
    expect(topKappaCount(10, 0.31)).toBe(4);
    expect(topKappaCount(7, 0.01)).toBe(1);
    expect(topKappaCount(0, 0.5)).toBe(0);
  });
});

describe('topk objective', () => {
  it('is w = (r − ν)₊/κ with kept = 1[r ≥ ν] and phantom weights below ν', () => {
    const o = createOfflineObjective('topk', { kappa: 0.4 });
    const r = Float64Array.from([1, 5, 2, 4, 3]);
    const res = o.weigh({ reward: r }, o.initialState()).result;
    // ⌈0.4·5⌉ = 2 → ν = 4.
    expect(res.diagnostics.nu).toBe(4);
    expect(Array.from(res.kept!)).toEqual([0, 1, 0, 1, 0]);
    expect(Array.from(res.weight)).toEqual([0, 2.5, 0, 0, 0]);
    expect(Array.from(res.advantage!)).toEqual([-3, 1, -2, 0, -1]);
    expect(Array.from(res.phantomWeight!)).toEqual([-7.5, 0, -5, 0, -2.5]);
    expect(res.diagnostics.cvar).toBeCloseTo(4.5, 12);
    // The cvar_dual method gives the same weights.
    const d = createOfflineObjective('topk', { kappa: 0.4, threshold: 'cvar_dual' });
    expect(Array.from(d.weigh({ reward: r }, null).result.weight)).toEqual(Array.from(res.weight));
  });

  it('κ = 1 keeps everything; all-equal rewards keep everything at weight 0; empty is empty', () => {
    const o = createOfflineObjective('topk', { kappa: 1 });
    const r = Float64Array.from([2, 1, 3]);
    const res = o.weigh({ reward: r }, null).result;
    expect(Array.from(res.kept!)).toEqual([1, 1, 1]);
    expect(Array.from(res.weight)).toEqual([1, 0, 2]);
    const flat = createOfflineObjective('topk', { kappa: 0.2 }).weigh({ reward: new Float64Array(5).fill(7) }, null).result;
    expect(Array.from(flat.kept!)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(flat.weight)).toEqual([0, 0, 0, 0, 0]);
    expect(flat.diagnostics.ess).toBe(0);
    const empty = o.weigh({ reward: new Float64Array(0) }, null).result;
    expect(empty.weight.length).toBe(0);
    expect(() => createOfflineObjective('topk', { kappa: 1.5 })).toThrow(/field "kappa" must be ≤ 1/);
  });

  it('stays finite for rewards up to 1e4', () => {
    const r = Float64Array.from({ length: 101 }, (_, i) => (i - 50) * 200);
    const res = createOfflineObjective('topk', { kappa: 0.05 }).weigh({ reward: r }, null).result;
    for (const w of res.weight) expect(Number.isFinite(w)).toBe(true);
    expect(res.diagnostics.nu).toBe(9000);
  });
});
