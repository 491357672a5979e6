import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import {
  createGaussianParams,
  gaussianLogProb,
  GaussianPolicy,
  meanEmbeddings,
  nearestItems,
  type GaussianConfig,
} from '../../stages/train/gaussian-policy.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { loadPolicy } from '../../stages/train/load-policy.js';
import { readCheckpointMeta } from '../../stages/train/checkpoint.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Gaussian embedding policy', () => {
  it('log π(a|s) = −‖a − μ‖²/(2σ²) − d·log σ, by hand', () => {
    const lp = tf.tidy(() =>
      gaussianLogProb(
        tf.tensor2d([
          [1, 2],
          [0, 0],
        ]),
        tf.tensor2d([
          [0.5, 1],
          [0, 3],
        ]),
        tf.scalar(Math.log(0.5)),
      ).dataSync(),
    );
    // row 0: ‖(0.5, 1)‖² = 1.25 → −1.25/(2·0.25) − 2·ln 0.5 = −2.5 + 1.3862944
    expect(lp[0]).toBeCloseTo(-2.5 + 2 * Math.LN2, 5);
    // row 1: ‖(0, −3)‖² = 9 → −18 + 1.3862944
    expect(lp[1]).toBeCloseTo(-18 + 2 * Math.LN2, 4);
  });

  it('decodes to the item with the highest inner product with μ (never padding)', () => {
    // items (dim 2): 1 = (1, 0), 2 = (0, 1), 3 = (2, 2), 4 = (−1, −1)
    const items = Float32Array.from([0, 0, 1, 0, 0, 1, 2, 2, -1, -1]);
    const mu = Float32Array.from([1, 0.1, -1, -2, 0.1, 5, -0.001, -0.001]);
    // ⟨·,(1,.1)⟩: 1, .1, 2.2, −1.1 → 3; ⟨·,(−1,−2)⟩: −1, −2, −6, 3 → 4; ⟨·,(.1,5)⟩ → 3 (10.2); tiny negative μ → 4 beats padding's 0
    expect(Array.from(nearestItems(mu, items, 2))).toEqual([3, 4, 3, 4]);
  });

  it('mean context embeddings, and catalog log-probabilities of the restricted Gaussian', async () => {
    const items = Float32Array.from([0, 0, 1, 0, 0, 1, 1, 1]);
    expect(Array.from(meanEmbeddings(Int32Array.from([0, 2, 2]), Int32Array.from([1, 3]), items, 2))).toEqual([1, 0.5, 0, 0]);
    const config: GaussianConfig = { numItems: 4, dim: 2, hidden: [3], sigma: 'fixed', sigmaInit: 0.7, logSigmaMin: -5, logSigmaMax: 2 };
    const policy = new GaussianPolicy(createGaussianParams(config, 1), config, items);
    const ctx = { kind: 'list' as const, offsets: Int32Array.from([0, 1]), values: Int32Array.from([2]) };
    const mu = policy.meansSync(ctx);
    const lp = await policy.logProbs(ctx);
    const logits = [1, 2, 3].map((i) => -((items[2 * i]! - mu[0]!) ** 2 + (items[2 * i + 1]! - mu[1]!) ** 2) / (2 * 0.49));
    const lse = Math.log(logits.reduce((s, l) => s + Math.exp(l), 0));
    expect(lp[0]).toBe(-Infinity);
    for (let i = 1; i < 4; i++) expect(lp[i]).toBeCloseTo(logits[i - 1]! - lse, 5);
    const draws = await policy.sample(ctx, 200, 3);
    expect(draws.every((x) => x >= 1 && x <= 3)).toBe(true);
    policy.dispose();
  });

  it('train_gaussian under DRPO on a simulated RecSim log: checkpoints, training records, a loadable policy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-gauss-'));
    const p = resolvePipeline({
      name: 'gauss',
      seed: 4,
      stages: [
        { stage: 'simulate_recsim', with: { num_users: 60, num_items: 40, dim: 8, topics: 4, interactions_per_user: 12 } },
        { stage: 'split_sequences', with: { max_len: 10, apply_threshold: false } },
        { stage: 'train_gaussian', with: { objective: { name: 'drpo' }, epochs: 3, batch_size: 64, hidden: [32, 32], lr: 3e-3, log_every: 2 } },
      ],
    });
    const res = await runPipeline(p, { outDir: dir, logger: memoryLogger() });
    const cks = res.artifacts.get('checkpoints') as { method: string; dir: string; epoch: number }[];
    expect(cks.map((c) => [c.method, c.epoch])).toEqual([
      ['drpo', 1],
      ['drpo', 2],
      ['drpo', 3],
    ]);
    expect(readCheckpointMeta(cks[2]!.dir).kind).toBe('gaussian');
    const train = res.metrics.filter((m) => m.split === 'train' && m.method === 'drpo');
    for (const m of ['loss', 'nll', 'sigma', 'ess', 'grad_norm', 'P'])
      expect(
        train.some((r) => r.metric === m),
        m,
      ).toBe(true);
    const pol = await loadPolicy(cks[2]!.dir);
    expect(pol.numItems).toBe(41);
    const scores = await pol.scoreContexts({ kind: 'list', offsets: Int32Array.from([0, 3]), values: Int32Array.from([1, 2, 3]) });
    expect(scores.length).toBe(41);
    expect(scores[0]).toBe(-Infinity);
    pol.dispose();
  });
});
