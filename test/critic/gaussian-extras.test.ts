import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { createGaussianParams, gaussianLogProb, gaussianMean, logSigma, type GaussianConfig } from '../../stages/train/gaussian-policy.js';
import { gaussianTask, type GaussianData } from '../../stages/train/gaussian-task.js';
import { generateRecSimWorld } from '../../stages/simulators/recsim-generate.js';
import { recsimWorldParams, resolveRecSimOptions } from '../../stages/simulators/recsim-options.js';
import { onlineRowCount } from '../../stages/train/gaussian-online-mix.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const world = generateRecSimWorld(recsimWorldParams(resolveRecSimOptions('medium', { num_users: 30, num_items: 40, dim: 4, topics: 3 }), 9));
const d = world.dim;
const config: GaussianConfig = {
  numItems: world.numItems,
  dim: d,
  hidden: [8],
  sigma: 'learned',
  sigmaInit: 0.5,
  logSigmaMin: Math.log(1e-3),
  logSigmaMax: Math.log(10),
};

function data(n: number): GaussianData {
  const states = new Float32Array(n * d);
  const actions = new Int32Array(n);
  const rewards = new Float64Array(n);
  const users = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    actions[i] = 1 + ((i * 7) % (world.numItems - 1));
    users[i] = 1 + (i % world.numUsers);
    rewards[i] = (i % 5) / 5;
    for (let k = 0; k < d; k++) states[i * d + k] = world.itemEmbeddings[(1 + ((i * 3) % (world.numItems - 1))) * d + k]!;
  }
  return { dim: d, states, actions, rewards, users, numRows: n, numItemsSeen: world.numItems };
}

const scalar = (t: tf.Scalar) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

describe('train_gaussian task extras', () => {
  const rows = Int32Array.from({ length: 16 }, (_, i) => i);
  const weights = Float32Array.from({ length: 16 }, (_, i) => ((i % 4) - 1.5) / 2);

  it('BPPO: the loss is −mean(min(ρA, clip(ρ, 1 ± ε)A)) against π_k, replaced every refresh_steps batches', () => {
    const params = createGaussianParams(config, 1);
    const task = gaussianTask(params, config, data(16), world.itemEmbeddings, { seed: 1, proximal: { epsilon: 0.2, refreshSteps: 2 } });
    // Batch 0: π_k = π, ρ = 1, the loss is −mean(A).
    const b0 = task.prepare(rows);
    const meanA = weights.reduce((a, b) => a + b, 0) / weights.length;
    expect(scalar(tf.tidy(() => task.loss(b0, weights, 0).loss))).toBeCloseTo(-meanA, 5);
    // Move μ: the last layer's bias shifts every mean by 0.3 in each dimension.
    const bias = params.get('mlp/b1');
    bias.assign(tf.add(bias, 0.3));
    const b1 = task.prepare(rows); // batch 1: π_k kept (the parameters before the move)
    const logp = tf.tidy(() =>
      gaussianLogProb(tf.tensor2d(b1.actionEmb, [16, d]), gaussianMean(params, config, tf.tensor2d(b1.states, [16, d])), logSigma(params, config)).dataSync(),
    );
    let expected = 0;
    for (let i = 0; i < 16; i++) {
      const rho = Math.exp(logp[i]! - b1.oldLogProb![i]!);
      const a = weights[i]!;
      expected -= Math.min(rho * a, Math.min(1.2, Math.max(0.8, rho)) * a) / 16;
    }
    const out = tf.tidy(() => {
      const o = task.loss(b1, weights, 1);
      return [o.loss.dataSync()[0]!, o.extra!.clip_frac!.dataSync()[0]!];
    });
    expect(out[0]).toBeCloseTo(expected, 4);
    expect(Math.abs(out[0]! + meanA)).toBeGreaterThan(1e-3); // the move changed the ratios
    expect(out[1]).toBeGreaterThanOrEqual(0);
    const b2 = task.prepare(rows); // batch 2: π_k ← π
    expect(scalar(tf.tidy(() => task.loss(b2, weights, 2).loss))).toBeCloseTo(-meanA, 5);
    params.dispose();
  });

  it('online_ratio 0 prepares exactly the offline batch; online_ratio 0.5 replaces the first half with the world’s rewards for policy draws', () => {
    const p0 = createGaussianParams(config, 2);
    const plain = gaussianTask(p0, config, data(16), world.itemEmbeddings).prepare(rows);
    const zero = gaussianTask(p0, config, data(16), world.itemEmbeddings, { seed: 4, online: { world, ratio: 0 } }).prepare(rows);
    expect(Array.from(zero.actionEmb)).toEqual(Array.from(plain.actionEmb));
    expect(Array.from(zero.rewards)).toEqual(Array.from(plain.rewards));
    expect(zero.critic).toBeUndefined();
    expect(zero.onlineRows).toBeUndefined();
    expect(onlineRowCount(16, 0.5)).toBe(8);
    const mixed = gaussianTask(p0, config, data(16), world.itemEmbeddings, { seed: 4, online: { world, ratio: 0.5 } }).prepare(rows);
    expect(mixed.onlineRows).toBe(8);
    expect(Array.from(mixed.rewards.subarray(8))).toEqual(Array.from(plain.rewards.subarray(8)));
    expect(Array.from(mixed.actionEmb.subarray(8 * d))).toEqual(Array.from(plain.actionEmb.subarray(8 * d)));
    // Each fresh row's action is a catalog item and its reward lies within 4 σ_noise of that item's true reward for the row's user.
    for (let j = 0; j < 8; j++) {
      const emb = mixed.actionEmb.subarray(j * d, j * d + d);
      let item = -1;
      for (let a = 1; a < world.numItems; a++) if (emb.every((v, k) => v === world.itemEmbeddings[a * d + k])) item = a;
      expect(item).toBeGreaterThan(0);
      const truth = world.trueReward(mixed.groups[j]!, item);
      expect(Math.abs(mixed.rewards[j]! - truth)).toBeLessThanOrEqual(4 * world.rewardNoise + 1e-9);
      expect(mixed.rewards[j]).toBeGreaterThanOrEqual(0);
      expect(mixed.rewards[j]).toBeLessThanOrEqual(1);
    }
    p0.dispose();
  });
});

describe('online data ratio (paper 002 Fig. 4)', () => {
  it('is the online share of the kept rows and of the total |weight|', async () => {
    const { onlineShares } = await import('../../stages/train/offline-trainer.js');
    const w = Float32Array.from([2, 0, 1, -1, 0, 4]);
    const kept = Uint8Array.from([1, 0, 1, 1, 0, 1]);
    // the first 2 rows are online: kept online 1 of 4 kept; |w| online 2 of 8
    expect(onlineShares(2, w, kept)).toEqual({ online_weight_share: 0.25, online_kept_share: 0.25 });
    expect(onlineShares(3, w)).toEqual({ online_weight_share: 3 / 8 });
  });
});
