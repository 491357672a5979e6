/**
 * The stage contract.
 *
 * A stage is a named, configured step over a stream of columnar batches. Its
 * definition declares its options once (`fields`; the configuration type is
 * inferred from them, config-types.ts), optional cross-field checks, and
 * builds an instance from a validated configuration and a run context.
 *
 * The runner owns iteration (pipelines/stage-driver.ts): an instance is one of
 * a few shapes and never touches the stream machinery or the busy-time
 * counters itself:
 * - BatchStage: `process(batch)` per input batch (one at a time, promises
 *   awaited: backpressure), optional `finish()` when the input ends. Per-batch
 *   transforms, sinks that pass batches on, barriers that emit at the end
 *   (the shape of Beam's DoFn).
 * - CombineStage: explicit mergeable state `init/add/merge/finish` (the shape
 *   of a CombineFn; shards will merge their states).
 * - SourceStage: `source()`, an async iterable of batches.
 * - RawStreamStage: `rawStream(input)` on the highland stream, for the few
 *   stages that truly need it (each says why); they keep their own busy time.
 *
 * State that must survive a restart (DRPO's P, a KL window, a data position) is
 * explicit: an instance may expose `getState()`/`setState()` with JSON values,
 * saved with checkpoints.
 */
import type Highland from 'highland';
import type { Batch, TableName } from './batch.js';
import type { Fields } from './config-schema.js';
import type { ConfigOf } from './config-types.js';
import type { ArtifactMap } from './artifacts.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import type { Logger } from './logger.js';

export type BatchStream = Highland.Stream<Batch>;

export type StageRole = 'source' | 'transform' | 'sink';

export interface StageContext {
  /** Directory the run writes into (created by the runner). */
  outDir: string;
  /** Run identifier carried into every metric record. */
  runId: string;
  /** Seed for anything random; stages derive their own streams from it. */
  seed: number;
  /** Human-facing messages (stderr); honours --quiet. */
  log: Logger;
  /** Show progress bars on stderr (false when not a TTY or --quiet). */
  progress: boolean;
  /** Values stages publish for later stages, typed by key (core/artifacts.ts). */
  artifacts: ArtifactMap;
  /**
   * Send a metric record (diagnostics, training records, evaluations). Only
   * metric and value are required; run defaults to the run id, numbers to 0,
   * strings to '' and count to 1.
   */
  emitMetric(record: Partial<MetricRecord> & Pick<MetricRecord, 'metric' | 'value'>): void;
  /** Every metric record emitted so far in this run, by any stage (reports read it at the end). */
  allMetrics(): readonly MetricRecord[];
  /** Per-stage counters the runner keeps (raw-stream and legacy stages add their own busy time). */
  counters: StageCounters;
}

export interface StageCounters {
  rowsIn: number;
  rowsOut: number;
  batchesIn: number;
  batchesOut: number;
  /** Milliseconds spent inside the stage's own calls. */
  busyMs: number;
}

/** What a stage call may return: nothing, one batch, several, or a promise of those. */
export type Emitted = Batch | Batch[] | void;

/**
 * What `finish` may return besides: batches made lazily (a generator), pulled
 * one at a time as downstream asks, so a barrier never holds all its output.
 */
export type Finished = Emitted | Iterable<Batch> | AsyncIterable<Batch>;

/** Push a batch downstream from inside a call (in addition to what the call returns). */
export type Emit = (batch: Batch) => void;

interface Stateful {
  /** JSON-serialisable state for checkpoints (objective state, positions). */
  getState?(): unknown;
  setState?(state: unknown): void;
}

/** Per-batch stage (Beam's DoFn): transforms, pass-through sinks, barriers. */
export interface BatchStage extends Stateful {
  process(batch: Batch, emit: Emit): Emitted | Promise<Emitted>;
  /** After the last input batch: flush, publish, emit what was held back (possibly lazily). */
  finish?(emit: Emit): Finished | Promise<Emitted>;
  /** The pipeline failed (upstream or here): release timers and handles. Not called after finish. */
  abort?(error: Error): void;
}

/**
 * Aggregating stage with explicit state (Beam's CombineFn): the runner folds
 * each batch into the state with `add` and hands the final state to `finish`.
 * `merge` combines the states of two shards of the same input. With
 * `passInput`, input batches also go downstream as they arrive.
 */
export interface CombineStage<S> extends Stateful {
  // Sharded runs (pipelines/plan/): a shard folds its batches with add and
  // hands back getState(); the coordinator restores each shard's state with
  // setState, reads it back with init(), merges in shard order and calls finish.
  init(): S;
  add(state: S, batch: Batch): S;
  merge(a: S, b: S): S;
  finish(state: S, emit: Emit): Finished | Promise<Emitted>;
  passInput?: boolean;
}

/** Source: batches from files, a generator, a simulator. */
export interface SourceStage extends Stateful {
  source(): AsyncIterable<Batch>;
}

/** Direct highland access, for stages that need it (each says why). Busy time is the stage's own to count. */
export interface RawStreamStage extends Stateful {
  rawStream(input: BatchStream): BatchStream;
}

/**
 * How a stage runs when a pipeline is sharded (pipelines/plan/):
 * - `parts`: per input part, the shards' outputs concatenated in part order
 *   equal the whole run's (per-batch transforms, readers, writers);
 * - `combine`: a CombineStage whose shard states merge (the step ends there:
 *   later stages see the merged result);
 * - `user_bucket`: per user bucket of a bucketed dataset (rows of a user stay together);
 * - `checkpoint_parts`: per checkpoint × data part, accumulators merged;
 * - `ranges`: a source read in byte ranges by its own flows (ingest: scan ids,
 *   merge the vocabularies, encode, commit; pipelines/plan/ingest-plan.ts).
 * A stage without a plan runs whole, in the coordinator.
 */
export interface ShardPlan {
  by: 'parts' | 'user_bucket' | 'combine' | 'checkpoint_parts' | 'ranges';
  /** Options that name datasets the stage writes: each shard writes its own, the merge commits the final one. */
  outputs?: string[];
  /** Option naming the dataset a source stage reads (its parts are divided among the shards). */
  input?: string;
  /** Artifacts the stage reads, handed from the coordinator to the shards (JSON values). */
  artifacts?: string[];
  /** The stage's output batches are its input batches (reward_stats): a step of such stages needs no copy of its stream. */
  passThrough?: boolean;
  /** Configuration a shard and the coordinator's merge use instead (e.g. no spill: the step boundary is the barrier). */
  shardConfig?: Record<string, unknown>;
  /**
   * user_bucket: artifacts each shard's stage publishes (JSON values), merged
   * by the coordinator in bucket order with `merge` and published there; the
   * stage's metric records are then made once by `emit` from the merged
   * values (a shard's own records of this stage are dropped).
   */
  merged?: { artifacts: Record<string, (a: unknown, b: unknown) => unknown>; emit?(values: Record<string, unknown>, ctx: StageContext): void };
}

// The state type of a combine stage is the stage's own; the runner only passes it back.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StageInstance = BatchStage | CombineStage<any> | SourceStage | RawStreamStage;

/**
 * A stage definition of any configuration type: what registries and pipelines hold
 * (a definition's `create` takes its own config type, so they are not assignable to
 * one another; validation gives each the config it declared).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStageDefinition = StageDefinition<any>;

export interface StageDefinition<C = Record<string, unknown>> {
  /** Name used in pipeline files and on the CLI (snake_case). */
  name: string;
  role: StageRole;
  /** One line for listings. */
  summary: string;
  /** Longer text for the README (equation, references, behaviour at edge cases). */
  doc?: string;
  /** Tables accepted as input (transforms and sinks); checked against the previous stage's output. */
  inputs?: TableName[];
  /** Table emitted; absent = the input table passes through (sinks) or unknown. */
  output?: TableName;
  fields: Fields;
  /** Cross-field checks run by validation (one message per problem, e.g. "p_min (0.9) must be ≤ p_max (0.5)"). */
  check?(config: C): string[];
  create(config: C, ctx: StageContext): StageInstance;
  /** How it runs sharded (absent: whole); a function when it depends on the configuration (undefined: whole). */
  shard?: ShardPlan | ((config: C) => ShardPlan | undefined);
}

/** A definition whose configuration type is inferred from its fields. */
export interface TypedStageDefinition<F extends Fields> {
  name: string;
  role: StageRole;
  summary: string;
  doc?: string;
  inputs?: TableName[];
  output?: TableName;
  fields: F;
  check?(config: ConfigOf<F>): string[];
  create(config: ConfigOf<F>, ctx: StageContext): StageInstance;
  shard?: ShardPlan | ((config: ConfigOf<F>) => ShardPlan | undefined);
}

/**
 * Define a stage. With literal `fields` (or `as const satisfies Fields`), the
 * configuration type of `create` and `check` is inferred from them; an
 * explicit type argument `defineStage<MyConfig>(…)` is the older form, still
 * accepted while the train stages move over.
 */
export function defineStage<const F extends Fields>(def: TypedStageDefinition<F>): StageDefinition<ConfigOf<F>>;
export function defineStage<C>(def: StageDefinition<C>): StageDefinition<C>;
export function defineStage(def: object): object {
  return def;
}

/** The shape of an instance, for the driver. */
export type StageShape = 'batch' | 'combine' | 'source' | 'raw';

export function stageShape(inst: StageInstance): StageShape {
  if ('process' in inst) return 'batch';
  if ('add' in inst) return 'combine';
  if ('source' in inst) return 'source';
  return 'raw';
}
