/**
 * train_online: grouped online post-training of a trained policy (GRPO,
 * DRRO hard/soft, DRO; PPO and online DPO baselines) against a proxy reward,
 * with the simulator's gold reward reported alongside.
 */
import { ConfigError, type Fields, type ObjectField } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import { defineStage } from '../core/stage.js';
import { formatCount } from '../core/progress.js';
import { createGroupShaper, GROUP_SHAPERS, shaperOptionProblems } from '../weighting/registry.js';
import { resolveOracle } from '../simulators/truth.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCheckpoint, readCheckpointMeta, type LoadedCheckpoint } from './checkpoint.js';
import { OnlineContextCollector } from './online-contexts.js';
import { ONLINE_ALGORITHMS, trainOnline, type OnlineAlgorithm } from './online-trainer.js';
import { checkpointModel } from './model-registry.js';
import { clearConstantCaches } from './sasrec.js';
import { onlineProxyFields, onlineProxyProblems, openOnlineProxy, pilotDelta0 } from './online-proxy-options.js';
import { dataFingerprint, ONLINE_RESUME_MAY_CHANGE, trainingConfigOf } from './resume-check.js';
import { describeCheckpoint, resolveInit, resolveResume, trainerHooks, trainerRun, trainerStage } from './stage-support.js';
import {
  adamConfig,
  backendAndInputFields,
  lrScheduleFields,
  lrScheduleOf,
  lrScheduleProblems,
  lrTotalSteps,
  optimiserFields,
  unionOfOptionFields,
  withResolvedLrSpan,
} from './trainer-options.js';

/** The `shaper` option: the union of the group shapers' options (each shaper validates its own). */
function shaperField(): ObjectField & { default: Record<string, unknown> } {
  const fields = unionOfOptionFields(GROUP_SHAPERS);
  return {
    type: 'object',
    fields,
    default: {},
    doc: 'Options of the group shaper named by `algorithm` (grpo, drro_hard, drro_soft, dro): budget, delta, delta0, alpha, window, kl_estimator, tau.',
  };
}

const trainOnlineFields = {
  algorithm: {
    type: 'string',
    enum: [...ONLINE_ALGORITHMS],
    default: 'grpo',
    doc: 'grpo, drro_hard, drro_soft, dro (grouped shapers), ppo (value head), dpo (online DPO).',
  },
  shaper: shaperField(),
  init: {
    type: 'string',
    default: 'previous',
    doc: 'The policy to start from: "previous" (the last checkpoint published in this run) or a checkpoint directory. It is also the frozen reference π₀.',
  },
  proxy: {
    type: 'string',
    enum: ['auto', 'reward_head', 'simulator', 'controlled'],
    default: 'auto',
    doc: "Proxy reward: the init checkpoint's reward head (frozen), the simulator's true reward plus noise, or controlled: a calibrate_proxy file's r* + σ·b(item) of chosen agreement (`proxy_file`); auto = reward_head when the checkpoint has one.",
  },
  proxy_noise: { type: 'number', min: 0, default: 0.1, doc: 'proxy simulator: std of the Gaussian noise added to the true reward.' },
  ...onlineProxyFields,
  world: { type: 'string', doc: 'Simulator world directory for the gold reward (default: the `world` artifact).' },
  vocab: { type: 'string', doc: "Vocabulary directory mapping dense ids to the world's ids (default: the `vocab` artifact, if any)." },
  contexts: {
    type: 'string',
    enum: ['train_last', 'valid', 'test'],
    default: 'train_last',
    doc: "Prompts: each user's whole train history, or the contexts of the valid/test examples.",
  },
  group_size: { type: 'integer', min: 2, default: 16, doc: 'G: candidates per context (DPO draws 2).' },
  updates: { type: 'integer', min: 1, default: 20, doc: 'M: rollout/update rounds.' },
  contexts_per_update: { type: 'integer', min: 1, default: 32, doc: 'B: contexts per rollout.' },
  inner_steps: { type: 'integer', min: 1, default: 2, doc: 'S: optimiser steps on each rollout.' },
  clip: { type: 'number', exclusiveMin: 0, default: 0.2, doc: 'ε of the clipped surrogate.' },
  ...optimiserFields(1e-4),
  ...lrScheduleFields('updates × inner_steps'),
  value_coef: { type: 'number', min: 0, default: 0.5, doc: 'PPO: weight of the value loss.' },
  value_hidden: { type: 'integer', min: 1, default: 64, doc: 'PPO: hidden width of the value head.' },
  kl_coef: {
    type: 'number',
    min: 0,
    default: 0,
    doc: 'PPO: β of the KL-penalised reward r̂ − β·(log π̄(y|s) − log π₀(y|s)) per sampled recommendation (RLHF PPO, Stiennon et al. 2020); 0 = off.',
  },
  dpo_beta: { type: 'number', exclusiveMin: 0, default: 0.1, doc: 'DPO: β.' },
  checkpoint_every: {
    type: 'integer',
    min: 0,
    default: 5,
    doc: 'Write a checkpoint every this many updates (step 0, the initial policy, and the last one always).',
  },
  resume: {
    type: 'boolean',
    default: false,
    doc: "Continue from the latest checkpoint of this method under the output directory (policy, Adam moments, PPO value head and its Adam state, shaper state such as the KL window, update index); starts afresh when there is none. π₀ is the series' step-0 checkpoint.",
  },
  resume_from: {
    type: 'string',
    doc: 'Continue from this checkpoint directory (or the latest step-<n> below it); it must be of the same algorithm, seed and contexts.',
  },
  stop_after_updates: {
    type: 'integer',
    min: 0,
    default: 0,
    doc: 'Stop after this many updates in total, with a checkpoint to resume from (0 = run all updates).',
  },
  keep_last: {
    type: 'integer',
    min: 0,
    default: 0,
    doc: 'How many of the most recent checkpoints to keep besides step 0, the initial policy (0 = all; the latest is always kept).',
  },
  seed: { type: 'integer', doc: 'Seed of context order, sampling and proxy noise (default: the pipeline seed).' },
  method: { type: 'string', doc: 'Label of checkpoints and records (default: the algorithm).' },
  output: { type: 'string', doc: 'Directory for checkpoints (default: the run directory).' },
  ...backendAndInputFields(),
} as const satisfies Fields;

export type TrainOnlineConfig = ConfigOf<typeof trainOnlineFields>;

/** The init checkpoint a resumed run's series started from (recorded in its checkpoints). */
function resumedInit(resume: LoadedCheckpoint | undefined): string | undefined {
  const init = resume?.meta.trainer?.init;
  return typeof init === 'string' ? init : undefined;
}

/** GRPO, DRRO and DRO shape groups; PPO and DPO do not. */
const isGrouped = (algorithm: OnlineAlgorithm) => algorithm !== 'ppo' && algorithm !== 'dpo';

export const trainOnlineStage = defineStage({
  name: 'train_online',
  role: 'transform',
  summary:
    'Grouped online post-training of a trained policy against a proxy reward: GRPO, DRRO hard/soft (fixed or dynamic budget), DRO, PPO, online DPO; gold reward reported only.',
  doc: [
    'For each update: B contexts, G candidates each from the frozen rollout policy, scored by the proxy (the frozen reward head of the init checkpoint,',
    "or the simulator's reward plus N(0, proxy_noise²)), shaped by the group shaper, then inner_steps steps of the clipped surrogate (paper 004 Eq. 4.2);",
    'PPO uses a value head instead of group normalisation, online DPO two samples per context and a frozen reference policy (paper 000 baselines).',
    'No KL penalty in any loss, except PPO with kl_coef β > 0 (reward r̂ − β·log(π̄/π₀) per sample; records kl_penalty, penalised_reward). Records (split "train", step = update): proxy_reward, gold_reward (simulator truth, never used for updates), kl_ref',
    "(exact KL(π̄‖π₀) over the catalog), entropy, loss, clip_frac and the shaper's diagnostics. Checkpoints every checkpoint_every updates;",
    'resume / resume_from continue a run stopped by stop_after_updates (or interrupted) to exactly the weights and records of the uninterrupted run.',
  ].join(' '),
  inputs: ['examples'],
  output: 'examples',
  fields: trainOnlineFields,
  // The shaper's options are those of the group shaper `algorithm` names (none for PPO and DPO).
  check: (cfg) => [
    ...(isGrouped(cfg.algorithm)
      ? shaperOptionProblems(cfg.algorithm, cfg.shaper)
      : Object.keys(cfg.shaper).length
        ? [`shaper options apply to grpo, drro_hard, drro_soft and dro, not ${cfg.algorithm}`]
        : []),
    ...(cfg.kl_coef > 0 && cfg.algorithm !== 'ppo' ? [`kl_coef applies to ppo only, not ${cfg.algorithm}`] : []),
    ...lrScheduleProblems(cfg),
    ...onlineProxyProblems(cfg),
  ],
  create(cfg, ctx) {
    const stage = 'train_online';
    const grouped = isGrouped(cfg.algorithm);
    const run = trainerRun(stage, cfg, ctx, cfg.algorithm);
    const { method, seed, root, label } = run;
    // The init (or resumed) checkpoint's model fixes the longest context, so it is resolved with the first batch.
    const prepare = () => {
      const resumeDir = resolveResume(cfg, root, stage);
      // π₀ of a resumed run is its series' initial policy (step 0), else the init checkpoint.
      const step0 = resumeDir ? path.join(path.dirname(resumeDir), 'step-0') : undefined;
      const refDir = step0 && fs.existsSync(path.join(step0, 'checkpoint.json')) ? step0 : resolveInit(cfg.init, ctx, stage)!;
      const from = resumeDir ?? refDir;
      const { maxContext } = checkpointModel(readCheckpointMeta(from), from);
      return { refDir, resumeDir, collector: new OnlineContextCollector(cfg.contexts, maxContext) };
    };
    return trainerStage(cfg, ctx, run, prepare, async ({ refDir, resumeDir, collector }) => {
      const ck = readCheckpoint(refDir);
      const resume: LoadedCheckpoint | undefined = resumeDir ? readCheckpoint(resumeDir) : undefined;
      if (resume && resume.meta.kind !== ck.meta.kind)
        throw new ConfigError(`${stage}: checkpoint ${resumeDir} holds a ${resume.meta.kind} model, its initial policy ${refDir} a ${ck.meta.kind} one`, [
          'resume_from',
        ]);
      const initDir = refDir;
      const bound = checkpointModel(ck.meta, initDir);
      const { model, extraArrays } = bound.onlineModel(ck);
      const contexts = collector.finish();
      if (collector.maxItem >= model.numItems)
        throw new ConfigError(`${stage}: item id ${collector.maxItem} is outside the policy's catalog (1..${model.numItems - 1})`, ['init']);
      const { oracle, note } = await resolveOracle(cfg.world, cfg.vocab, ctx.artifacts);
      const hasHead = bound.hasRewardHead(ck.params);
      const proxyKind = cfg.proxy === 'auto' ? (hasHead ? 'reward_head' : 'simulator') : cfg.proxy;
      if (proxyKind === 'reward_head' && !hasHead)
        throw new ConfigError(
          `${stage}: proxy reward_head needs a checkpoint with a reward head (${initDir}, a ${ck.meta.kind} model, has none); use proxy: simulator`,
          ['proxy'],
        );
      if ((proxyKind === 'simulator' || proxyKind === 'controlled') && !oracle)
        throw new ConfigError(`${stage}: proxy ${proxyKind} needs a simulator world (the \`world\` artifact or option)`, ['proxy']);
      const policy = model.createParams(seed);
      policy.load(ck.params, `checkpoint ${initDir}`);
      const reference = policy.clone(false);
      const proxy = openOnlineProxy(cfg, proxyKind, model, reference, oracle, seed, stage);
      let shaperConfig: Record<string, unknown> = cfg.shaper;
      if (grouped && cfg.shaper.delta0_calibration === 'pilot') {
        const delta0 = pilotDelta0(cfg, model, reference, contexts, proxy.fn, oracle, seed, stage);
        // The dynamic budget's base δ̃₀; a fixed budget's δ̃ itself (DRO and DRRO get the same budget information).
        const budget = cfg.shaper.budget === 'dynamic' || cfg.shaper.preset === 'paper' ? { delta0 } : { delta: delta0 };
        shaperConfig = { ...cfg.shaper, ...budget, delta0_calibration: 'none' };
        ctx.emitMetric({ method, seed, split: 'train', metric: 'delta0_calibrated', value: delta0, count: Math.min(cfg.pilot.contexts, contexts.rows) });
        ctx.log.info(
          `${label}: ${'delta0' in budget ? 'δ̃₀' : 'fixed δ̃'} = ${delta0.toFixed(4)} calibrated on ${Math.min(cfg.pilot.contexts, contexts.rows)} pilot contexts (mean Σ_k |r̂ − r*|)`,
        );
      }
      const shaper = grouped ? createGroupShaper(cfg.algorithm, shaperConfig) : undefined;
      const lrTotal = lrTotalSteps(cfg.lr_schedule, cfg.updates * cfg.inner_steps);
      if (resume) ctx.log.info(`${label}: resuming from ${describeCheckpoint(resumeDir!)} (π₀ = ${initDir})`);
      ctx.log.info(
        `${label}: from ${describeCheckpoint(initDir)}; ${formatCount(contexts.rows)} contexts (${cfg.contexts}); proxy ${proxyKind}; ${oracle ? note : 'no gold reward (no simulator world)'}`,
      );
      try {
        await trainOnline(
          model,
          policy,
          reference,
          contexts,
          shaper,
          {
            algorithm: cfg.algorithm,
            method,
            seed,
            groupSize: cfg.group_size,
            updates: cfg.updates,
            contextsPerUpdate: cfg.contexts_per_update,
            innerSteps: cfg.inner_steps,
            clip: cfg.clip,
            adam: adamConfig(cfg),
            clipNorm: cfg.clip_norm,
            valueCoef: cfg.value_coef,
            valueHidden: cfg.value_hidden,
            ppoKlCoef: cfg.kl_coef,
            dpoBeta: cfg.dpo_beta,
            checkpointRoot: root,
            checkpointEvery: cfg.checkpoint_every,
            stopAfterUpdates: cfg.stop_after_updates > 0 ? cfg.stop_after_updates : undefined,
            trainerConfig: { stage, algorithm: cfg.algorithm, shaper: shaperConfig, proxy: proxyKind, init: resumedInit(resume) ?? initDir },
            extraArrays,
            trainingConfig: trainingConfigOf(withResolvedLrSpan(cfg, lrTotal), ONLINE_RESUME_MAY_CHANGE, { seed, data: dataFingerprint(contexts) }),
            ...(cfg.lr_schedule ? { lrSchedule: lrScheduleOf(cfg.lr, cfg.lr_schedule), lrTotalSteps: lrTotal } : {}),
            keepLast: run.retention.keepLast,
          },
          {
            ...trainerHooks(ctx, run),
            proxy: proxy.fn,
            gold: oracle ? (users, items) => oracle.trueRewards(users, items) : undefined,
          },
          resume,
        );
      } finally {
        proxy.dispose();
        policy.dispose();
        reference.dispose();
        model.dispose();
        clearConstantCaches();
      }
    });
  },
});
