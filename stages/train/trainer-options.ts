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

/** Backend choice and where the input waits to be passed on: options of every trainer stage. */
export function backendAndInputFields() {
  return {
    backend: { type: 'string', enum: [...BACKEND_CHOICES], default: 'auto', doc: 'TensorFlow.js backend: auto = tfjs-node-gpu, tfjs-node, wasm, cpu in that order (env RECPOST_BACKEND also chooses).' },
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
    resume: { type: 'boolean', default: false, doc: 'Continue from the latest checkpoint of this method under the output directory (parameters, optimiser, objective state, data position).' },
    resume_from: { type: 'string', doc: 'Continue from this checkpoint directory.' },
    output: { type: 'string', doc: 'Directory for checkpoints (<output>/checkpoints/<method>/step-<n>/; default: the run directory).' },
    checkpoint_every: { type: 'integer', min: 0, default: 1, doc: 'Write a checkpoint every this many epochs (the last epoch always gets one).' },
    checkpoint_every_steps: { type: 'integer', min: 0, default: 0, doc: 'Also write one every this many optimiser steps (0 = off).' },
    stop_after_steps: { type: 'integer', min: 0, default: 0, doc: 'Stop after this many optimiser steps in total, with a checkpoint to resume from (0 = run all epochs).' },
    keep_last: { type: 'integer', min: 0, default: 0, doc: 'How many of the most recent checkpoints to keep (0 = all; the latest is always kept). With neither keep_last nor keep_best, a run may write at most 1000 checkpoints.' },
    keep_best: { type: 'integer', min: 0, default: 0, doc: 'Also keep this many checkpoints of lowest validation nll, as recorded in them (train_sasrec with valid_every; 0 = off).' },
    log_every: { type: 'integer', min: 0, default: 10, doc: 'Emit training records every this many steps (and at each epoch end).' },
    ...backendAndInputFields(),
  } as const satisfies Fields;
}

export type CommonTrainConfig = ConfigOf<ReturnType<typeof commonTrainFields>>;
