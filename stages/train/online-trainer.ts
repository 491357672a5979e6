/**
 * Grouped online post-training (paper 004 Algorithms 1–4; SPEC S5, S6), read
 * top to bottom in `trainOnline`:
 *
 *   for update u = 0 … M−1:
 *     π̄ ← π_θ (frozen rollout policy); draw B contexts     online-context-batches.ts
 *     sample G candidates per context from π̄               online-rollout.ts
 *     score them with the proxy (the frozen reward head, or a simulator's noisy reward)
 *     advantages from the scored group                    the algorithm's advantage source:
 *       GRPO, DRRO hard / soft, DRO: group shaping          group-advantages.ts
 *       PPO: r̂ − V(s) from a value head                     ppo-value-baseline.ts
 *       online DPO: preference pairs, π_ref frozen          dpo-pairs.ts
 *     S optimiser steps on the algorithm's loss            online-step.ts, losses/
 *       (the clipped surrogate, Eq. 4.2; + c_v·L_V for PPO; DPO's loss)
 *     records of the update                               online-records.ts
 *
 * with checkpoints (online-checkpoint.ts) after chosen updates.
 *
 * No KL penalty enters any loss, except PPO's optional KL-penalised reward
 * (`ppoKlCoef`, losses/kl-penalised-reward.ts). The exact KL(π̄‖π₀) over the catalog is
 * computed for every context (the dynamic budget's better estimator, and a
 * drift statistic). The gold reward (a simulator's true reward) is only ever
 * reported: records proxy_reward, gold_reward, kl_ref, entropy at step u are
 * measured on the rollout of π_u (step 0 = the initial policy; one extra
 * rollout after the last update reports step M).
 *
 * Resuming: a checkpoint after update u holds the policy, Adam's moments, the
 * PPO value head and its Adam state, the shaper's state (the dynamic budget's
 * KL window) and u. Every random draw is keyed by (seed, update): the context
 * order by (seed, pass), the candidates by (seed, u), the stage's proxy noise
 * by (seed, u). So a run stopped after u updates (`stopAfterUpdates`) and
 * resumed ends with exactly the bytes of the uninterrupted run, and its
 * records for updates u … M are the uninterrupted run's (tested).
 */
import type { GroupShaper } from '../core/objective.js';
import { ConfigError } from '../core/config-schema.js';
import type { Logger } from '../core/logger.js';
import { Adam, type AdamConfig } from './adam.js';
import type { AdvantageSource } from './advantage-source.js';
import type { LoadedCheckpoint } from './checkpoint.js';
import { dpoPairs } from './dpo-pairs.js';
import { groupAdvantages } from './group-advantages.js';
import type { CheckpointInfo, TrainingRecord } from './offline-trainer.js';
import { prepareCheckpointRoot } from './checkpoint-retention.js';
import { earlierCheckpoints, restorePolicy, writeOnlineCheckpoint } from './online-checkpoint.js';
import { contextsOfUpdate, type OnlineContexts } from './online-context-batches.js';
import type { ContextBatch, OnlineModel } from './online-model.js';
import { reportUpdate } from './online-records.js';
import { rollout } from './online-rollout.js';
import { optimiserStep, StepAverages } from './online-step.js';
import type { NamedArray, ParamStore } from './params.js';
import { ppoValueBaseline } from './ppo-value-baseline.js';
import { checkResumeOrWarn } from './resume-check.js';
import { lrAt, type LrSchedule } from './lr-schedule.js';

export type { OnlineContexts } from './online-context-batches.js';

export const ONLINE_ALGORITHMS = ['grpo', 'drro_hard', 'drro_soft', 'dro', 'ppo', 'dpo'] as const;
export type OnlineAlgorithm = (typeof ONLINE_ALGORITHMS)[number];

export interface OnlineTrainerOptions {
  algorithm: OnlineAlgorithm;
  method: string;
  seed: number;
  /** Candidates per context (DPO always draws 2). */
  groupSize: number;
  updates: number;
  contextsPerUpdate: number;
  /** Policy-gradient steps per rollout (S). */
  innerSteps: number;
  /** ε of the clipped surrogate. */
  clip: number;
  adam: AdamConfig;
  clipNorm: number;
  /** PPO: weight of the value loss and the value head's hidden width. */
  valueCoef: number;
  valueHidden: number;
  /** PPO: β of the KL-penalised reward r̂ − β·(log π̄ − log π₀) (0 or undefined: off). */
  ppoKlCoef?: number;
  /** DPO: β. */
  dpoBeta: number;
  checkpointRoot?: string;
  /** Write a checkpoint every this many updates (the last update always gets one). */
  checkpointEvery: number;
  /** Stop, with a checkpoint, once this many updates are done in total (for tests and for splitting long runs). */
  stopAfterUpdates?: number;
  trainerConfig?: Record<string, unknown>;
  extraArrays?: NamedArray[];
  /** The training configuration a resume must repeat (resume-check.ts); recorded in checkpoints. */
  trainingConfig?: Record<string, unknown>;
  /** Checkpoints kept (0/undefined = all, which bounds how many a run may plan). */
  keepLast?: number;
  /** Learning rate per optimiser step of the policy (and PPO's value head); undefined: adam.lr throughout. */
  lrSchedule?: LrSchedule;
  /** Steps the schedule spans (undefined/0: updates × innerSteps). */
  lrTotalSteps?: number;
}

export interface OnlineHooks {
  emit(rec: TrainingRecord): void;
  log?: Pick<Logger, 'info' | 'warn'>;
  label?: string;
  onCheckpoint?(info: CheckpointInfo): void;
  /** Proxy reward r̂ of candidate items[r·G + k] for context r of `batch` (used for updates); refLogProb: log π₀ of each candidate (BSPO's support). */
  proxy(batch: ContextBatch, items: Int32Array, groupSize: number, update: number, refLogProb?: Float64Array): Float64Array;
  /** Gold (true) reward of (users[i], items[i]); reported only. */
  gold?(users: Int32Array, items: Int32Array): ArrayLike<number>;
}

export interface OnlineResult {
  /** Updates done in total (a resumed run counts those before the checkpoint). */
  updates: number;
  /** The update a resumed run started at (0 for a fresh run). */
  startUpdate: number;
  /** Every checkpoint of the series this run published: on resume, the earlier ones too. */
  checkpoints: CheckpointInfo[];
  stoppedEarly: boolean;
}

/** The advantage source of an algorithm: group shaping, PPO's value baseline or DPO's preference pairs. */
function advantageSourceFor<P>(
  model: OnlineModel<P>,
  policy: ParamStore,
  reference: ParamStore,
  shaper: GroupShaper<unknown> | undefined,
  opts: OnlineTrainerOptions,
): AdvantageSource<P> {
  if (opts.algorithm === 'ppo')
    return ppoValueBaseline(model, policy, {
      seed: opts.seed,
      groupSize: opts.groupSize,
      clip: opts.clip,
      adam: opts.adam,
      valueCoef: opts.valueCoef,
      valueHidden: opts.valueHidden,
      klCoef: opts.ppoKlCoef,
    });
  if (opts.algorithm === 'dpo') return dpoPairs(model, reference, opts.dpoBeta);
  if (!shaper) throw new Error(`online ${opts.algorithm}: a group shaper is required`);
  return groupAdvantages(shaper, opts.groupSize, opts.clip);
}

export async function trainOnline<P>(
  model: OnlineModel<P>,
  policy: ParamStore,
  reference: ParamStore,
  contexts: OnlineContexts,
  shaper: GroupShaper<unknown> | undefined,
  opts: OnlineTrainerOptions,
  hooks: OnlineHooks,
  /** Continue from this checkpoint of an earlier run of the same algorithm and seed. */
  resume?: LoadedCheckpoint,
): Promise<OnlineResult> {
  const label = hooks.label ?? 'online';
  if (contexts.rows === 0) throw new ConfigError(`${label}: no contexts to train on`, ['contexts']);
  prepareCheckpointRoot(
    opts.checkpointRoot,
    label,
    2 + (opts.checkpointEvery > 0 ? Math.floor(opts.updates / opts.checkpointEvery) : 0),
    { keepLast: opts.keepLast ?? 0, keepBest: 0 },
    `updates ${opts.updates}`,
  );
  const names = model.policyNames(policy);
  const adam = new Adam(policy, opts.adam, names);
  let source: AdvantageSource<P>;
  try {
    source = advantageSourceFor(model, policy, reference, shaper, opts);
  } catch (e) {
    adam.dispose();
    throw e;
  }
  const G = source.groupSize;
  const B = Math.min(opts.contextsPerUpdate, contexts.rows);
  const policyVars = names.map((n) => policy.get(n));
  const checkpoints: CheckpointInfo[] = [];
  const permCache = new Map<number, Int32Array>();
  const publish = (info: CheckpointInfo) => {
    checkpoints.push(info);
    hooks.onCheckpoint?.(info);
  };
  const saveCheckpoint = (updates: number) => {
    if (opts.checkpointRoot)
      publish(writeOnlineCheckpoint(opts.checkpointRoot, updates, opts, model.stored, contexts.rows, policy, adam, source.checkpointPart()));
  };
  let start = 0;
  if (resume) {
    try {
      checkResumeOrWarn(resume, opts.trainingConfig, label, hooks.log);
      const cannot = `${label}: cannot resume from ${resume.dir}`;
      start = restorePolicy(resume, opts, contexts.rows, policy, adam, cannot);
      source.restore(resume, start, cannot);
    } catch (e) {
      adam.dispose();
      source.dispose();
      throw e;
    }
  }

  let stoppedEarly = false;
  let done = start;
  const lrTotal = opts.lrTotalSteps && opts.lrTotalSteps > 0 ? opts.lrTotalSteps : opts.updates * opts.innerSteps;
  try {
    // Step 0 is the initial policy: evaluate_proxy_gold recentres every curve
    // at the earliest checkpoint of a series and measures KL from it. A
    // resumed run keeps it and republishes the series' checkpoints so far.
    if (resume) for (const info of earlierCheckpoints(resume, opts, start)) publish(info);
    else saveCheckpoint(0);
    for (let u = start; u < opts.updates; u++) {
      // π̄ ← π_θ; draw B contexts; G candidates each from π̄; score them with the proxy.
      const batch = contextsOfUpdate(contexts, B, u, opts.seed, permCache);
      const prep = model.prepare(batch);
      const roll = rollout(model, policy, reference, batch, prep, G, opts.seed, u);
      const proxy = hooks.proxy(batch, roll.items, G, u, roll.refLogProb);
      // Advantages (or preference pairs) from the scored rollout.
      const targets = source.targets({ update: u, batch, prep, rollout: roll, proxy });
      // S optimiser steps on the loss of π_θ.
      const steps = new StepAverages();
      let lrSum = 0;
      try {
        for (let s = 0; s < (targets.learnable ? opts.innerSteps : 0); s++) {
          // The schedule runs on the policy optimiser's step count, which a checkpoint restores.
          const lr = opts.lrSchedule ? lrAt(adam.step, lrTotal, opts.lrSchedule) : undefined;
          lrSum += lr ?? 0;
          steps.add(optimiserStep(policy, policyVars, adam, source.companion, opts.clipNorm, () => targets.loss(model.catalogLogProbs(policy, prep)), lr));
        }
      } finally {
        targets.dispose();
      }
      // Records of π_u's rollout and of the update (with a schedule: lr, the mean rate of its steps).
      const stepFigures = steps.figures();
      const figures: Record<string, number> = {
        ...targets.diagnostics,
        ...stepFigures,
        ...(opts.lrSchedule && stepFigures.loss !== undefined ? { lr: lrSum / opts.innerSteps } : {}),
      };
      reportUpdate(hooks, u, batch, roll, G, proxy, figures);
      if (!Number.isFinite(figures.loss ?? 0)) throw new Error(`${label}: the loss became ${figures.loss} at update ${u}`);
      done = u + 1;
      const stop = opts.stopAfterUpdates !== undefined && done >= opts.stopAfterUpdates && done < opts.updates;
      if (stop || done === opts.updates || (opts.checkpointEvery > 0 && done % opts.checkpointEvery === 0)) saveCheckpoint(done);
      if (stop) {
        stoppedEarly = true;
        break;
      }
      if ((u & 3) === 3) await new Promise((r) => setImmediate(r));
    }
    // The policy after the last update, measured the same way (once, by the run that did the last update).
    if (!stoppedEarly && start < opts.updates) {
      const batch = contextsOfUpdate(contexts, B, opts.updates, opts.seed, permCache);
      const roll = rollout(model, policy, reference, batch, model.prepare(batch), G, opts.seed, opts.updates);
      reportUpdate(hooks, opts.updates, batch, roll, G, hooks.proxy(batch, roll.items, G, opts.updates, roll.refLogProb), {});
    }
  } finally {
    adam.dispose();
    source.dispose();
  }
  const what =
    start >= opts.updates ? `already complete at update ${start}` : `updates ${start + 1}…${done} of ${opts.updates}${stoppedEarly ? ' (stopped early)' : ''}`;
  hooks.log?.info(`${label}: ${what}, ${B} contexts × ${G} candidates each; ${checkpoints.length} checkpoint(s) in the series`);
  return { updates: done, startUpdate: start, checkpoints, stoppedEarly };
}
