import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../stages/train/backend.js';
import { ExampleCollector } from '../../stages/train/sequence-data.js';
import { createSasrecParams, type SasrecConfig } from '../../stages/train/sasrec.js';
import { sasrecTask } from '../../stages/train/sasrec-task.js';
import { trainOffline, type TrainingRecord } from '../../stages/train/offline-trainer.js';
import { DEFAULT_ADAM } from '../../stages/train/adam.js';
import { sasrecOnlineModel } from '../../stages/train/online-model.js';
import { trainOnline, type OnlineAlgorithm, type OnlineTrainerOptions } from '../../stages/train/online-trainer.js';
import { OnlineContextCollector } from '../../stages/train/online-contexts.js';
import { createGroupShaper } from '../../stages/weighting/registry.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { ParamStore } from '../../stages/train/params.js';
import { bcObjective, simulateLog } from './helpers.js';

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

function contexts() {
  const c = new OnlineContextCollector('train_last', config.maxLen);
  c.add(log.batch);
  return c.finish();
}

async function runOnline(algorithm: OnlineAlgorithm, gold: (u: Int32Array, i: Int32Array) => ArrayLike<number>, shaperOpts: Record<string, unknown> = {}) {
  const model = sasrecOnlineModel(config);
  const policy = base.clone(true);
  const reference = base.clone(false);
  const records: TrainingRecord[] = [];
  const opts: OnlineTrainerOptions = {
    algorithm,
    method: algorithm,
    seed: 3,
    groupSize: 8,
    updates: 4,
    contextsPerUpdate: 8,
    innerSteps: 2,
    clip: 0.2,
    adam: { ...DEFAULT_ADAM, lr: 1e-2 },
    clipNorm: 1,
    valueCoef: 0.5,
    valueHidden: 8,
    dpoBeta: 0.1,
    checkpointEvery: 0,
  };
  const grouped = algorithm !== 'ppo' && algorithm !== 'dpo';
  await trainOnline(model, policy, reference, contexts(), grouped ? createGroupShaper(algorithm, shaperOpts) : undefined, opts, {
    emit: (r) => records.push(r),
    proxy: (batch, items, G) => Float64Array.from(model.predictRewards!(reference, model.prepare(batch), items, G)),
    gold,
  });
  const out = policy.toArrays();
  const ref = reference.toArrays();
  policy.dispose();
  reference.dispose();
  return { params: out, ref, records };
}

describe('grouped online trainer', () => {
  it('the gold reward is reported, never used: a different gold leaves the trained parameters identical', async () => {
    const a = await runOnline('grpo', (_u, items) => Float64Array.from(items, (i) => i % 3));
    const b = await runOnline('grpo', (_u, items) => Float64Array.from(items, (i) => -i));
    for (let i = 0; i < a.params.length; i++) expect(Buffer.from(a.params[i]!.data.buffer).equals(Buffer.from(b.params[i]!.data.buffer))).toBe(true);
    const goldA = a.records.filter((r) => r.metric === 'gold_reward').map((r) => r.value);
    const goldB = b.records.filter((r) => r.metric === 'gold_reward').map((r) => r.value);
    expect(goldA).toHaveLength(5); // steps 0..4
    expect(goldA).not.toEqual(goldB);
    // the policy moved away from the reference, and the exact KL says so
    expect(a.params.some((p, i) => !Buffer.from(p.data.buffer).equals(Buffer.from(a.ref[i]!.data.buffer)))).toBe(true);
    const kl = a.records.filter((r) => r.metric === 'kl_ref');
    expect(kl[0]!.step).toBe(0);
    expect(kl[0]!.value).toBeCloseTo(0, 6);
    expect(kl.at(-1)!.value).toBeGreaterThan(1e-4);
    // the reward head is the frozen proxy: unchanged
    for (const p of a.params.filter((q) => q.name.startsWith('reward/')))
      expect(Buffer.from(p.data.buffer).equals(Buffer.from(a.ref.find((r) => r.name === p.name)!.data.buffer))).toBe(true);
  });

  for (const [algo, opts] of [
    ['drro_hard', {}],
    ['drro_soft', { budget: 'dynamic', delta0: 2, alpha: 10 }],
    ['dro', {}],
    ['ppo', {}],
    ['dpo', {}],
  ] as const) {
    it(`${algo} runs a few updates with finite losses`, async () => {
      const r = await runOnline(algo, (_u, items) => Float64Array.from(items, () => 1), opts);
      const losses = r.records.filter((x) => x.metric === 'loss').map((x) => x.value);
      expect(losses.length).toBeGreaterThan(0);
      expect(losses.every(Number.isFinite)).toBe(true);
      if (algo === 'ppo') expect(r.records.some((x) => x.metric === 'value_loss')).toBe(true);
      if (algo !== 'dpo') expect(r.records.some((x) => x.metric === 'clip_frac')).toBe(true);
    });
  }
});

describe('train_online in a RecSim pipeline (simulator proxy)', () => {
  it('runs GRPO then DRRO (soft, dynamic budget) from the BC checkpoint for a few updates', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-online-'));
    const p = resolvePipeline({
      name: 'online',
      seed: 5,
      stages: [
        { stage: 'simulate_recsim', with: { num_users: 50, num_items: 30, dim: 8, topics: 3, interactions_per_user: 10 } },
        { stage: 'split_sequences', with: { max_len: 8, apply_threshold: false } },
        { stage: 'train_gaussian', with: { objective: { name: 'bc' }, epochs: 2, batch_size: 64, hidden: [16, 16], lr: 3e-3 } },
        { stage: 'train_online', with: { algorithm: 'grpo', updates: 3, group_size: 8, contexts_per_update: 16, lr: 1e-2, checkpoint_every: 0 } },
        {
          stage: 'train_online',
          with: {
            algorithm: 'drro_soft',
            init: path.join(dir, 'checkpoints', 'bc'),
            shaper: { budget: 'dynamic', delta0: 1, alpha: 10 },
            updates: 3,
            group_size: 8,
            contexts_per_update: 16,
            lr: 1e-2,
          },
        },
      ],
    });
    const res = await runPipeline(p, { outDir: dir, logger: memoryLogger() });
    for (const method of ['grpo', 'drro_soft']) {
      const recs = res.metrics.filter((m) => m.method === method && m.split === 'train');
      const gold = recs.filter((m) => m.metric === 'gold_reward');
      expect(gold.map((g) => g.step)).toEqual([0, 1, 2, 3]);
      expect(gold.every((g) => g.value >= 0 && g.value <= 1)).toBe(true);
      expect(recs.some((m) => m.metric === 'proxy_reward')).toBe(true);
      expect(recs.filter((m) => m.metric === 'kl_ref')[0]!.value).toBeCloseTo(0, 6);
    }
    const cks = res.artifacts.get('checkpoints') as { method: string; step: number }[];
    // step 0 (the initial policy, the base of proxy/gold recentring) and the last update
    expect(cks.filter((c) => c.method === 'grpo').map((c) => c.step)).toEqual([0, 3]);
    expect(cks.filter((c) => c.method === 'drro_soft').map((c) => c.step)).toEqual([0, 3]);
    expect(res.stages.at(-1)!.rowsOut).toBe(res.stages[1]!.rowsOut);
  });
});
