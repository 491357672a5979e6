/**
 * One stage outside a pipeline, for ETL code: `runStage(name, options, input)`
 * validates the options exactly as a pipeline file's `with:` is validated
 * (same messages, same cross-field checks), builds the stage context (run
 * directory, seed, a quiet logger, artifacts) and returns the stage's output
 * as an async iterable of batches, pulled on demand (backpressure).
 *
 *   for await (const b of runStage('drpo', { rho: 0.5 }, batches)) …
 *   Readable.from(runStage('exp_rsft', { lambda: 1 }, nodeStream))   // back to a Node stream
 *
 * The input is an array, any (async) iterable of batches, or a Node Readable
 * in object mode; source stages take none.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Batch } from '../stages/core/batch.js';
import { ConfigError, validateStageConfig } from '../stages/core/config-schema.js';
import { ArtifactMap, artifactMap } from '../stages/core/artifacts.js';
import { stderrLogger, type Logger } from '../stages/core/logger.js';
import type { StageContext, StageCounters, StageDefinition } from '../stages/core/stage.js';
import { driveStage, withStageLabel } from '../stages/core/stage-driver.js';
import { metricRecord, type MetricRecord } from '../schemas/metric-record.js';
import { getStage, stageNames } from '../stages/registry.js';
import type { StageName, StageOptions } from './stage-options.js';

/** Batches as `runStage` accepts them: an array, a (sync or async) iterable, or a Node Readable in object mode. */
export type BatchInput = Iterable<Batch> | AsyncIterable<Batch>;

export interface RunStageSettings {
  /** Directory the stage writes into (default: a new temporary directory). */
  outDir?: string;
  /** Seed for anything random (default 0). */
  seed?: number;
  /** Run id carried into metric records (default: the stage name). */
  runId?: string;
  /** Where messages go (default: stderr, warnings only). */
  logger?: Logger;
  /** Values visible to the stage through ctx.artifacts (e.g. reward statistics); an ArtifactMap is used as is (the stage's own are added to it), a plain Map is copied. */
  artifacts?: ArtifactMap | Map<string, unknown>;
  /** Called with each metric record the stage emits (they are also kept in `metrics`). */
  onMetric?: (record: MetricRecord) => void;
  /** Show progress bars on stderr (default false). */
  progress?: boolean;
}

/** The output of one stage: iterate it once; `metrics`, `artifacts` and `counters` fill as it runs. */
export interface StageRun extends AsyncIterable<Batch> {
  readonly stage: string;
  readonly outDir: string;
  readonly metrics: readonly MetricRecord[];
  readonly artifacts: ArtifactMap;
  readonly counters: Readonly<StageCounters>;
  /** Run to the end and return every output batch. */
  toArray(): Promise<Batch[]>;
}

function isBatch(x: unknown): x is Batch {
  const b = x as Batch | null;
  return typeof b === 'object' && b !== null && typeof b.numRows === 'number' && typeof b.columns === 'object' && b.columns !== null;
}

function describeItem(x: unknown): string {
  if (Buffer.isBuffer(x) || typeof x === 'string') return 'a Buffer or string (a Node stream must be in object mode and carry batches)';
  if (x === null) return 'null';
  return typeof x === 'object' ? 'an object without numRows/columns' : `a ${typeof x}`;
}

/** The input as batches, each checked: a wrong item is a ConfigError naming its position. */
async function* checkedBatches(input: BatchInput, label: string): AsyncGenerator<Batch> {
  let i = 0;
  for await (const item of input as AsyncIterable<unknown>) {
    if (!isBatch(item)) throw new ConfigError(`${label}: input item ${i} is not a batch: got ${describeItem(item)}`, ['input']);
    i++;
    yield item;
  }
}

async function* noBatches(): AsyncGenerator<Batch> {}

function isInput(x: unknown): x is BatchInput {
  return typeof x === 'object' && x !== null && (Symbol.asyncIterator in x || Symbol.iterator in x);
}

/**
 * A stage context for calling a stage definition's `create` directly (one's
 * own stages, tests): what runStage builds. `outDir` defaults to a new
 * temporary directory (a given one is used as is, not created); metric
 * records are kept in `metrics` and handed to `onMetric`.
 */
export function stageContext(settings: RunStageSettings = {}, name = 'stage'): StageContext & { metrics: MetricRecord[] } {
  const runId = settings.runId ?? name;
  const metrics: MetricRecord[] = [];
  return {
    outDir: settings.outDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `recpost-${name}-`)),
    runId,
    seed: settings.seed ?? 0,
    log: settings.logger ?? stderrLogger(true),
    progress: settings.progress ?? false,
    artifacts: settings.artifacts instanceof ArtifactMap ? settings.artifacts : artifactMap(settings.artifacts ?? []),
    counters: { rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 },
    metrics,
    allMetrics: () => metrics,
    emitMetric(rec) {
      const full = metricRecord({ ...rec, run: rec.run ?? runId });
      metrics.push(full);
      settings.onMetric?.(full);
    },
  };
}

/**
 * Run a registered stage on batches. `options` are typed from the stage's
 * field declaration (`StageOptions<'drpo'>`) and validated as in a pipeline
 * file; an unknown stage, a wrong option or a wrong input item is a ConfigError.
 */
export function runStage<N extends StageName>(name: N, options: StageOptions<N>, input?: BatchInput, settings: RunStageSettings = {}): StageRun {
  return runStageByName(name, options as Record<string, unknown>, input, settings);
}

/** `runStage` for names and options only known at run time (read from a config file, say): validated the same way, untyped. */
export function runStageByName(name: string, options: Record<string, unknown> = {}, input?: BatchInput, settings: RunStageSettings = {}): StageRun {
  const def: StageDefinition<Record<string, unknown>> | undefined = getStage(name);
  if (!def) throw new ConfigError(`unknown stage "${name}" (known: ${stageNames().join(', ')})`, ['stage']);
  const label = `stage "${name}"`;
  const config = validateStageConfig<Record<string, unknown>>(label, def, options);
  if (input !== undefined && !isInput(input))
    throw new ConfigError(`${label}: input must be an array, an iterable or a Node Readable of batches, got ${describeItem(input)}`, ['input']);
  if (input === undefined && def.role !== 'source') throw new ConfigError(`${label}: a ${def.role} stage needs input batches`, ['input']);

  if (settings.outDir !== undefined) fs.mkdirSync(settings.outDir, { recursive: true });
  const ctx = stageContext(settings, name);
  const { outDir, artifacts, counters, metrics } = ctx;
  let inst;
  try {
    inst = def.create(config, ctx);
  } catch (e) {
    throw withStageLabel(e, label);
  }
  const batches = input === undefined ? noBatches() : checkedBatches(input, label);
  let started = false;
  const run: StageRun = {
    stage: name,
    outDir,
    metrics,
    artifacts,
    counters,
    [Symbol.asyncIterator]() {
      if (started) throw new Error(`${label}: a stage run can be iterated once`);
      started = true;
      return driveStage(inst, batches, { counters, label })[Symbol.asyncIterator]();
    },
    async toArray() {
      const out: Batch[] = [];
      for await (const b of run) out.push(b);
      return out;
    },
  };
  return run;
}
