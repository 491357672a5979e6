import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { weightedNll } from '../../stages/train/losses/weighted-nll.js';
import { clippedSurrogateLoss } from '../../stages/train/losses/clipped-surrogate.js';
import { ppoLoss, ppoValueLoss } from '../../stages/train/losses/ppo-value-loss.js';
import { onlineDpoLoss, referenceMargin } from '../../stages/train/losses/online-dpo-loss.js';
import { preferencePairs } from '../../stages/train/dpo-pairs.js';
import { valueBaselineAdvantages } from '../../stages/train/ppo-value-baseline.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const t1 = (v: number[]) => tf.tensor1d(v);
const value = (s: tf.Scalar) => {
  const v = s.dataSync()[0]!;
  s.dispose();
  return v;
};
const grad = (f: (x: tf.Tensor1D) => tf.Scalar, x: number[]) => Array.from(tf.tidy(() => tf.grad((t: tf.Tensor) => f(t as tf.Tensor1D))(t1(x))).dataSync());

describe('weighted NLL  −(1/N) Σ w log π', () => {
  it('by hand: log π = (ln ½, ln ¼, ln ⅛), w = (1, 2, 0) → 5·ln 2 / 3; ∂L/∂log π = −w/N', () => {
    const lp = [Math.log(0.5), Math.log(0.25), Math.log(0.125)];
    const w = Float32Array.from([1, 2, 0]);
    expect(value(weightedNll(t1(lp), w))).toBeCloseTo((5 * Math.LN2) / 3, 5);
    grad((x) => weightedNll(x, w), lp).forEach((g, i) => expect(g).toBeCloseTo([-1 / 3, -2 / 3, 0][i]!, 6));
  });

  it("an empty batch costs 0 (up to the WASM backend's empty reduction); weights and log-probabilities must pair up", () => {
    expect(value(weightedNll(tf.tensor1d([]), new Float32Array(0)))).toBeCloseTo(0, 30);
    expect(() => weightedNll(t1([-1, -2]), Float32Array.from([1]))).toThrow('weightedNll: 1 weights for 2 log-probabilities');
  });
});

describe('clipped surrogate (paper 004 Eq. 4.2)', () => {
  // ρ = (1.5, 0.5, 0.5, 1.5, 1.1), A = (1, 1, −1, −1, 2), ε = 0.2:
  // min(ρA, clip(ρ)A) = (1.2, 0.5, −0.8, −1.5, 2.2); L = −1.6/5.
  const rho = [1.5, 0.5, 0.5, 1.5, 1.1];
  const A = [1, 1, -1, -1, 2];
  const rollout = [-1, -2, -0.5, -3, -1.25];
  const logProb = rho.map((r, i) => rollout[i]! + Math.log(r));

  it('loss −(1/N) Σ min(ρA, clip(ρ, 1 − ε, 1 + ε)A) and the clipped share, by hand', () => {
    const s = clippedSurrogateLoss(t1(logProb), t1(rollout), t1(A), 0.2);
    expect(value(s.loss)).toBeCloseTo(-0.32, 5);
    expect(value(s.clipFraction)).toBeCloseTo(0.8, 6);
  });

  it('matches the formula on random inputs', () => {
    let seed = 7;
    const u = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const n = 40;
    const lr = Array.from({ length: n }, () => (u() - 0.5) * 0.8);
    const adv = Array.from({ length: n }, () => (u() - 0.5) * 4);
    const ro = Array.from({ length: n }, () => -1 - 3 * u());
    let sum = 0;
    lr.forEach((l, i) => {
      const r = Math.exp(l);
      sum += Math.min(r * adv[i]!, Math.min(1.3, Math.max(0.7, r)) * adv[i]!);
    });
    const s = clippedSurrogateLoss(t1(ro.map((x, i) => x + lr[i]!)), t1(ro), t1(adv), 0.3);
    expect(value(s.loss)).toBeCloseTo(-sum / n, 4);
    expect(value(s.clipFraction)).toBeCloseTo(lr.filter((l) => Math.abs(Math.exp(l) - 1) > 0.3).length / n, 6);
  });

  it('gradient: −ρA/N where the unclipped term is the minimum, 0 where the clip holds it', () => {
    const g = grad((x) => clippedSurrogateLoss(x, t1(rollout), t1(A), 0.2).loss, logProb);
    // candidates 0 and 2 are held by the clip; 1, 3 and 4 pass: −(0.5·1)/5, −(1.5·−1)/5, −(1.1·2)/5
    [0, -0.1, 0, 0.3, -0.44].forEach((want, i) => expect(g[i]).toBeCloseTo(want, 5));
  });
});

describe("PPO's value loss", () => {
  it('(1/N) Σ (V(s_r(k)) − r̂_k)²: V = (1, 2), r̂ = (1, 3 | 2, 0) → 2; ∂/∂V = (−1, 1); L = L_clip + c_v·L_V', () => {
    const proxy = t1([1, 3, 2, 0]);
    expect(value(ppoValueLoss(t1([1, 2]), proxy, 2))).toBeCloseTo(2, 6);
    grad((v) => ppoValueLoss(v, proxy, 2), [1, 2]).forEach((g, i) => expect(g).toBeCloseTo([-1, 1][i]!, 6));
    expect(value(ppoLoss(tf.scalar(0.15), tf.scalar(2), 0.5))).toBeCloseTo(1.15, 6);
  });

  it('advantages r̂ − V(s), normalised over the batch', () => {
    const a = valueBaselineAdvantages(Float64Array.from([1, 3, 2, 0]), [1, 2], 2);
    // r̂ − V = (0, 2, 0, −2): mean 0, std √2
    [0, Math.SQRT2, 0, -Math.SQRT2].forEach((want, i) => expect(a[i]).toBeCloseTo(want, 6));
  });
});

describe('online DPO loss', () => {
  it('is ln 2 at the reference policy (zero margins)', () => {
    expect(value(onlineDpoLoss(t1([-1, -3]), t1([-2, -0.5]), t1([1, -2.5]), 0.1))).toBeCloseTo(Math.LN2, 6);
  });

  it('−mean log σ(β[(log π_θ − log π_ref)(y_w) − (log π_θ − log π_ref)(y_l)]), by hand, with its gradient', () => {
    const refW = t1([-1.5, -2]);
    const refL = t1([-1.5, -2.5]);
    const margin0 = referenceMargin(refW, refL); // (0, 0.5)
    expect(Array.from(margin0.dataSync())).toEqual([0, 0.5]);
    const beta = 0.1;
    // policy margins (−1 + 2, −2 + 1) = (1, −1); minus reference: (1, −1.5)
    const z = [beta * 1, beta * -1.5];
    const want = -(Math.log(1 / (1 + Math.exp(-z[0]!))) + Math.log(1 / (1 + Math.exp(-z[1]!)))) / 2;
    expect(value(onlineDpoLoss(t1([-1, -2]), t1([-2, -1]), margin0, beta))).toBeCloseTo(want, 6);
    // ∂L/∂log π_θ(y_w) = −β σ(−z) / P
    const g = grad((x) => onlineDpoLoss(x, t1([-2, -1]), margin0, beta), [-1, -2]);
    z.forEach((zi, i) => expect(g[i]).toBeCloseTo(-beta / (1 + Math.exp(zi)) / 2, 6));
  });

  it('pairs: the candidate the proxy prefers wins; ties give no pair', () => {
    const p = preferencePairs(Int32Array.from([3, 5, 7, 8, 2, 9]), Float64Array.from([1, 2, 4, 4, 3, 0]), 3);
    expect(Array.from(p.rows)).toEqual([0, 2]);
    expect(Array.from(p.win)).toEqual([5, 2]);
    expect(Array.from(p.lose)).toEqual([3, 9]);
  });
});
