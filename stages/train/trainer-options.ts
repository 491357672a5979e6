/**
 * The options trainer stages share, as config-schema fields whose config
 * types are inferred from them (ConfigOf): the objective option (any
 * registered offline objective with its own options), the optimiser, the
 * backend and where the input waits, and the common options of the offline
 * trainers.
 */
import type { FieldSpec, Fields, ObjectField, UnionField } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import { OFFLINE_OBJECTIVES, objectiveUnionField } from '../weighting/registry.js';
import { DEFAULT_ADAM, type AdamConfig } from './adam.js';
import { BACKEND_CHOICES } from './backend.js';
import { resolveMode, type EarlyStoppingMetric, type EarlyStoppingRule } from './early-stopping.js';
import { LR_DECAYS, type LrSchedule } from './lr-schedule.js';

/**
 * The union of the options of every entry of a registry (objectives, group
 * shapers), each without its default or `required` flag and documented with
 * the entries that use it. Types are checked at the stage; the chosen entry
 * validates its own options and fills its defaults.
 */
export function unionOfOptionFields(registry: Record<string, { fields: Fields }>): Fields {
  const fields: Fields = {};
  const users = new Map<string, string[]>();
  for (const [name, entry] of Object.entries(registry)) {
    for (const [key, spec] of Object.entries(entry.fields)) {
      if (!users.has(key)) {
        const { default: _d, required: _r, ...rest } = spec as FieldSpec & { default?: unknown };
        fields[key] = { ...rest } as FieldSpec;
        users.set(key, []);
      }
      users.get(key)!.push(name);
    }
  }
  for (const [key, names] of users) fields[key] = { ...fields[key]!, doc: `${fields[key]!.doc} (${names.join(', ')})` };
  return fields;
}

/**
 * The `objective` option: `{ name: <objective>, ...its options }`. The
 * accepted keys are the union of every registered objective's options
 * (types checked here, without defaults); the chosen objective then
 * validates its own options and fills its defaults.
 */
export function objectiveField(defaultName = 'bc'): ObjectField & { default: Record<string, unknown> } {
  const fields: Fields = {
    name: { type: 'string', enum: Object.keys(OFFLINE_OBJECTIVES), default: defaultName, doc: 'Offline objective (stages/weighting/registry.ts).' },
    ...unionOfOptionFields(OFFLINE_OBJECTIVES),
  };
  return {
    type: 'object',
    fields,
    default: { name: defaultName },
    doc: 'The objective that weights each example: { name, ...options }, e.g. { name: exp_rsft, lambda: 0.5 } or { name: drpo, rho: 0.5 }.',
  };
}

/** The objective option and where its global statistics come from: the first options of every offline trainer stage. */
export function objectiveFields(defaultName = 'bc') {
  return {
    // A tagged union: the named objective's own options only (a stray option of another objective is an error at validation).
    objective: objectiveUnionField(defaultName) as UnionField & { default: { name: string } },
    stats_path: { type: 'string', doc: 'reward_stats.json for objectives that need global statistics (default: the reward_stats artifact).' },
  } as const satisfies Fields;
}

/** `objective` is `{ name, ...options }`: validated as the union of every objective's options, then by the named objective itself. */
export type ObjectiveConfig = ConfigOf<ReturnType<typeof objectiveFields>>;

/** Optimiser options of every trainer stage (Adam with decoupled weight decay and gradient clipping). */
export function optimiserFields(defaultLr: number) {
  return {
    lr: { type: 'number', exclusiveMin: 0, default: defaultLr, doc: 'Adam learning rate.' },
    weight_decay: { type: 'number', min: 0, default: 0, doc: 'Decoupled weight decay (AdamW); 0 = Adam.' },
    clip_norm: { type: 'number', min: 0, default: 1, doc: 'Clip the global gradient norm to this value (0 = no clipping).' },
  } as const satisfies Fields;
}

export type OptimiserConfig = ConfigOf<ReturnType<typeof optimiserFields>>;

/** The Adam settings of `optimiserFields` (β₁ 0.9, β₂ 0.999, ε 1e-8). */
export function adamConfig(cfg: OptimiserConfig): AdamConfig {
  return { ...DEFAULT_ADAM, lr: cfg.lr, weightDecay: cfg.weight_decay };
}

/**
 * The `lr_schedule` option (lr-schedule.ts). Absent by default: the rate is
 * `lr` at every step, exactly as before schedules existed. `stepsWhat`
 * names what the run's steps are, for the docs of `total_steps`.
 */
export function lrScheduleFields(stepsWhat: string) {
  const fields = {
    warmup_steps: { type: 'integer', min: 0, default: 0, doc: 'optimiser steps of linear warmup from lr/warmup_steps up to lr (0 = none).' },
    decay: {
      type: 'string',
      enum: LR_DECAYS,
      default: 'none',
      doc: 'after the warmup, none (constant lr), cosine or linear decay from lr to min_lr over the remaining steps.',
    },
    min_lr: { type: 'number', min: 0, default: 0, doc: 'the rate the decay ends at (at most lr).' },
    total_steps: { type: 'integer', min: 0, default: 0, doc: `steps the warmup and decay span (0 = the whole run: ${stepsWhat}); later steps stay at min_lr.` },
  } as const satisfies Fields;
  return {
    lr_schedule: {
      type: 'object',
      fields,
      doc: withOptionDocs(
        "Learning-rate schedule (lr-schedule.ts). Default: none, a constant lr, as without the option. With one, the rate is recorded as metric lr (split train: the mean over each logged interval's steps, or over each update's steps online); it is part of what a resume must repeat (a decaying one with its span, so a resume that changes the run's length is refused). Options:",
        fields,
      ),
    },
  } as const satisfies Fields;
}

/** `intro` followed by each sub-option with its default, for an object option's doc (the stage reference shows top-level options only). */
function withOptionDocs(intro: string, fields: Fields): string {
  return [
    intro,
    ...Object.entries(fields).map(([k, f]) => `${k} (${'enum' in f && f.enum ? f.enum.join(' / ') : f.type}, default ${JSON.stringify(f.default)}): ${f.doc}`),
  ].join(' ');
}

export type LrScheduleConfig = NonNullable<ConfigOf<ReturnType<typeof lrScheduleFields>>['lr_schedule']>;

/** The schedule of `lr_schedule` (undefined when absent: constant lr). */
export function lrScheduleOf(lr: number, cfg: LrScheduleConfig | undefined): LrSchedule | undefined {
  return cfg ? { lr, warmupSteps: cfg.warmup_steps, decay: cfg.decay, minLr: cfg.min_lr } : undefined;
}

/** The steps a schedule spans: its total_steps, else `runSteps` (the whole run). */
export function lrTotalSteps(cfg: LrScheduleConfig | undefined, runSteps: number): number {
  return cfg && cfg.total_steps > 0 ? cfg.total_steps : runSteps;
}

/**
 * `cfg` with lr_schedule.total_steps resolved to `total` when the schedule
 * decays, for the training configuration a resume must repeat: a resume that
 * changes the run's length (epochs, updates) would bend the decay, so it is
 * refused rather than silently continued on another curve.
 */
export function withResolvedLrSpan<C extends { lr_schedule?: LrScheduleConfig }>(cfg: C, total: number): C {
  return cfg.lr_schedule && cfg.lr_schedule.decay !== 'none' ? { ...cfg, lr_schedule: { ...cfg.lr_schedule, total_steps: total } } : cfg;
}

/** The cross-field check of `lr_schedule` against `lr`, for a stage's `check`. */
export function lrScheduleProblems(cfg: { lr: number; lr_schedule?: LrScheduleConfig }): string[] {
  const s = cfg.lr_schedule;
  return s && s.min_lr > cfg.lr ? [`lr_schedule.min_lr (${s.min_lr}) must be at most lr (${cfg.lr})`] : [];
}

/**
 * The `early_stopping` option (early-stopping.ts) of a trainer that measures
 * validation metrics. Absent by default: every epoch is trained.
 */
export function earlyStoppingFields<M extends readonly EarlyStoppingMetric[]>(metrics: M) {
  const ranking = metrics.some((m) => m !== 'nll');
  const fields = {
    metric: {
      type: 'string',
      enum: metrics,
      default: 'nll',
      doc: ranking
        ? 'the validation metric watched, measured every valid_every epochs (split valid): nll (mean −log π of the validation targets), or ndcg@10, hr@10, mrr of the validation targets ranked against the whole catalog with their history excluded (as evaluate_ranking; costs one catalog scoring of the validation rows).'
        : 'the validation metric watched, measured every valid_every epochs (split valid): nll, the mean −log π of the validation examples.',
    },
    patience: { type: 'integer', min: 1, default: 3, doc: 'stop after this many validations in a row without improvement.' },
    min_delta: { type: 'number', min: 0, default: 0, doc: 'an improvement must beat the best value by more than this.' },
    mode: {
      type: 'string',
      enum: ['auto', 'min', 'max'],
      default: 'auto',
      doc: 'min: lower is better, max: higher is better, auto: min for nll and max for the ranking metrics.',
    },
  } as const satisfies Fields;
  return {
    early_stopping: {
      type: 'object',
      fields,
      doc: withOptionDocs(
        'Early stopping on a validation metric (early-stopping.ts). Default: none, every epoch is trained. Needs valid_every > 0 and validation rows (split valid). A checkpoint is written at every improvement, so the best one is on disk; the stop writes one more, emits metric early_stopped (value = the step) and logs the best epoch and its checkpoint. With keep_last set, keep_best is at least 1 and ranks checkpoints by the watched metric. Resuming a stopped run trains no further unless patience or the metric is changed. Options:',
        fields,
      ),
    },
  } as const satisfies Fields;
}

/** The trainer's rule from a validated `early_stopping` option (undefined when absent). */
export function earlyStoppingRule(
  es: { metric: string; patience: number; min_delta: number; mode: 'auto' | 'min' | 'max' } | undefined,
): EarlyStoppingRule | undefined {
  return es ? { metric: es.metric, patience: es.patience, minDelta: es.min_delta, mode: resolveMode(es.metric, es.mode) } : undefined;
}

/** The cross-field check of `early_stopping`, for a stage's `check`. */
export function earlyStoppingProblems(cfg: { early_stopping?: object; valid_every: number }): string[] {
  return cfg.early_stopping && cfg.valid_every === 0 ? ['early_stopping needs validation: set valid_every > 0'] : [];
}

/** Backend choice and where the input waits to be passed on: options of every trainer stage. */
export function backendAndInputFields() {
  return {
    backend: {
      type: 'string',
      enum: [...BACKEND_CHOICES],
      default: 'auto',
      doc: 'TensorFlow.js backend: auto = tfjs-node-gpu, tfjs-node, webgpu (when Dawn finds a GPU adapter), wasm, cpu in that order (env RECPOST_BACKEND also chooses).',
    },
    keep_input: {
      type: 'string',
      enum: ['auto', 'memory', 'disk'],
      default: 'auto',
      doc: 'Where the input batches wait to be passed on after training: memory, disk (Parquet under the run directory) or auto (disk beyond spill_rows rows).',
    },
    spill_rows: { type: 'integer', min: 1, default: 2_000_000, doc: 'With keep_input auto: rows kept in memory before spilling to disk.' },
  } as const satisfies Fields;
}

export type BackendAndInputConfig = ConfigOf<ReturnType<typeof backendAndInputFields>>;

/** Options of every offline trainer stage. */
export function commonTrainFields(defaults: { epochs: number; batchSize: number; lr: number }) {
  return {
    epochs: { type: 'integer', min: 1, default: defaults.epochs, doc: 'Passes over the training rows.' },
    batch_size: { type: 'integer', min: 1, default: defaults.batchSize, doc: 'Rows per optimiser step.' },
    ...optimiserFields(defaults.lr),
    seed: { type: 'integer', doc: 'Seed of initialisation, shuffling, dropout and sampling (default: the pipeline seed).' },
    method: { type: 'string', doc: 'Label of checkpoints and metric records (default: the objective or algorithm name).' },
    init: {
      type: 'string',
      doc: 'Start from a checkpoint\'s weights (fresh optimiser): "previous" (the last checkpoint published in this run, e.g. BC before Exp-RSFT) or a checkpoint directory (or a directory of step-<n> checkpoints: the latest).',
    },
    resume: {
      type: 'boolean',
      default: false,
      doc: 'Continue from the latest checkpoint of this method under the output directory (parameters, optimiser, objective state, data position).',
    },
    resume_from: { type: 'string', doc: 'Continue from this checkpoint directory.' },
    output: { type: 'string', doc: 'Directory for checkpoints (<output>/checkpoints/<method>/step-<n>/; default: the run directory).' },
    checkpoint_every: { type: 'integer', min: 0, default: 1, doc: 'Write a checkpoint every this many epochs (the last epoch always gets one).' },
    checkpoint_every_steps: { type: 'integer', min: 0, default: 0, doc: 'Also write one every this many optimiser steps (0 = off).' },
    stop_after_steps: {
      type: 'integer',
      min: 0,
      default: 0,
      doc: 'Stop after this many optimiser steps in total, with a checkpoint to resume from (0 = run all epochs).',
    },
    keep_last: {
      type: 'integer',
      min: 0,
      default: 0,
      doc: 'How many of the most recent checkpoints to keep (0 = all; the latest is always kept). With neither keep_last nor keep_best, a run may write at most 1000 checkpoints.',
    },
    keep_best: {
      type: 'integer',
      min: 0,
      default: 0,
      doc: 'Also keep this many checkpoints of lowest validation nll, as recorded in them (train_sasrec, train_gaussian with valid_every; with early_stopping, best by its metric; 0 = off).',
    },
    log_every: { type: 'integer', min: 0, default: 10, doc: 'Emit training records every this many steps (and at each epoch end).' },
    ...lrScheduleFields('epochs × steps per epoch'),
    ...backendAndInputFields(),
  } as const satisfies Fields;
}

export type CommonTrainConfig = ConfigOf<ReturnType<typeof commonTrainFields>>;
