import { describe, expect, it, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { ExampleCollector } from '../../stages/train/sequence-data.js';
import { clearConstantCaches, createSasrecParams, type SasrecConfig } from '../../stages/train/sasrec.js';
import { sasrecTask } from '../../stages/train/sasrec-task.js';
import { trainOffline, type OfflineTrainerOptions, type TrainingRecord } from '../../stages/train/offline-trainer.js';
import { readCheckpoint, listCheckpoints } from '../../stages/train/checkpoint.js';
import { DEFAULT_ADAM } from '../../stages/train/adam.js';
import type { LrSchedule } from '../../stages/train/lr-schedule.js';
import { bcObjective, driftingObjective, simulateLog } from './helpers.js';

const log = simulateLog({ users: 48, length: 14, numItems: 30, seed: 3 });
const collector = new ExampleCollector('sequence', 16);
collector.add(log.batch);
const data = collector.finish();
const config: SasrecConfig = { numItems: data.numItemsSeen, maxLen: 16, d: 16, blocks: 1, heads: 2, ffn: 16, dropout: 0.1, rewardHead: true, rewardHidden: 8 };
const taskOpts = { softmax: 'full' as const, negatives: 0, negativeAlpha: 0, rewardWeight: 0.1, detachRewardHead: true, seed: 5 };

function trainerOpts(over: Partial<OfflineTrainerOptions> = {}): OfflineTrainerOptions {
  return {
    method: 'test',
    seed: 5,
    epochs: 2,
    batchSize: 12,
    adam: { ...DEFAULT_ADAM, lr: 5e-3 },
    clipNorm: 1,
    checkpointEveryEpochs: 1,
    checkpointEverySteps: 0,
    logEvery: 2,
    phantomEvery: 0,
    ...over,
  };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-train-'));
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('offline trainer on the sequence model (WASM)', () => {
  it('lowers the next-item loss on a simulated log and reports training records', async () => {
    const params = createSasrecParams(config, 1);
    const records: TrainingRecord[] = [];
    const res = await trainOffline(sasrecTask(params, config, data, taskOpts), bcObjective(), trainerOpts({ epochs: 6 }), { emit: (r) => records.push(r) });
    params.dispose();
    const epochLoss = records.filter((r) => r.metric === 'epoch_loss').map((r) => r.value);
    expect(epochLoss).toHaveLength(6);
    // ln(30) ≈ 3.4 at the start; the ring structure is learnable.
    expect(epochLoss[0]!).toBeGreaterThan(2.5);
    expect(epochLoss[5]!).toBeLessThan(epochLoss[0]! - 0.6);
    for (const m of ['loss', 'nll', 'w_mean', 'w_max', 'ess', 'grad_norm', 'examples_per_s', 'reward_mse']) {
      expect(
        records.some((r) => r.metric === m),
        m,
      ).toBe(true);
    }
    expect(res.step).toBe(6 * Math.ceil(data.numRows / 12));
  });

  // The schedule's warmup ends and its decay starts across the interruption (after step 3 of 8).
  const schedule: LrSchedule = { lr: 5e-3, warmupSteps: 2, decay: 'cosine', minLr: 1e-4 };
  it.each([
    ['constant lr', {}],
    ['lr warmup and cosine decay', { lrSchedule: schedule }],
  ] as const)('resumes mid-epoch from a checkpoint to the same parameters, bit for bit (%s)', async (_, sched: Partial<OfflineTrainerOptions>) => {
    const opts = (over: Partial<OfflineTrainerOptions> = {}) => trainerOpts({ ...sched, ...over });
    const rootA = tmpDir();
    const rootB = tmpDir();
    const full = createSasrecParams(config, 1);
    await trainOffline(sasrecTask(full, config, data, taskOpts), driftingObjective(), opts({ checkpointRoot: rootA }), { emit: () => {} });
    const expected = full.toArrays();
    full.dispose();

    // Interrupted after 3 steps (mid-epoch 1: 4 steps per epoch), then resumed by a fresh model.
    const first = createSasrecParams(config, 1);
    const r1 = await trainOffline(sasrecTask(first, config, data, taskOpts), driftingObjective(), opts({ checkpointRoot: rootB, stopAfterSteps: 3 }), {
      emit: () => {},
    });
    first.dispose();
    expect(r1.stoppedEarly).toBe(true);
    const ck = readCheckpoint(listCheckpoints(rootB).at(-1)!.dir);
    expect(ck.meta.position).toEqual({ epoch: 0, batch: 3, rows: data.numRows });
    expect((ck.meta.objectiveState as { batches: number }).batches).toBe(3);

    const second = createSasrecParams(config, 99); // different init: everything must come from the checkpoint
    await trainOffline(sasrecTask(second, config, data, taskOpts), driftingObjective(), opts({ checkpointRoot: rootB }), { emit: () => {} }, ck);
    const got = second.toArrays();
    second.dispose();
    expect(got.map((a) => a.name)).toEqual(expected.map((a) => a.name));
    for (let i = 0; i < got.length; i++) expect(Buffer.from(got[i]!.data.buffer).equals(Buffer.from(expected[i]!.data.buffer)), got[i]!.name).toBe(true);
  });

  it('keeps the number of live tensors constant over 100 steps', async () => {
    clearConstantCaches();
    const before = tf.memory().numTensors;
    const params = createSasrecParams({ ...config, d: 8, ffn: 8 }, 2);
    const small = sasrecTask(params, { ...config, d: 8, ffn: 8 }, data, taskOpts);
    const counts: number[] = [];
    let steps = 0;
    // 5 steps per epoch with batch 10 → 20 epochs = 100 steps; sample after each epoch.
    await trainOffline(small, driftingObjective(), trainerOpts({ epochs: 20, batchSize: 10, logEvery: 0 }), {
      emit: (r) => {
        if (r.metric === 'epoch_loss') {
          counts.push(tf.memory().numTensors);
          steps = r.step;
        }
      },
    });
    expect(steps).toBe(100);
    expect(new Set(counts.slice(1)).size).toBe(1);
    params.dispose();
    clearConstantCaches();
    expect(tf.memory().numTensors).toBe(before);
  });
});
