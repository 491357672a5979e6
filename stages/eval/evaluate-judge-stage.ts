/**
 * `evaluate_judge`: the reward-model-as-judge score ("Avg Reward", paper 000)
 * of each checkpoint's sampled recommendations and, where a simulator world
 * is known, the true value of its top-1 and sampled recommendations (and eCPM).
 */
import { ConfigError } from '../core/config-schema.js';
import { defineStage } from '../core/stage.js';
import type { RewardPredictor } from '../core/policy.js';
import { checkpointTarget, resolveCheckpoints, type CheckpointRef } from './checkpoints.js';
import { splitCodes } from './eval-rows.js';
import { EvaluationState } from './eval-state.js';
import { chooseDefaultJudge, judgeCandidate, judgeName } from './judge-choice.js';
import { evaluateJudge } from './judge-evaluator.js';
import { hasActionVectors } from './embedding-distance.js';
import { addReportNote } from './report-notes.js';
import { emitRecords, evaluatePendingPairs, pairRunNote, partitionSeed, sampledContextsStage } from './stage-support.js';
import { resolveOracle } from '../simulators/truth.js';
import { ARTIFACT } from '../core/artifacts.js';
import { applyEvaluationShard, takeEvaluationShard } from './eval-shard.js';

export const evaluateJudgeStage = defineStage({
  name: 'evaluate_judge',
  role: 'transform',
  summary: 'Reward-model-as-judge "Avg Reward" of sampled recommendations, and the true reward / eCPM where a simulator world is known.',
  doc: [
    'For each of up to `max_contexts` evaluation contexts (the first in stream order), draws `samples` recommendations from the policy:',
    'avg_reward = mean judge reward-head score (paper 000: 10 samples × 10,000 contexts); with a world, true_reward_sampled = their mean',
    'noise-free reward, true_reward_top1 = the true reward of the highest-scoring item (padding and, by default, history excluded), and',
    "ecpm_* = ecpm_factor × true reward; for a Gaussian embedding policy, dist = ‖μ(s) − e_â‖₂ to the decoded item (paper 002's Dist.). Each context is one observation. One reward model judges every checkpoint: by default (`judge: auto`)",
    "the last BC checkpoint's reward head, else the first published checkpoint with one (judge-choice.ts); `judge: <dir>` names it; `judge: own`",
    "scores each checkpoint by its own head (methods then have different judges). The judge is logged and named in comparison_table's caption.",
    'Sampling seeds derive from the run seed and the partition, so results do not depend on how partitions are combined.',
  ].join(' '),
  inputs: ['examples', 'weighted_examples'],
  output: 'metrics',
  // Sharded runs: shards per checkpoint × data partitions, their pairs committed by the coordinator (pipelines/plan/checkpoint-step.ts, eval-shard.ts).
  shard: { by: 'checkpoint_parts', artifacts: [ARTIFACT.world, ARTIFACT.vocab] },
  fields: {
    splits: {
      type: 'array',
      items: { type: 'string', enum: ['train', 'valid', 'test'], doc: 'split' },
      default: ['test'],
      minItems: 1,
      doc: 'Splits whose contexts are used.',
    },
    checkpoints: { type: 'array', items: { type: 'string', doc: 'checkpoint directory' }, doc: 'Checkpoints to judge; default: the artifact "checkpoints".' },
    judge: {
      type: 'string',
      default: 'auto',
      doc: "Reward model that scores every policy's samples: auto (the last BC checkpoint's reward head, else the first published checkpoint with one), a checkpoint directory, or own (each checkpoint's own head).",
    },
    samples: { type: 'integer', min: 1, default: 10, doc: 'Recommendations sampled per context.' },
    max_contexts: { type: 'integer', min: 1, default: 10000, doc: 'Contexts used at most (the first evaluation rows in stream order).' },
    world: { type: 'string', doc: 'Saved simulator world directory for true rewards; default: the artifact "world" if a simulator stage published one.' },
    vocab: {
      type: 'string',
      doc: 'Vocabulary directory (users.parquet, items.parquet) mapping dense ids to the world\'s ids; default: the artifact "vocab", else ids are used unchanged.',
    },
    ecpm_factor: {
      type: 'number',
      min: 0,
      default: 5,
      doc: "eCPM = factor × true reward (5 in paper 002's RecSim tables); 0 disables the eCPM records, which are never emitted for the ratings world.",
    },
    exclude_history: { type: 'boolean', default: true, doc: "The top-1 recommendation skips the context's items." },
    state: { type: 'string', doc: 'Evaluation state file (JSON) for incremental and resumable evaluation.' },
    batch_rows: { type: 'integer', min: 1, default: 256, doc: 'Contexts per model call.' },
    std: { type: 'boolean', default: false, doc: 'Also emit <metric>_std records (across contexts).' },
  },
  create(cfg, ctx) {
    const codes = splitCodes(cfg.splits);
    const shard = takeEvaluationShard(ctx, 'evaluate_judge');
    const keepPartitions = shard?.only?.partitions;
    return sampledContextsStage({ splits: codes, maxContexts: cfg.max_contexts, ...(keepPartitions ? { keepPartitions } : {}) }, async (collector) => {
      const { oracle, kind, note } = await resolveOracle(cfg.world, cfg.vocab, ctx.artifacts);
      // eCPM is the revenue figure of paper 002's RecSim tables; a ratings world's expected rating is not revenue.
      const ecpmFactor = kind === 'ratings' ? 0 : cfg.ecpm_factor;
      ctx.log.info(`evaluate_judge: ${note}`);
      const refs = resolveCheckpoints(cfg.checkpoints, ctx, 'evaluate_judge');
      let judgeRef: CheckpointRef | undefined;
      let judgeText = "each checkpoint's own reward head";
      if (cfg.judge === 'auto') {
        const chosen = chooseDefaultJudge(refs.map(judgeCandidate));
        if (chosen) [judgeRef, judgeText] = [chosen.ref, `the reward head of ${judgeName(chosen)}`];
        else if (refs.length) ctx.log.warn('evaluate_judge: no checkpoint has a reward head to judge with: no avg_reward unless a judge is given');
      } else if (cfg.judge !== 'own') [judgeRef, judgeText] = [{ dir: cfg.judge }, `the reward head of ${cfg.judge}`];
      if (cfg.judge === 'own' || judgeRef) {
        ctx.log.info(`evaluate_judge: avg_reward judged by ${judgeText}`);
        addReportNote(ctx.artifacts, { metric: 'avg_reward', text: `avg_reward judged by ${judgeText}` });
      }
      const state = EvaluationState.open(cfg.state, 'evaluate_judge', {
        splits: cfg.splits,
        judge: cfg.judge === 'own' ? null : (judgeRef?.dir ?? 'none'),
        samples: cfg.samples,
        max_contexts: cfg.max_contexts,
        world: oracle ? (cfg.world ?? 'artifact') : null,
        ecpm_factor: ecpmFactor,
        exclude_history: cfg.exclude_history,
        seed: ctx.seed,
      });
      applyEvaluationShard(state, shard);
      const partitions = collector.partitions();
      const judgeTarget = judgeRef ? checkpointTarget(judgeRef) : undefined;
      let sharedJudge: RewardPredictor | undefined;
      if (judgeTarget && judgeRef) {
        const { policy } = await judgeTarget.load();
        if (!policy.predictRewards) throw new ConfigError(`evaluate_judge: judge checkpoint ${judgeRef.dir} has no reward head`, ['judge']);
        sharedJudge = policy as RewardPredictor;
      }
      try {
        const targets = refs.map(checkpointTarget);
        const run = await evaluatePendingPairs(state, targets, partitions, async (policy, labels, part) => {
          const judge = cfg.judge === 'own' ? (policy.predictRewards ? (policy as RewardPredictor) : undefined) : sharedJudge;
          const who = `${labels.method}@${labels.step}`;
          if (!judge) ctx.log.warn(`evaluate_judge: ${who} has no reward head and no judge was given: no avg_reward`);
          if (!policy.sample) ctx.log.warn(`evaluate_judge: ${who} cannot sample: no avg_reward or true_reward_sampled`);
          if (!oracle && (!judge || !policy.sample) && !hasActionVectors(policy)) return undefined;
          return evaluateJudge(policy, part.rows, {
            samples: cfg.samples,
            batchRows: cfg.batch_rows,
            seed: partitionSeed(ctx.seed, part),
            excludeHistory: cfg.exclude_history,
            ecpmFactor,
            key: { run: ctx.runId, ...labels },
            judge,
            oracle,
          });
        });
        ctx.log.info(`evaluate_judge: ${collector.evalRows} context(s) × ${cfg.samples} sample(s); ${pairRunNote(run, cfg.state)}`);
      } finally {
        judgeTarget?.release();
      }
      return emitRecords(ctx, state.metrics.toRecords({ std: cfg.std }));
    });
  },
});
