import { describe, expect, it } from 'vitest';
import { droTopM, droValue, drroHardValue, drroSoftValue, drroWaterFilling, drroWorstCaseRegret } from '../../stages/weighting/promptwise.js';
import { rng } from './helpers.js';

/**
 * Worst-case regret by brute force, independent of Proposition 3.3: Reg(π, s) =
 * max_i s_i − ⟨π, s⟩ is convex in the perturbation Δ, so its maximum over the
 * ℓ1 ball ‖Δ‖₁ ≤ δ is at a vertex ±δ·e_j.
 */
function bruteRegret(p: ArrayLike<number>, r: ArrayLike<number>, delta: number): number {
  const n = r.length;
  let worst = -Infinity;
  for (let j = 0; j < n; j++) {
    for (const sign of [1, -1]) {
      let mx = -Infinity;
      let dot = 0;
      for (let i = 0; i < n; i++) {
        const s = r[i]! + (i === j ? sign * delta : 0);
        mx = Math.max(mx, s);
        dot += p[i]! * s;
      }
      worst = Math.max(worst, mx - dot);
    }
  }
  return worst;
}

/** Every point of the simplex grid with step 1/m. */
function* simplexGrid(n: number, m: number): Generator<number[]> {
  const rec = function* (prefix: number[], left: number): Generator<number[]> {
    if (prefix.length === n - 1) {
      yield [...prefix, left].map((v) => v / m);
      return;
    }
    for (let k = 0; k <= left; k++) yield* rec([...prefix, k], left - k);
  };
  yield* rec([], m);
}

/** Minimise f over the simplex: a dense grid, then a shrinking local grid around the best point. */
function gridMinimise(n: number, f: (p: number[]) => number, m = n === 4 ? 48 : 120): { grid: number; refined: number } {
  let best = Infinity;
  let arg: number[] = [];
  for (const p of simplexGrid(n, m)) {
    const v = f(p);
    if (v < best) {
      best = v;
      arg = p;
    }
  }
  const grid = best;
  let h = 1 / m;
  const offsets: number[][] = [];
  const rec = (prefix: number[]) => {
    if (prefix.length === n - 1) offsets.push(prefix);
    else for (let d = -2; d <= 2; d++) rec([...prefix, d]);
  };
  rec([]);
  for (let level = 0; level < 60; level++) {
    h *= 0.7;
    for (const d of offsets) {
      const q = arg.slice(0, n - 1).map((v, i) => v + d[i]! * h);
      const last = 1 - q.reduce((a, b) => a + b, 0);
      if (last < 0 || q.some((v) => v < 0)) continue;
      const p = [...q, last];
      const v = f(p);
      if (v < best) {
        best = v;
        arg = p;
      }
    }
  }
  return { grid, refined: best };
}

describe('DRRO water-filling (Theorem 3.4)', () => {
  it('attains the brute-force minimum of the worst-case regret (n ≤ 4) within 1e-6', () => {
    const rand = rng(2024);
    for (let trial = 0; trial < 24; trial++) {
      const n = 2 + (trial % 3);
      const r = Array.from({ length: n }, () => (trial % 4 === 0 ? Math.floor(rand() * 3) : rand() * 4 - 1));
      const delta = [0.05, 0.3, 1, 3, 8][trial % 5]! * (0.5 + rand());
      const wf = drroWaterFilling(r, delta);
      // The policy is a distribution, nonincreasing in reward order.
      expect(wf.policy.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (const p of wf.policy) expect(p).toBeGreaterThanOrEqual(-1e-15);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (r[i]! > r[j]!) expect(wf.policy[i]! + 1e-12).toBeGreaterThanOrEqual(wf.policy[j]!);
      const exact = bruteRegret(wf.policy, r, delta);
      expect(exact).toBeCloseTo(wf.worstCaseRegret, 10);
      const { grid, refined } = gridMinimise(n, (p) => bruteRegret(p, r, delta));
      expect(exact).toBeLessThanOrEqual(grid + 1e-12);
      expect(Math.abs(refined - exact)).toBeLessThan(1e-6);
    }
  });

  it('Proposition 3.3: the worst-case regret is δ − F_δ(π) for any π', () => {
    const rand = rng(8);
    for (let t = 0; t < 50; t++) {
      const n = 1 + Math.floor(rand() * 6);
      const raw = Array.from({ length: n }, () => rand());
      const s = raw.reduce((a, b) => a + b, 0);
      const p = raw.map((v) => v / s);
      const r = Array.from({ length: n }, () => rand() * 10 - 5);
      const delta = rand() * 4;
      expect(drroWorstCaseRegret(p, r, delta)).toBeCloseTo(bruteRegret(p, r, delta), 10);
    }
  });

  it('δ → 0 gives the greedy vertex; large δ gives π_i = 1/n + (r̂_i − r̄)/δ', () => {
    const r = [0.3, 1.2, 0.9, -0.4];
    expect(Array.from(drroWaterFilling(r, 0).policy)).toEqual([0, 1, 0, 0]);
    const small = drroWaterFilling(r, 1e-9).policy;
    expect(small[1]).toBeCloseTo(1, 8);
    const mean = r.reduce((a, b) => a + b, 0) / 4;
    const big = Math.max(
      r.reduce((a, v) => a + (v - -0.4), 0),
      r.reduce((a, v) => a + (1.2 - v), 0),
    );
    for (const delta of [big * 1.01, 10, 1e3, 1e6]) {
      const wf = drroWaterFilling(r, delta);
      r.forEach((v, i) => expect(wf.policy[i]).toBeCloseTo(0.25 + (v - mean) / delta, 12));
      expect(wf.tStar).toBeCloseTo(mean - delta / 4, 9);
    }
    expect(drroWaterFilling(r, 1e9).policy[3]).toBeCloseTo(0.25, 8);
  });

  it("the paper's large-δ condition δ > Σ(r̂_i − r̂_n) alone is not enough: r̂ = (10, 0, 0), δ = 11", () => {
    const r = [10, 0, 0];
    const wf = drroWaterFilling(r, 11);
    expect(Array.from(wf.policy)).toEqual([1, 0, 0]);
    expect(bruteRegret(wf.policy, r, 11)).toBeCloseTo(1, 12);
    const remark = r.map((v) => 1 / 3 + (v - 10 / 3) / 11);
    expect(bruteRegret(remark, r, 11)).toBeCloseTo(1 + 3 / 11, 12);
    const { refined } = gridMinimise(3, (p) => bruteRegret(p, r, 11));
    expect(refined).toBeCloseTo(1, 6);
  });

  it('rejects bad input', () => {
    expect(() => drroWaterFilling([], 1)).toThrow(/at least one reward/);
    expect(() => drroWaterFilling([1, NaN], 1)).toThrow(/reward 1 is NaN/);
    expect(() => drroWaterFilling([1, 2], -1)).toThrow(/δ must be/);
  });
});

describe('DRO top-m (Lemma H.1)', () => {
  it('maximises ⟨π, r̂⟩ − δ‖π‖_∞ against brute force (n ≤ 4) within 1e-6', () => {
    const rand = rng(99);
    for (let trial = 0; trial < 24; trial++) {
      const n = 2 + (trial % 3);
      const r = Array.from({ length: n }, () => (trial % 4 === 0 ? Math.floor(rand() * 3) : rand() * 4 - 1));
      const delta = [0.05, 0.3, 1, 3, 8][trial % 5]! * (0.5 + rand());
      const sol = droTopM(r, delta);
      expect(droValue(sol.policy, r, delta)).toBeCloseTo(sol.value, 12);
      const { grid, refined } = gridMinimise(n, (p) => -droValue(p, r, delta));
      expect(sol.value).toBeGreaterThanOrEqual(-grid - 1e-12);
      expect(Math.abs(-refined - sol.value)).toBeLessThan(1e-6);
    }
  });

  it('δ = 0 is greedy; large δ is uniform', () => {
    const r = [0.2, 0.9, 0.5];
    expect(droTopM(r, 0).m).toBe(1);
    expect(Array.from(droTopM(r, 0).policy)).toEqual([0, 1, 0]);
    expect(droTopM(r, 100).m).toBe(3);
    expect(Array.from(droTopM(r, 100).policy)).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('is more pessimistic than DRRO: it ignores the ranking inside its support', () => {
    const r = [3, 2, 1, 0];
    const dro = droTopM(r, 5).policy;
    const drro = drroWaterFilling(r, 5).policy;
    expect(dro[0]).toBe(dro[1]);
    expect(drro[0]!).toBeGreaterThan(drro[1]!);
  });
});

describe('soft value F_{δ,τ} (Proposition 4.2)', () => {
  it('F_{δ,τ} ≤ F_δ ≤ F_{δ,τ} + τ log n on random inputs', () => {
    const rand = rng(5);
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rand() * 8);
      const raw = Array.from({ length: n }, () => rand());
      const s = raw.reduce((a, b) => a + b, 0);
      const p = raw.map((v) => v / s);
      const r = Array.from({ length: n }, () => rand() * 6 - 3);
      const delta = rand() * 5;
      const tau = 10 ** (rand() * 4 - 3);
      const soft = drroSoftValue(p, r, delta, tau);
      const hard = drroHardValue(p, r, delta);
      expect(soft).toBeLessThanOrEqual(hard + 1e-12);
      expect(hard).toBeLessThanOrEqual(soft + tau * Math.log(n) + 1e-12);
    }
  });

  it('tends to F_δ as τ → 0 and stays finite for rewards of 1e4 and τ = 1e-3', () => {
    const p = [0.5, 0.3, 0.2];
    const r = [1e4, -1e4, 5e3];
    const soft = drroSoftValue(p, r, 2, 1e-3);
    expect(Number.isFinite(soft)).toBe(true);
    expect(soft).toBeCloseTo(drroHardValue(p, r, 2), 6);
  });
});
