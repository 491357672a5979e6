/**
 * `train_inform_head`: fit InfoRM's information-bottleneck reward head
 * (inform-head.ts) on the logged rewards of the train split, over the frozen
 * state features of a trained policy checkpoint, and write it to a file that
 * `train_online` (`inform: { head }`) reads for its KL penalty.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/config-schema.js';
import { column, isListColumn, numericColumn, type Batch, type ListColumn } from '../core/batch.js';
import { defineStage } from '../core/stage.js';
import { SPLIT_CODES } from '../../schemas/tables.js';
import { readCheckpoint, readCheckpointMeta } from './checkpoint.js';
import { createInformParams, informLoss } from './inform-head.js';
import { writeInformHead } from './inform-file.js';
import { checkpointModel } from './model-registry.js';
import { hashWords, permutation, RNG_PURPOSE, streamFor } from './rng.js';
import { resolveInit, trainerRun, trainerStage } from './stage-support.js';
import { backendAndInputFields } from './trainer-options.js';
import { clearConstantCaches } from './sasrec.js';

/** Train rows (context truncated to the model's longest context, item, reward, user), at most `maxRows`. */
class RewardRowCollector {
  readonly contexts: Int32Array[] = [];
  readonly items: number[] = [];
  readonly rewards: number[] = [];
  readonly users: number[] = [];
  maxItem = 0;

  constructor(
    private readonly maxLen: number,
    private readonly maxRows: number,
    private readonly rewardColumn: string,
  ) {}

  add(b: Batch): void {
    const ctx = column(b, 'context');
    if (!isListColumn(ctx)) throw new Error(`"${b.table}" batch: column "context" must be a list column`);
    const c = ctx as ListColumn<Int32Array>;
    const action = numericColumn(b, 'action');
    const reward = numericColumn(b, this.rewardColumn);
    const user = numericColumn(b, 'user_id');
    const split = b.columns.split ? numericColumn(b, 'split') : undefined;
    for (let i = 0; i < b.numRows && this.items.length < this.maxRows; i++) {
      if (split && Number(split[i]) !== SPLIT_CODES.train) continue;
      const s = c.offsets[i]!;
      const e = c.offsets[i + 1]!;
      if (e === s) continue;
      const a = Number(action[i]);
      this.contexts.push(c.values.slice(Math.max(s, e - this.maxLen), e));
      this.items.push(a);
      this.rewards.push(Number(reward[i]));
      this.users.push(Number(user[i]));
      if (a > this.maxItem) this.maxItem = a;
    }
  }
}

export const trainInformHeadStage = defineStage({
  name: 'train_inform_head',
  role: 'transform',
  summary: "InfoRM (Miao et al. 2024): a variational information-bottleneck reward head on a policy's frozen state features, for train_online's KL penalty.",
  doc: [
    "x = [h(s); e(a)] (h: the frozen state features of `init`, e: the head's item embedding); q(z|s,a) = N(μ(x), diag σ²(x)) from one ReLU layer;",
    'r = wᵀz + b with z = μ + σ⊙ε. Loss = mean (r − y)² + β·mean KL(q(z|s,a) ‖ N(0, I)), KL = ½Σ(μ² + σ² − 1 − log σ²), y the logged reward',
    '(train rows only), Adam. Writes `output` (JSON); train_online `inform: { head: <file>, penalty: c }` trains on r̂ − c·KL (paper 004 App. G: β = 0.01, c = 0.01).',
  ].join(' '),
  inputs: ['examples'],
  output: 'examples',
  fields: {
    init: { type: 'string', required: true, doc: 'Checkpoint whose frozen state features the head reads (the BC policy).' },
    output: { type: 'string', required: true, doc: 'File to write (JSON).' },
    beta: { type: 'number', min: 0, default: 0.01, doc: 'β, the weight of the bottleneck KL in the loss (paper 004 App. G: 0.01).' },
    latent: { type: 'integer', min: 1, default: 16, doc: 'Latent dimension of z.' },
    hidden: { type: 'integer', min: 1, default: 64, doc: 'Hidden width.' },
    item_dim: { type: 'integer', min: 1, default: 16, doc: "Width of the head's item embedding." },
    epochs: { type: 'integer', min: 1, default: 5, doc: 'Passes over the train rows.' },
    batch_size: { type: 'integer', min: 1, default: 256, doc: 'Rows per Adam step.' },
    lr: { type: 'number', exclusiveMin: 0, default: 0.003, doc: 'Adam learning rate.' },
    max_rows: { type: 'integer', min: 1, default: 200_000, doc: 'Train rows used at most (the first ones).' },
    reward_column: { type: 'string', default: 'reward', doc: 'Column of the logged reward.' },
    seed: { type: 'integer', doc: 'Seed of initialisation, shuffles and ε (default: the pipeline seed).' },
    ...backendAndInputFields(),
  },
  create(cfg, ctx) {
    const stage = 'train_inform_head';
    const run = trainerRun(stage, { seed: cfg.seed, output: ctx.outDir }, ctx, 'inform');
    const prepare = () => {
      const dir = resolveInit(cfg.init, ctx, stage)!;
      const { maxContext } = checkpointModel(readCheckpointMeta(dir), dir);
      return { dir, collector: new RewardRowCollector(maxContext, cfg.max_rows, cfg.reward_column) };
    };
    return trainerStage(cfg, ctx, run, prepare, async ({ dir, collector }) => {
      const n = collector.items.length;
      if (n === 0) throw new ConfigError(`${stage}: no train rows with a context in the input`, ['init']);
      const ck = readCheckpoint(dir);
      const bound = checkpointModel(ck.meta, dir);
      const { model } = bound.onlineModel(ck);
      if (collector.maxItem >= model.numItems) throw new ConfigError(`${stage}: item id ${collector.maxItem} is outside the policy's catalog`, ['init']);
      const policy = model.createParams(run.seed);
      policy.load(ck.params, `checkpoint ${dir}`);
      // Frozen state features of every row, computed once.
      const features = new Float32Array(n * model.featureDim);
      for (let s = 0; s < n; s += 512) {
        const e = Math.min(n, s + 512);
        const offsets = new Int32Array(e - s + 1);
        for (let i = s; i < e; i++) offsets[i - s + 1] = offsets[i - s]! + collector.contexts[i]!.length;
        const values = new Int32Array(offsets[e - s]!);
        for (let i = s; i < e; i++) values.set(collector.contexts[i]!, offsets[i - s]!);
        const h = model.stateFeatures(policy, model.prepare({ offsets, values, users: Int32Array.from(collector.users.slice(s, e)) }));
        features.set(h.dataSync() as Float32Array, s * model.featureDim);
        h.dispose();
      }
      policy.dispose();
      model.dispose();
      clearConstantCaches();
      const dims = { featureDim: model.featureDim, numItems: model.numItems, itemDim: cfg.item_dim, hidden: cfg.hidden, latent: cfg.latent };
      const params = createInformParams(dims, run.seed);
      const optimizer = tf.train.adam(cfg.lr);
      const items = Int32Array.from(collector.items);
      const rewards = Float32Array.from(collector.rewards);
      // The output bias starts at the mean reward, so early steps fit the signal rather than the offset.
      const mean = rewards.reduce((a, b) => a + b, 0) / n;
      params.get('inform/b_out').assign(tf.tensor1d([mean]));
      const D = model.featureDim;
      let last = { mse: 0, kl: 0 };
      let step = 0;
      try {
        for (let epoch = 0; epoch < cfg.epochs; epoch++) {
          const perm = permutation(n, streamFor(run.seed, RNG_PURPOSE.shuffle, epoch));
          let mseSum = 0;
          let klSum = 0;
          let batches = 0;
          for (let s = 0; s < n; s += cfg.batch_size) {
            const idx = perm.subarray(s, Math.min(n, s + cfg.batch_size));
            const f = new Float32Array(idx.length * D);
            idx.forEach((r, j) => f.set(features.subarray(r * D, (r + 1) * D), j * D));
            const it = Int32Array.from(idx, (r) => items[r]!);
            const y = Float32Array.from(idx, (r) => rewards[r]!);
            const ft = tf.tensor2d(f, [idx.length, D]);
            let parts: { mse: number; kl: number } = { mse: 0, kl: 0 };
            const cost = optimizer.minimize(
              () => {
                const l = informLoss(params, ft, it, y, cfg.beta, hashWords(run.seed, step) & 0x7fffffff);
                parts = { mse: l.mse.dataSync()[0]!, kl: l.kl.dataSync()[0]! };
                return l.loss;
              },
              true,
              params.variables(),
            );
            cost?.dispose();
            ft.dispose();
            mseSum += parts.mse;
            klSum += parts.kl;
            batches++;
            step++;
          }
          last = { mse: mseSum / batches, kl: klSum / batches };
          if (!Number.isFinite(last.mse + last.kl)) throw new Error(`${stage}: the loss became non-finite in epoch ${epoch + 1}`);
          ctx.log.info(`${stage}: epoch ${epoch + 1}/${cfg.epochs} mse ${last.mse.toFixed(4)}, kl ${last.kl.toFixed(4)} (β = ${cfg.beta})`);
        }
        writeInformHead(cfg.output, { features_from: dir, beta: cfg.beta, dims, train: { ...last, rows: n, epochs: cfg.epochs } }, params);
        ctx.emitMetric({ method: 'inform_head', seed: run.seed, epoch: cfg.epochs, split: 'train', metric: 'inform_mse', value: last.mse, count: n });
        ctx.emitMetric({ method: 'inform_head', seed: run.seed, epoch: cfg.epochs, split: 'train', metric: 'inform_kl', value: last.kl, count: n });
        ctx.log.info(`${stage}: ${n} train rows, features of ${dir} → ${cfg.output}`);
      } finally {
        optimizer.dispose();
        params.dispose();
      }
    });
  },
});
