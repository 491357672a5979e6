/**
 * One replicate of a sweep, as the `pipeline.run` task runs it in a worker.
 *
 * The coordinator resolves the replicate exactly as `recpost run <file> --set …
 * --seed s --out <dir>` would (the CLI's loader: --set, --seed, --out, input
 * paths, checks) and sends the resolved pipeline as JSON, the same document
 * run.json records; the worker validates it again (resolving a resolved
 * pipeline gives it back unchanged, a test checks this on every shipped
 * pipeline) and runs it with the normal runner. A replicate whose run.json
 * already says it succeeded with the same resolved pipeline is skipped, so
 * running the task twice leaves the same files (idempotent, as an engine's
 * at-least-once delivery requires).
 */
import * as fs from 'node:fs';
import type { Logger } from '../../stages/core/logger.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { resolvePipeline, type ResolvedPipeline } from '../spec.js';
import { completedRun, pipelineHash, recordedPipeline } from './pipeline-hash.js';

/** The task's input (JSON). */
export interface ReplicateInput {
  /** Replicate name (its directory's base name), for messages. */
  name: string;
  /** Working directory of the sweep: relative paths mean what they meant there. */
  cwd: string;
  /** Pipeline file, as given on the command line (for run.json). */
  pipelineFile: string;
  /** The resolved pipeline as run.json records it, non-finite numbers encoded (encodeNonFinite). */
  pipeline: unknown;
  /** Overrides for run.json, as `recpost run` records them. */
  overrides: string[];
  /** The replicate's run directory. */
  out: string;
  /** pipelineHash of the resolved pipeline, as the coordinator computed it. */
  hash: string;
}

export interface ReplicateResult {
  status: 'succeeded' | 'skipped';
  /** Seconds this task spent running the pipeline (0 when skipped). */
  wall_s: number;
  worker: string;
}

/** The overrides run.json records for `recpost run --set … --seed s --out dir` (commands/run.ts). */
export function replicateOverrides(sets: readonly string[], seed: number | undefined, out: string): string[] {
  return [...sets, ...(seed !== undefined ? [`--seed=${seed}`] : []), `--out=${out}`];
}

const NON_FINITE = '$recpost_number';

/** JSON has no NaN or infinities: they travel as { "$recpost_number": "Infinity" }. */
export function encodeNonFinite(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [NON_FINITE]: String(value) };
  if (Array.isArray(value)) return value.map(encodeNonFinite);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeNonFinite(v)]));
  return value;
}

export function decodeNonFinite(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeNonFinite);
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === NON_FINITE) return Number(o[NON_FINITE]);
    return Object.fromEntries(keys.map((k) => [k, decodeNonFinite(o[k])]));
  }
  return value;
}

/** The task input for a replicate the coordinator has resolved. */
export function replicateInput(name: string, p: ResolvedPipeline, o: { pipelineFile: string; overrides: string[]; out: string }): ReplicateInput {
  return {
    name,
    cwd: process.cwd(),
    pipelineFile: o.pipelineFile,
    pipeline: encodeNonFinite(recordedPipeline(p, o.out)),
    overrides: o.overrides,
    out: o.out,
    hash: pipelineHash(p, o.out),
  };
}

/** Run in the sweep's directory (a no-op for local workers, which inherit it). */
function enterSweepDir(cwd: string, worker: string): void {
  if (process.cwd() === cwd) return;
  if (!fs.existsSync(cwd))
    throw new ConfigError(`the sweep's working directory ${cwd} does not exist on worker ${worker}; run workers on a file system the sweep shares`, ['cwd']);
  process.chdir(cwd);
}

/** Messages of a replicate's stages, each line naming the replicate (workers share one stderr). */
function replicateLogger(name: string): Logger {
  return {
    quiet: true,
    info() {},
    warn(msg) {
      process.stderr.write(`[${name}] warning: ${msg}\n`);
    },
  };
}

export async function runReplicate(input: ReplicateInput, worker: string): Promise<ReplicateResult> {
  enterSweepDir(input.cwd, worker);
  const p = resolvePipeline(decodeNonFinite(input.pipeline), input.pipelineFile);
  const hash = pipelineHash(p, input.out);
  if (hash !== input.hash)
    throw new Error(`replicate ${input.name}: the pipeline resolved in the worker differs from the coordinator's (hash ${hash} ≠ ${input.hash})`);
  if (completedRun(input.out, hash)) return { status: 'skipped', wall_s: 0, worker };
  const { runPipeline } = await import('../runner.js');
  const t0 = performance.now();
  await runPipeline(p, {
    outDir: input.out,
    quiet: true,
    progress: false,
    logger: replicateLogger(input.name),
    record: { pipelineFile: input.pipelineFile, overrides: input.overrides },
  });
  return { status: 'succeeded', wall_s: Math.round(performance.now() - t0) / 1000, worker };
}
