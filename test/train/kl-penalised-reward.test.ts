/**
 * PPO's optional KL-penalised reward (paper 000's RLHF baseline):
 * r̃ = r̂ − β·(log π̄(y|s) − log π₀(y|s)) per sampled recommendation; off by default.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../stages/train/backend.js';
import { ExampleCollector } from '../../stages/train/sequence-data.js';
import { createSasrecParams, type SasrecConfig } from '../../stages/train/sasrec.js';
import { sasrecTask } from '../../stages/train/sasrec-task.js';
import { trainOffline, type TrainingRecord } from '../../stages/train/offline-trainer.js';
import { DEFAULT_ADAM } from '../../stages/train/adam.js';
import { sasrecOnlineModel } from '../../stages/train/online-model.js';
import { trainOnline, type OnlineTrainerOptions } from '../../stages/train/online-trainer.js';
import { OnlineContextCollector } from '../../stages/train/online-contexts.js';
import { klPenalisedReward } from '../../stages/train/losses/kl-penalised-reward.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import type { NamedArray, ParamStore } from '../../stages/train/params.js';
import { bcObjective, simulateLog } from './helpers.js';

describe('klPenalisedReward', () => {
  it('by hand: r̂ = (1, 3, 2, 0), log π̄ − log π₀ = (0.5, 0, −1.5, 0), β = 2 → (0, 3, 5, 0), mean log-ratio (0.5 − 1.5)/4 = −0.25', () => {
    const r = klPenalisedReward([1, 3, 2, 0], [-0.5, -1, -2, -0.25], [-1, -1, -0.5, -0.25], 2);
    expect([...r.reward]).toEqual([0, 3, 5, 0]);
    expect(r.meanLogRatio).toBe(-0.25);
  });

  it('β = 0 leaves the reward as it is; lengths must pair up; β must be ≥ 0', () => {
    expect([...klPenalisedReward([1.5, -2], [-3, -0.1], [-0.2, -7], 0).reward]).toEqual([1.5, -2]);
    expect(() => klPenalisedReward([1, 2], [0], [0, 0], 1)).toThrow('klPenalisedReward: 2 rewards for 1 rollout and 2 reference log-probabilities');
    expect(() => klPenalisedReward([1], [0], [0], -1)).toThrow('klPenalisedReward: β must be ≥ 0, got -1');
  });
});

describe('train_online: kl_coef is a PPO option', () => {
  const validate = (options: Record<string, unknown>): string => {
    try {
      resolvePipeline({
        stages: [
          { stage: 'read_parquet', with: { path: 'examples.parquet' } },
          { stage: 'train_online', with: options },
        ],
      });
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
  };
  it('accepted for ppo, refused for the others with one line', () => {
    expect(validate({ algorithm: 'ppo', kl_coef: 0.1 })).toBe('ok');
    expect(validate({ algorithm: 'grpo', kl_coef: 0.1 })).toBe('pipeline: stages[1] (stage "train_online"): kl_coef applies to ppo only, not grpo');
    expect(validate({ algorithm: 'dpo', kl_coef: 0 })).toBe('ok');
  });
});

describe('PPO with the KL-penalised reward in the online trainer', () => {
  const log = simulateLog({ users: 30, length: 10, numItems: 20, seed: 21 });
  const config: SasrecConfig = { numItems: 20, maxLen: 10, d: 16, blocks: 1, heads: 1, ffn: 16, dropout: 0, rewardHead: true, rewardHidden: 8 };
  let base: ParamStore;

  beforeAll(async () => {
    await initBackend('wasm');
    const c = new ExampleCollector('sequence', 10);
    c.add(log.batch);
    base = createSasrecParams(config, 7);
    await trainOffline(
      sasrecTask(base, config, c.finish(), { softmax: 'full', negatives: 0, negativeAlpha: 0, rewardWeight: 1, detachRewardHead: true, seed: 7 }),
      bcObjective(),
      {
        method: 'bc',
        seed: 7,
        epochs: 3,
        batchSize: 10,
        adam: { ...DEFAULT_ADAM, lr: 5e-3 },
        clipNorm: 1,
        checkpointEveryEpochs: 0,
        checkpointEverySteps: 0,
        logEvery: 0,
        phantomEvery: 0,
      },
      { emit: () => {} },
    );
  });

  async function runPpo(klCoef: number | undefined): Promise<{ params: NamedArray[]; records: TrainingRecord[] }> {
    const model = sasrecOnlineModel(config);
    const policy = base.clone(true);
    const reference = base.clone(false);
    const contexts = new OnlineContextCollector('train_last', config.maxLen);
    contexts.add(log.batch);
    const records: TrainingRecord[] = [];
    const opts: OnlineTrainerOptions = {
      algorithm: 'ppo',
      method: 'ppo',
      seed: 3,
      groupSize: 8,
      updates: 6,
      contextsPerUpdate: 8,
      innerSteps: 2,
      clip: 0.2,
      adam: { ...DEFAULT_ADAM, lr: 2e-2 },
      clipNorm: 1,
      valueCoef: 0.5,
      valueHidden: 8,
      dpoBeta: 0.1,
      checkpointEvery: 0,
      ...(klCoef !== undefined ? { ppoKlCoef: klCoef } : {}),
    };
    await trainOnline(model, policy, reference, contexts.finish(), undefined, opts, {
      emit: (r) => records.push(r),
      proxy: (batch, items, G) => Float64Array.from(model.predictRewards!(reference, model.prepare(batch), items, G)),
    });
    const params = policy.toArrays();
    policy.dispose();
    reference.dispose();
    model.dispose();
    return { params, records };
  }

  const at = (records: TrainingRecord[], metric: string) => records.filter((r) => r.metric === metric).map((r) => r.value);

  it('kl_coef 0 is today’s PPO: the same weights and records as without the option', async () => {
    const a = await runPpo(undefined);
    const b = await runPpo(0);
    for (let i = 0; i < a.params.length; i++) expect(Buffer.from(b.params[i]!.data.buffer).equals(Buffer.from(a.params[i]!.data.buffer))).toBe(true);
    expect(b.records).toEqual(a.records);
    expect(a.records.some((r) => r.metric === 'kl_penalty')).toBe(false);
  });

  it('β > 0: the mean penalised reward is the mean proxy reward minus the recorded penalty; 0 at the reference; the policy stays closer to π₀', async () => {
    const free = await runPpo(0);
    const pen = await runPpo(5);
    const proxy = at(pen.records, 'proxy_reward');
    const penalty = at(pen.records, 'kl_penalty');
    const penalised = at(pen.records, 'penalised_reward');
    expect(penalty).toHaveLength(6);
    // Update 0 rolls out π₀ itself: log π̄ − log π₀ = 0 for every candidate.
    expect(penalty[0]).toBe(0);
    for (let u = 0; u < 6; u++) expect(penalised[u]).toBeCloseTo(proxy[u]! - penalty[u]!, 10);
    // Samples of π̄ have a positive mean log-ratio to π₀ once the policy moved (a sampled KL estimate).
    expect(penalty.slice(1).some((p) => p > 0)).toBe(true);
    // The update differs from the unpenalised one from update 1 on, and the exact KL to π₀ at the end is smaller.
    expect(pen.params.some((p, i) => !Buffer.from(p.data.buffer).equals(Buffer.from(free.params[i]!.data.buffer)))).toBe(true);
    expect(at(pen.records, 'kl_ref').at(-1)!).toBeLessThan(at(free.records, 'kl_ref').at(-1)!);
  });
});
