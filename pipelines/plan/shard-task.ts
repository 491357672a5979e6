/**
 * The task a sharded step runs once per shard (kind `plan.shard`): stream
 * the shard's input parts through the step's stages with the stage driver,
 * exactly as the streaming runner would, and leave everything in the shard's
 * own area `<step dir>/shard-NNNNN/`:
 *
 * - datasets the stages write (write_parquet's `path`, …) are redirected to
 *   `out-<stage index>-<option>/` there (the coordinator's merge lists their
 *   parts in the final dataset);
 * - the stream the next step reads goes to `stream/` there;
 * - a combine stage (the step's last) is folded, not finished: its state
 *   (getState()) is part of the result;
 * - metric records and counters are part of the result, and the whole result
 *   is written last as `_done.json`, the shard-done marker.
 *
 * Every name is deterministic and every dataset is committed by the staged
 * rename, so a retried or duplicated shard writes the same files again and
 * returns the same result. The module imports nothing from the engine: the
 * engine's task catalog registers `runShardTask` under SHARD_TASK_KIND.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch } from '../../stages/core/batch.js';
import type { CombineStage, StageContext, StageCounters, StageInstance } from '../../stages/core/stage.js';
import type { DatasetPart } from '../../stages/io/manifest-read.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { decodeJsonValue, encodeJsonValue } from './json-numbers.js';

/**
 * What a shard needs beyond this module, loaded at its first task: the task
 * catalog imports this module in every worker at start, and the stage
 * registry (every stage, TensorFlow.js included) must not slow that start.
 */
async function shardModules() {
  const [artifacts, driver, stage, logger, writer, parquet, metric, registry, config, anyDataset] = await Promise.all([
    import('../../stages/core/artifacts.js'),
    import('../../stages/core/stage-driver.js'),
    import('../../stages/core/stage.js'),
    import('../../stages/core/logger.js'),
    import('./batch-parts-writer.js'),
    import('../../stages/io/parquet.js'),
    import('../../schemas/metric-record.js'),
    import('../../stages/registry.js'),
    import('../../stages/core/config-schema.js'),
    import('../../stages/io/object-store/any-dataset.js'),
  ]);
  return { ...artifacts, ...driver, ...stage, ...logger, ...writer, ...parquet, ...metric, ...registry, ...config, ...anyDataset };
}

export const SHARD_TASK_KIND = 'plan.shard';
export const SHARD_DONE_FILE = '_done.json';

export interface ShardStageInput {
  index: number;
  id: string;
  name: string;
  /** The configuration the shard runs with (outputs already redirected, shardConfig applied). */
  config: Record<string, unknown>;
  combine: boolean;
  /** Artifacts the stage publishes that go back in the result (a bucketed stage's, merged by the coordinator). */
  returns?: string[];
}

export interface ShardTaskInput {
  step: string;
  shard: number;
  shardCount: number;
  /** The shard's area: `<step dir>/shard-NNNNN`. */
  dir: string;
  outDir: string;
  runId: string;
  seed: number;
  stages: ShardStageInput[];
  /** The input dataset and this shard's parts of it (none for a step without input). */
  input?: { dataset: string; parts: DatasetPart[]; table?: string; columns?: string[]; sourceIndex?: number; buckets?: number[]; stripMeta?: boolean };
  /** Artifacts from the coordinator (JSON, numbers encoded by json-numbers.ts). */
  artifacts: Record<string, unknown>;
  /** Write the stream out of the last stage to `<dir>/stream` (one part per batch). */
  streamOut?: boolean;
  quiet?: boolean;
}

export interface ShardResult {
  step: string;
  shard: number;
  shardCount: number;
  rows: number;
  /** Counters per stage index. */
  counters: { index: number; counters: StageCounters }[];
  /** Metric records with the index of the stage that emitted them, in emission order (encoded numbers). */
  metrics: { stage: number; record: MetricRecord }[];
  /** The combine stage's state (getState()), when the step ends with one. */
  combineState?: unknown;
  /** Artifacts stages published that the coordinator merges (ShardStageInput.returns), per stage index. */
  published?: { index: number; values: Record<string, unknown> }[];
  /** Peak resident memory of the process that ran the shard so far (MB), its pid, and the CPU time the shard took there (ms, user + system). */
  worker: { pid: number; peakRssMB: number; cpuMs?: number };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function shardDirName(shard: number): string {
  return `shard-${String(shard).padStart(5, '0')}`;
}

/** Where a shard writes the dataset of stage `index`'s option `option`. */
export function shardOutputDir(shardDir: string, index: number, option: string): string {
  return path.join(shardDir, `out-${index}-${option}`);
}

async function* inputBatches(
  readDataset: (typeof import('../../stages/io/object-store/any-dataset.js'))['readAnyDataset'],
  input: ShardTaskInput['input'],
  counters?: StageCounters,
): AsyncGenerator<Batch> {
  if (!input || input.parts.length === 0) return;
  // A bucketed input is read part by part, each batch tagged with its part's user bucket (meta.bucket).
  const reads = input.buckets
    ? input.parts.map((p, k) => ({ parts: [p], bucket: input.buckets![k] }))
    : [{ parts: input.parts, bucket: undefined as number | undefined }];
  for (const r of reads) yield* readParts(readDataset, input, r.parts, r.bucket, counters);
}

async function* readParts(
  readDataset: (typeof import('../../stages/io/object-store/any-dataset.js'))['readAnyDataset'],
  input: NonNullable<ShardTaskInput['input']>,
  parts: DatasetPart[],
  bucket: number | undefined,
  counters?: StageCounters,
): AsyncGenerator<Batch> {
  const listing = { kind: 'recpost' as const, parts };
  for await (const b of readDataset(input.dataset, { listing, table: input.table, columns: input.columns, what: 'a shard' })) {
    if (input.stripMeta) delete b.meta;
    if (bucket !== undefined) b.meta = { ...b.meta, bucket };
    if (counters) {
      counters.rowsOut += b.numRows;
      counters.batchesOut++;
    }
    yield b;
  }
}

/** Fold batches into a combine stage's state and pass them on; the state is read with getState() at the end. */
async function* foldCombine(inst: CombineStage<unknown>, input: AsyncIterable<Batch>, counters: StageCounters, label: string): AsyncGenerator<Batch> {
  let state = inst.init();
  for await (const b of input) {
    counters.rowsIn += b.numRows;
    counters.batchesIn++;
    const t0 = performance.now();
    try {
      state = inst.add(state, b);
    } catch (e) {
      if (e instanceof Error && !e.message.startsWith('stage ')) e.message = `${label}: ${e.message}`;
      throw e;
    } finally {
      counters.busyMs += performance.now() - t0;
    }
    counters.rowsOut += b.numRows;
    counters.batchesOut++;
    yield b;
  }
}

export async function runShardTask(raw: unknown, task: { progress(p: { rows?: number }): void }): Promise<ShardResult> {
  const input = raw as ShardTaskInput;
  const cpu0 = cpuMs();
  const { ArtifactMap, driveStage, stageShape, stderrLogger, BatchPartsWriter, readAnyDataset, writeFileAtomic, metricRecord, getStage, ConfigError } =
    await shardModules();
  const metrics: ShardResult['metrics'] = [];
  const counters: ShardResult['counters'] = [];
  const artifacts = new ArtifactMap(Object.entries(decodeJsonValue(input.artifacts) as Record<string, unknown>));
  const log = stderrLogger(input.quiet ?? true);
  let stream: AsyncIterable<Batch> = (async function* () {})();
  let combine: StageInstance | undefined;
  for (const s of input.stages) {
    const c: StageCounters = { rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 };
    counters.push({ index: s.index, counters: c });
    if (input.input?.sourceIndex === s.index) {
      stream = inputBatches(readAnyDataset, input.input, c);
      continue;
    }
    if (s === input.stages[0] && input.input) stream = inputBatches(readAnyDataset, input.input);
    const def = getStage(s.name);
    if (!def) throw new ConfigError(`shard ${input.step}/${input.shard}: unknown stage "${s.name}" in this worker`, ['stage']);
    const ctx: StageContext = {
      outDir: input.outDir,
      runId: input.runId,
      seed: input.seed,
      log,
      progress: false,
      artifacts,
      counters: c,
      allMetrics: () => metrics.map((m) => m.record),
      emitMetric(rec) {
        metrics.push({ stage: s.index, record: metricRecord({ ...rec, run: rec.run ?? input.runId }) });
      },
    };
    const label = `stage "${s.id}" (stages[${s.index}])`;
    const inst = def.create(s.config, ctx);
    if (s.combine) {
      if (stageShape(inst) !== 'combine') throw new Error(`${label}: planned as a combine but its instance has no init/add/merge/finish`);
      combine = inst;
      stream = foldCombine(inst as CombineStage<unknown>, stream, c, label);
    } else stream = driveStage(inst, stream, { counters: c, label });
  }
  let rows = 0;
  const writer = input.streamOut ? new BatchPartsWriter(path.join(input.dir, 'stream')) : undefined;
  try {
    for await (const b of stream) {
      rows += b.numRows;
      writer?.write(b);
      task.progress({ rows });
    }
    writer?.commit();
  } catch (e) {
    writer?.abort();
    throw e;
  }
  const returned = input.stages
    .filter((s) => s.returns?.length)
    .map((s) => ({ index: s.index, values: Object.fromEntries(s.returns!.map((k) => [k, artifacts.get(k as never)])) }));
  const result: ShardResult = {
    step: input.step,
    shard: input.shard,
    shardCount: input.shardCount,
    rows,
    counters,
    metrics,
    ...(combine ? { combineState: combine.getState?.() } : {}),
    ...(returned.length ? { published: returned } : {}),
    worker: { pid: process.pid, peakRssMB: process.resourceUsage().maxRSS / 1024, cpuMs: cpuMs() - cpu0 },
  };
  const encoded = encodeJsonValue(result) as ShardResult;
  writeFileAtomic(path.join(input.dir, SHARD_DONE_FILE), JSON.stringify(encoded));
  return encoded;
}

/** The shard-done marker of a shard area, or undefined when the shard has not finished. */
export function readShardDone(dir: string): ShardResult | undefined {
  const file = path.join(dir, SHARD_DONE_FILE);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ShardResult;
}
