/** InfoRM's loss trains: the head fits a reward it can see, and a larger β keeps q(z|s,a) closer to the prior. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createInformParams, informEncode, informKl, informLoss } from '../../stages/train/inform-head.js';
import { Rng } from '../../stages/simulators/rng.js';
import { initBackend } from '../../stages/train/backend.js';

const N = 128;
const rng = new Rng(3);
const features = Float32Array.from({ length: N * 2 }, () => rng.normal());
const items = Int32Array.from({ length: N }, () => 1 + Math.floor(rng.next() * 7));
// y = 2·h₀ + (item − 4)/2: both inputs matter.
const targets = Float32Array.from({ length: N }, (_, i) => 2 * features[2 * i]! + (items[i]! - 4) / 2);
const variance = (() => {
  const m = targets.reduce((a, b) => a + b, 0) / N;
  return targets.reduce((a, b) => a + (b - m) ** 2, 0) / N;
})();

function train(beta: number): { mse: number; kl: number } {
  const p = createInformParams({ featureDim: 2, numItems: 8, itemDim: 4, hidden: 16, latent: 4 }, 1);
  const opt = tf.train.adam(0.01);
  const f = tf.tensor2d(features, [N, 2]);
  for (let step = 0; step < 200; step++) {
    const cost = opt.minimize(() => informLoss(p, f, items, targets, beta, step + 1).loss, true, p.variables());
    cost?.dispose();
  }
  // Deterministic fit (z = μ) and the mean KL.
  const out = informEncode(p, f, items);
  const r = tf.add(tf.matMul(out.mu, p.get('inform/w_out') as tf.Tensor2D), p.get('inform/b_out'));
  const mse = tf.mean(tf.square(tf.sub(tf.reshape(r, [-1]), tf.tensor1d(targets)))).dataSync()[0]!;
  const kl = tf.mean(informKl(out)).dataSync()[0]!;
  tf.dispose([f, out.mu, out.logVar, r]);
  opt.dispose();
  p.dispose();
  return { mse, kl };
}

describe('InfoRM head training', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });
  it('fits the reward with a small β, and a large β buys a smaller KL with a worse fit', { timeout: 60_000 }, () => {
    const small = train(0.001);
    const large = train(1);
    expect(small.mse).toBeLessThan(0.2 * variance);
    expect(large.kl).toBeLessThan(small.kl);
    expect(large.mse).toBeGreaterThan(small.mse);
  });
});
