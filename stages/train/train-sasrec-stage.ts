/**
 * train_sasrec: train the generative recommender (SASRec-style, SPEC S6) on
 * `examples` under any offline objective (BC, Exp-RSFT, DRPO, …), write
 * checkpoints, emit training records, then pass the input on.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ARTIFACT } from '../core/artifacts.js';
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import { defineStage, type StageContext } from '../core/stage.js';
import { formatCount } from '../core/progress.js';
import { readDenseToRaw } from '../simulators/dense-truth.js';
import { vocabFiles } from '../simulators/truth.js';
import { readCheckpoint, readCheckpointMeta } from './checkpoint.js';
import { trainOffline } from './offline-trainer.js';
import { sasrecDataParallel } from './parallel/sasrec-parallel.js';
import { trainingThreads } from './parallel/threads.js';
import { activeBackend } from './backend.js';
import { sequenceTrajectoryInput } from './trajectory-input.js';
import { clearConstantCaches, type SasrecConfig } from './sasrec.js';
import { sasrecModel } from './sasrec-model.js';
import { SasrecPolicy } from './sasrec-policy.js';
import { ExampleCollector } from './sequence-data.js';
import {
  buildObjective,
  describeCheckpoint,
  offlineTrainerOptions,
  offlineTrainerRun,
  resolveInit,
  resolveResume,
  trainerHooks,
  trainerStage,
} from './stage-support.js';
import { commonTrainFields, earlyStoppingFields, earlyStoppingProblems, earlyStoppingRule, lrScheduleProblems, objectiveFields } from './trainer-options.js';
import { EARLY_STOPPING_METRICS } from './early-stopping.js';
import { validationRankingMetrics } from './validation-ranking.js';

const trainSasrecFields = {
  ...objectiveFields('bc'),
  mode: {
    type: 'string',
    enum: ['sequence', 'last'],
    default: 'sequence',
    doc: "sequence: loss at every position of each user's train history; last: one target per example.",
  },
  ...commonTrainFields({ epochs: 10, batchSize: 128, lr: 1e-3 }),
  max_len: {
    type: 'integer',
    min: 1,
    default: 50,
    doc: 'Longest input sequence (longer histories are cut into windows / truncated to the most recent items).',
  },
  d: { type: 'integer', min: 1, default: 64, doc: 'Embedding and hidden width.' },
  blocks: { type: 'integer', min: 1, default: 2, doc: 'Transformer blocks.' },
  heads: { type: 'integer', min: 1, default: 2, doc: 'Attention heads (must divide d).' },
  ffn: { type: 'integer', min: 0, default: 0, doc: 'Feed-forward width (0 = d, as in SASRec).' },
  dropout: { type: 'number', min: 0, max: 0.9, default: 0.2, doc: 'Dropout on embeddings, attention output and feed-forward layers.' },
  softmax: {
    type: 'string',
    enum: ['auto', 'full', 'sampled'],
    default: 'auto',
    doc: 'Output layer: full softmax, sampled softmax with log-Q correction, or auto (full up to full_softmax_max_items).',
  },
  full_softmax_max_items: { type: 'integer', min: 2, default: 20000, doc: 'softmax auto: largest catalog trained with the full softmax.' },
  negatives: { type: 'integer', min: 1, default: 256, doc: 'Sampled softmax: negatives shared by a minibatch.' },
  negative_alpha: { type: 'number', min: 0, default: 0.75, doc: 'Sampled softmax proposal Q ∝ (count + 1)^alpha (0 = uniform, 1 = unigram).' },
  num_items: { type: 'integer', min: 0, default: 0, doc: "Catalog size including padding 0 (0 = the vocabulary's size, else the largest id seen + 1)." },
  reward_head: {
    type: 'boolean',
    default: true,
    doc: 'Co-train the reward head r̂(history, item) on observed rewards (the learned reward model of PPO/DPO/GRPO and the judge metric).',
  },
  reward_weight: { type: 'number', min: 0, default: 1, doc: "Weight of the reward head's MSE in the loss." },
  reward_hidden: { type: 'integer', min: 1, default: 64, doc: 'Hidden width of the reward head.' },
  reward_head_detach: {
    type: 'boolean',
    default: true,
    doc: 'Train the head on detached features (the policy is shaped by the objective alone); false co-trains the trunk.',
  },
  phantom_every: {
    type: 'integer',
    min: 0,
    default: 10,
    doc: 'Measure the phantom gradient of rejected examples (DRPO, top-κ) every this many steps (0 = never).',
  },
  threads: {
    type: 'integer',
    min: 0,
    default: 1,
    doc: "Threads computing each minibatch's gradient (data-parallel: row slices on worker threads, each with its own backend; 0 = every core). 1 = all on the main thread; N gives the 1-thread numbers within float rounding, the same numbers on every run.",
  },
  valid_every: {
    type: 'integer',
    min: 0,
    default: 1,
    doc: 'Every this many epochs, emit the mean −log π of the validation targets (split "valid", metric nll); 0 = never.',
  },
  ...earlyStoppingFields(EARLY_STOPPING_METRICS),
} as const satisfies Fields;

export type TrainSasrecConfig = ConfigOf<typeof trainSasrecFields>;

/** Mean reward over the targets of the training rows. */
function meanReward(rewards: Float32Array, set: { offsets: Int32Array; targetFrom: Int32Array; numRows: number }): number {
  let s = 0;
  let n = 0;
  for (let r = 0; r < set.numRows; r++) {
    for (let p = set.offsets[r]! + Math.max(1, set.targetFrom[r]!); p < set.offsets[r + 1]!; p++) {
      s += rewards[p]!;
      n++;
    }
  }
  return n ? s / n : 0;
}

/** Catalog size: the option, else the vocabulary's item count, else the largest id seen + 1. */
async function catalogSize(cfg: TrainSasrecConfig, ctx: StageContext, seen: number): Promise<{ n: number; from: string }> {
  if (cfg.num_items > 0) return { n: cfg.num_items, from: 'num_items' };
  const files = vocabFiles(ctx.artifacts.get(ARTIFACT.vocab));
  if (files) {
    try {
      const table = await readDenseToRaw(files.items);
      return { n: Math.max(table.length, seen), from: `vocabulary ${files.items}` };
    } catch {
      // fall through to the ids seen
    }
  }
  return { n: seen, from: 'largest item id seen' };
}

export const trainSasrecStage = defineStage({
  name: 'train_sasrec',
  role: 'transform',
  summary:
    'Train the SASRec-style generative recommender on examples under an offline objective (BC, Exp-RSFT, DRPO, …); checkpoints + training records; passes the input on.',
  doc: [
    "Minimises −(1/N) Σ w·log π(a|s) (+ the reward head's MSE) with Adam and gradient clipping; w comes from the objective, run inside the epoch loop on every minibatch",
    'so stateful objectives (DRPO\'s adaptive P) see every batch of every epoch. mode "sequence": per user, the train history gives one sequence and every position is a',
    'target; mode "last": one target per example. Full softmax over the catalog with tied item embeddings, or sampled softmax with log-Q correction beyond',
    'full_softmax_max_items (softmax: auto). Checkpoints go to <output>/checkpoints/<method>/step-<n>/ and are published as artifacts "checkpoints" and "checkpoint";',
    'training records (split "train": loss, nll, w_mean, w_max, ess, grad_norm, examples_per_s, reward_mse, the objective\'s diagnostics) go to the metric stream.',
  ].join(' '),
  inputs: ['examples'],
  output: 'examples',
  fields: trainSasrecFields,
  check: (cfg) => [
    ...(cfg.d % cfg.heads !== 0 ? [`d (${cfg.d}) must be a multiple of heads (${cfg.heads})`] : []),
    ...lrScheduleProblems(cfg),
    ...earlyStoppingProblems(cfg),
  ],
  create(cfg, ctx) {
    const run = offlineTrainerRun('train_sasrec', cfg, ctx);
    const esRule = earlyStoppingRule(cfg.early_stopping);
    // With keep_last bounding the checkpoints, early stopping also keeps the best one (ranked by the watched metric).
    if (esRule && run.retention.keepLast > 0) run.retention.keepBest = Math.max(1, run.retention.keepBest);
    const { stage, method, seed, root, label } = run;
    // The init checkpoint (if any) fixes max_len, so it is resolved with the first batch.
    const prepare = () => {
      const initDir = resolveInit(cfg.init, ctx, stage);
      const maxLen = initDir ? sasrecModel.configOf(readCheckpointMeta(initDir), `${stage}: init checkpoint ${initDir}`).maxLen : cfg.max_len;
      return { initDir, maxLen, collector: new ExampleCollector(cfg.mode, maxLen) };
    };
    return trainerStage(cfg, ctx, run, prepare, async ({ initDir, maxLen, collector }) => {
      const data = collector.finish();
      const resumeDir = resolveResume(cfg, root, stage);
      const resume = resumeDir ? readCheckpoint(resumeDir) : undefined;
      const init = initDir && !resume ? readCheckpoint(initDir) : undefined;
      let config: SasrecConfig;
      if (resume) {
        config = sasrecModel.configOf(resume.meta, `${stage}: checkpoint ${resumeDir}`);
        ctx.log.info(`${label}: resuming from ${describeCheckpoint(resumeDir!)}`);
      } else if (init) {
        const m = sasrecModel.configOf(init.meta, `${stage}: init checkpoint ${initDir}`);
        config = { ...m, dropout: cfg.dropout, rewardHead: cfg.reward_head || m.rewardHead, rewardHidden: m.rewardHead ? m.rewardHidden : cfg.reward_hidden };
        ctx.log.info(`${label}: initialised from ${describeCheckpoint(initDir!)} (architecture and catalog from the checkpoint)`);
      } else {
        const cat = await catalogSize(cfg, ctx, data.numItemsSeen);
        config = {
          numItems: cat.n,
          maxLen,
          d: cfg.d,
          blocks: cfg.blocks,
          heads: cfg.heads,
          ffn: cfg.ffn || cfg.d,
          dropout: cfg.dropout,
          rewardHead: cfg.reward_head,
          rewardHidden: cfg.reward_hidden,
        };
      }
      if (data.numItemsSeen > config.numItems)
        throw new ConfigError(
          `${stage}: item id ${data.numItemsSeen - 1} is outside the catalog of ${config.numItems} (ids 1..${config.numItems - 1}); set num_items`,
          ['num_items'],
        );
      const softmax = cfg.softmax === 'auto' ? (config.numItems <= cfg.full_softmax_max_items ? 'full' : 'sampled') : cfg.softmax;
      const params = sasrecModel.createParams(config, seed);
      if (init) {
        const missing = params.loadSome(init.params, `init checkpoint ${initDir}`);
        const trunk = missing.filter((k) => !k.startsWith('reward/'));
        if (trunk.length) throw new ConfigError(`${stage}: init checkpoint ${initDir} lacks parameters ${trunk.join(', ')}`, ['init']);
        if (missing.length) ctx.log.info(`${label}: the init checkpoint has no reward head; it starts fresh`);
      }
      if (config.rewardHead && !resume && !(init && init.params.has('reward/b2'))) {
        // Start the head at the mean observed reward (ratings are 1..5, not 0).
        const b2 = params.get('reward/b2');
        tf.tidy(() => b2.assign(tf.tensor1d([meanReward(data.rewards, data)])));
      }
      const objective = buildObjective(cfg.objective, cfg.stats_path, ctx, stage, () => sequenceTrajectoryInput(data));
      const held = collector.heldOutRows();
      const steps = Math.ceil(data.numRows / cfg.batch_size);
      ctx.log.info(
        `${label}: ${formatCount(data.numRows)} ${cfg.mode === 'sequence' ? 'sequences' : 'rows'}, ${formatCount(data.numTargets)} targets from ${formatCount(collector.examplesSeen)} examples; ` +
          `catalog ${config.numItems - 1} items; d=${config.d} blocks=${config.blocks} heads=${config.heads} max_len=${config.maxLen}; ${softmax} softmax; ${steps} steps/epoch`,
      );
      const taskOptions = {
        softmax,
        negatives: cfg.negatives,
        negativeAlpha: cfg.negative_alpha,
        rewardWeight: cfg.reward_weight,
        detachRewardHead: cfg.reward_head_detach,
        seed,
      };
      const threads = trainingThreads(cfg.threads, activeBackend()?.name, ctx.log, label);
      try {
        const result = await trainOffline(
          { ...sasrecModel.task(params, config, data, taskOptions), parallel: sasrecDataParallel(config, taskOptions, data) },
          objective,
          {
            ...offlineTrainerOptions(cfg, run, data),
            threads,
            ...(esRule ? { earlyStopping: esRule } : {}),
            trainerConfig: { stage, objective: cfg.objective, mode: cfg.mode, softmax, ...(initDir ? { init: initDir } : {}) },
          },
          {
            ...trainerHooks(ctx, run),
            onEpochEnd: (epoch, step) => {
              if (!(cfg.valid_every > 0 && epoch % cfg.valid_every === 0 && held.targets.length)) return;
              const policy = new SasrecPolicy(params, config);
              const nll = policy.meanNll(held, held.targets);
              ctx.emitMetric({ method, seed, step, epoch, split: 'valid', metric: 'nll', value: nll, count: held.targets.length });
              if (!esRule || esRule.metric === 'nll') return nll;
              // Ranking metrics only when early stopping watches one (they score the whole catalog).
              const ranking = validationRankingMetrics(policy, held);
              const value = ranking[esRule.metric as keyof typeof ranking];
              ctx.emitMetric({ method, seed, step, epoch, split: 'valid', metric: esRule.metric, value, count: held.targets.length });
              return { nll, [esRule.metric]: value };
            },
          },
          resume,
        );
        if (esRule && !held.targets.length) ctx.log.warn(`${label}: early_stopping has no validation rows (split valid) to watch; every epoch was trained`);
        ctx.log.info(
          `${label}: ${result.stoppedEarly ? 'stopped' : result.earlyStopped ? 'stopped early' : 'done'} at step ${result.step}; ${result.checkpoints.length} checkpoint(s) under ${root}`,
        );
      } finally {
        params.dispose();
        clearConstantCaches();
      }
    });
  },
});
