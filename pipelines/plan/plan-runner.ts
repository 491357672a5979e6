/**
 * The sharded runner: runs a compiled plan (compile.ts) with an engine. Whole
 * steps run here, in the coordinator, exactly as the streaming runner runs
 * stages; each sharded step becomes one flow of `plan.shard` tasks
 * (shard-task.ts), one per group of consecutive input parts, and its merge
 * runs here when every shard is done:
 *
 * - datasets the stages wrote per shard are committed as one dataset
 *   (dataset-merge.ts: parts in shard order, one manifest, the staged rename);
 * - the stream the next step reads is committed the same way, as the
 *   intermediate dataset `<step dir>/stream`;
 * - a combine stage's shard states are restored, merged in shard order and
 *   finished here, so its artifacts and files are the coordinator's;
 * - metric records come back in the results and are emitted here in shard
 *   order (per-batch records, split "batch", renumbered as one sequence);
 *   counters are summed into the per-stage report.
 *
 * Nothing is shared in memory with the tasks: their inputs and results are
 * JSON and their files lie under the run directory, so the same flows run on
 * the local engine or on workers of other machines sharing the filesystem.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch } from '../../stages/core/batch.js';
import { ARTIFACT, ArtifactMap, datasetArtifact } from '../../stages/core/artifacts.js';
import type { CombineStage, StageContext, StageInstance } from '../../stages/core/stage.js';
import { driveStage, withStageLabel } from '../../stages/core/stage-driver.js';
import { stderrLogger, type Logger } from '../../stages/core/logger.js';
import { formatCount } from '../../stages/core/progress.js';
import { BatchPartsWriter } from './batch-parts-writer.js';
import type { IngestConfig } from '../../stages/ingest/ingest-config.js';
import type { DatasetListing, DatasetPart } from '../../stages/io/manifest-read.js';
import { canonicalPath } from '../../stages/io/manifest-claims.js';
import { DatasetError } from '../../stages/io/manifest.js';
import { listAnyDataset, readAnyDataset } from '../../stages/io/object-store/any-dataset.js';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { openMetricsLog, pipelineResumes, type MetricsLog } from '../metrics-log.js';
import { finishRunRecord, startRunRecord } from '../run-record.js';
import type { RunOptions, RunResult, StageReport } from '../runner.js';
import type { ResolvedPipeline, ResolvedStage } from '../spec.js';
import { compilePlan, configHash, stepsDir, type PlanStep, type ShardedStep, type WholeStep } from './compile.js';
import { checkShardTargets, mergeShardDatasets, mergeShardOutputs, shardOutputFor } from './dataset-merge.js';
import { runCheckpointStep } from './checkpoint-step.js';
import { decodeJsonValue, encodeJsonValue } from './json-numbers.js';
import { SHARD_TASK_KIND, shardDirName, type ShardResult, type ShardTaskInput } from './shard-task.js';

/** What the plan runner needs of an engine (pipelines/engine/engine.ts's Engine has this shape). */
export interface ShardEngine {
  readonly kind: string;
  readonly slots: number;
  runFlow(
    flow: { label: string; children: { kind: string; key: string; input: unknown }[] },
    onProgress?: (p: { label: string; done: number; total: number; rows: number; retries: number; running: number }) => void,
  ): Promise<unknown>;
}

export interface PlanRunOptions extends RunOptions {
  engine: ShardEngine;
  /** Shards per sharded step (default: the engine's slots); fewer when the input has fewer parts. */
  shards?: number;
  /** Keep `<out_dir>/.recpost/steps` after a successful run (default: removed). */
  keepSteps?: boolean;
}

/**
 * Consecutive parts in `count` groups of near-equal part counts: never an
 * empty group unless there are no parts, or with `exact` exactly `count`
 * groups (static sharding: every shard index exists, some may be empty).
 */
export function groupParts<T>(parts: T[], count: number, exact = false): T[][] {
  const k = exact ? count : Math.max(1, Math.min(count, parts.length));
  return Array.from({ length: k }, (_v, i) => parts.slice(Math.floor((i * parts.length) / k), Math.floor(((i + 1) * parts.length) / k)));
}

async function* noInput(): AsyncGenerator<Batch> {}

async function* readStepInput(input: StepInput): AsyncGenerator<Batch> {
  for await (const b of readAnyDataset(input.dataset, { table: input.table, columns: input.columns, what: 'the plan runner' })) {
    if (input.intermediate) delete b.meta;
    yield b;
  }
}

/** The stages after a step's first as a sharded step of their own (its id derived from the step's), or undefined when there are none. */
function restAfterFirst(step: ShardedStep): ShardedStep | undefined {
  const stages = step.stages.slice(1);
  const plans = step.plans.slice(1);
  if (stages.length === 0) return undefined;
  const first = stages[0]!;
  return {
    kind: 'sharded',
    id: `${first.index}-${first.def.name}-${configHash(step.id)}`,
    stages,
    plans,
    outputNeeded: step.outputNeeded,
    outputIsInput: plans.every((pl) => pl.passThrough === true),
  };
}

/** One shard per user bucket of a bucketed dataset (its listing), in bucket order: the bucket's parts in manifest order. */
export function bucketGroups(listing: DatasetListing): { parts: DatasetPart[]; buckets: number[] }[] {
  const files = listing.manifest?.files ?? [];
  const byBucket = new Map<number, DatasetPart[]>();
  listing.parts.forEach((part, k) => {
    const b = files[k]?.bucket ?? 0;
    const list = byBucket.get(b) ?? [];
    list.push(part);
    byBucket.set(b, list);
  });
  return [...byBucket.keys()]
    .sort((a, b) => a - b)
    .map((b) => {
      const parts = byBucket.get(b)!;
      return { parts, buckets: parts.map(() => b) };
    });
}

/** Where the coordinator stands between steps: what the next step reads. */
export interface StepInput {
  dataset: string;
  table?: string;
  /** Read only these columns (a read_parquet source's `columns`, passed on). */
  columns?: string[];
  /** A stream materialised between steps: its batches are read without the reader's per-file facts (meta), as one process hands them on. */
  intermediate?: boolean;
}

/**
 * The coordinator's side of a plan: the run's artifacts, counters and metric
 * records, the whole steps, the shard tasks of a sharded step and its merge.
 * runPlanned drives it with an engine; static sharding (static-shards.ts)
 * drives it one step per invocation.
 */
export class PlanCoordinator {
  readonly outDir: string;
  readonly log: Logger;
  readonly artifacts: ArtifactMap;
  readonly metrics: MetricRecord[] = [];
  readonly reports: StageReport[];
  readonly instances: StageInstance[] = [];
  readonly steps: PlanStep[];
  readonly root: string;
  private readonly progress: boolean;
  private readonly runId: string;
  readonly t0 = performance.now();
  metricsLog: MetricsLog | undefined;

  constructor(
    readonly p: ResolvedPipeline,
    readonly opts: RunOptions & { shards?: number; ranges?: boolean },
  ) {
    this.outDir = opts.outDir ?? p.outDir;
    fs.mkdirSync(this.outDir, { recursive: true });
    this.log = opts.logger ?? stderrLogger(opts.quiet);
    this.progress = opts.progress ?? (!opts.quiet && Boolean(process.stderr.isTTY));
    this.artifacts = opts.artifacts ?? new ArtifactMap();
    this.runId = p.name;
    this.reports = p.stages.map((rs) => ({ id: rs.id, stage: rs.def.name, wallMs: 0, rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 }));
    this.artifacts.set(ARTIFACT.stageReports, this.reports);
    this.steps = compilePlan(p, { ranges: opts.ranges ?? false, buckets: opts.ranges ?? false });
    this.root = stepsDir(this.outDir);
  }

  stepDir(step: PlanStep): string {
    return path.join(this.root, step.id);
  }

  emit(full: MetricRecord): void {
    this.metrics.push(full);
    this.metricsLog?.write(full);
  }

  ctxFor(rs: ResolvedStage): StageContext {
    return {
      outDir: this.outDir,
      runId: this.runId,
      seed: this.p.seed,
      log: this.log,
      progress: this.progress,
      artifacts: this.artifacts,
      counters: this.reports[rs.index]!,
      allMetrics: () => this.metrics,
      emitMetric: (rec) => this.emit(metricRecord({ ...rec, run: rec.run ?? this.runId })),
    };
  }

  /** Run a whole step here; returns the intermediate dataset the next step reads, if it needs one. */
  async runWholeStep(step: WholeStep, input: StepInput | undefined): Promise<StepInput | undefined> {
    let stream: AsyncIterable<Batch> = input ? readStepInput(input) : noInput();
    for (const rs of step.stages) {
      let inst: StageInstance;
      try {
        inst = rs.def.create(rs.config, this.ctxFor(rs));
      } catch (e) {
        throw withStageLabel(e, labelOf(rs));
      }
      this.instances.push(inst);
      const report = this.reports[rs.index]!;
      stream = driveStage(inst, stream, {
        counters: report,
        label: labelOf(rs),
        drainInputFirst: rs.def.role === 'source' && rs.index > 0,
        onOutput: () => {
          report.wallMs = performance.now() - this.t0;
        },
      });
    }
    return step.outputNeeded ? await materialise(stream, path.join(this.stepDir(step), 'stream')) : await drain(stream);
  }

  /** The tasks of a sharded step: one per group of consecutive input parts (at most `shardCount`). */
  async shardTasks(
    step: ShardedStep,
    prev: StepInput | undefined,
    shardCount: number,
    exact = false,
    bucketed = false,
  ): Promise<{ kind: string; key: string; input: ShardTaskInput }[]> {
    const first = step.stages[0]!;
    let source: NonNullable<ShardTaskInput['input']> | undefined;
    // The parts are listed here (on the object store: the manifest and a listing); each shard reads its own.
    let listing: DatasetListing | undefined;
    if (step.sourceOption) {
      const dataset = String(first.config[step.sourceOption]);
      listing = await listAnyDataset(dataset);
      if (listing.notice) this.log.warn(`${first.id}: ${listing.notice}`);
      const table = first.config.table as string | undefined;
      const columns = first.config.columns as string[] | undefined;
      source = { dataset, parts: listing.parts, ...(table ? { table } : {}), ...(columns ? { columns } : {}), sourceIndex: first.index };
    } else if (prev) {
      listing = await listAnyDataset(prev.dataset);
      source = {
        dataset: prev.dataset,
        parts: listing.parts,
        ...(prev.table ? { table: prev.table } : {}),
        ...(prev.columns ? { columns: prev.columns } : {}),
        ...(prev.intermediate ? { stripMeta: true } : {}),
      };
    }
    if (source) {
      // As the streaming runner refuses a writer whose output is its input (manifest-claims.ts), before any shard runs.
      const inputDir = canonicalPath(source.dataset);
      step.stages.forEach((rs, i) => {
        for (const opt of step.plans[i]!.outputs ?? []) {
          const target = rs.config[opt];
          if (typeof target !== 'string') continue;
          const out = canonicalPath(target);
          if (out === inputDir || out.startsWith(inputDir + path.sep) || inputDir.startsWith(out + path.sep))
            throw new DatasetError(`${rs.def.name}: output ${target} is the input ${source!.dataset} of this step; choose another output`);
        }
      });
    }
    const groups: { parts: DatasetPart[]; buckets?: number[] }[] = bucketed
      ? bucketGroups(listing!)
      : groupParts(source?.parts ?? [], shardCount, exact).map((parts) => ({ parts }));
    const shipped: Record<string, unknown> = {};
    for (const plan of step.plans) for (const key of plan.artifacts ?? []) if (this.artifacts.has(key)) shipped[key] = this.artifacts.get(key as never);
    const stepDir = this.stepDir(step);
    return groups.map(({ parts, buckets }, shard) => {
      const dir = path.join(stepDir, shardDirName(shard));
      const stages = step.stages.map((rs, i) => {
        const plan = step.plans[i]!;
        const config: Record<string, unknown> = { ...rs.config, ...(plan.shardConfig ?? {}) };
        for (const opt of plan.outputs ?? [])
          if (typeof rs.config[opt] === 'string') config[opt] = shardOutputFor(rs.config[opt], step.id, shard, dir, rs.index, opt);
        const returns = Object.keys(plan.merged?.artifacts ?? {});
        return { index: rs.index, id: rs.id, name: rs.def.name, config, combine: plan.by === 'combine', ...(returns.length ? { returns } : {}) };
      });
      const taskInput: ShardTaskInput = {
        step: step.id,
        shard,
        shardCount: groups.length,
        dir,
        outDir: this.outDir,
        runId: this.runId,
        seed: this.p.seed,
        stages,
        ...(source ? { input: { ...source, parts, ...(buckets ? { buckets } : {}) } } : {}),
        artifacts: encodeJsonValue(shipped) as Record<string, unknown>,
        ...(step.outputNeeded && !step.outputIsInput ? { streamOut: true } : {}),
        quiet: true,
      };
      return { kind: SHARD_TASK_KIND, key: `${step.id}/${shardDirName(shard)}`, input: taskInput };
    });
  }

  /**
   * Whether a user_bucket step reads the ingest's bucketed dataset (the one
   * the stage, run whole, would find in ARTIFACT.dataset and follow): only
   * then are its shards buckets. Otherwise it runs whole, as in one process.
   */
  readsBucketedDataset(prev: StepInput | undefined): boolean {
    const ds = this.artifacts.get(ARTIFACT.dataset);
    if (!prev || !ds || !ds.manifest.files.some((f) => f.bucket !== undefined)) return false;
    return canonicalPath(prev.dataset) === canonicalPath(ds.dir);
  }

  /** Merge a sharded step's results (in shard order); returns the intermediate dataset the next step reads, if any. */
  async mergeStep(step: ShardedStep, tasks: { input: ShardTaskInput }[], rawResults: unknown[]): Promise<StepInput | undefined> {
    const results = rawResults.map((r) => decodeJsonValue(r) as ShardResult);
    // Artifacts a bucketed stage published per shard: merged in shard (bucket) order, published, its records made once, first.
    const mergedStages = new Set<number>();
    step.stages.forEach((rs, i) => {
      const merged = step.plans[i]!.merged;
      if (!merged) return;
      mergedStages.add(rs.index);
      const values: Record<string, unknown> = {};
      for (const [key, merge] of Object.entries(merged.artifacts)) {
        for (const r of results) {
          const v = r.published?.find((x) => x.index === rs.index)?.values[key];
          if (v === undefined) continue;
          values[key] = values[key] === undefined ? v : merge(values[key], v);
        }
        if (values[key] !== undefined) this.artifacts.set(key as never, values[key] as never);
      }
      merged.emit?.(values, this.ctxFor(rs));
    });
    // Counters and metric records, in shard order; per-batch records continue one batch sequence.
    const batchesBefore = new Map<number, number>();
    for (const r of results) {
      const offsets = new Map(r.counters.map((c) => [c.index, batchesBefore.get(c.index) ?? 0]));
      for (const m of r.metrics) {
        if (mergedStages.has(m.stage)) continue;
        const shift = m.record.split === 'batch' ? (offsets.get(m.stage) ?? 0) : 0;
        this.emit({ ...m.record, step: m.record.step + shift });
      }
      for (const { index, counters } of r.counters) {
        const rep = this.reports[index]!;
        rep.rowsIn += counters.rowsIn;
        rep.rowsOut += counters.rowsOut;
        rep.batchesIn += counters.batchesIn;
        rep.batchesOut += counters.batchesOut;
        rep.busyMs += counters.busyMs;
        batchesBefore.set(index, (batchesBefore.get(index) ?? 0) + counters.batchesIn);
      }
    }
    const now = performance.now() - this.t0;
    for (const rs of step.stages) this.reports[rs.index]!.wallMs = now;
    // Datasets the stages wrote per shard → the datasets the pipeline names.
    for (const [i, rs] of step.stages.entries()) {
      for (const opt of step.plans[i]!.outputs ?? []) {
        const target = rs.config[opt];
        if (typeof target !== 'string') continue;
        const m = await mergeShardOutputs(
          tasks.map((t) => shardOutputFor(target, step.id, t.input.shard, t.input.dir, rs.index, opt)),
          target,
          rs.def.name,
        );
        this.artifacts.set(datasetArtifact(target), m);
        this.log.info(`${rs.def.name}: ${m.rows} rows in ${m.files.length} file(s) from ${tasks.length} shard(s) → ${target}`);
      }
    }
    // A combine stage: restore each shard's state, merge in shard order, finish here.
    const last = step.stages[step.stages.length - 1]!;
    const lastPlan = step.plans[step.plans.length - 1]!;
    if (lastPlan.by === 'combine') {
      const config = { ...last.config, ...(lastPlan.shardConfig ?? {}) };
      const scratch = { ...this.ctxFor(last), counters: { rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 }, emitMetric: () => undefined };
      const finisher = last.def.create(config, this.ctxFor(last)) as CombineStage<unknown>;
      this.instances.push(finisher);
      let merged: unknown;
      for (const r of results) {
        const inst = last.def.create(config, scratch) as CombineStage<unknown>;
        inst.setState!(r.combineState);
        const s = inst.init();
        merged = merged === undefined ? s : finisher.merge(merged, s);
      }
      const out = await finisher.finish(merged, () => {
        throw new Error(`${labelOf(last)}: a combine stage that emits batches at finish cannot run sharded`);
      });
      if (out !== undefined) throw new Error(`${labelOf(last)}: a combine stage that returns batches at finish cannot run sharded`);
    }
    if (!step.outputNeeded) return undefined;
    if (step.outputIsInput) {
      const src = tasks[0]?.input.input;
      return src
        ? {
            dataset: src.dataset,
            ...(src.table ? { table: src.table } : {}),
            ...(src.columns ? { columns: src.columns } : {}),
            ...(src.stripMeta ? { intermediate: true } : {}),
          }
        : undefined;
    }
    const dataset = path.join(this.stepDir(step), 'stream');
    const m = mergeShardDatasets(
      tasks.map((t) => path.join(t.input.dir, 'stream')),
      dataset,
      'plan',
    );
    return { dataset, ...(m.table ? { table: m.table } : {}), intermediate: true };
  }

  /** Ingest as two flows on the engine (ingest-plan.ts); publishes what the ingest stage publishes. */
  async runIngestStep(engine: ShardEngine, step: ShardedStep, shardCount: number): Promise<StepInput | undefined> {
    const rs = step.stages[0]!;
    const cfg = rs.config as unknown as IngestConfig;
    const { runIngestFlows } = await import('./ingest-plan.js');
    const t0 = performance.now();
    const s = await runIngestFlows(engine, cfg, step.id, this.stepDir(step), shardCount);
    // The whole run's summary lines and metric records (rows, rejections, users, items, rows/s over both flows).
    const { publishIngestArtifacts, reportSummary } = await import('../../stages/ingest/ingest-run.js');
    const ctx = this.ctxFor(rs);
    reportSummary({ ...s, seconds: (performance.now() - t0) / 1000 }, cfg, {
      log: this.log,
      progress: false,
      seed: this.p.seed,
      emitMetric: (r) => ctx.emitMetric(r),
    });
    publishIngestArtifacts(this.artifacts, cfg, s);
    const rep = this.reports[rs.index]!;
    rep.rowsOut += s.rows;
    rep.wallMs = performance.now() - this.t0;
    return step.outputNeeded ? { dataset: cfg.output, table: 'interactions' } : undefined;
  }

  /** Write report.json (as the streaming runner does). */
  writeReport(wallMs: number): void {
    fs.writeFileSync(path.join(this.outDir, 'report.json'), JSON.stringify({ name: this.p.name, wallMs, stages: this.reports }, null, 2));
  }

  result(wallMs: number): RunResult {
    return {
      name: this.p.name,
      outDir: this.outDir,
      stages: this.reports,
      metrics: this.metrics,
      artifacts: this.artifacts,
      wallMs,
      instances: this.instances,
    };
  }
}

function labelOf(rs: ResolvedStage): string {
  return `stage "${rs.id}" (stages[${rs.index}])`;
}

/** Run a pipeline's plan on an engine: whole steps here, sharded steps as flows of shard tasks. */
export async function runPlanned(p: ResolvedPipeline, opts: PlanRunOptions): Promise<RunResult> {
  const c = new PlanCoordinator(p, { ...opts, ranges: true });
  const writeFiles = opts.writeFiles ?? true;
  const runRecord = writeFiles ? startRunRecord(p, c.outDir, opts.record) : undefined;
  c.metricsLog = writeFiles ? openMetricsLog(c.outDir, { resume: pipelineResumes(p) }) : undefined;
  const shardCount = opts.shards ?? opts.engine.slots;
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shards must be a positive integer (got ${shardCount})`);
  let input: StepInput | undefined;
  try {
    for (const step of c.steps) {
      if (step.kind === 'whole') {
        input = step.checkpoints ? await runCheckpointStep(c, opts.engine, step, input) : await c.runWholeStep(step, input);
        continue;
      }
      if (step.plans[0]!.by === 'ranges') {
        input = await c.runIngestStep(opts.engine, step, shardCount);
        continue;
      }
      let sharded: ShardedStep = step;
      const bucketed = step.plans[0]!.by === 'user_bucket' && c.readsBucketedDataset(input);
      if (step.plans[0]!.by === 'user_bucket' && !bucketed) {
        // Not the ingest's bucketed dataset: the bucketed stage runs whole here, the per-part stages after it as their own step.
        const rest = restAfterFirst(step);
        input = await c.runWholeStep({ kind: 'whole', id: step.id, stages: [step.stages[0]!], outputNeeded: rest !== undefined || step.outputNeeded }, input);
        if (!rest) continue;
        sharded = rest;
      }
      await checkShardTargets([sharded]);
      const tasks = await c.shardTasks(sharded, input, shardCount, false, bucketed);
      const t = performance.now();
      let lastLine = 0;
      const results = (await opts.engine.runFlow({ label: sharded.id, children: tasks }, (pr) => {
        const now = performance.now();
        if (opts.quiet || (now - lastLine < 1000 && pr.done < pr.total)) return;
        lastLine = now;
        const rate = pr.rows > 0 ? `, ${formatCount((pr.rows * 1000) / Math.max(1, now - t))} rows/s` : '';
        c.log.info(`${sharded.stages.map((s) => s.id).join('+')}: ${pr.done}/${pr.total} shards${rate}${pr.retries ? `, ${pr.retries} retries` : ''}`);
      })) as unknown[];
      input = await c.mergeStep(sharded, tasks, results);
    }
  } catch (e) {
    if (runRecord) finishRunRecord(runRecord, e);
    throw e;
  } finally {
    c.metricsLog?.close();
  }
  const wallMs = performance.now() - c.t0;
  if (!opts.keepSteps) for (const s of c.steps) fs.rmSync(c.stepDir(s), { recursive: true, force: true });
  if (writeFiles) c.writeReport(wallMs);
  if (runRecord) finishRunRecord(runRecord);
  return c.result(wallMs);
}

async function materialise(stream: AsyncIterable<Batch>, dir: string): Promise<StepInput> {
  const writer = new BatchPartsWriter(dir);
  try {
    for await (const b of stream) writer.write(b);
    const m = writer.commit();
    return { dataset: dir, ...(m.table ? { table: m.table } : {}), intermediate: true };
  } catch (e) {
    writer.abort();
    throw e;
  }
}

async function drain(stream: AsyncIterable<Batch>): Promise<undefined> {
  for await (const _b of stream);
  return undefined;
}

export type { PlanStep };
