/**
 * The stage contract.
 *
 * A stage is a named, configured transformation of a highland stream of
 * columnar batches. Its definition declares its options (validated before
 * anything runs) and builds an instance from a validated configuration and a
 * run context. Sources ignore their input stream; sinks write and pass batches
 * on (so a pipeline may continue after a sink).
 *
 * State that must survive a restart (DRPO's P, a KL window, a data position) is
 * explicit: an instance may expose `getState()`/`setState()` with JSON values,
 * saved with checkpoints.
 */
import type Highland from 'highland';
import type { Batch, TableName } from './batch.js';
import type { Fields } from './config-schema.js';
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
  /**
   * Values stages publish for later stages: e.g. `reward_stats` (global
   * statistics), `vocab` (paths of the id mappings), `dataset` (Parquet paths),
   * `checkpoint` (last checkpoint dir). Keys are documented by the publisher.
   */
  artifacts: Map<string, unknown>;
  /**
   * Send a metric record (diagnostics, training records, evaluations). Only
   * metric and value are required; run defaults to the run id, numbers to 0,
   * strings to '' and count to 1.
   */
  emitMetric(record: Partial<MetricRecord> & Pick<MetricRecord, 'metric' | 'value'>): void;
  /** Every metric record emitted so far in this run, by any stage (reports read it at the end). */
  allMetrics(): readonly MetricRecord[];
  /** Per-stage counters the runner reports; stages add busy time here. */
  counters: StageCounters;
}

export interface StageCounters {
  rowsIn: number;
  rowsOut: number;
  batchesIn: number;
  batchesOut: number;
  /** Milliseconds spent inside the stage's own synchronous work. */
  busyMs: number;
}

export interface StageInstance {
  /** Transform the upstream stream (ignored by sources) into the output stream. */
  apply(input: BatchStream): BatchStream;
  /** JSON-serialisable state for checkpoints (objective state, positions). */
  getState?(): unknown;
  setState?(state: unknown): void;
}

export interface StageDefinition<C = Record<string, unknown>> {
  /** Name used in pipeline files and on the CLI (snake_case). */
  name: string;
  role: StageRole;
  /** One line for listings. */
  summary: string;
  /** Longer text for the README (equation, references, behaviour at edge cases). */
  doc?: string;
  /** Tables accepted as input (transforms and sinks). */
  inputs?: TableName[];
  /** Table emitted. */
  output?: TableName;
  fields: Fields;
  create(config: C, ctx: StageContext): StageInstance;
}

/** Identity helper that keeps the configuration type attached to a definition. */
export function defineStage<C>(def: StageDefinition<C>): StageDefinition<C> {
  return def;
}
