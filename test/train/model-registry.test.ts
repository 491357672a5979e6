import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ListColumn } from '../../stages/core/batch.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { initBackend } from '../../stages/train/backend.js';
import { readCheckpoint, readCheckpointMeta, writeCheckpoint } from '../../stages/train/checkpoint.js';
import { DEFAULT_ADAM } from '../../stages/train/adam.js';
import { loadPolicy } from '../../stages/train/load-policy.js';
import { weightedNll } from '../../stages/train/losses/weighted-nll.js';
import { ModelConfigReader } from '../../stages/train/model-config-reader.js';
import { defineModel, type ModelConfigCodec, type ModelPolicy } from '../../stages/train/model-entry.js';
import { checkpointModel, modelKinds, registerModel } from '../../stages/train/model-registry.js';
import { trainOffline, type PreparedBatch } from '../../stages/train/offline-trainer.js';
import type { OnlineModel } from '../../stages/train/online-model.js';
import { ParamStore } from '../../stages/train/params.js';
import { Rng, RNG_PURPOSE, sampleCategorical } from '../../stages/train/rng.js';
import { paddingBias } from '../../stages/train/softmax-output.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { bcObjective, simulateLog } from './helpers.js';

// A third model, written here the way a contributor adds one: a popularity
// policy π(i | s) = softmax(b)_i over the items 1..V−1, whatever the context.
// One registry entry plus its own pieces; nothing else in the code changes.

interface PopularityConfig {
  numItems: number;
}

const popularityCodec: ModelConfigCodec<PopularityConfig> = {
  read: (json, where) => ({ numItems: new ModelConfigReader(json, where).integer('numItems', 2) }),
  write: (c) => ({ ...c }),
};

const stored = (c: PopularityConfig) => ({ kind: 'popularity', config: popularityCodec.write(c) });

function createParams(c: PopularityConfig, seed: number): ParamStore {
  const p = new ParamStore(true);
  p.init('bias', [c.numItems], { kind: 'zeros' }, seed);
  return p;
}

/** log π over the catalog [V] (padding ≈ −1e9). */
const logPi = (p: ParamStore, c: PopularityConfig) => tf.tidy(() => tf.logSoftmax(tf.add(p.get('bias'), paddingBias(c.numItems))) as tf.Tensor1D);

function policy(p: ParamStore, c: PopularityConfig): ModelPolicy {
  const V = c.numItems;
  const perRow = (contexts: ListColumn<Int32Array>, row: Float32Array) => {
    const rows = contexts.offsets.length - 1;
    const out = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) out.set(row, r * V);
    return out;
  };
  const logProbsSync = () => {
    const lp = logPi(p, c);
    const v = lp.dataSync() as Float32Array;
    lp.dispose();
    v[0] = -Infinity;
    return v;
  };
  return {
    numItems: V,
    scoreContexts: async (contexts) => perRow(contexts, logProbsSync()),
    logProbs: async (contexts) => perRow(contexts, logProbsSync()),
    async sample(contexts, k, seed) {
      const lp = perRow(contexts, logProbsSync());
      const rows = contexts.offsets.length - 1;
      const out = new Int32Array(rows * k);
      const rng = new Rng(seed, RNG_PURPOSE.sample);
      for (let r = 0; r < rows; r++) sampleCategorical(lp, r * V, V, k, rng, out, r * k, 0);
      return out;
    },
    dispose: () => p.dispose(),
  };
}

function onlineModel(c: PopularityConfig): OnlineModel<{ rows: number }> {
  return {
    stored: stored(c),
    numItems: c.numItems,
    featureDim: 1,
    createParams: (seed) => createParams(c, seed),
    policyNames: (p) => p.names(),
    prepare: (batch) => ({ rows: batch.offsets.length - 1 }),
    catalogLogProbs: (p, prep) => tf.tidy(() => tf.tile(tf.expandDims(logPi(p, c), 0), [prep.rows, 1]) as tf.Tensor2D),
    stateFeatures: (_p, prep) => tf.zeros([prep.rows, 1]) as tf.Tensor2D,
    dispose() {},
  };
}

interface PopularityData {
  items: Int32Array;
  rewards: Float64Array;
  users: Int32Array;
}

const popularityModel = defineModel({
  kind: 'popularity',
  codec: popularityCodec,
  numItems: (c: PopularityConfig) => c.numItems,
  maxContext: () => Number.MAX_SAFE_INTEGER,
  createParams,
  hasRewardHead: () => false,
  policy(c, ck) {
    const p = createParams(c, ck.meta.seed);
    p.load(ck.params, `checkpoint ${ck.dir}`);
    return policy(p, c);
  },
  onlineModel: (c) => ({ model: onlineModel(c) }),
  task: (params, c, data: PopularityData, _options: Record<string, never>) => ({
    stored: stored(c),
    params,
    numRows: data.items.length,
    prepare: (rows: Int32Array): PreparedBatch & { items: Int32Array } => ({
      items: Int32Array.from(rows, (r) => data.items[r]!),
      rewards: Float64Array.from(rows, (r) => data.rewards[r]!),
      groups: Int32Array.from(rows, (r) => data.users[r]!),
    }),
    loss: (b: PreparedBatch & { items: Int32Array }, weights: Float32Array) =>
      tf.tidy(() => {
        const logp = tf.gather(logPi(params, c), tf.tensor1d(b.items, 'int32')) as tf.Tensor1D;
        return { loss: weightedNll(logp, weights), nll: tf.neg(tf.mean(logp)) as tf.Scalar };
      }),
  }),
});

const NUM_ITEMS = 21; // simulate_recsim's 20 items plus padding
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-registry-'));
let unregister: () => void;
let offlineDir: string;

beforeAll(async () => {
  await initBackend('wasm');
  unregister = registerModel(popularityModel);
  const log = simulateLog({ users: 20, length: 8, numItems: NUM_ITEMS, seed: 4 });
  const col = (name: string) => log.batch.columns[name] as ArrayLike<number>;
  const data: PopularityData = { items: Int32Array.from(col('action')), rewards: Float64Array.from(col('reward')), users: Int32Array.from(col('user_id')) };
  const config: PopularityConfig = { numItems: NUM_ITEMS };
  const params = popularityModel.createParams(config, 3);
  const result = await trainOffline(
    popularityModel.task(params, config, data, {}),
    bcObjective(),
    {
      method: 'pop_bc',
      seed: 3,
      epochs: 3,
      batchSize: 32,
      adam: { ...DEFAULT_ADAM, lr: 0.05 },
      clipNorm: 1,
      checkpointRoot: path.join(tmp, 'checkpoints', 'pop_bc'),
      checkpointEveryEpochs: 0,
      checkpointEverySteps: 0,
      logEvery: 0,
      phantomEvery: 0,
    },
    { emit: () => {} },
  );
  params.dispose();
  offlineDir = result.checkpoints.at(-1)!.dir;
});

afterAll(() => {
  unregister();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** log-softmax over items 1..V−1 in float64, from the bias stored in a checkpoint. */
function expectedLogPi(dir: string): number[] {
  const b = Array.from(readCheckpoint(dir).params.get('bias')!.data);
  const lse = Math.log(b.slice(1).reduce((s, x) => s + Math.exp(x), 0));
  return b.map((x, i) => (i === 0 ? -Infinity : x - lse));
}

describe('model registry', () => {
  it('holds the models by checkpoint kind; a registered model joins them, once', () => {
    expect(modelKinds()).toEqual(['sasrec', 'gaussian', 'popularity']);
    expect(() => registerModel(popularityModel)).toThrow('model kind "popularity" is already registered');
  });

  it('a third model trains offline, checkpoints and loads through the shared trainer and loader', async () => {
    const meta = readCheckpointMeta(offlineDir);
    expect(meta).toMatchObject({ kind: 'popularity', model: { numItems: NUM_ITEMS }, method: 'pop_bc' });
    expect(checkpointModel(meta, offlineDir).numItems).toBe(NUM_ITEMS);
    const pol = await loadPolicy(offlineDir);
    expect(pol).toMatchObject({ method: 'pop_bc', step: meta.step, seed: 3 });
    const ctx = { kind: 'list' as const, offsets: Int32Array.from([0, 2, 2]), values: Int32Array.from([3, 4]) };
    const lp = await pol.logProbs!(ctx);
    const want = expectedLogPi(offlineDir);
    for (let r = 0; r < 2; r++) for (let i = 1; i < NUM_ITEMS; i++) expect(lp[r * NUM_ITEMS + i]).toBeCloseTo(want[i]!, 5);
    // BC moved probability towards the logged items: not uniform any more
    expect(Math.max(...want.slice(1))).toBeGreaterThan(Math.log(1 / 20) + 0.1);
    const draws = await pol.sample!(ctx, 50, 1);
    expect(draws.every((x) => x >= 1 && x < NUM_ITEMS)).toBe(true);
    pol.dispose();
  });

  it('the train_online stage post-trains it (GRPO, simulator proxy) and its checkpoints load again', async () => {
    const out = path.join(tmp, 'online');
    const p = resolvePipeline({
      name: 'popularity-online',
      seed: 6,
      stages: [
        { stage: 'simulate_recsim', with: { num_users: 30, num_items: 20, dim: 4, topics: 2, interactions_per_user: 6 } },
        { stage: 'split_sequences', with: { max_len: 6, apply_threshold: false } },
        {
          stage: 'train_online',
          with: { algorithm: 'grpo', init: offlineDir, proxy: 'auto', updates: 3, group_size: 4, contexts_per_update: 8, lr: 0.05, checkpoint_every: 0 },
        },
      ],
    });
    const r = await runPipeline(p, { outDir: out, logger: memoryLogger(), progress: false, writeFiles: false });
    // on the stage kit: the runner counts the stage's rows and busy time (training included); the input passes on unchanged
    const report = r.stages.find((s) => s.stage === 'train_online')!;
    expect(report.rowsIn).toBeGreaterThan(0);
    expect(report.rowsOut).toBe(report.rowsIn);
    expect(report.busyMs).toBeGreaterThan(0);
    expect(report.busyMs).toBeLessThanOrEqual(r.wallMs);
    const train = r.metrics.filter((m) => m.split === 'train' && m.method === 'grpo');
    expect(train.filter((m) => m.metric === 'gold_reward').map((m) => m.step)).toEqual([0, 1, 2, 3]);
    expect(train.some((m) => m.metric === 'clip_frac')).toBe(true);
    const steps = fs.readdirSync(path.join(out, 'checkpoints', 'grpo')).sort();
    expect(steps).toEqual(['step-0', 'step-3']);
    const last = path.join(out, 'checkpoints', 'grpo', 'step-3');
    expect(readCheckpointMeta(last)).toMatchObject({ kind: 'popularity', model: { numItems: NUM_ITEMS }, extra: { algorithm: 'grpo', updates: 3 } });
    // step 0 is the init policy; three updates moved it
    const before = expectedLogPi(path.join(out, 'checkpoints', 'grpo', 'step-0'));
    const after = expectedLogPi(last);
    expect(before.slice(1)).toEqual(expectedLogPi(offlineDir).slice(1));
    expect(after.slice(1).some((x, i) => Math.abs(x - before[i + 1]!) > 1e-4)).toBe(true);
    const pol = await loadPolicy(last);
    const lp = await pol.logProbs!({ kind: 'list', offsets: Int32Array.from([0, 0]), values: new Int32Array(0) });
    for (let i = 1; i < NUM_ITEMS; i++) expect(lp[i]).toBeCloseTo(after[i]!, 5);
    pol.dispose();
  });

  it('an unknown kind and a malformed model configuration are ConfigErrors naming the file and field', async () => {
    const dir = path.join(tmp, 'bad');
    const meta = { method: 'x', step: 0, epoch: 0, seed: 0, position: null, rng: { seed: 0, step: 0, epoch: 0, batch: 0 } };
    writeCheckpoint(dir, { ...meta, kind: 'nope', model: {} }, []);
    const file = path.join(dir, 'checkpoint.json');
    await expect(loadPolicy(dir)).rejects.toThrow(
      new ConfigError(`checkpoint ${file}: unknown model kind "nope" (known: sasrec, gaussian, popularity)`, ['kind']),
    );
    writeCheckpoint(dir, { ...meta, kind: 'sasrec', model: { numItems: 10, maxLen: 4, d: 'x' } }, []);
    await expect(loadPolicy(dir)).rejects.toThrow(`checkpoint ${file}: field "model.d" must be a finite number, got "x"`);
    writeCheckpoint(
      dir,
      { ...meta, kind: 'sasrec', model: { numItems: 10, maxLen: 4, d: 6, blocks: 1, heads: 4, ffn: 6, dropout: 0, rewardHead: false, rewardHidden: 1 } },
      [],
    );
    await expect(loadPolicy(dir)).rejects.toThrow(`checkpoint ${file}: field "model.heads" (4) must divide d (6)`);
    writeCheckpoint(
      dir,
      { ...meta, kind: 'gaussian', model: { numItems: 10, dim: 2, hidden: [4, 0], sigma: 'fixed', sigmaInit: 1, logSigmaMin: -1, logSigmaMax: 1 } },
      [],
    );
    await expect(loadPolicy(dir)).rejects.toBeInstanceOf(ConfigError);
    await expect(loadPolicy(dir)).rejects.toThrow(`checkpoint ${file}: field "model.hidden[1]" must be an integer ≥ 1, got 0`);
  });
});
