/**
 * The training controls on the offline trainer and train_sasrec: the lr
 * schedule as used by Adam and recorded, early stopping (its checkpoints,
 * record, log line, resume and keep_best), and their options in a pipeline.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../stages/train/backend.js';
import { ExampleCollector } from '../../stages/train/sequence-data.js';
import { createSasrecParams, type SasrecConfig } from '../../stages/train/sasrec.js';
import { sasrecTask } from '../../stages/train/sasrec-task.js';
import { trainOffline, type OfflineTrainerOptions, type TrainerHooks, type TrainingRecord } from '../../stages/train/offline-trainer.js';
import { listCheckpoints, readCheckpoint, readCheckpointMeta } from '../../stages/train/checkpoint.js';
import { pruneCheckpoints } from '../../stages/train/checkpoint-retention.js';
import { DEFAULT_ADAM } from '../../stages/train/adam.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { validationRankingMetrics } from '../../stages/train/validation-ranking.js';
import { Rng } from '../../stages/train/rng.js';
import { rankingMetricSums, targetRanks } from '../../stages/eval/ranking-metrics.js';
import { bcObjective, simulateLog } from './helpers.js';

const log = simulateLog({ users: 48, length: 14, numItems: 30, seed: 3 });
const collector = new ExampleCollector('sequence', 16);
collector.add(log.batch);
const data = collector.finish();
const config: SasrecConfig = { numItems: data.numItemsSeen, maxLen: 16, d: 16, blocks: 1, heads: 2, ffn: 16, dropout: 0.1, rewardHead: false, rewardHidden: 8 };
const taskOpts = { softmax: 'full' as const, negatives: 0, negativeAlpha: 0, rewardWeight: 0, detachRewardHead: true, seed: 5 };
// 48 sequences in batches of 12: 4 steps per epoch.
const STEPS_PER_EPOCH = 4;

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
    logEvery: 1,
    phantomEvery: 0,
    ...over,
  };
}

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-controls-'));

async function train(opts: OfflineTrainerOptions, hooks: Partial<TrainerHooks> = {}, resumeDir?: string) {
  const params = createSasrecParams(config, 1);
  const records: TrainingRecord[] = [];
  try {
    const res = await trainOffline(
      sasrecTask(params, config, data, taskOpts),
      bcObjective(),
      opts,
      { emit: (r) => records.push(r), ...hooks },
      resumeDir ? readCheckpoint(resumeDir) : undefined,
    );
    return { res, records, arrays: params.toArrays() };
  } finally {
    params.dispose();
  }
}

const sameBytes = (a: { data: Float32Array }[], b: { data: Float32Array }[]) =>
  a.length === b.length && a.every((x, i) => Buffer.from(x.data.buffer).equals(Buffer.from(b[i]!.data.buffer)));

beforeAll(async () => {
  await initBackend('wasm');
});

describe('lr schedule in the offline trainer', () => {
  it('steps Adam with the scheduled rate and records it per logged step', async () => {
    const schedule = { lr: 5e-3, warmupSteps: 2, decay: 'cosine' as const, minLr: 1e-4 };
    const { records, arrays } = await train(trainerOpts({ lrSchedule: schedule }));
    const lr = records.filter((r) => r.metric === 'lr');
    // 8 steps; the record of step t (0-based) carries step t + 1. Warmup η(t+1)/2, then η_min + (η − η_min)(1 + cos(π(t − 2)/6))/2.
    const expected = Array.from({ length: 8 }, (_, t) => (t < 2 ? (5e-3 * (t + 1)) / 2 : 1e-4 + (4.9e-3 * (1 + Math.cos((Math.PI * (t - 2)) / 6))) / 2));
    expect(lr.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    lr.forEach((r, i) => expect(r.value).toBeCloseTo(expected[i]!, 12));
    // The rate reached Adam: the parameters differ from a constant-rate run.
    const constant = await train(trainerOpts());
    expect(constant.records.some((r) => r.metric === 'lr')).toBe(false);
    expect(sameBytes(arrays, constant.arrays)).toBe(false);
  });

  it('a constant schedule trains exactly the run without one', async () => {
    const a = await train(trainerOpts({ lrSchedule: { lr: 5e-3, warmupSteps: 0, decay: 'none', minLr: 0 } }));
    const b = await train(trainerOpts());
    expect(sameBytes(a.arrays, b.arrays)).toBe(true);
  });
});

describe('early stopping in the offline trainer', () => {
  /** onEpochEnd returning scripted validation values, epoch by epoch. */
  const scripted =
    (values: number[], seen: number[] = []) =>
    (epoch: number) => {
      seen.push(epoch);
      return { nll: 1, watched: values[epoch - 1]! };
    };

  it('stops after `patience` validations without improvement: checkpoints at improvements and at the stop, a record and a log line; a resume trains no further', async () => {
    const root = tmpDir();
    const logger = memoryLogger();
    const rule = { metric: 'watched', patience: 2, minDelta: 0, mode: 'min' as const };
    const opts = trainerOpts({ epochs: 10, checkpointRoot: root, checkpointEveryEpochs: 0, earlyStopping: rule });
    const { res, records } = await train(opts, { onEpochEnd: scripted([3, 2, 2.5, 2.4, 1, 1, 1, 1, 1, 1]), log: logger, label: 'es' });
    expect(res.earlyStopped).toMatchObject({
      step: 4 * STEPS_PER_EPOCH,
      epoch: 4,
      state: { best: 2, bestEpoch: 2, bestStep: 2 * STEPS_PER_EPOCH, sinceBest: 2 },
    });
    expect(res.step).toBe(16);
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([4, 8, 16]);
    expect(records.filter((r) => r.metric === 'early_stopped')).toEqual([{ step: 16, epoch: 4, metric: 'early_stopped', value: 16, count: 1 }]);
    expect(records.some((r) => r.metric === 'epoch_loss' && r.epoch === 5)).toBe(false);
    expect(logger.lines).toContain(
      `es: early stopping after epoch 4 (step 16): valid watched did not improve by more than 0 for 2 validation(s); best 2 at epoch 2 (step 8), checkpoint ${path.join(root, 'step-8')}`,
    );
    const last = readCheckpointMeta(path.join(root, 'step-16'));
    expect(last.extra?.earlyStopping).toEqual({ metric: 'watched', mode: 'min', best: 2, bestEpoch: 2, bestStep: 8, sinceBest: 2 });
    expect(last.validation).toEqual({ metric: 'valid_watched', value: 2.4 });

    // Resume with the same rule: nothing more is trained.
    const seen: number[] = [];
    const again = await train(opts, { onEpochEnd: scripted([], seen), log: logger, label: 'es' }, path.join(root, 'step-16'));
    expect(again.res.step).toBe(16);
    expect(again.res.checkpoints).toEqual([]);
    expect(again.res.earlyStopped?.step).toBe(16);
    expect(seen).toEqual([]);
    expect(sameBytes(again.arrays, [...readCheckpoint(path.join(root, 'step-16')).params.values()])).toBe(true);
    expect(logger.lines.at(-1)).toBe(
      'es: early stopping had already stopped this run at step 16; best valid watched 2 at epoch 2 (step 8); not training further',
    );

    // A larger patience lets it go on from there.
    const more: number[] = [];
    const longer = await train(
      { ...opts, earlyStopping: { ...rule, patience: 3 } },
      { onEpochEnd: scripted([3, 2, 2.5, 2.4, 2.3, 2.2, 2.1, 2.05, 2.01, 2.02], more) },
      path.join(root, 'step-16'),
    );
    expect(more).toEqual([5]);
    expect(longer.res.earlyStopped).toMatchObject({ epoch: 5, step: 20 });
  });

  it('keep_best keeps the best checkpoint of a metric where higher is better', async () => {
    const root = tmpDir();
    const policy = { keepLast: 1, keepBest: 1 };
    const rule = { metric: 'ndcg@10', patience: 2, minDelta: 0, mode: 'max' as const };
    await train(trainerOpts({ epochs: 10, checkpointRoot: root, checkpointEveryEpochs: 0, earlyStopping: rule, keepLast: 1, keepBest: 1 }), {
      onEpochEnd: (epoch) => ({ nll: 1, 'ndcg@10': [0.1, 0.3, 0.2, 0.25][epoch - 1]! }),
      onCheckpoint: () => void pruneCheckpoints(root, policy),
    });
    // Epoch 2 (0.3) is the best; epoch 4 (the stop) the latest. Ranked lowest-first, 0.1 or 0.25 would have been kept instead.
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([8, 16]);
    expect(readCheckpointMeta(path.join(root, 'step-8')).validation).toEqual({ metric: 'valid_ndcg@10', value: 0.3, mode: 'max' });
  });
});

describe('validation ranking metrics', () => {
  it('rank each target against the catalog with the history excluded', () => {
    // Catalog of 5 (0 = padding). Row 0: scores 1 < 2 < 3 < 4 for items 1..4, target 2, history [4] → only item 3 above: rank 2.
    // Row 1: target 4 is the top item: rank 1. Row 2: target 1, history [] → rank 4.
    const scores = Float32Array.from([-Infinity, 1, 2, 3, 4, -Infinity, 1, 2, 3, 4, -Infinity, 1, 2, 3, 4]);
    let calls = 0;
    const policy = {
      numItems: 5,
      logitsSync: (c: { offsets: Int32Array }) => {
        calls++;
        expect(c.offsets.length - 1).toBe(3);
        return scores;
      },
    };
    const m = validationRankingMetrics(policy, {
      offsets: Int32Array.from([0, 1, 2, 2]),
      values: Int32Array.from([4, 3]),
      targets: Int32Array.from([2, 4, 1]),
    });
    expect(calls).toBe(1);
    expect(m['hr@10']).toBeCloseTo(1, 12);
    expect(m['ndcg@10']).toBeCloseTo((1 / Math.log2(3) + 1 + 1 / Math.log2(5)) / 3, 12);
    expect(m.mrr).toBeCloseTo((1 / 2 + 1 + 1 / 4) / 3, 12);
  });

  it('agree with evaluate_ranking on random scores with ties and repeated history items (300 rows, several chunks)', () => {
    const numItems = 40;
    const rows = 300;
    const rng = new Rng(7, 1);
    // Scores on a coarse grid so ties are common.
    const scores = Float32Array.from({ length: rows * numItems }, (_, i) => (i % numItems === 0 ? -Infinity : rng.int(6)));
    const offsets = [0];
    const values: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let k = rng.int(5); k > 0; k--) values.push(1 + rng.int(numItems - 1));
      offsets.push(values.length);
    }
    const targets = Int32Array.from({ length: rows }, () => 1 + rng.int(numItems - 1));
    const contexts = { kind: 'list' as const, offsets: Int32Array.from(offsets), values: Int32Array.from(values) };
    // Chunks are scored in order: hand out the next rows' scores.
    let next = 0;
    const policy = {
      numItems,
      logitsSync: (c: { offsets: Int32Array }) => scores.slice(next * numItems, (next += c.offsets.length - 1) * numItems),
    };
    const got = validationRankingMetrics(policy, { offsets: contexts.offsets, values: contexts.values, targets });
    expect(next).toBe(rows);
    const ranks = targetRanks(scores, numItems, targets, contexts);
    const sums = rankingMetricSums(ranks, [10]).get(0)!;
    for (const m of ['ndcg@10', 'hr@10', 'mrr'] as const) expect(got[m], m).toBeCloseTo(sums[m]!.sum / sums[m]!.count, 12);
  });
});

describe('training controls in a pipeline', () => {
  const held = simulateLog({ users: 40, length: 12, numItems: 25, seed: 11, holdOut: true });
  let dir: string;
  let examples: string;
  const model = { max_len: 12, d: 16, blocks: 1, heads: 2, dropout: 0.1, reward_head: false, batch_size: 16, log_every: 1 };
  beforeAll(() => {
    dir = tmpDir();
    examples = path.join(dir, 'examples.parquet');
    writeParquetFile(examples, [held.batch]);
  });
  const pipeline = (w: Record<string, unknown>) =>
    resolvePipeline({
      seed: 4,
      stages: [
        { stage: 'read_parquet', with: { path: examples } },
        { stage: 'train_sasrec', with: { ...model, ...w } },
      ],
    });

  it('refuses early stopping without validation and a min_lr above lr, naming the fields', () => {
    expect(() => pipeline({ early_stopping: { patience: 2 }, valid_every: 0 })).toThrow(/early_stopping needs validation: set valid_every > 0/);
    expect(() => pipeline({ lr: 1e-3, lr_schedule: { decay: 'cosine', min_lr: 0.01 } })).toThrow(/lr_schedule.min_lr \(0.01\) must be at most lr \(0.001\)/);
    expect(() => pipeline({ lr_schedule: { decay: 'exponential' } })).toThrow(/lr_schedule.decay.*none, cosine, linear/);
    expect(() => pipeline({ early_stopping: { metric: 'auc' } })).toThrow(/early_stopping.metric.*nll, ndcg@10, hr@10, mrr/);
    try {
      pipeline({ early_stopping: { patience: 0 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
    }
  });

  it('early stopping on ndcg@10 emits the validation metric each epoch and ranks checkpoints by it', async () => {
    const res = await runPipeline(pipeline({ epochs: 3, early_stopping: { metric: 'ndcg@10', patience: 5 } }), {
      outDir: path.join(dir, 'ndcg'),
      logger: memoryLogger(),
      writeFiles: false,
    });
    const valid = res.metrics.filter((m) => m.split === 'valid' && m.metric === 'ndcg@10');
    expect(valid.map((m) => [m.epoch, m.count])).toEqual([
      [1, 40],
      [2, 40],
      [3, 40],
    ]);
    expect(valid.every((m) => m.value > 0 && m.value <= 1)).toBe(true);
    const cks = res.artifacts.get('checkpoints') as { dir: string; epoch: number }[];
    const meta = readCheckpointMeta(cks.at(-1)!.dir);
    expect(meta.validation).toEqual({ metric: 'valid_ndcg@10', value: valid[2]!.value, mode: 'max' });
  });

  it('a decaying schedule records its span; a resume that changes epochs is refused, one that does not continues', async () => {
    const out = path.join(dir, 'sched');
    const w = { epochs: 2, checkpoint_every: 0, lr_schedule: { warmup_steps: 1, decay: 'linear', min_lr: 0 } };
    const first = await runPipeline(pipeline({ ...w, stop_after_steps: 3 }), { outDir: out, logger: memoryLogger(), writeFiles: false });
    const ck = (first.artifacts.get('checkpoints') as { dir: string }[])[0]!.dir;
    // 40 sequences in batches of 16: 3 steps per epoch, 6 in all.
    expect(readCheckpointMeta(ck).training?.lr_schedule).toEqual({ warmup_steps: 1, decay: 'linear', min_lr: 0, total_steps: 6 });
    const lrs = first.metrics.filter((m) => m.metric === 'lr').map((m) => m.value);
    // t = 0 warms up (η·1/1), then η·(1 − (t − 1)/5).
    [1e-3, 1e-3, 1e-3 * (1 - 1 / 5)].forEach((v, i) => expect(lrs[i]).toBeCloseTo(v, 15));
    await expect(runPipeline(pipeline({ ...w, epochs: 3, resume: true }), { outDir: out, logger: memoryLogger(), writeFiles: false })).rejects.toThrow(
      /lr_schedule.total_steps: the checkpoint has 6, this run has 9/,
    );
    const rest = await runPipeline(pipeline({ ...w, resume: true }), { outDir: out, logger: memoryLogger(), writeFiles: false });
    expect(rest.metrics.filter((m) => m.metric === 'lr').map((m) => m.step)).toEqual([4, 5, 6]);
  });
});

describe('train_gaussian validation and early stopping', () => {
  it('valid_every emits the validation nll; early_stopping stops on it (min_delta so large that only the first validation improves)', async () => {
    const dir = tmpDir();
    const stages = (w: Record<string, unknown>) => [
      { stage: 'simulate_recsim', with: { num_users: 60, num_items: 40, dim: 8, topics: 4, interactions_per_user: 12 } },
      { stage: 'split_sequences', with: { max_len: 10, apply_threshold: false } },
      { stage: 'train_gaussian', with: { epochs: 6, batch_size: 64, hidden: [16], lr: 3e-3, log_every: 0, ...w } },
    ];
    const logger = memoryLogger();
    const res = await runPipeline(resolvePipeline({ seed: 4, stages: stages({ valid_every: 1, early_stopping: { patience: 1, min_delta: 1e6 } }) }), {
      outDir: dir,
      logger,
      writeFiles: false,
    });
    const valid = res.metrics.filter((m) => m.split === 'valid' && m.metric === 'nll');
    expect(valid.map((m) => m.epoch)).toEqual([1, 2]);
    expect(valid.every((m) => Number.isFinite(m.value) && m.count > 0)).toBe(true);
    const cks = res.artifacts.get('checkpoints') as { dir: string; epoch: number; step: number }[];
    expect(cks.map((c) => c.epoch)).toEqual([1, 2]);
    expect(readCheckpointMeta(cks[0]!.dir).validation).toEqual({ metric: 'valid_nll', value: valid[0]!.value });
    const stopped = res.metrics.filter((m) => m.metric === 'early_stopped');
    expect(stopped.map((m) => [m.step, m.value, m.epoch])).toEqual([[cks[1]!.step, cks[1]!.step, 2]]);
    expect(logger.lines.some((l) => l.startsWith('train_gaussian[bc]: early stopping after epoch 2'))).toBe(true);
    // early_stopping needs valid_every (off by default for train_gaussian), and train_gaussian watches nll only.
    expect(() => resolvePipeline({ stages: stages({ early_stopping: {} }) })).toThrow(/early_stopping needs validation: set valid_every > 0/);
    expect(() => resolvePipeline({ stages: stages({ valid_every: 1, early_stopping: { metric: 'ndcg@10' } }) })).toThrow(
      /early_stopping.metric.*must be one of nll;/,
    );
  });
});
