/**
 * What the trainer stages share: their common options, the objective option
 * (any registered offline objective with its own options), holding the input
 * for re-emission (in memory or spilled to Parquet), checkpoint locations,
 * `init` / `resume` resolution and the artifacts trainers publish.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import _ from 'highland';
import type { Batch } from '../core/batch.js';
import { ConfigError, validateConfig, type FieldSpec, type Fields } from '../core/config-schema.js';
import type { OfflineObjective } from '../core/objective.js';
import type { BatchStream, StageContext } from '../core/stage.js';
import { streamFromAsync } from '../core/helpers.js';
import { DatasetWriter } from '../io/dataset-writer.js';
import { listParquetFiles, readParquetFile } from '../io/parquet.js';
import { createOfflineObjective, OFFLINE_OBJECTIVES } from '../weighting/registry.js';
import { resolveGlobals } from '../weighting/global-stats.js';
import { BACKEND_CHOICES } from './backend.js';
import { listCheckpoints, readCheckpointMeta } from './checkpoint.js';
import { DEFAULT_ADAM, type AdamConfig } from './adam.js';
import type { CheckpointInfo, OfflineTrainerOptions, TrainerHooks } from './offline-trainer.js';

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
export function objectiveField(defaultName = 'bc'): FieldSpec {
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

export interface ObjectiveSpec {
  name: string;
  [option: string]: unknown;
}

/** Build the objective, with global reward statistics from `stats_path` or the reward_stats artifact. */
export function buildObjective(spec: ObjectiveSpec, statsPath: string | undefined, ctx: Pick<StageContext, 'artifacts'>, stage: string): OfflineObjective<unknown> {
  const { name, ...options } = spec;
  try {
    return createOfflineObjective(name, options, resolveGlobals(statsPath, ctx.artifacts));
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${stage}: objective: ${e.message}`, e.problems);
    throw e;
  }
}

/** Optimiser options of every trainer stage (Adam with decoupled weight decay and gradient clipping). */
export function optimiserFields(defaultLr: number): Fields {
  return {
    lr: { type: 'number', exclusiveMin: 0, default: defaultLr, doc: 'Adam learning rate.' },
    weight_decay: { type: 'number', min: 0, default: 0, doc: 'Decoupled weight decay (AdamW); 0 = Adam.' },
    clip_norm: { type: 'number', min: 0, default: 1, doc: 'Clip the global gradient norm to this value (0 = no clipping).' },
  };
}

export interface OptimiserConfig {
  lr: number;
  weight_decay: number;
  clip_norm: number;
}

/** The Adam settings of `optimiserFields` (β₁ 0.9, β₂ 0.999, ε 1e-8). */
export function adamConfig(cfg: OptimiserConfig): AdamConfig {
  return { ...DEFAULT_ADAM, lr: cfg.lr, weightDecay: cfg.weight_decay };
}

/** Backend choice and where the input waits to be passed on: options of every trainer stage. */
export function backendAndInputFields(): Fields {
  return {
    backend: { type: 'string', enum: [...BACKEND_CHOICES], default: 'auto', doc: 'TensorFlow.js backend: auto = tfjs-node-gpu, tfjs-node, wasm, cpu in that order (env RECPOST_BACKEND also chooses).' },
    keep_input: {
      type: 'string',
      enum: ['auto', 'memory', 'disk'],
      default: 'auto',
      doc: 'Where the input batches wait to be passed on after training: memory, disk (Parquet under the run directory) or auto (disk beyond spill_rows rows).',
    },
    spill_rows: { type: 'integer', min: 1, default: 2_000_000, doc: 'With keep_input auto: rows kept in memory before spilling to disk.' },
  };
}

export interface BackendAndInputConfig {
  backend: (typeof BACKEND_CHOICES)[number];
  keep_input: 'auto' | 'memory' | 'disk';
  spill_rows: number;
}

/** Options of every offline trainer stage. */
export function commonTrainFields(defaults: { epochs: number; batchSize: number; lr: number }): Fields {
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
    log_every: { type: 'integer', min: 0, default: 10, doc: 'Emit training records every this many steps (and at each epoch end).' },
    ...backendAndInputFields(),
  };
}

export interface CommonTrainConfig extends OptimiserConfig, BackendAndInputConfig {
  epochs: number;
  batch_size: number;
  seed?: number;
  method?: string;
  init?: string;
  resume: boolean;
  resume_from?: string;
  output?: string;
  checkpoint_every: number;
  checkpoint_every_steps: number;
  stop_after_steps: number;
  log_every: number;
}

/** What a trainer stage instance knows before it sees data: its names, seed and checkpoint directory. */
export interface TrainerRun {
  stage: string;
  /** Label of checkpoints and records. */
  method: string;
  seed: number;
  /** <output>/checkpoints/<method>. */
  root: string;
  /** `stage[method]`, the prefix of log lines. */
  label: string;
}

export function trainerRun(stage: string, cfg: { seed?: number; method?: string; output?: string }, ctx: Pick<StageContext, 'seed' | 'outDir'>, defaultMethod: string): TrainerRun {
  const method = cfg.method ?? defaultMethod;
  return { stage, method, seed: cfg.seed ?? ctx.seed, root: checkpointRoot(cfg, ctx, method), label: `${stage}[${method}]` };
}

/** Validate the chosen objective's own options (at create time) and name the run after the objective unless `method` is set. */
export function offlineTrainerRun(stage: string, cfg: CommonTrainConfig & { objective: ObjectiveSpec }, ctx: Pick<StageContext, 'seed' | 'outDir'>): TrainerRun {
  const { name, ...objOptions } = cfg.objective;
  validateConfig(`${stage}: objective "${name}"`, OFFLINE_OBJECTIVES[name]!.fields, objOptions);
  return trainerRun(stage, cfg, ctx, name);
}

/** The buffer that holds a trainer stage's input, spilling under <run dir>/.spill/. */
export function inputBufferFor(cfg: BackendAndInputConfig, ctx: Pick<StageContext, 'outDir'>, run: TrainerRun): InputBuffer {
  return new InputBuffer(cfg.keep_input, cfg.spill_rows, path.join(ctx.outDir, '.spill', `${run.stage}-${run.method}-${process.pid}`));
}

/** The trainer options every offline trainer stage derives from its common options. */
export function offlineTrainerOptions(cfg: CommonTrainConfig & { phantom_every: number }, run: TrainerRun): OfflineTrainerOptions {
  return {
    method: run.method,
    seed: run.seed,
    epochs: cfg.epochs,
    batchSize: cfg.batch_size,
    adam: adamConfig(cfg),
    clipNorm: cfg.clip_norm,
    checkpointRoot: run.root,
    checkpointEveryEpochs: cfg.checkpoint_every,
    checkpointEverySteps: cfg.checkpoint_every_steps,
    logEvery: cfg.log_every,
    phantomEvery: cfg.phantom_every,
    stopAfterSteps: cfg.stop_after_steps > 0 ? cfg.stop_after_steps : undefined,
  };
}

/** Trainer hooks that send records to the metric stream, log under the run's label and publish checkpoints. */
export function trainerHooks(ctx: StageContext, run: TrainerRun): TrainerHooks {
  return {
    emit: trainingEmitter(ctx, run.method, run.seed),
    log: ctx.log,
    progress: ctx.progress,
    label: run.label,
    onCheckpoint: (info) => publishCheckpoint(ctx, info),
  };
}

export function checkpointRoot(cfg: Pick<CommonTrainConfig, 'output'>, ctx: Pick<StageContext, 'outDir'>, method: string): string {
  return path.join(cfg.output ?? ctx.outDir, 'checkpoints', method);
}

/** A checkpoint directory, or the latest step-<n> below a directory (searching one method level down). */
export function resolveCheckpointDir(p: string, what: string): string {
  if (!fs.existsSync(p)) throw new Error(`${what}: no such checkpoint directory: ${p}`);
  if (fs.existsSync(path.join(p, 'checkpoint.json'))) return p;
  const direct = listCheckpoints(p);
  if (direct.length) return direct[direct.length - 1]!.dir;
  const nested = fs
    .readdirSync(p, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => listCheckpoints(path.join(p, e.name)));
  if (nested.length === 1 || (nested.length > 1 && new Set(nested.map((n) => path.dirname(n.dir))).size === 1)) return nested.sort((a, b) => a.step - b.step).at(-1)!.dir;
  if (nested.length > 1) throw new Error(`${what}: ${p} holds checkpoints of several methods; name one directory`);
  throw new Error(`${what}: no checkpoint (checkpoint.json or step-<n>/) in ${p}`);
}

/** The directory `init` names: "previous" = the last published checkpoint. */
export function resolveInit(init: string | undefined, ctx: Pick<StageContext, 'artifacts'>, stage: string): string | undefined {
  if (!init) return undefined;
  if (init === 'previous') {
    const last = ctx.artifacts.get('checkpoint');
    if (typeof last !== 'string')
      throw new ConfigError(`${stage}: init: previous needs an earlier trainer stage in the same pipeline (no checkpoint has been published yet)`, ['init']);
    return last;
  }
  return resolveCheckpointDir(init, `${stage}: init`);
}

/** The checkpoint a resume continues from, if any. */
export function resolveResume(cfg: Pick<CommonTrainConfig, 'resume' | 'resume_from'>, root: string, stage: string): string | undefined {
  if (cfg.resume_from) return resolveCheckpointDir(cfg.resume_from, `${stage}: resume_from`);
  if (!cfg.resume) return undefined;
  const found = listCheckpoints(root);
  return found.length ? found[found.length - 1]!.dir : undefined;
}

/** Publish checkpoints: append to 'checkpoints', set 'checkpoint' to the last. */
export function publishCheckpoint(ctx: Pick<StageContext, 'artifacts'>, info: CheckpointInfo): void {
  const list = (ctx.artifacts.get('checkpoints') as CheckpointInfo[] | undefined) ?? [];
  list.push({ method: info.method, dir: info.dir, step: info.step, epoch: info.epoch, seed: info.seed });
  ctx.artifacts.set('checkpoints', list);
  ctx.artifacts.set('checkpoint', info.dir);
}

/** Training records into the run's metric stream (split "train"). */
export function trainingEmitter(ctx: StageContext, method: string, seed: number) {
  return (r: { step: number; epoch: number; metric: string; value: number; count: number }) =>
    ctx.emitMetric({ method, seed, step: r.step, epoch: r.epoch, split: 'train', metric: r.metric, value: r.value, count: r.count });
}

/**
 * Holds the input batches until training is done, in memory or spilled to a
 * Parquet dataset under the run directory (`keep_input`), and replays them.
 */
export class InputBuffer {
  private readonly memory: Batch[] = [];
  private writer?: DatasetWriter;
  private rows = 0;
  private table = 'examples';

  constructor(
    private readonly mode: 'auto' | 'memory' | 'disk',
    private readonly spillRows: number,
    private readonly spillDir: string,
  ) {}

  add(b: Batch): void {
    this.rows += b.numRows;
    this.table = b.table;
    if (this.writer) {
      this.writer.write(b);
      return;
    }
    this.memory.push(b);
    if (this.mode === 'disk' || (this.mode === 'auto' && this.rows > this.spillRows)) {
      fs.rmSync(this.spillDir, { recursive: true, force: true });
      this.writer = new DatasetWriter(this.spillDir, {});
      for (const m of this.memory) this.writer.write(m);
      this.memory.length = 0;
    }
  }

  get spilled(): boolean {
    return this.writer !== undefined;
  }

  async *replay(): AsyncGenerator<Batch> {
    if (!this.writer) {
      yield* this.memory;
      return;
    }
    this.writer.close();
    try {
      for (const f of listParquetFiles(this.spillDir)) for await (const b of readParquetFile(f, { table: this.table })) yield b;
    } finally {
      fs.rmSync(this.spillDir, { recursive: true, force: true });
    }
  }
}

/**
 * A value made on its first use and kept: e.g. a collector whose shape
 * depends on the init checkpoint, which is resolved when the first batch
 * arrives (or at training time when the input is empty).
 */
export function onFirstUse<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * Feed every input batch to `each` (and the buffer), run `train` when the
 * input ends, then emit the buffered input unchanged.
 */
export function trainThenReplay(ctx: StageContext, input: BatchStream, buffer: InputBuffer, each: (b: Batch) => void, train: () => Promise<void>): BatchStream {
  const consumed = input
    .map((b) => {
      const t0 = performance.now();
      each(b);
      buffer.add(b);
      ctx.counters.busyMs += performance.now() - t0;
      return b;
    })
    .filter(() => false);
  const after = streamFromAsync(async function* () {
    const t0 = performance.now();
    await train();
    ctx.counters.busyMs += performance.now() - t0;
    yield* buffer.replay();
  });
  return _([consumed, after]).sequence() as BatchStream;
}

/** Read a checkpoint's method and kind without loading weights (for messages). */
export function describeCheckpoint(dir: string): string {
  const m = readCheckpointMeta(dir);
  return `${m.kind} "${m.method}" step ${m.step} (epoch ${m.epoch}) at ${dir}`;
}
