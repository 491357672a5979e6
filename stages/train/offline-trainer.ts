/**
 * The offline training loop shared by every offline objective and both
 * policies (SPEC S3–S6): each minibatch is weighed by the objective (with its
 * state carried from batch to batch and epoch to epoch), then
 *
 *   minimise  −(1/N) Σ w·log π(a|s)  (+ the model's auxiliary terms)
 *
 * with Adam and global-norm clipping. Epochs visit the rows in a fresh order
 * drawn from (seed, epoch); every random draw is keyed by (seed, step), so a
 * checkpoint (parameters, optimiser moments, objective state, data position)
 * resumes to exactly the parameters of the uninterrupted run.
 *
 * Training records (split "train") are emitted every `logEvery` steps and at
 * the end of each epoch: loss, nll, w_mean, w_max, ess, grad_norm,
 * examples_per_s, the model's own terms (reward_mse) and the objective's
 * diagnostics, each the mean over the steps of the interval with
 * count = the examples (targets) it covered; with a learning-rate schedule
 * (lr-schedule.ts) also lr, the mean rate of the interval's steps.
 *
 * Early stopping (early-stopping.ts) watches a validation metric returned by
 * `onEpochEnd`; its state travels in the checkpoints' `extra.earlyStopping`.
 */
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { essFromSums } from '../core/effective-sample-size.js';
import type { Logger } from '../core/logger.js';
import type { OfflineObjective } from '../core/objective.js';
import { Progress } from '../core/progress.js';
import { Adam, clipScale, globalNorm, type AdamConfig } from './adam.js';
import { writeCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { prepareCheckpointRoot } from './checkpoint-retention.js';
import type { StoredModel } from './model-entry.js';
import { checkResumeOrWarn } from './resume-check.js';
import { EarlyStopper, type CheckpointValidation, type EarlyStoppingRule, type EarlyStoppingState } from './early-stopping.js';
import { lrAt, type LrSchedule } from './lr-schedule.js';
import type { NamedArray, ParamStore } from './params.js';
import { DataParallelGradients } from './parallel/data-parallel.js';
import { parallelPhantomNorms } from './parallel/parallel-phantom.js';
import type { DataParallelSpec } from './parallel/task-spec.js';
import { isPhantomMetric, phantomGradientNorms } from './phantom-gradient.js';
import { permutation, RNG_PURPOSE, streamFor } from './rng.js';

/** The targets of one minibatch, as the objective sees them. */
export interface PreparedBatch {
  rewards: Float64Array;
  groups: Int32Array;
  /** A learned critic's Q(s, a) and baseline per row, for critic-based objectives (stages/weighting/critic-request.ts). */
  critic?: { q: Float64Array; baseline: Float64Array };
  /** The leading rows collected online by the current policy (offline-to-online mix, gaussian-online-mix.ts). */
  onlineRows?: number;
}

/** What the loop needs from a model + dataset. */
export interface OfflineTask<P extends PreparedBatch = PreparedBatch> {
  /** The model's kind and configuration (architecture, catalog), stored in checkpoints. */
  stored: StoredModel;
  params: ParamStore;
  numRows: number;
  prepare(rows: Int32Array): P;
  /**
   * Scalars of one step, built inside the gradient scope: `loss` is
   * minimised; `nll` = −mean log π unweighted; other entries are reported.
   */
  loss(batch: P, weights: Float32Array, step: number): { loss: tf.Scalar; nll: tf.Scalar; extra?: Record<string, tf.Scalar>; policyLoss?: tf.Scalar };
  /** Parameter groups whose phantom-gradient norms are also reported apart (phantom-gradient.ts), by parameter name. */
  paramGroups?: Record<string, (paramName: string) => boolean>;
  /** How to split minibatches over threads (needed for `threads` > 1). */
  parallel?: DataParallelSpec<P>;
}

export interface OfflineTrainerOptions {
  method: string;
  seed: number;
  epochs: number;
  batchSize: number;
  adam: AdamConfig;
  clipNorm: number;
  /** Directory receiving step-<n>/ checkpoints (undefined: none written). */
  checkpointRoot?: string;
  /** Write a checkpoint every this many epochs (and always after the last). */
  checkpointEveryEpochs: number;
  /** Also every this many optimiser steps (0 = off). */
  checkpointEverySteps: number;
  logEvery: number;
  /** Measure the phantom gradient every this many steps when the objective supplies phantom weights (0 = never). */
  phantomEvery: number;
  /** Stop (after writing a checkpoint) once this many optimiser steps are done in total. */
  stopAfterSteps?: number;
  /** Recorded in checkpoints. */
  trainerConfig?: Record<string, unknown>;
  /** Extra JSON kept in checkpoints. */
  extra?: Record<string, unknown>;
  /** Constant arrays stored with the parameters (e.g. the Gaussian policy's catalog embeddings). */
  extraArrays?: NamedArray[];
  /** The training configuration a resume must repeat (resume-check.ts); recorded in checkpoints. */
  trainingConfig?: Record<string, unknown>;
  /** Checkpoints kept (checkpoint-retention.ts); 0/undefined = all, which bounds how many a run may plan. */
  keepLast?: number;
  keepBest?: number;
  /** Threads computing each minibatch's gradient (data-parallel, parallel/); default 1: all on this thread. */
  threads?: number;
  /** Learning rate per step (undefined: adam.lr at every step). */
  lrSchedule?: LrSchedule;
  /** Steps the schedule spans (undefined/0: epochs × batches per epoch). */
  lrTotalSteps?: number;
  /** Stop when this validation metric (from onEpochEnd) stops improving (undefined: off). */
  earlyStopping?: EarlyStoppingRule;
}

export interface TrainingRecord {
  step: number;
  epoch: number;
  metric: string;
  value: number;
  count: number;
}

export interface TrainerHooks {
  emit(rec: TrainingRecord): void;
  log?: Pick<Logger, 'info' | 'warn'>;
  progress?: boolean;
  label?: string;
  /** Called after each checkpoint is written. */
  onCheckpoint?(info: CheckpointInfo): void;
  /**
   * Called at the end of each epoch (1-based) with the optimiser step, e.g. to measure a validation loss. A number returned is
   * the validation nll (lower is better) recorded in that epoch's checkpoint; an object returns several validation metrics by
   * name (nll, ndcg@10, …), of which early stopping watches one.
   */
  onEpochEnd?(epoch: number, step: number): number | Record<string, number> | void;
  /** Called once the gradient worker threads have started (threads > 1 only). */
  onWorkersStarted?(workers: readonly Worker[]): void;
}

export interface CheckpointInfo {
  method: string;
  dir: string;
  step: number;
  epoch: number;
  seed: number;
}

export interface OfflineTrainResult {
  step: number;
  epoch: number;
  checkpoints: CheckpointInfo[];
  objectiveState: unknown;
  /** Mean loss of the last epoch. */
  lastEpochLoss: number;
  stoppedEarly: boolean;
  /** Set when early stopping ended (or, on resume, had already ended) the run. */
  earlyStopped?: EarlyStopInfo;
}

/** Where early stopping ended a run, and its best validation. */
export interface EarlyStopInfo {
  step: number;
  epoch: number;
  state: EarlyStoppingState;
}

const OWN_METRICS = new Set([
  'loss',
  'nll',
  'grad_norm',
  'w_mean',
  'w_max',
  'ess',
  'examples_per_s',
  'phantom_grad_norm',
  'reward_mse',
  'epoch_loss',
  'epoch_nll',
  'lr',
]);

/** Per-metric sums over the steps of a logging interval (metrics measured on some steps only average over those). */
class Interval {
  steps = 0;
  examples = 0;
  t0 = performance.now();
  sums = new Map<string, { sum: number; n: number }>();
  add(name: string, v: number): void {
    if (!Number.isFinite(v)) return;
    const e = this.sums.get(name);
    if (e) {
      e.sum += v;
      e.n++;
    } else this.sums.set(name, { sum: v, n: 1 });
  }
  reset(): void {
    this.steps = 0;
    this.examples = 0;
    this.t0 = performance.now();
    this.sums.clear();
  }
}

/** Mean, max and ESS of one minibatch's weights (the `w_mean`, `w_max`, `ess` records). */
export function weightStats(w: Float32Array): { mean: number; max: number; ess: number } {
  let s = 0;
  let s2 = 0;
  let max = -Infinity;
  for (let i = 0; i < w.length; i++) {
    const v = w[i]!;
    s += v;
    s2 += v * v;
    if (v > max) max = v;
  }
  return { mean: w.length ? s / w.length : 0, max: w.length ? max : 0, ess: essFromSums(s, s2) };
}

/**
 * Paper 002 Fig. 4's "online data ratio": of the rows a hard filter kept, the share collected online (the first `online` rows);
 * and, for any objective, the online rows' share of the total |weight|.
 */
export function onlineShares(online: number, weights: Float32Array, kept?: Uint8Array): Record<string, number> {
  let wOnline = 0;
  let wAll = 0;
  for (let i = 0; i < weights.length; i++) {
    const a = Math.abs(weights[i]!);
    wAll += a;
    if (i < online) wOnline += a;
  }
  const out: Record<string, number> = { online_weight_share: wAll > 0 ? wOnline / wAll : 0 };
  if (kept) {
    let k = 0;
    let kOnline = 0;
    for (let i = 0; i < kept.length; i++)
      if (kept[i]) {
        k++;
        if (i < online) kOnline++;
      }
    out.online_kept_share = k > 0 ? kOnline / k : 0;
  }
  return out;
}

interface StepGradients {
  /** Gradients by parameter name (the caller disposes them). */
  named: Map<string, tf.Tensor>;
  loss: number;
  nll: number;
  extraValues: (readonly [string, number])[];
}

/** The minibatch's gradient on this thread (threads = 1). */
function fullBatchGradients<P extends PreparedBatch>(task: OfflineTask<P>, prep: P, weights: Float32Array, step: number): StepGradients {
  let extras: Record<string, tf.Scalar> = {};
  let nllT: tf.Scalar | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = task.loss(prep, weights, step);
    nllT = tf.keep(out.nll);
    extras = Object.fromEntries(Object.entries(out.extra ?? {}).map(([k, t]) => [k, tf.keep(t)]));
    return out.loss;
  }, task.params.variables());
  const named = new Map<string, tf.Tensor>();
  for (const [vn, g] of Object.entries(grads)) named.set(task.params.nameOf(vn)!, g);
  const loss = value.dataSync()[0]!;
  const nll = nllT!.dataSync()[0]!;
  const extraValues = Object.entries(extras).map(([k, t]) => [k, t.dataSync()[0]!] as const);
  tf.dispose([value, nllT!, ...Object.values(extras)]);
  return { named, loss, nll, extraValues };
}

/** The minibatch's gradient summed over the threads' slices (threads > 1). */
async function parallelGradients<P extends PreparedBatch>(
  parallel: DataParallelGradients<P>,
  prep: P,
  weights: Float32Array,
  step: number,
): Promise<StepGradients> {
  const r = await parallel.gradients(prep, weights, step);
  return { named: r.named, loss: r.loss, nll: r.nll, extraValues: r.extras };
}

/** Train `task` under `objective`; resumes from `resume` when given. */
export async function trainOffline<P extends PreparedBatch>(
  task: OfflineTask<P>,
  objective: OfflineObjective<unknown>,
  opts: OfflineTrainerOptions,
  hooks: TrainerHooks,
  resume?: LoadedCheckpoint,
): Promise<OfflineTrainResult> {
  const n = task.numRows;
  if (n === 0) throw new Error(`${hooks.label ?? 'train'}: no training rows (is there data with split = train?)`);
  const batchesPerEpoch = Math.ceil(n / opts.batchSize);
  const label = hooks.label ?? 'train';
  const plannedCheckpoints =
    (opts.checkpointEveryEpochs > 0 ? Math.floor(opts.epochs / opts.checkpointEveryEpochs) : 0) +
    1 +
    (opts.checkpointEverySteps > 0 ? Math.floor((opts.epochs * batchesPerEpoch) / opts.checkpointEverySteps) : 0);
  prepareCheckpointRoot(
    opts.checkpointRoot,
    label,
    plannedCheckpoints,
    { keepLast: opts.keepLast ?? 0, keepBest: opts.keepBest ?? 0 },
    `epochs ${opts.epochs}`,
  );
  checkResumeOrWarn(resume, opts.trainingConfig, label, hooks.log);
  const adam = new Adam(task.params, opts.adam);
  let state: unknown = objective.initialState();
  let epoch = 0;
  let batch = 0;
  if (resume) {
    const pos = resume.meta.position;
    if (pos && pos.rows !== n)
      throw new Error(`cannot resume from ${resume.dir}: it was trained on ${pos.rows} rows, this data has ${n} (resume needs the same data)`);
    task.params.load(resume.params, `checkpoint ${resume.dir}`);
    if (resume.meta.optimizer) adam.load(resume.meta.optimizer.step, resume.optimizer);
    if (resume.meta.objectiveState !== undefined) state = resume.meta.objectiveState;
    epoch = pos?.epoch ?? resume.meta.epoch;
    batch = pos?.batch ?? 0;
  }
  const threads = opts.threads ?? 1;
  if (threads > 1 && !task.parallel)
    throw new Error(`${hooks.label ?? 'train'}: this model cannot be trained on ${threads} threads (no data-parallel description)`);
  const checkpoints: CheckpointInfo[] = [];
  const interval = new Interval();
  let epochLossSum = 0;
  let epochNllSum = 0;
  let epochSteps = 0;
  let lastEpochLoss = NaN;
  let stoppedEarly = false;
  const stopper = opts.earlyStopping ? new EarlyStopper(opts.earlyStopping, resume?.meta.extra?.earlyStopping) : undefined;
  let earlyStopped: EarlyStopInfo | undefined = stopper?.stopped ? { step: adam.step, epoch, state: stopper.state } : undefined;
  if (earlyStopped) hooks.log?.info(stopper!.resumedMessage(label, adam.step));
  const lrTotal = opts.lrTotalSteps && opts.lrTotalSteps > 0 ? opts.lrTotalSteps : opts.epochs * batchesPerEpoch;

  const flush = () => {
    if (interval.steps === 0) return;
    const secs = (performance.now() - interval.t0) / 1000;
    const rec = (metric: string, value: number) => hooks.emit({ step: adam.step, epoch: epoch + 1, metric, value, count: interval.examples });
    for (const [name, e] of interval.sums) rec(name, e.sum / e.n);
    rec('examples_per_s', secs > 0 ? interval.examples / secs : 0);
    interval.reset();
  };

  let lastSavedStep = -1;
  let validation: CheckpointValidation | undefined;
  const saveCheckpoint = (position: { epoch: number; batch: number }) => {
    if (!opts.checkpointRoot || lastSavedStep === adam.step) return;
    const step = adam.step;
    lastSavedStep = step;
    const dir = path.join(opts.checkpointRoot, `step-${step}`);
    // Completed epochs: a mid-epoch position counts only the finished ones.
    const completed = position.epoch;
    const opt = adam.state();
    writeCheckpoint(
      dir,
      {
        kind: task.stored.kind,
        method: opts.method,
        model: task.stored.config,
        trainer: opts.trainerConfig,
        step,
        epoch: completed,
        seed: opts.seed,
        position: { epoch: position.epoch, batch: position.batch, rows: n },
        objectiveState: state,
        rng: { seed: opts.seed, step, epoch: position.epoch, batch: position.batch },
        optimizer: { kind: 'adam', step: opt.step, config: { ...opts.adam } },
        extra: stopper ? { ...opts.extra, earlyStopping: stopper.state } : opts.extra,
        ...(opts.trainingConfig ? { training: opts.trainingConfig } : {}),
        ...(validation && position.batch === 0 ? { validation } : {}),
      },
      [...task.params.toArrays(), ...(opts.extraArrays ?? [])],
      opt.arrays,
    );
    const info: CheckpointInfo = { method: opts.method, dir, step, epoch: completed, seed: opts.seed };
    checkpoints.push(info);
    hooks.onCheckpoint?.(info);
  };

  let parallel: DataParallelGradients<P> | undefined;
  try {
    if (threads > 1) parallel = await DataParallelGradients.start(task, task.parallel!, threads, hooks.label ?? 'train');
    if (parallel) hooks.onWorkersStarted?.(parallel.workerThreads());
    outer: for (; epoch < opts.epochs && !earlyStopped; epoch++) {
      const order = permutation(n, streamFor(opts.seed, RNG_PURPOSE.shuffle, epoch));
      const progress = new Progress(`${hooks.label ?? 'train'} epoch ${epoch + 1}/${opts.epochs}`, hooks.progress ?? false, batchesPerEpoch, {
        unit: 'steps',
        totalIsCount: true,
        startAt: batch,
      });
      for (; batch < batchesPerEpoch; batch++) {
        const rows = order.subarray(batch * opts.batchSize, Math.min(n, (batch + 1) * opts.batchSize));
        const prep = task.prepare(rows);
        const input = prep.critic ? { reward: prep.rewards, group: prep.groups, critic: prep.critic } : { reward: prep.rewards, group: prep.groups };
        const weighed = objective.weigh(input, state);
        state = weighed.state;
        const result = weighed.result;
        const weights = result.weight;
        if (weights.length !== prep.rewards.length)
          throw new Error(`objective "${objective.name}" returned ${weights.length} weights for ${prep.rewards.length} examples`);
        const step = adam.step;
        // The phantom-gradient monitor, at the parameters this step's gradient is taken at.
        if (result.phantomWeight && result.phantomWeight.length === weights.length && opts.phantomEvery > 0 && step % opts.phantomEvery === 0) {
          const norms = parallel
            ? await parallelPhantomNorms(parallel, task, prep, weights, result.phantomWeight, step)
            : phantomGradientNorms(task, prep, weights, result.phantomWeight, step);
          for (const [k, v] of Object.entries(norms)) interval.add(k, v);
        }
        const { named, loss, nll, extraValues } = parallel
          ? await parallelGradients(parallel, prep, weights, step)
          : fullBatchGradients(task, prep, weights, step);
        const norm = globalNorm([...named.values()]);
        const lr = opts.lrSchedule ? lrAt(step, lrTotal, opts.lrSchedule) : opts.adam.lr;
        adam.apply(named, clipScale(norm, opts.clipNorm), lr);
        tf.dispose([...named.values()]);
        if (!Number.isFinite(loss))
          throw new Error(`${hooks.label ?? 'train'}: the loss became ${loss} at step ${step} (epoch ${epoch + 1}); lower lr or set clip_norm`);

        const ws = weightStats(weights);
        interval.steps++;
        interval.examples += weights.length;
        interval.add('loss', loss);
        interval.add('nll', nll);
        for (const [k, v] of extraValues) interval.add(k, v);
        interval.add('grad_norm', norm);
        if (opts.lrSchedule) interval.add('lr', lr);
        interval.add('w_mean', ws.mean);
        interval.add('w_max', ws.max);
        interval.add('ess', ws.ess);
        // The objective's diagnostics, except names this loop computes itself.
        for (const [k, v] of Object.entries(result.diagnostics)) if (!OWN_METRICS.has(k) && !isPhantomMetric(k)) interval.add(k, v);
        if (prep.onlineRows) for (const [k, v] of Object.entries(onlineShares(prep.onlineRows, weights, result.kept))) interval.add(k, v);
        epochLossSum += loss;
        epochNllSum += nll;
        epochSteps++;
        progress.advance(1, batch + 1, `loss ${loss.toPrecision(4)}`);
        if (opts.logEvery > 0 && interval.steps >= opts.logEvery) flush();

        const doneSteps = adam.step;
        const atEpochEnd = batch + 1 === batchesPerEpoch;
        const next = atEpochEnd ? { epoch: epoch + 1, batch: 0 } : { epoch, batch: batch + 1 };
        if (!atEpochEnd && opts.checkpointEverySteps > 0 && doneSteps % opts.checkpointEverySteps === 0) saveCheckpoint(next);
        if (opts.stopAfterSteps !== undefined && doneSteps >= opts.stopAfterSteps && !(atEpochEnd && epoch + 1 === opts.epochs)) {
          flush();
          saveCheckpoint(next);
          stoppedEarly = true;
          progress.finish();
          break outer;
        }
        // Let timers and I/O run between steps (progress output, signals).
        if ((batch & 7) === 7) await new Promise((r) => setImmediate(r));
      }
      progress.finish();
      flush();
      lastEpochLoss = epochSteps ? epochLossSum / epochSteps : NaN;
      const epochNll = epochSteps ? epochNllSum / epochSteps : NaN;
      hooks.emit({ step: adam.step, epoch: epoch + 1, metric: 'epoch_loss', value: lastEpochLoss, count: n });
      hooks.emit({ step: adam.step, epoch: epoch + 1, metric: 'epoch_nll', value: epochNll, count: n });
      hooks.log?.info(
        `${hooks.label ?? 'train'}: epoch ${epoch + 1}/${opts.epochs} loss ${lastEpochLoss.toFixed(4)}, nll ${epochNll.toFixed(4)} (${epochSteps} steps, step ${adam.step})`,
      );
      epochLossSum = 0;
      epochNllSum = 0;
      const score = hooks.onEpochEnd?.(epoch + 1, adam.step);
      const scores = typeof score === 'number' ? { nll: score } : (score ?? undefined);
      validation =
        typeof score === 'number' ? { metric: 'valid_nll', value: score } : scores?.nll !== undefined ? { metric: 'valid_nll', value: scores.nll } : undefined;
      const watch = stopper?.observe(scores, epoch + 1, adam.step);
      if (watch?.validation) validation = watch.validation;
      epochSteps = 0;
      batch = 0;
      const last = epoch + 1 === opts.epochs;
      // Early stopping writes a checkpoint at every improvement (the best is on disk) and at the stop (a resume trains no further).
      if (last || watch?.improved || watch?.stop || (opts.checkpointEveryEpochs > 0 && (epoch + 1) % opts.checkpointEveryEpochs === 0))
        saveCheckpoint({ epoch: epoch + 1, batch: 0 });
      if (watch?.stop) {
        earlyStopped = { step: adam.step, epoch: epoch + 1, state: stopper!.state };
        hooks.emit({ step: adam.step, epoch: epoch + 1, metric: 'early_stopped', value: adam.step, count: 1 });
        hooks.log?.info(stopper!.stopMessage(label, epoch + 1, adam.step, checkpoints.find((c) => c.step === stopper!.state.bestStep)?.dir));
        epoch++;
        break;
      }
    }
  } finally {
    adam.dispose();
    await parallel?.close();
  }
  if (!stoppedEarly && !earlyStopped) epoch = Math.max(epoch, opts.epochs);
  return { step: adam.step, epoch, checkpoints, objectiveState: state, lastEpochLoss, stoppedEarly, ...(earlyStopped ? { earlyStopped } : {}) };
}
