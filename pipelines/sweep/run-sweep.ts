/**
 * `recpost run <pipeline> --seeds 1,2,3 --grid path=v1,v2`: a sweep. Each
 * replicate (seed × grid point, grid.ts) is `recpost run <pipeline> --set …
 * --seed s --out <out>/<replicate>` run as an independent `pipeline.run` task
 * on an engine (local worker processes by default, Redis with --redis); then
 * the comparison table over all replicates (sweep-table.ts) is written to
 * <out>/sweep.md, printed, and recorded with every replicate's outcome in
 * <out>/sweep.json (sweep-record.ts).
 *
 * - A replicate whose run.json already ended successfully with the same
 *   resolved pipeline is skipped: rerunning a sweep runs only what is
 *   missing, failed or changed.
 * - A replicate that fails (a bad grid value, a crash) is reported by name
 *   with its error; the others still run and the table covers those that
 *   finished. The sweep then fails: exit 2 when every failure is a
 *   configuration or data mistake, else 1.
 */
import * as path from 'node:path';
import { ConfigError } from '../../stages/core/config-schema.js';
import { DataError } from '../../stages/core/errors.js';
import { stderrLogger, type Logger } from '../../stages/core/logger.js';
import type { Engine } from '../engine/engine.js';
import type { ResolvedPipeline } from '../spec.js';
import type { SweepFlags } from './cli-options.js';
import { parseGrid, parseSeeds, pointLabel, replicates, type Replicate } from './grid.js';
import { PIPELINE_RUN_TASK } from './replicate-task.js';
import type { ReplicateInput, ReplicateResult } from './replicate.js';
import { SweepProgress } from './sweep-progress.js';
import type { SweepRecord, SweepReplicateRecord } from './sweep-record.js';

// The engine, the stages and the table code are imported once the flags have parsed, so a mistake in them answers at once.

/** The CLI's pipeline loader (commands/pipeline-file.ts loadPipelineForCli), passed in by `run`. */
export type LoadPipeline = (file: string, opts: { set?: string[]; seed?: number; out?: string }) => Promise<ResolvedPipeline>;

export interface SweepOptions extends SweepFlags {
  set?: string[];
  seed?: number;
  out?: string;
  quiet?: boolean;
}

export interface SweepResult {
  record: SweepRecord;
  /** The table's Markdown (also in <out>/sweep.md). */
  table: string;
  /** The error the sweep ends with when a replicate failed. */
  error?: Error;
}

export const SWEEP_TABLE_FILE = 'sweep.md';
export const SWEEP_RECORD_FILE = 'sweep.json';

interface ReplicateRun {
  rep: Replicate;
  dir: string;
  seed?: number;
  sets: string[];
  record: SweepReplicateRecord;
  input?: ReplicateInput;
  /** Resolved and not complete: to run. */
  pending: boolean;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** A user's mistake (exit 2) or something else (exit 1), as the CLI decides. */
const isUsageError = (e: unknown) => e instanceof ConfigError || e instanceof DataError;

/** Resolve every replicate as `recpost run` would; a replicate that does not resolve has failed already. */
async function planReplicates(file: string, opts: SweepOptions, load: LoadPipeline, sweepDir: string, reps: Replicate[]): Promise<ReplicateRun[]> {
  const { replicateInput, replicateOverrides } = await import('./replicate.js');
  const { completedRun } = await import('./pipeline-hash.js');
  const runs: ReplicateRun[] = [];
  for (const rep of reps) {
    const dir = path.join(sweepDir, rep.name);
    const seed = rep.seed ?? opts.seed;
    const sets = [...(opts.set ?? []), ...rep.sets];
    const record: SweepReplicateRecord = {
      name: rep.name,
      dir,
      ...(seed !== undefined ? { seed } : {}),
      grid: Object.fromEntries(rep.point.map((p) => [p.path, p.value])),
      sets,
      status: 'failed',
      wall_s: 0,
    };
    const run: ReplicateRun = { rep, dir, ...(seed !== undefined ? { seed } : {}), sets, record, pending: false };
    try {
      const p = await load(file, { set: sets, seed, out: dir });
      run.input = replicateInput(rep.name, p, { pipelineFile: file, overrides: replicateOverrides(sets, seed, dir), out: dir });
      record.pipeline_hash = run.input.hash;
      if (completedRun(dir, run.input.hash)) record.status = 'skipped';
      else run.pending = true;
    } catch (e) {
      if (!isUsageError(e)) throw e;
      record.exit_code = 2;
      record.error = firstLine(e);
    }
    runs.push(run);
  }
  return runs;
}

/** Run the pending replicates on the engine, one flow each (a failed replicate never stops the others). */
async function runOnEngine(engine: Engine, pending: ReplicateRun[], progress: SweepProgress): Promise<void> {
  await Promise.all(
    pending.map(async (run) => {
      const input = run.input!;
      const key = `${PIPELINE_RUN_TASK}/${run.rep.name}/${input.hash.slice(0, 16)}`;
      try {
        const [result] = (await engine.runFlow({ label: run.rep.name, children: [{ kind: PIPELINE_RUN_TASK, key, input }] }, (p) => {
          if (p.running > 0) progress.running(run.rep.name, p.retries);
        })) as [ReplicateResult];
        run.record.status = result.status;
        run.record.wall_s = result.wall_s;
        run.record.worker = result.worker;
        progress.finished(run.rep.name, result.status, result.status === 'skipped' ? 'was complete' : `succeeded in ${result.wall_s.toFixed(2)} s`);
      } catch (e) {
        run.record.status = 'failed';
        run.record.exit_code = isUsageError(e) ? 2 : 1;
        run.record.error = firstLine(e);
        progress.finished(run.rep.name, 'failed', `failed: ${run.record.error}`);
      }
    }),
  );
}

/** The error a sweep with failed replicates ends with: one line each. */
export function sweepError(failed: SweepReplicateRecord[], total: number, recordFile: string): Error {
  const lines = [`sweep: ${failed.length} of ${total} replicate(s) failed (see ${recordFile})`, ...failed.map((f) => `sweep: ${f.name}: ${f.error}`)];
  return failed.every((f) => f.exit_code === 2) ? new ConfigError(lines.join('\n'), lines) : new Error(lines.join('\n'));
}

export async function runSweep(file: string, opts: SweepOptions, load: LoadPipeline, log: Logger = stderrLogger(opts.quiet)): Promise<SweepResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const seeds = opts.seeds !== undefined ? parseSeeds(opts.seeds) : undefined;
  if (seeds !== undefined && opts.seed !== undefined)
    throw new ConfigError('--seed and --seeds cannot be combined: --seeds gives each replicate its seed', ['--seeds']);
  const axes = parseGrid(opts.grid ?? []);
  // The sweep's own directory: the pipeline's out_dir (or --out) without the grid and seeds.
  const base = await load(file, { set: opts.set, seed: opts.seed, out: opts.out });
  const sweepDir = opts.out ?? base.outDir;
  const reps = replicates(seeds, axes);
  const runs = await planReplicates(file, opts, load, sweepDir, reps);
  const progress = new SweepProgress(
    reps.map((r) => r.name),
    log,
  );
  const pending = runs.filter((r) => r.pending);
  for (const r of runs)
    if (r.record.status === 'skipped') progress.finished(r.rep.name, 'skipped', 'was complete (run.json succeeded with the same pipeline): skipped');
  for (const r of runs) if (r.record.error !== undefined) progress.finished(r.rep.name, 'failed', `failed: ${r.record.error}`);

  let engineInfo: SweepRecord['engine'];
  if (pending.length > 0) {
    const { defaultWorkers, openEngine } = await import('../engine/open-engine.js');
    const engine = await openEngine({ workers: opts.workers ?? Math.min(defaultWorkers(), pending.length), redis: opts.redis, queue: opts.queue });
    engineInfo = { kind: engine.kind, slots: engine.slots };
    log.info(`sweep: ${reps.length} replicate(s) of ${base.name} into ${sweepDir}: ${pending.length} to run on ${engine.slots} ${engine.kind} worker(s)`);
    try {
      await runOnEngine(engine, pending, progress);
    } finally {
      await engine.close();
    }
  }

  const { sweepTable, tableSettings } = await import('./sweep-table.js');
  const { tableRecord } = await import('./sweep-record.js');
  const { writeFileAtomic } = await import('../../stages/io/parquet.js');
  const finished = runs.filter((r) => r.record.status !== 'failed');
  const title = `Sweep of ${base.name}: ${[...(seeds ? [`seeds ${seeds.join(', ')}`] : []), ...axes.map((a) => `${a.label} ∈ {${a.values.map((v) => v.text).join(', ')}}`)].join(' × ')}`;
  const table = await sweepTable(
    finished.map((r) => ({ name: r.rep.name, dir: r.dir, pointIndex: r.rep.pointIndex, pointLabel: pointLabel(r.rep.point) })),
    tableSettings(base),
    title,
  );
  for (const w of table.warnings) log.warn(`sweep table: ${w}`);
  const tableFile = path.join(sweepDir, SWEEP_TABLE_FILE);
  writeFileAtomic(tableFile, table.text);

  const records = runs.map((r) => r.record);
  const failed = records.filter((r) => r.status === 'failed');
  const recordFile = path.join(sweepDir, SWEEP_RECORD_FILE);
  const record: SweepRecord = {
    format: 'recpost-sweep',
    version: 1,
    name: base.name,
    pipeline_file: path.resolve(file),
    out_dir: sweepDir,
    ...(seeds ? { seeds } : {}),
    grid: axes.map((a) => ({ path: a.path, label: a.label, values: a.values.map((v) => v.value) })),
    ...(engineInfo ? { engine: engineInfo } : {}),
    started_at: startedAt.toISOString(),
    ended_at: new Date().toISOString(),
    wall_s: Math.round(performance.now() - t0) / 1000,
    status: failed.length > 0 ? 'failed' : 'succeeded',
    counts: {
      total: records.length,
      succeeded: records.filter((r) => r.status === 'succeeded').length,
      skipped: records.filter((r) => r.status === 'skipped').length,
      failed: failed.length,
    },
    replicates: records,
    table: tableRecord(table, SWEEP_TABLE_FILE),
  };
  writeFileAtomic(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  return { record, table: table.text, ...(failed.length > 0 ? { error: sweepError(failed, records.length, recordFile) } : {}) };
}

/** `recpost run … --seeds/--grid`: run the sweep, print its table, and fail when a replicate failed. */
export async function runSweepCommand(file: string, opts: SweepOptions, load: LoadPipeline): Promise<void> {
  const result = await runSweep(file, opts, load);
  process.stdout.write(`${result.table.trimEnd()}\n`);
  if (result.error) throw result.error;
}
