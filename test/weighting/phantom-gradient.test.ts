/**
 * Issue 12, defect 2: the phantom-gradient monitor (paper 002 §5.2, Fig. 2)
 * measures the policy's gradient only — never the reward head's — and reports
 * the rejected (repulsive) and kept (attractive) norms apart, and for the
 * Gaussian policy their μ and σ components and ratios.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { OfflineObjective } from '../../stages/core/objective.js';
import { DEFAULT_ADAM } from '../../stages/train/adam.js';
import { initBackend } from '../../stages/train/backend.js';
import { createGaussianParams, gaussianMean, type GaussianConfig } from '../../stages/train/gaussian-policy.js';
import { gaussianTask, type GaussianData } from '../../stages/train/gaussian-task.js';
import { trainOffline, type OfflineTrainerOptions, type TrainingRecord } from '../../stages/train/offline-trainer.js';
import { sasrecTask } from '../../stages/train/sasrec-task.js';
import { createSasrecParams, type SasrecConfig } from '../../stages/train/sasrec.js';
import { ExampleCollector } from '../../stages/train/sequence-data.js';
import { simulateLog } from '../train/helpers.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Keeps rows with reward ≥ 4 (weight 1), the others get phantom weight −1 (or 0 with `zeroPhantom`). */
function splitObjective(zeroPhantom = false): OfflineObjective<null> {
  return {
    name: 'split',
    initialState: () => null,
    weigh: ({ reward }, state) => {
      const weight = Float32Array.from(reward, (r) => (r >= 4 ? 1 : 0));
      const phantomWeight = Float32Array.from(reward, (r) => (r >= 4 || zeroPhantom ? 0 : -1));
      return { result: { weight, phantomWeight, diagnostics: {} }, state };
    },
  };
}

const opts = (over: Partial<OfflineTrainerOptions> = {}): OfflineTrainerOptions => ({
  method: 't',
  seed: 5,
  epochs: 1,
  batchSize: 1000,
  adam: { ...DEFAULT_ADAM, lr: 1e-3 },
  clipNorm: 1,
  checkpointEveryEpochs: 0,
  checkpointEverySteps: 0,
  logEvery: 1,
  phantomEvery: 1,
  ...over,
});

const first = (records: TrainingRecord[], metric: string) => records.find((r) => r.metric === metric)?.value;

describe('phantom gradient of the sequence model', () => {
  const log = simulateLog({ users: 10, length: 8, numItems: 12, seed: 4 });
  const collector = new ExampleCollector('sequence', 8);
  collector.add(log.batch);
  const data = collector.finish();
  const config: SasrecConfig = { numItems: data.numItemsSeen, maxLen: 8, d: 8, blocks: 1, heads: 1, ffn: 8, dropout: 0, rewardHead: true, rewardHidden: 4 };
  const taskOpts = { softmax: 'full' as const, negatives: 0, negativeAlpha: 0, rewardWeight: 1, detachRewardHead: true, seed: 5 };

  it('is exactly 0 when every phantom weight is 0, although the reward head is trained', async () => {
    const params = createSasrecParams(config, 1);
    const records: TrainingRecord[] = [];
    await trainOffline(sasrecTask(params, config, data, taskOpts), splitObjective(true), opts(), { emit: (r) => records.push(r) });
    params.dispose();
    expect(first(records, 'reward_mse')).toBeGreaterThan(0);
    expect(first(records, 'phantom_grad_norm')).toBe(0);
    expect(first(records, 'kept_grad_norm')).toBeGreaterThan(0);
  });

  it("reports the rejected and kept norms of −(1/M)·Σ w·log π at the step's parameters, and their ratio", async () => {
    const params = createSasrecParams(config, 1);
    // Independent: the norms of the policy term's gradient at the initial parameters (dropout 0).
    const task = sasrecTask(params, { ...config, rewardHead: false }, data, { ...taskOpts, rewardWeight: 0 });
    const prep = task.prepare(Int32Array.from({ length: data.numRows }, (_, i) => i));
    const norm = (w: Float32Array) => {
      const g = tf.variableGrads(
        () => task.loss(prep, w, 0).loss,
        params.variables().filter((v) => !params.nameOf(v.name)!.startsWith('reward/')),
      );
      const s = Object.values(g.grads).reduce((acc, t) => acc + (tf.sum(tf.square(t)).dataSync()[0] as number), 0);
      tf.dispose([g.value, ...Object.values(g.grads)]);
      return Math.sqrt(s);
    };
    const kept = norm(Float32Array.from(prep.rewards, (r) => (r >= 4 ? 1 : 0)));
    const rejected = norm(Float32Array.from(prep.rewards, (r) => (r >= 4 ? 0 : -1)));
    const records: TrainingRecord[] = [];
    // Rows in order: the trainer's permutation does not change a full-batch gradient.
    await trainOffline(sasrecTask(params, config, data, taskOpts), splitObjective(), opts(), { emit: (r) => records.push(r) });
    params.dispose();
    expect(first(records, 'phantom_grad_norm')).toBeCloseTo(rejected, 4);
    expect(first(records, 'kept_grad_norm')).toBeCloseTo(kept, 4);
    expect(first(records, 'phantom_ratio')).toBeCloseTo(rejected / kept, 4);
  });
});

describe('phantom gradient of the Gaussian policy: μ and σ components', () => {
  // d = 2, states and actions by hand; rewards 5 (kept) and 1 (rejected).
  const dim = 2;
  const data: GaussianData = {
    dim,
    states: Float32Array.from([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8]),
    actions: Int32Array.from([1, 2, 3, 1]),
    rewards: Float64Array.from([5, 1, 5, 1]),
    users: Int32Array.from([1, 1, 2, 2]),
    numRows: 4,
    numItemsSeen: 4,
  };
  const itemEmb = Float32Array.from([0, 0, 1, 0, 0, 1, -1, -1]);
  const config: GaussianConfig = { numItems: 4, dim, hidden: [4], sigma: 'learned', sigmaInit: 0.5, logSigmaMin: -5, logSigmaMax: 2 };

  it('σ component = |∂L/∂log σ| = |−(1/N)·Σ w_i (‖a_i − μ_i‖²/σ² − d)|, μ and σ components make up the total', async () => {
    const params = createGaussianParams(config, 3);
    // Closed form of the σ part at the initial parameters, with μ from the policy's own forward pass.
    const mu = tf.tidy(() => gaussianMean(params, config, tf.tensor2d(data.states, [4, dim])).dataSync());
    const sigma2 = 0.25;
    const dLogSigma = (w: number[]) => {
      let s = 0;
      for (let i = 0; i < 4; i++) {
        const a = data.actions[i]!;
        const d2 = (itemEmb[a * dim]! - mu[i * dim]!) ** 2 + (itemEmb[a * dim + 1]! - mu[i * dim + 1]!) ** 2;
        s += w[i]! * (d2 / sigma2 - dim);
      }
      return Math.abs(-s / 4);
    };
    const records: TrainingRecord[] = [];
    await trainOffline(gaussianTask(params, config, data, itemEmb), splitObjective(), opts(), { emit: (r) => records.push(r) });
    params.dispose();
    expect(first(records, 'phantom_grad_norm_sigma')).toBeCloseTo(dLogSigma([0, -1, 0, -1]), 4);
    expect(first(records, 'kept_grad_norm_sigma')).toBeCloseTo(dLogSigma([1, 0, 1, 0]), 4);
    const total = first(records, 'phantom_grad_norm')!;
    expect(Math.hypot(first(records, 'phantom_grad_norm_mu')!, first(records, 'phantom_grad_norm_sigma')!)).toBeCloseTo(total, 4);
    expect(first(records, 'phantom_ratio_sigma')).toBeCloseTo(first(records, 'phantom_grad_norm_sigma')! / first(records, 'kept_grad_norm_sigma')!, 6);
    expect(first(records, 'phantom_ratio_mu')).toBeCloseTo(first(records, 'phantom_grad_norm_mu')! / first(records, 'kept_grad_norm_mu')!, 6);
  });
});
