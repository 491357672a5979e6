/**
 * Data-parallel training (stages/train/parallel/): the pieces (row slices,
 * dropout masks of a slice, minibatch slices) against their definitions, and
 * whole runs: 2 threads against 1 within float rounding, 2 against 2 bit for
 * bit, resume with 2 threads bit for bit, and a failing worker.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { dropoutMask } from '../../stages/train/nn.js';
import { Rng } from '../../stages/train/rng.js';
import { assembleMinibatch, ExampleCollector } from '../../stages/train/sequence-data.js';
import { createSasrecParams, sasrecEncode, type SasrecConfig } from '../../stages/train/sasrec.js';
import { sasrecTask, type SasrecTaskOptions } from '../../stages/train/sasrec-task.js';
import { trainOffline, type OfflineTrainerOptions, type TrainingRecord } from '../../stages/train/offline-trainer.js';
import { listCheckpoints, readCheckpoint } from '../../stages/train/checkpoint.js';
import { DEFAULT_ADAM } from '../../stages/train/adam.js';
import type { NamedArray } from '../../stages/train/params.js';
import type { OfflineObjective } from '../../stages/core/objective.js';
import { contiguousRowRanges } from '../../stages/train/parallel/row-slices.js';
import { sasrecDataParallel, sliceSasrecBatch } from '../../stages/train/parallel/sasrec-parallel.js';
import { DataParallelGradients } from '../../stages/train/parallel/data-parallel.js';
import { driftingObjective, simulateLog } from './helpers.js';

const log = simulateLog({ users: 40, length: 14, numItems: 30, seed: 3 });
const collector = new ExampleCollector('sequence', 16);
collector.add(log.batch);
const data = collector.finish();
const config: SasrecConfig = { numItems: data.numItemsSeen, maxLen: 16, d: 16, blocks: 2, heads: 2, ffn: 16, dropout: 0.2, rewardHead: true, rewardHidden: 8 };
const fullOpts: SasrecTaskOptions = { softmax: 'full', negatives: 0, negativeAlpha: 0, rewardWeight: 0.1, detachRewardHead: true, seed: 5 };

function trainerOpts(over: Partial<OfflineTrainerOptions> = {}): OfflineTrainerOptions {
  // 40 rows, batch 11 → 4 steps per epoch (the last of 7 rows: odd slices).
  return {
    method: 'test',
    seed: 5,
    epochs: 5,
    batchSize: 11,
    adam: { ...DEFAULT_ADAM, lr: 5e-3 },
    clipNorm: 1,
    checkpointEveryEpochs: 0,
    checkpointEverySteps: 0,
    logEvery: 1,
    phantomEvery: 0,
    ...over,
  };
}

/** A stateful objective that also reports phantom weights (as DRPO does). */
function phantomObjective(): OfflineObjective<{ batches: number; lambda: number }> {
  const inner = driftingObjective();
  return {
    ...inner,
    weigh: (batch, state) => {
      const r = inner.weigh(batch, state);
      const phantomWeight = r.result.weight.map((w, i) => (i % 3 === 0 ? 0 : 1 / (1 + w)));
      return { result: { ...r.result, phantomWeight }, state: r.state };
    },
  };
}

interface Run {
  params: NamedArray[];
  records: TrainingRecord[];
}

async function train(threads: number, opts: SasrecTaskOptions, over: Partial<OfflineTrainerOptions> = {}, objective = phantomObjective()): Promise<Run> {
  const params = createSasrecParams(config, 1);
  const records: TrainingRecord[] = [];
  try {
    const task = { ...sasrecTask(params, config, data, opts), parallel: sasrecDataParallel(config, opts, data) };
    await trainOffline(task, objective, trainerOpts({ threads, ...over }), { emit: (r) => records.push(r) });
    return { params: params.toArrays(), records };
  } finally {
    params.dispose();
  }
}

function series(records: TrainingRecord[], metric: string): number[] {
  return records.filter((r) => r.metric === metric).map((r) => r.value);
}

function expectBitEqual(a: NamedArray[], b: NamedArray[]): void {
  expect(a.map((x) => x.name)).toEqual(b.map((x) => x.name));
  for (let i = 0; i < a.length; i++) expect(Buffer.from(a[i]!.data.buffer).equals(Buffer.from(b[i]!.data.buffer)), a[i]!.name).toBe(true);
}

/**
 * max |a − b| / max |b| over each parameter, except the attention key biases:
 * the softmax over keys is invariant to them (q·b_k is constant along a
 * row), so their gradient is zero up to rounding noise, which Adam's m/√v
 * turns into steps of ±lr; they never change the model's outputs.
 */
function worstRelativeDifference(a: NamedArray[], b: NamedArray[]): { name: string; value: number } {
  let worst = { name: '', value: 0 };
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name.endsWith('/k_b')) continue;
    const x = a[i]!.data;
    const y = b[i]!.data;
    let diff = 0;
    let scale = 0;
    for (let j = 0; j < x.length; j++) {
      diff = Math.max(diff, Math.abs(x[j]! - y[j]!));
      scale = Math.max(scale, Math.abs(y[j]!));
    }
    const value = diff / Math.max(scale, 1e-12);
    if (value > worst.value) worst = { name: a[i]!.name, value };
  }
  return worst;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('data-parallel pieces', () => {
  it('splits rows into contiguous slices differing by at most one row', () => {
    expect(contiguousRowRanges(11, 2)).toEqual([
      { start: 0, end: 6 },
      { start: 6, end: 11 },
    ]);
    expect(contiguousRowRanges(10, 3)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 7 },
      { start: 7, end: 10 },
    ]);
    expect(contiguousRowRanges(2, 4)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
    ]);
    expect(contiguousRowRanges(0, 2)).toEqual([{ start: 0, end: 0 }]);
    expect(() => contiguousRowRanges(5, 0)).toThrow('parts must be a positive integer, got 0');
  });

  it('gives a slice exactly its elements of the whole dropout mask, at even and odd offsets', () => {
    const whole = dropoutMask(1001, 0.3, new Rng(7, 3, 2));
    for (const [skip, n] of [
      [0, 10],
      [1, 10],
      [2, 7],
      [333, 500],
      [998, 3],
    ] as const) {
      const part = dropoutMask(n, 0.3, new Rng(7, 3, 2), skip);
      expect(Array.from(part)).toEqual(Array.from(whole.subarray(skip, skip + n)));
    }
    // The mask keeps 70% and scales kept elements by 1/q.
    const kept = whole.filter((v) => v > 0);
    expect(kept.length / whole.length).toBeGreaterThan(0.6);
    expect(kept.length / whole.length).toBeLessThan(0.8);
    expect(kept[0]).toBeCloseTo(65536 / Math.round(65536 * 0.7), 6);
  });

  it('slices a minibatch into rows whose targets concatenate to the whole batch', () => {
    const rows = Int32Array.from([5, 0, 17, 3, 9, 30, 22]);
    const mb = assembleMinibatch(data, rows, config.maxLen);
    const whole = { mb, rewards: mb.rewards, groups: mb.groups };
    const a = sliceSasrecBatch(whole, 0, 3);
    const b = sliceSasrecBatch(whole, 3, 7);
    expect(a.targetStart).toBe(0);
    expect(a.targetEnd).toBe(b.targetStart);
    expect(b.targetEnd).toBe(mb.targets.length);
    expect([...a.batch.mb.targets, ...b.batch.mb.targets]).toEqual([...mb.targets]);
    expect([...a.batch.mb.inputIds, ...b.batch.mb.inputIds]).toEqual([...mb.inputIds]);
    expect([...a.batch.mb.flatIndex, ...Array.from(b.batch.mb.flatIndex, (f) => f + 3 * mb.T)]).toEqual([...mb.flatIndex]);
    expect(b.batch.rowOffset).toBe(3);
    expect(b.batch.mb.T).toBe(mb.T);
    // Copies: nothing shares the whole batch's buffers (a worker receives only its part).
    expect(b.batch.mb.inputIds.buffer).not.toBe(mb.inputIds.buffer);
  });

  it('encodes a slice (with its row offset) to the rows of the whole minibatch, dropout included', () => {
    const params = createSasrecParams(config, 4);
    const rows = Int32Array.from([1, 2, 3, 4, 5]);
    const mb = assembleMinibatch(data, rows, config.maxLen);
    const key = { seed: 9, step: 3 };
    const whole = sasrecEncode(params, config, mb.inputIds, mb.B, mb.T, key);
    const part = sasrecEncode(params, config, mb.inputIds.slice(2 * mb.T), 3, mb.T, { ...key, rowOffset: 2 });
    const expected = whole.dataSync().subarray(2 * mb.T * config.d);
    const got = part.dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-5);
    // Without the offset the slice would get the first rows' masks: visibly different.
    const wrong = sasrecEncode(params, config, mb.inputIds.slice(2 * mb.T), 3, mb.T, key).dataSync();
    let off = 0;
    for (let i = 0; i < got.length; i++) off = Math.max(off, Math.abs(wrong[i]! - expected[i]!));
    expect(off).toBeGreaterThan(0.1);
    tf.dispose([whole, part]);
    params.dispose();
  });
});

describe('data-parallel training (WASM, 2 threads)', () => {
  it('matches the one-thread run within float rounding after 20 steps, phantom gradients included', async () => {
    const one = await train(1, fullOpts, { phantomEvery: 3 });
    const two = await train(2, fullOpts, { phantomEvery: 3 });
    expect(series(one.records, 'loss')).toHaveLength(20);
    expect(worstRelativeDifference(two.params, one.params).value).toBeLessThan(1e-4);
    for (const metric of ['loss', 'nll', 'reward_mse', 'grad_norm', 'phantom_grad_norm', 'kept_grad_norm', 'phantom_ratio', 'w_mean', 'lambda']) {
      const a = series(one.records, metric);
      const b = series(two.records, metric);
      expect(b.length, metric).toBe(a.length);
      expect(a.length, metric).toBeGreaterThan(0);
      for (let i = 0; i < a.length; i++) expect(Math.abs(b[i]! - a[i]!), `${metric}[${i}]`).toBeLessThan(1e-5 * Math.max(1, Math.abs(a[i]!)));
    }
  });

  it('is deterministic: two 2-thread runs give the same parameters bit for bit (sampled softmax)', async () => {
    const sampled: SasrecTaskOptions = { ...fullOpts, softmax: 'sampled', negatives: 8, negativeAlpha: 0.75 };
    const a = await train(2, sampled, { epochs: 2 });
    const b = await train(2, sampled, { epochs: 2 });
    expectBitEqual(a.params, b.params);
    expect(series(a.records, 'loss')).toEqual(series(b.records, 'loss'));
    const one = await train(1, sampled, { epochs: 2 });
    expect(worstRelativeDifference(a.params, one.params).value).toBeLessThan(1e-4);
  });

  it('leaves no tensors behind on the main thread', async () => {
    await train(2, fullOpts, { epochs: 1, phantomEvery: 1 });
    const before = tf.memory().numTensors;
    await train(2, fullOpts, { epochs: 2, phantomEvery: 1 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves no tensors behind in the workers, step after step', async () => {
    const params = createSasrecParams(config, 1);
    const task = { ...sasrecTask(params, config, data, fullOpts), parallel: sasrecDataParallel(config, fullOpts, data) };
    const dp = await DataParallelGradients.start(task, task.parallel, 3, 'demo');
    try {
      const counts: number[][] = [];
      for (let s = 0; s < 4; s++) {
        const prep = task.prepare(Int32Array.from({ length: 11 }, (_, i) => (s * 11 + i) % data.numRows));
        const g = await dp.gradients(prep, new Float32Array(prep.rewards.length).fill(1), s, s % 2 ? 'policy' : 'loss');
        tf.dispose([...g.named.values()]);
        counts.push([...dp.workerLiveTensors()]);
      }
      expect(counts[0]).toHaveLength(2);
      for (const c of counts.slice(1)) expect(c).toEqual(counts[0]);
    } finally {
      await dp.close();
      params.dispose();
    }
  });

  it('resumes a 2-thread run mid-epoch to the uninterrupted 2-thread parameters, bit for bit', async () => {
    const rootA = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-par-'));
    const rootB = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-par-'));
    const whole = await train(2, fullOpts, { epochs: 2, checkpointRoot: rootA });
    const stopped = await train(2, fullOpts, { epochs: 2, checkpointRoot: rootB, stopAfterSteps: 3 });
    expect(stopped.records.length).toBeGreaterThan(0);
    const ck = readCheckpoint(listCheckpoints(rootB).at(-1)!.dir);
    expect(ck.meta.position).toEqual({ epoch: 0, batch: 3, rows: data.numRows });
    const params = createSasrecParams(config, 77);
    const task = { ...sasrecTask(params, config, data, fullOpts), parallel: sasrecDataParallel(config, fullOpts, data) };
    await trainOffline(task, phantomObjective(), trainerOpts({ threads: 2, epochs: 2, checkpointRoot: rootB }), { emit: () => {} }, ck);
    const resumed = params.toArrays();
    params.dispose();
    expectBitEqual(resumed, whole.params);
  });
});

describe('data-parallel failures', () => {
  it('rejects a model without a data-parallel description', async () => {
    const params = createSasrecParams(config, 1);
    await expect(
      trainOffline(sasrecTask(params, config, data, fullOpts), driftingObjective(), trainerOpts({ threads: 2 }), { emit: () => {}, label: 'demo' }),
    ).rejects.toThrow('demo: this model cannot be trained on 2 threads (no data-parallel description)');
    params.dispose();
  });

  it('reports a worker that cannot build the replica, and starts nothing', async () => {
    const params = createSasrecParams(config, 1);
    const other = sasrecDataParallel({ ...config, d: 8, ffn: 8 }, fullOpts, data);
    const task = { ...sasrecTask(params, config, data, fullOpts), parallel: other };
    await expect(DataParallelGradients.start(task, other, 2, 'demo')).rejects.toThrow(
      /^demo: training worker 1 failed: parameter replica mismatch: "item_emb" has shape \[\d+,8\], the trainer \[\d+,16\]$/,
    );
    params.dispose();
  });

  it('stops training with a clear error when a worker dies mid-run, and terminates the others', async () => {
    const params = createSasrecParams(config, 1);
    const task = { ...sasrecTask(params, config, data, fullOpts), parallel: sasrecDataParallel(config, fullOpts, data) };
    const exits: number[] = [];
    let steps = 0;
    const run = trainOffline(task, driftingObjective(), trainerOpts({ threads: 3 }), {
      label: 'demo',
      emit: (r) => {
        if (r.metric === 'loss') steps++;
      },
      onWorkersStarted: (workers) => {
        for (const w of workers) w.on('exit', (code) => exits.push(code));
        // Worker 2 dies after the first step's records.
        setTimeout(() => void workers[1]!.terminate(), 0);
      },
    });
    await expect(run).rejects.toThrow(/^demo: training worker 2 exited \(code 1\) during training$/);
    expect(steps).toBeLessThan(20);
    // Both workers are gone: the dead one and the one the trainer closed.
    expect(exits).toHaveLength(2);
    params.dispose();
  });
});
