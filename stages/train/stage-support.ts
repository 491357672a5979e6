/**
 * The plumbing trainer stages share (their options are in trainer-options.ts):
 * building the objective, run names and trainer options/hooks, the stage
 * shape (collect, train, pass the input on: `trainerStage`), holding the
 * input for re-emission (in memory or spilled to Parquet), checkpoint
 * locations, `init` / `resume` resolution and the artifacts trainers publish.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARTIFACT } from '../core/artifacts.js';
import type { Batch } from '../core/batch.js';
import { ConfigError, validateConfig } from '../core/config-schema.js';
import type { OfflineObjective } from '../core/objective.js';
import type { BatchStage, StageContext } from '../core/stage.js';
import { DatasetWriter } from '../io/dataset-writer.js';
import { listParquetFiles, readParquetFile } from '../io/parquet.js';
import { createOfflineObjective, OFFLINE_OBJECTIVES } from '../weighting/registry.js';
import { resolveGlobals } from '../weighting/global-stats.js';
import { TrajectoryTable, trajectoryObjective, type TrajectoryInput } from '../weighting/trajectory-table.js';
import { initBackend } from './backend.js';
import { listCheckpoints, readCheckpointMeta } from './checkpoint.js';
import { resolveCheckpointDir } from './checkpoint-dir.js';
import { recoverInterruptedCheckpoints } from './checkpoint-recovery.js';
import { pruneCheckpoints, type RetentionPolicy } from './checkpoint-retention.js';
import { dataFingerprint, OFFLINE_RESUME_MAY_CHANGE, trainingConfigOf } from './resume-check.js';
import type { CheckpointInfo, OfflineTrainerOptions, TrainerHooks } from './offline-trainer.js';
import {
  adamConfig,
  lrScheduleOf,
  lrTotalSteps,
  withResolvedLrSpan,
  type BackendAndInputConfig,
  type CommonTrainConfig,
  type ObjectiveConfig,
} from './trainer-options.js';

/** The objective's name and its own options, out of a validated `objective` option ({ name, ...options }). */
export function objectiveParts(objective: ObjectiveConfig['objective'], stage: string): { name: string; options: Record<string, unknown> } {
  const { name, ...options } = objective;
  if (typeof name !== 'string') throw new ConfigError(`${stage}: field "objective.name" is required`, ['objective.name']);
  return { name, options };
}

/**
 * Build the objective, with global reward statistics from `stats_path` or the reward_stats artifact.
 * A trajectory-level objective gets R(τ) over the whole `trajectories` input and, unless `stats_path`
 * is given, the statistics of those returns (trajectory-table.ts), not the per-step reward statistics.
 */
export function buildObjective(
  objective: ObjectiveConfig['objective'],
  statsPath: string | undefined,
  ctx: Pick<StageContext, 'artifacts'>,
  stage: string,
  /** Every training target's reward and trajectory key, asked for only by a trajectory-level objective. */
  trajectories?: () => TrajectoryInput,
): OfflineObjective<unknown> {
  const { name, options } = objectiveParts(objective, stage);
  try {
    if (trajectories && OFFLINE_OBJECTIVES[name]?.inputs?.trajectoryReturn) {
      return trajectoryObjective(name, options, TrajectoryTable.fromTargets(trajectories()), statsPath ? resolveGlobals(statsPath, ctx.artifacts) : undefined);
    }
    return createOfflineObjective(name, options, resolveGlobals(statsPath, ctx.artifacts));
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${stage}: objective: ${e.message}`, e.problems);
    throw e;
  }
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
  /** How many checkpoints are kept under `root` (checkpoint-retention.ts). */
  retention: RetentionPolicy;
}

export function trainerRun(
  stage: string,
  cfg: { seed?: number; method?: string; output?: string; keep_last?: number; keep_best?: number },
  ctx: Pick<StageContext, 'seed' | 'outDir'>,
  defaultMethod: string,
): TrainerRun {
  const method = cfg.method ?? defaultMethod;
  const retention = { keepLast: cfg.keep_last ?? 0, keepBest: cfg.keep_best ?? 0 };
  return { stage, method, seed: cfg.seed ?? ctx.seed, root: checkpointRoot(cfg, ctx, method), label: `${stage}[${method}]`, retention };
}

/** Validate the chosen objective's own options (at create time) and name the run after the objective unless `method` is set. */
export function offlineTrainerRun(stage: string, cfg: CommonTrainConfig & ObjectiveConfig, ctx: Pick<StageContext, 'seed' | 'outDir'>): TrainerRun {
  const { name, options } = objectiveParts(cfg.objective, stage);
  validateConfig(`${stage}: objective "${name}"`, OFFLINE_OBJECTIVES[name]!.fields, options);
  return trainerRun(stage, cfg, ctx, name);
}

/** The buffer that holds a trainer stage's input, spilling under <run dir>/.spill/. */
export function inputBufferFor(cfg: BackendAndInputConfig, ctx: Pick<StageContext, 'outDir'>, run: TrainerRun): InputBuffer {
  return new InputBuffer(cfg.keep_input, cfg.spill_rows, path.join(ctx.outDir, '.spill', `${run.stage}-${run.method}-${process.pid}`));
}

/**
 * The trainer options every offline trainer stage derives from its common
 * options; with the collected training data, the training configuration a
 * resume must repeat (options + seed + data fingerprint).
 */
export function offlineTrainerOptions(cfg: CommonTrainConfig & { phantom_every: number }, run: TrainerRun, data?: object): OfflineTrainerOptions {
  const rows = (data as { numRows?: number } | undefined)?.numRows ?? 0;
  const lrTotal = lrTotalSteps(cfg.lr_schedule, cfg.epochs * Math.ceil(rows / cfg.batch_size));
  return {
    trainingConfig: trainingConfigOf(withResolvedLrSpan(cfg, lrTotal), OFFLINE_RESUME_MAY_CHANGE, {
      seed: run.seed,
      ...(data ? { data: dataFingerprint(data) } : {}),
    }),
    ...(cfg.lr_schedule ? { lrSchedule: lrScheduleOf(cfg.lr, cfg.lr_schedule), lrTotalSteps: lrTotal } : {}),
    keepLast: run.retention.keepLast,
    keepBest: run.retention.keepBest,
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
    onCheckpoint: (info) => {
      publishCheckpoint(ctx, info);
      retainCheckpoints(ctx, run.root, run.retention, new Set(run.stage === 'train_online' ? [0] : []));
    },
  };
}

/** Apply keep_last / keep_best under `root` and withdraw the removed directories from the 'checkpoints' artifact. */
export function retainCheckpoints(ctx: Pick<StageContext, 'artifacts' | 'log'>, root: string, policy: RetentionPolicy, protect: ReadonlySet<number>): void {
  const removed = new Set(pruneCheckpoints(root, policy, protect).map((d) => path.resolve(d)));
  if (removed.size === 0) return;
  const list = ctx.artifacts.get(ARTIFACT.checkpoints) ?? [];
  ctx.artifacts.set(
    ARTIFACT.checkpoints,
    list.filter((c) => !removed.has(path.resolve(c.dir))),
  );
}

export function checkpointRoot(cfg: Pick<CommonTrainConfig, 'output'>, ctx: Pick<StageContext, 'outDir'>, method: string): string {
  return path.join(cfg.output ?? ctx.outDir, 'checkpoints', method);
}

/** The directory `init` names: "previous" = the last published checkpoint. */
export function resolveInit(init: string | undefined, ctx: Pick<StageContext, 'artifacts'>, stage: string): string | undefined {
  if (!init) return undefined;
  if (init === 'previous') {
    const last = ctx.artifacts.get(ARTIFACT.checkpoint);
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
  recoverInterruptedCheckpoints(root);
  const found = listCheckpoints(root);
  return found.length ? found[found.length - 1]!.dir : undefined;
}

/** Publish checkpoints: append to 'checkpoints', set 'checkpoint' to the last. */
export function publishCheckpoint(ctx: Pick<StageContext, 'artifacts'>, info: CheckpointInfo): void {
  const list = ctx.artifacts.get(ARTIFACT.checkpoints) ?? [];
  list.push({ method: info.method, dir: info.dir, step: info.step, epoch: info.epoch, seed: info.seed });
  ctx.artifacts.set(ARTIFACT.checkpoints, list);
  ctx.artifacts.set(ARTIFACT.checkpoint, info.dir);
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

  /** Drop what is held (the run stopped): the spill directory goes. */
  discard(): void {
    this.memory.length = 0;
    if (this.writer) fs.rmSync(this.spillDir, { recursive: true, force: true });
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
 * A trainer stage on the kit (a barrier: nothing leaves before training is
 * done). Each input batch goes to the collector `prepare` made (it runs once,
 * on the first batch or, for an empty input, when the input ends: the
 * collector's shape may depend on the init checkpoint or on a world loaded
 * then) and into the input buffer; when the input ends the TensorFlow.js
 * backend starts, `train` runs, and the buffered input is passed on unchanged,
 * one batch at a time as downstream asks. The runner keeps the busy time.
 */
export function trainerStage<P extends { collector: { add(b: Batch): void } }>(
  cfg: BackendAndInputConfig,
  ctx: StageContext,
  run: TrainerRun,
  prepare: () => P | Promise<P>,
  train: (prepared: P) => Promise<void>,
): BatchStage {
  const buffer = inputBufferFor(cfg, ctx, run);
  let prepared: P | undefined;
  const ready = async (): Promise<P> => (prepared ??= await prepare());
  return {
    async process(b) {
      (await ready()).collector.add(b);
      buffer.add(b);
    },
    // A generator: the runner pulls it (timing each pull), training runs at the first pull.
    async *finish() {
      const p = await ready();
      await initBackend(cfg.backend, ctx.log);
      await train(p);
      yield* buffer.replay();
    },
    abort: () => buffer.discard(),
  };
}

/** Read a checkpoint's method and kind without loading weights (for messages). */
export function describeCheckpoint(dir: string): string {
  const m = readCheckpointMeta(dir);
  return `${m.kind} "${m.method}" step ${m.step} (epoch ${m.epoch}) at ${dir}`;
}
