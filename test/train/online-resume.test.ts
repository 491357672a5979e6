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
import { listCheckpoints, readCheckpoint, type LoadedCheckpoint } from '../../stages/train/checkpoint.js';
import { createGroupShaper } from '../../stages/weighting/registry.js';
import type { NamedArray, ParamStore } from '../../stages/train/params.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { bcObjective, simulateLog } from './helpers.js';

const log = simulateLog({ users: 24, length: 8, numItems: 16, seed: 5 });
const config: SasrecConfig = { numItems: 16, maxLen: 8, d: 8, blocks: 1, heads: 1, ffn: 8, dropout: 0, rewardHead: true, rewardHidden: 8 };
let base: ParamStore;

beforeAll(async () => {
  await initBackend('wasm');
  const c = new ExampleCollector('sequence', 8);
  c.add(log.batch);
  base = createSasrecParams(config, 7);
  await trainOffline(
    sasrecTask(base, config, c.finish(), { softmax: 'full', negatives: 0, negativeAlpha: 0, rewardWeight: 1, detachRewardHead: true, seed: 7 }),
    bcObjective(),
    {
      method: 'bc',
      seed: 7,
      epochs: 2,
      batchSize: 12,
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

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-online-resume-'));
const UPDATES = 5;

/** One trainOnline call; a resumed call starts from a policy of different values, so everything must come from the checkpoint. */
async function run(
  algorithm: OnlineAlgorithm,
  shaperOpts: Record<string, unknown>,
  root: string,
  extra: Partial<OnlineTrainerOptions>,
  resume?: LoadedCheckpoint,
) {
  const model = sasrecOnlineModel(config);
  const policy = resume ? createSasrecParams(config, 99) : base.clone(true);
  const reference = base.clone(false);
  const records: TrainingRecord[] = [];
  const opts: OnlineTrainerOptions = {
    algorithm,
    method: algorithm,
    seed: 3,
    groupSize: 6,
    updates: UPDATES,
    contextsPerUpdate: 10,
    innerSteps: 2,
    clip: 0.2,
    adam: { ...DEFAULT_ADAM, lr: 1e-2 },
    clipNorm: 1,
    valueCoef: 0.5,
    valueHidden: 8,
    dpoBeta: 0.1,
    checkpointEvery: 2,
    checkpointRoot: root,
    ...extra,
  };
  const grouped = algorithm !== 'ppo' && algorithm !== 'dpo';
  const result = await trainOnline(
    model,
    policy,
    reference,
    contexts(),
    grouped ? createGroupShaper(algorithm, shaperOpts) : undefined,
    opts,
    {
      emit: (r) => records.push(r),
      proxy: (batch, items, G) => Float64Array.from(model.predictRewards!(reference, model.prepare(batch), items, G)),
      gold: (_u, items) => Float64Array.from(items, (i) => (i % 4) / 4),
    },
    resume,
  );
  const params = policy.toArrays();
  policy.dispose();
  reference.dispose();
  return { params, records, result };
}

function expectSameBytes(got: NamedArray[], want: NamedArray[]) {
  expect(got.map((a) => a.name)).toEqual(want.map((a) => a.name));
  for (let i = 0; i < got.length; i++) expect(Buffer.from(got[i]!.data.buffer).equals(Buffer.from(want[i]!.data.buffer)), got[i]!.name).toBe(true);
}

const key = (r: TrainingRecord) => `${r.step}/${r.metric}`;

describe('online trainer: stop_after_updates + resume', () => {
  // Warmup over 3 of the 10 optimiser steps, then a cosine decay: the interruption (after 6 steps) falls inside the decay.
  const schedule: Partial<OnlineTrainerOptions> = { lrSchedule: { lr: 1e-2, warmupSteps: 3, decay: 'cosine', minLr: 1e-3 } };
  for (const [algorithm, shaperOpts, sched] of [
    ['grpo', {}, {}],
    ['drro_soft', { budget: 'dynamic', delta0: 1, alpha: 10, window: 3 }, {}],
    ['ppo', {}, {}],
    ['ppo', {}, schedule],
  ] as const) {
    it(`${algorithm}${sched === schedule ? ' with an lr schedule' : ''}: the resumed run ends with the uninterrupted run's bytes and records`, async () => {
      const go = (root: string, extra: Partial<OnlineTrainerOptions>, resume?: LoadedCheckpoint) =>
        run(algorithm, shaperOpts, root, { ...sched, ...extra }, resume);
      const fullRoot = tmp();
      const full = await go(fullRoot, {});
      if (sched === schedule) {
        // Update 0 takes steps 0 and 1 of the warmup: mean of 1e-2·1/3 and 1e-2·2/3.
        expect(full.records.find((r) => r.metric === 'lr' && r.step === 0)?.value).toBeCloseTo(5e-3, 15);
        expect(full.records.filter((r) => r.metric === 'lr')).toHaveLength(UPDATES);
      } else expect(full.records.some((r) => r.metric === 'lr')).toBe(false);
      expect(full.result).toMatchObject({ updates: UPDATES, startUpdate: 0, stoppedEarly: false });
      const fullCk = readCheckpoint(path.join(fullRoot, `step-${UPDATES}`));

      const root = tmp();
      const first = await go(root, { stopAfterUpdates: 3 });
      expect(first.result).toMatchObject({ updates: 3, stoppedEarly: true });
      // step 0, the checkpoint_every grid (2) and the stop point
      expect(listCheckpoints(root).map((c) => c.step)).toEqual([0, 2, 3]);
      // the stopped run reports updates 0..2 only (no final rollout), exactly as the full run did
      expect(Math.max(...first.records.map((r) => r.step))).toBe(2);
      const ck = readCheckpoint(path.join(root, 'step-3'));
      expect(ck.meta.extra).toMatchObject({ algorithm, updates: 3 });
      expect(ck.meta.position).toMatchObject({ batch: 3, rows: contexts().rows });
      if (algorithm === 'drro_soft') expect((ck.meta.objectiveState as { window: number[] }).window).toHaveLength(3);
      if (algorithm === 'ppo') {
        expect([...ck.params.keys()].filter((n) => n.startsWith('value/')).sort()).toEqual(['value/b1', 'value/b2', 'value/w1', 'value/w2']);
        expect(ck.optimizer.has('m/value/w1') && ck.optimizer.has('v/value/b2')).toBe(true);
      }
      const step0 = fs.statSync(path.join(root, 'step-0', 'checkpoint.json')).mtimeMs;
      const step0Meta = fs.readFileSync(path.join(root, 'step-0', 'checkpoint.json'), 'utf8');

      const second = await go(root, {}, ck);
      expect(second.result).toMatchObject({ updates: UPDATES, startUpdate: 3, stoppedEarly: false });
      expect(second.result.checkpoints.map((c) => c.step)).toEqual([0, 2, 3, 4, 5]);
      expectSameBytes(second.params, full.params);
      // the step-0 checkpoint was not rewritten
      expect(fs.statSync(path.join(root, 'step-0', 'checkpoint.json')).mtimeMs).toBe(step0);
      expect(fs.readFileSync(path.join(root, 'step-0', 'checkpoint.json'), 'utf8')).toBe(step0Meta);
      // the final checkpoint agrees too: parameters (value head included) and Adam moments
      const lastCk = readCheckpoint(path.join(root, `step-${UPDATES}`));
      for (const which of ['params', 'optimizer'] as const) {
        const want = [...fullCk[which]].map(([name, a]) => ({ name, shape: a.shape, data: a.data }));
        const got = [...lastCk[which]].map(([name, a]) => ({ name, shape: a.shape, data: a.data }));
        expectSameBytes(got, want);
      }
      expect(lastCk.meta.objectiveState).toEqual(fullCk.meta.objectiveState);
      // records: the two parts together are the uninterrupted run's, value for value
      const joined = [...first.records, ...second.records];
      expect(joined.map(key)).toEqual(full.records.map(key));
      expect(joined.map((r) => [r.value, r.count])).toEqual(full.records.map((r) => [r.value, r.count]));
      expect(Math.min(...second.records.map((r) => r.step))).toBe(3);
    });
  }

  it('refuses a checkpoint of another algorithm or seed, and a resumed finished run does nothing', async () => {
    const root = tmp();
    const done = await run('grpo', {}, root, { updates: 2 });
    const ck = readCheckpoint(path.join(root, 'step-2'));
    await expect(run('drro_hard', {}, tmp(), { updates: 2 }, ck)).rejects.toThrow(/a grpo checkpoint, this run is drro_hard/);
    await expect(run('grpo', {}, tmp(), { updates: 2, seed: 4 }, ck)).rejects.toThrow(/seed 3, this run has seed 4/);
    // a user's mistake (resume_from names the wrong run): a configuration error, exit 2
    await expect(run('grpo', {}, tmp(), { updates: 2, seed: 4 }, ck)).rejects.toBeInstanceOf(ConfigError);
    const again = await run('grpo', {}, root, { updates: 2 }, ck);
    expect(again.records).toEqual([]);
    expect(again.result).toMatchObject({ updates: 2, startUpdate: 2, stoppedEarly: false });
    expectSameBytes(again.params, done.params);
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([0, 2]);
  });
});

describe('train_online stage: stop_after_updates, then resume: true', () => {
  it('the resumed pipeline ends with the bytes of the uninterrupted one and republishes the series', async () => {
    const pipeline = (online: Record<string, unknown>) =>
      resolvePipeline({
        name: 'online-resume',
        seed: 5,
        stages: [
          { stage: 'simulate_recsim', with: { num_users: 30, num_items: 20, dim: 6, topics: 3, interactions_per_user: 8 } },
          { stage: 'split_sequences', with: { max_len: 6, apply_threshold: false } },
          { stage: 'train_gaussian', with: { objective: { name: 'bc' }, epochs: 1, batch_size: 64, hidden: [8, 8], lr: 3e-3 } },
          {
            stage: 'train_online',
            with: {
              algorithm: 'drro_soft',
              shaper: { budget: 'dynamic', delta0: 1, alpha: 10 },
              updates: 4,
              group_size: 6,
              contexts_per_update: 8,
              lr: 1e-2,
              checkpoint_every: 0,
              ...online,
            },
          },
        ],
      });
    const fullDir = tmp();
    const full = await runPipeline(pipeline({}), { outDir: fullDir, logger: memoryLogger() });
    const dir = tmp();
    await runPipeline(pipeline({ stop_after_updates: 2 }), { outDir: dir, logger: memoryLogger() });
    const root = path.join(dir, 'checkpoints', 'drro_soft');
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([0, 2]);
    const resumed = await runPipeline(pipeline({ resume: true, init: path.join(dir, 'no-such-init') }), { outDir: dir, logger: memoryLogger() });
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([0, 2, 4]);
    const got = readCheckpoint(path.join(root, 'step-4'));
    const want = readCheckpoint(path.join(fullDir, 'checkpoints', 'drro_soft', 'step-4'));
    const arrays = (c: LoadedCheckpoint) => [...c.params].map(([name, a]) => ({ name, shape: a.shape, data: a.data }));
    expectSameBytes(arrays(got), arrays(want));
    const cks = (resumed.artifacts.get('checkpoints') as { method: string; step: number }[]).filter((c) => c.method === 'drro_soft');
    expect(cks.map((c) => c.step)).toEqual([0, 2, 4]);
    const gold = (m: typeof full.metrics) => m.filter((r) => r.method === 'drro_soft' && r.metric === 'gold_reward').map((r) => [r.step, r.value]);
    expect(gold(resumed.metrics)).toEqual(gold(full.metrics).filter(([step]) => step! >= 2));
  });
});
