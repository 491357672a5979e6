/**
 * Static sharding, for clusters without Redis (a Kubernetes indexed job, a
 * Slurm array): `recpost run P --shard-index I --shard-count N` runs shard I
 * of the pipeline's next sharded step and leaves its outputs and its
 * shard-done marker under `<out_dir>/.recpost/steps/<step>/shard-NNNNN/`;
 * `recpost merge P` checks that all N shards of that step are done, merges
 * them, runs the whole steps that follow, and stops before the next sharded
 * step (or at the end). A step that reads the merged result of the one
 * before it (weighting after statistics) can only start after that merge, so
 * a pipeline with k sharded steps runs as k rounds of "N shards, then one
 * merge"; `merge` says what comes next. A pipeline that starts with a whole
 * step (ingest, a simulator) begins with a `merge`, which runs it.
 *
 * Between invocations the coordinator's state — which steps are done, the
 * dataset the next step reads, and the artifacts that are plain JSON (the
 * reward statistics summary, dataset manifests) — is kept in
 * `<out_dir>/.recpost/steps/_static.json`. Every invocation must be given the
 * same pipeline, --set, --seed and --out (the step ids hash them: a changed
 * configuration finds no shards).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../stages/core/config-schema.js';
import { ARTIFACT } from '../../stages/core/artifacts.js';
import { writeFileAtomic } from '../../stages/io/parquet.js';
import { openMetricsLog, pipelineResumes } from '../metrics-log.js';
import { finishRunRecord, startRunRecord } from '../run-record.js';
import type { RunOptions, RunResult } from '../runner.js';
import type { ResolvedPipeline } from '../spec.js';
import type { PlanStep, ShardedStep } from './compile.js';
import { checkShardTargets } from './dataset-merge.js';
import { decodeJsonValue, encodeJsonValue } from './json-numbers.js';
import { PlanCoordinator, type StepInput } from './plan-runner.js';
import { readShardDone, runShardTask, SHARD_DONE_FILE } from './shard-task.js';

export const STATIC_STATE_FILE = '_static.json';

interface StaticState {
  version: 1;
  shardCount: number;
  /** Ids of the steps done (whole steps run, sharded steps merged), in order. */
  done: string[];
  input?: StepInput;
  /** Artifacts that are plain JSON values, encoded (json-numbers.ts). */
  artifacts: Record<string, unknown>;
}

function statePath(c: PlanCoordinator): string {
  return path.join(c.root, STATIC_STATE_FILE);
}

function readState(c: PlanCoordinator, shardCount: number): StaticState {
  const file = statePath(c);
  if (!fs.existsSync(file)) return { version: 1, shardCount, done: [], artifacts: {} };
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as StaticState;
  if (s.shardCount !== shardCount)
    throw new ConfigError(
      `--shard-count ${shardCount}: this run (${c.outDir}) was started with --shard-count ${s.shardCount}; use the same count, or a fresh --out`,
      ['shard-count'],
    );
  for (const [k, v] of Object.entries(decodeJsonValue(s.artifacts) as Record<string, unknown>)) c.artifacts.set(k as never, v as never);
  return s;
}

function isPlainJson(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return typeof v !== 'function' && typeof v !== 'bigint' && typeof v !== 'symbol';
  return Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype;
}

function saveState(c: PlanCoordinator, s: StaticState): void {
  const artifacts: Record<string, unknown> = {};
  for (const [k, v] of c.artifacts) if (k !== ARTIFACT.stageReports && isPlainJson(v)) artifacts[k] = v;
  s.artifacts = encodeJsonValue(artifacts) as Record<string, unknown>;
  writeFileAtomic(statePath(c), JSON.stringify(s));
}

function pendingStep(c: PlanCoordinator, s: StaticState): PlanStep | undefined {
  return c.steps.find((st) => !s.done.includes(st.id));
}

function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer (got ${n})`, [name]);
}

export interface StaticShardOutcome {
  step: string;
  shard: number;
  shardCount: number;
  rows: number;
}

/** Run shard `shardIndex` of the pipeline's next sharded step (`recpost run --shard-index I --shard-count N`). */
export async function runStaticShard(p: ResolvedPipeline, opts: RunOptions & { shardIndex: number; shardCount: number }): Promise<StaticShardOutcome> {
  checkCount('--shard-count', opts.shardCount);
  if (!Number.isInteger(opts.shardIndex) || opts.shardIndex < 0 || opts.shardIndex >= opts.shardCount)
    throw new ConfigError(`--shard-index must be an integer in [0, ${opts.shardCount - 1}] (got ${opts.shardIndex})`, ['shard-index']);
  const c = new PlanCoordinator(p, opts);
  const state = readState(c, opts.shardCount);
  const step = pendingStep(c, state);
  if (!step)
    throw new ConfigError(`${c.outDir}: every step of this pipeline is done and merged; nothing to shard (use a fresh --out to run it again)`, ['shard-index']);
  if (step.kind === 'whole')
    throw new ConfigError(
      `step ${step.id} (${step.stages.map((s) => s.id).join(', ')}) runs whole: run \`recpost merge\` first; it runs whole steps and merges`,
      ['shard-index'],
    );
  // As the engine run does before a step's shards: a target on the object store that cannot be written fails here, with the
  // one-process run's message; every sharded step still to come is checked, so the first shard already finds a bad target.
  await checkShardTargets(c.steps.filter((st): st is ShardedStep => st.kind === 'sharded' && !state.done.includes(st.id)));
  const task = (await c.shardTasks(step, state.input, opts.shardCount, true))[opts.shardIndex]!;
  const r = await runShardTask(task.input, { progress: () => undefined });
  return { step: step.id, shard: opts.shardIndex, shardCount: opts.shardCount, rows: r.rows };
}

export interface StaticMergeOutcome {
  /** Steps merged or run by this invocation. */
  advanced: string[];
  /** The sharded step whose shards must run next, or undefined when the pipeline is finished. */
  next?: string;
  result: RunResult;
}

/** `recpost merge`: merge the pending sharded step, run the whole steps after it, stop before the next sharded step. */
export async function mergeStatic(p: ResolvedPipeline, opts: RunOptions & { shardCount: number }): Promise<StaticMergeOutcome> {
  checkCount('--shard-count', opts.shardCount);
  const c = new PlanCoordinator(p, opts);
  const state = readState(c, opts.shardCount);
  const writeFiles = opts.writeFiles ?? true;
  const runRecord = writeFiles ? startRunRecord(p, c.outDir, opts.record) : undefined;
  c.metricsLog = writeFiles ? openMetricsLog(c.outDir, { resume: state.done.length > 0 || pipelineResumes(p) }) : undefined;
  const advanced: string[] = [];
  let next: string | undefined;
  try {
    for (let step = pendingStep(c, state); step; step = pendingStep(c, state)) {
      if (step.kind === 'whole') {
        state.input = await c.runWholeStep(step, state.input);
      } else {
        const tasks = await c.shardTasks(step, state.input, opts.shardCount, true);
        const markers = tasks.map((t) => readShardDone(t.input.dir));
        const missing = markers.flatMap((m, i) => (m && m.shardCount === opts.shardCount && m.step === step!.id ? [] : [i]));
        if (missing.length === tasks.length && advanced.length > 0) {
          next = step.id;
          break;
        }
        if (missing.length > 0)
          throw new ConfigError(
            `step ${step.id}: shard(s) ${missing.join(', ')} of ${opts.shardCount} not done (no ${SHARD_DONE_FILE} under ${c.stepDir(step)}); run them with --shard-index I --shard-count ${opts.shardCount}, then merge again`,
            ['shards'],
          );
        state.input = await c.mergeStep(step, tasks, markers);
      }
      state.done.push(step.id);
      advanced.push(step.id);
      saveState(c, state);
    }
  } catch (e) {
    if (runRecord) finishRunRecord(runRecord, e);
    throw e;
  } finally {
    c.metricsLog?.close();
  }
  const wallMs = performance.now() - c.t0;
  if (writeFiles) c.writeReport(wallMs);
  if (runRecord) finishRunRecord(runRecord);
  return { advanced, ...(next ? { next } : {}), result: c.result(wallMs) };
}
