/**
 * `evaluate_reward_model`: MSE and MAE of the global-, user- and item-mean
 * baselines and of trained reward heads on the evaluation targets (paper 000
 * Table 2).
 */
import { defineStage } from '../core/stage.js';
import { float64Column, numericColumn } from '../core/batch.js';
import { MetricAccumulator } from './accumulator.js';
import { checkpointTarget, resolveCheckpoints } from './checkpoints.js';
import { EvalRowCollector, int32Of, splitCodes } from './eval-rows.js';
import { EvaluationState } from './eval-state.js';
import { REWARD_BASELINES, RewardMeanBaselines } from './reward-baselines.js';
import { evaluateRewardErrors, withRootMeanSquare } from './reward-evaluator.js';
import { emitRecords, evaluatePendingPairs } from './stage-support.js';
import { applyEvaluationShard, takeEvaluationShard } from './eval-shard.js';

export const evaluateRewardModelStage = defineStage({
  name: 'evaluate_reward_model',
  role: 'transform',
  summary: 'MSE / RMSE / MAE of global-, user-, item-mean baselines and trained reward heads on the evaluation targets (paper 000 Table 2).',
  doc: [
    'Baselines are fitted on the train rows of the stream: global mean; user mean (a user without train rows gets the global mean);',
    'item mean (an item without train rows gets the global mean). Reward heads are the `predictRewards` of each checkpoint (checkpoints',
    'without a reward head are skipped with a warning). Records: method = baseline name or checkpoint method, metric = reward_mse /',
    'reward_rmse (√MSE) / reward_mae. With `state`, (checkpoint, partition) pairs already evaluated are skipped; baselines are refitted every run.',
  ].join(' '),
  inputs: ['examples', 'weighted_examples'],
  output: 'metrics',
  // Sharded runs: shards per checkpoint × data partitions, their pairs committed by the coordinator (pipelines/plan/checkpoint-step.ts, eval-shard.ts).
  shard: { by: 'checkpoint_parts' },
  fields: {
    splits: {
      type: 'array',
      items: { type: 'string', enum: ['train', 'valid', 'test'], doc: 'split' },
      default: ['test'],
      minItems: 1,
      doc: 'Splits whose targets are predicted.',
    },
    checkpoints: {
      type: 'array',
      items: { type: 'string', doc: 'checkpoint directory' },
      doc: 'Checkpoints whose reward heads are evaluated; default: the artifact "checkpoints".',
    },
    baselines: {
      type: 'array',
      items: { type: 'string', enum: [...REWARD_BASELINES], doc: 'baseline' },
      default: [...REWARD_BASELINES],
      doc: 'Mean predictors fitted on the train rows.',
    },
    state: { type: 'string', doc: 'Evaluation state file (JSON) for incremental and resumable evaluation of reward heads.' },
    batch_rows: { type: 'integer', min: 1, default: 4096, doc: 'Rows per predictRewards call.' },
    std: { type: 'boolean', default: false, doc: 'Also emit <metric>_std records.' },
  },
  create(cfg, ctx) {
    const codes = splitCodes(cfg.splits);
    const means = new RewardMeanBaselines();
    const shard = takeEvaluationShard(ctx, 'evaluate_reward_model');
    const collector = new EvalRowCollector({
      splits: codes,
      ...(shard?.only?.partitions ? { keepPartitions: shard.only.partitions } : {}),
      columns: ['context', 'action', 'user_id', 'reward'],
      onTrain: (b, idx) => {
        const u = numericColumn(b, 'user_id');
        const a = numericColumn(b, 'action');
        const r = float64Column(b, 'reward');
        means.fit(
          Int32Array.from(idx, (i) => u[i] as number),
          Int32Array.from(idx, (i) => a[i] as number),
          Float64Array.from(idx, (i) => r[i]!),
        );
      },
    });
    return {
      // A barrier: the whole input is read (keeping only what the collector keeps) before anything is evaluated.
      process(b) {
        collector.add(b);
      },
      async finish() {
        const state = EvaluationState.open(cfg.state, 'evaluate_reward_model', { splits: cfg.splits });
        applyEvaluationShard(state, shard);
        const partitions = collector.partitions();
        if (collector.evalRows === 0) ctx.log.warn(`evaluate_reward_model: no rows of split(s) ${cfg.splits.join(', ')} in the input`);

        const targets = resolveCheckpoints(cfg.checkpoints, ctx, 'evaluate_reward_model').map(checkpointTarget);
        const run = await evaluatePendingPairs(state, targets, partitions, async (policy, labels, part) => {
          const predictRewards = policy.predictRewards?.bind(policy);
          if (!predictRewards) {
            ctx.log.warn(`evaluate_reward_model: checkpoint ${labels.method}@${labels.step} has no reward head; skipped`);
            return undefined;
          }
          return evaluateRewardErrors((c, items) => predictRewards(c, items), part.rows, { run: ctx.runId, ...labels }, cfg.batch_rows);
        });

        const baselines = new MetricAccumulator();
        if (cfg.baselines.length && collector.evalRows > 0) {
          if (means.globalCount === 0) throw new Error('evaluate_reward_model: the input has no train rows to fit the mean baselines on');
          let unseenUsers = 0;
          let unseenItems = 0;
          for (const part of partitions) {
            unseenUsers += means.users.unseen(int32Of(part.rows, 'user_id'));
            unseenItems += means.items.unseen(int32Of(part.rows, 'action'));
            for (const name of cfg.baselines) {
              const key = { run: ctx.runId, method: name, seed: 0, step: 0, epoch: 0 };
              const acc = await evaluateRewardErrors(async (_c, items, users) => means.predict(name, users, items), part.rows, key, cfg.batch_rows);
              baselines.merge(acc);
            }
          }
          ctx.log.info(
            `evaluate_reward_model: baselines fitted on ${means.globalCount} train rows (global mean ${means.globalMean.toFixed(4)}); ` +
              `${unseenUsers} of ${collector.evalRows} evaluation rows have an unseen user and ${unseenItems} an unseen item (they get the global mean)`,
          );
        }
        if (run.skipped) ctx.log.info(`evaluate_reward_model: ${run.skipped} checkpoint×partition pair(s) already done in ${cfg.state}`);
        return emitRecords(ctx, withRootMeanSquare([...state.metrics.toRecords({ std: cfg.std }), ...baselines.toRecords({ std: cfg.std })]));
      },
    };
  },
});
