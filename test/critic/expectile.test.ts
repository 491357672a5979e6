import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { expectileGradient, expectileLoss, expectileLossTensor, expectileOf } from '../../stages/train/critic/expectile.js';
import { fitCritic } from '../../stages/train/critic/critic.js';
import { Rng } from '../../stages/train/rng.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('expectile loss L_τ(u) = |τ − 1[u < 0]|·u²', () => {
  it('matches the closed form on hand values', () => {
    // u = 1 → 0.7·1; u = −2 → 0.3·4; u = 0 → 0: mean (0.7 + 1.2 + 0)/3
    expect(expectileLoss([1, -2, 0], 0.7)).toBeCloseTo((0.7 + 1.2) / 3, 12);
    // τ = 0.5 is half the squared error
    expect(expectileLoss([3, -1], 0.5)).toBeCloseTo((0.5 * 9 + 0.5 * 1) / 2, 12);
    expect(expectileLoss([], 0.9)).toBe(0);
  });

  it('has gradient 2·|τ − 1[u < 0]|·u, equal to central differences', () => {
    const g = expectileGradient([1, -2, 0.5, -0.25], 0.9);
    expect(Array.from(g)).toEqual([2 * 0.9 * 1, 2 * 0.1 * -2, 2 * 0.9 * 0.5, 2 * 0.1 * -0.25].map((v) => expect.closeTo(v, 12)));
    const h = 1e-6;
    for (const u of [1.3, -0.7, 0.2]) {
      const fd = (expectileLoss([u + h], 0.9) - expectileLoss([u - h], 0.9)) / (2 * h);
      expect(expectileGradient([u], 0.9)[0]).toBeCloseTo(fd, 6);
    }
  });

  it('the tensor loss equals the array loss and its gradient in the prediction is −mean(2·|τ − 1[u < 0]|·u)/n per entry', () => {
    const target = [1, 0, 2, -1];
    const pred = [0.5, 0.5, 0.5, 0.5];
    const u = target.map((t, i) => t - pred[i]!);
    const tau = 0.7;
    const p = tf.tensor1d(pred);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => expectileLossTensor(tf.tensor1d(target), x as tf.Tensor1D, tau))(p);
    expect(value.dataSync()[0]).toBeCloseTo(expectileLoss(u, tau), 6);
    const expected = Array.from(expectileGradient(u, tau), (g) => -g / u.length);
    Array.from(grad.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    tf.dispose([p, value, grad]);
  });

  it('is minimised by the τ-expectile: the mean at τ = 0.5, 0.9 for {0, 1} at τ = 0.9', () => {
    const xs = [0.1, 0.4, 0.9, 2.0];
    expect(expectileOf(xs, 0.5)).toBeCloseTo((0.1 + 0.4 + 0.9 + 2) / 4, 9);
    // 0.9·(1 − m)² + 0.1·m² is minimal where −1.8(1 − m) + 0.2m = 0: m = 0.9
    expect(expectileOf([0, 1], 0.9)).toBeCloseTo(0.9, 9);
    // and the loss there is below the loss at nearby points
    const m = expectileOf(xs, 0.7);
    const at = (c: number) =>
      expectileLoss(
        xs.map((x) => x - c),
        0.7,
      );
    expect(at(m)).toBeLessThan(at(m + 0.01));
    expect(at(m)).toBeLessThan(at(m - 0.01));
  });
});

describe('fitCritic on a toy bandit', () => {
  // Two states, four items; r(s, a) is a fixed table, logged actions uniform, plus reward noise N(0, 0.05²).
  const d = 2;
  const itemEmb = Float32Array.from([0, 0, 1, 0, 0, 1, -1, 0, 0, -1]);
  const table = [
    [0.9, 0.1, 0.3, 0.5],
    [0.2, 0.8, 0.0, 0.4],
  ];
  const stateVec = [
    [1, 1],
    [-1, 0.5],
  ];
  const n = 2000;
  const states = new Float32Array(n * d);
  const actions = new Int32Array(n);
  const rewards = new Float64Array(n);
  /** The conditional mean of the logged reward per state (what V fits at τ = 0.5), and the rewards per state. */
  const sums = [0, 0];
  const byState: number[][] = [[], []];
  const rng = new Rng(5, 77);
  for (let i = 0; i < n; i++) {
    const s = i % 2;
    states.set(stateVec[s]!, i * d);
    const a = 1 + rng.int(4);
    actions[i] = a;
    rewards[i] = table[s]![a - 1]! + 0.05 * rng.normal();
    sums[s]! += rewards[i]!;
    byState[s]!.push(table[s]![a - 1]!);
  }
  const data = { dim: d, states, actions, rewards, numRows: n };
  const fit = (tau: number) => fitCritic(data, itemEmb, { hidden: [16, 16], epochs: 20, batchSize: 100, lr: 1e-2, tau, targetRate: 0.1, seed: 3 });

  it('with τ = 0.5, V(s) is the conditional mean of r over the logged actions and Q(s, a) the table', () => {
    const { critic, qLoss } = fit(0.5);
    const v = critic.v(Float32Array.from(stateVec.flat()));
    expect(Math.abs(v[0]! - sums[0]! / (n / 2))).toBeLessThan(0.02);
    expect(Math.abs(v[1]! - sums[1]! / (n / 2))).toBeLessThan(0.02);
    const q = critic.q(Float32Array.from([1, 1, 1, 1, -1, 0.5]), Float32Array.from([1, 0, 0, 1, 0, 1]));
    expect(Math.abs(q[0]! - 0.9)).toBeLessThan(0.05);
    expect(Math.abs(q[1]! - 0.1)).toBeLessThan(0.05);
    expect(Math.abs(q[2]! - 0.8)).toBeLessThan(0.05);
    // The reward noise's variance is 0.0025: Q explains everything else.
    expect(qLoss).toBeLessThan(0.004);
    critic.dispose();
  });

  it('with τ = 0.9, V(s) moves up to the 0.9-expectile of the logged values, above the mean', () => {
    const { critic } = fit(0.9);
    const v = critic.v(Float32Array.from(stateVec.flat()));
    for (const s of [0, 1]) {
      expect(Math.abs(v[s]! - expectileOf(byState[s]!, 0.9))).toBeLessThan(0.04);
      expect(v[s]).toBeGreaterThan(sums[s]! / (n / 2) + 0.1);
    }
    critic.dispose();
  });
});
