/**
 * The run record: `<out_dir>/run.json`, what a run was and how it ended.
 *
 *   pipeline      the resolved pipeline (after --set/--seed/--out and ${…}
 *                 substitution): name, out_dir, seed, stages [{id, stage, with}]
 *   overrides     the command-line overrides given (`--set` strings, --seed, --out)
 *   seeds         the pipeline seed and every `seed`/`seeds` option of a stage
 *   recpost       this package's version; dependencies: the installed version of
 *                 each runtime dependency (read from its package.json)
 *   backend       the TensorFlow.js backend active at the end (absent when no
 *                 stage started one)
 *   git           { commit, dirty } when the current directory is in a git work
 *                 tree (dirty = tracked files modified; untracked files ignored)
 *   host, node, platform, argv, started_at, ended_at, wall_s,
 *   status        running | succeeded | failed; exit_code (0, 1, or 2 for a
 *                 configuration or data error) and error (one line) at the end
 *   previous_attempts  earlier runs into the same out_dir (a resume, a rerun):
 *                 started_at, ended_at, status, exit_code, commit of each, oldest
 *                 first, at most 20
 *
 * Written when the run starts (status "running") and rewritten at the end; each
 * write goes to a temporary file renamed into place, so a reader never sees a
 * half-written record. A run killed by a signal leaves status "running".
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../stages/core/config-schema.js';
import { DataError } from '../stages/core/errors.js';
import { activeBackend } from '../stages/train/backend.js';
import type { ResolvedPipeline } from './spec.js';

export const RUN_RECORD_FILE = 'run.json';

/** What the caller (the CLI) knows that the resolved pipeline does not. */
export interface RunRecordInput {
  /** Overrides as given on the command line, e.g. ["stages.bc.with.epochs=2", "--seed=3"]. */
  overrides?: string[];
  /** The pipeline file, when there is one. */
  pipelineFile?: string;
  /** The engine a sharded run used (absent: the single-process runner). */
  engine?: { kind: string; workers: number; shards: number };
}

export interface RunRecord {
  format: 'recpost-run';
  version: 1;
  name: string;
  pipeline_file?: string;
  pipeline: { name: string; out_dir: string; seed: number; stages: { id: string; stage: string; with: Record<string, unknown> }[] };
  overrides: string[];
  engine?: { kind: string; workers: number; shards: number };
  seeds: number[];
  recpost: string;
  dependencies: Record<string, string>;
  backend?: string;
  git?: { commit: string; dirty: boolean };
  host: string;
  node: string;
  platform: string;
  argv: string[];
  started_at: string;
  ended_at?: string;
  wall_s?: number;
  status: 'running' | 'succeeded' | 'failed';
  exit_code?: number;
  error?: string;
  previous_attempts?: RunAttempt[];
}

/** What run.json keeps of an earlier run into the same directory. */
export interface RunAttempt {
  started_at: string;
  ended_at?: string;
  status: RunRecord['status'];
  exit_code?: number;
  commit?: string;
}

const MAX_ATTEMPTS = 20;

/** The attempts recorded in an existing run.json (its own included), or none. */
function previousAttempts(file: string): RunAttempt[] {
  const old = readJson(file) as Partial<RunRecord> | undefined;
  if (!old || old.format !== 'recpost-run' || typeof old.started_at !== 'string' || !old.status) return [];
  const own: RunAttempt = {
    started_at: old.started_at,
    ...(old.ended_at ? { ended_at: old.ended_at } : {}),
    status: old.status,
    ...(old.exit_code !== undefined ? { exit_code: old.exit_code } : {}),
    ...(old.git ? { commit: old.git.commit } : {}),
  };
  return [...(Array.isArray(old.previous_attempts) ? old.previous_attempts : []), own].slice(-MAX_ATTEMPTS);
}

/** A started record and where it lives. */
export interface RunRecordHandle {
  file: string;
  record: RunRecord;
  t0: number;
}

/** The directory holding recpost's own package.json (source checkout or dist/ install). */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'recpost') return dir;
      } catch {
        // not JSON: keep climbing
      }
    }
    if (path.dirname(dir) === dir) return from;
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Installed version of `name` as Node would resolve it from `root`: the first
 * node_modules/<name>/package.json found walking up from root.
 */
export function installedVersion(name: string, root: string): string | undefined {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const pj = readJson(path.join(dir, 'node_modules', name, 'package.json'));
    if (pj && typeof pj.version === 'string') return pj.version;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** recpost's version and its runtime dependencies' installed versions. */
export function packageVersions(root = packageRoot()): { recpost: string; dependencies: Record<string, string> } {
  const own = readJson(path.join(root, 'package.json')) ?? {};
  const deps = Object.keys((own.dependencies as Record<string, string> | undefined) ?? {}).sort();
  const dependencies: Record<string, string> = {};
  for (const d of deps) {
    const v = installedVersion(d, root);
    if (v) dependencies[d] = v;
  }
  return { recpost: typeof own.version === 'string' ? own.version : 'unknown', dependencies };
}

/** HEAD and whether tracked files differ from it, or undefined outside a git work tree (or without git). */
export function gitState(cwd = process.cwd(), timeoutMs = 3000): { commit: string; dirty: boolean } | undefined {
  const git = (args: string[]) => execFileSync('git', args, { cwd, timeout: timeoutMs, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    if (git(['rev-parse', '--is-inside-work-tree']) !== 'true') return undefined;
    const commit = git(['rev-parse', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']).length > 0;
    return { commit, dirty };
  } catch {
    return undefined;
  }
}

/** The pipeline seed and every integer `seed` / `seeds` option of its stages, distinct, in order of appearance. */
export function collectSeeds(p: ResolvedPipeline): number[] {
  const seeds = [p.seed];
  for (const s of p.stages) {
    const c = s.config;
    if (Number.isInteger(c.seed)) seeds.push(c.seed as number);
    if (Array.isArray(c.seeds)) for (const v of c.seeds) if (Number.isInteger(v)) seeds.push(v as number);
  }
  return [...new Set(seeds)];
}

function writeAtomically(file: string, record: RunRecord): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** Write `<outDir>/run.json` with status "running". */
export function startRunRecord(p: ResolvedPipeline, outDir: string, input: RunRecordInput = {}): RunRecordHandle {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, RUN_RECORD_FILE);
  const attempts = previousAttempts(file);
  const { recpost, dependencies } = packageVersions();
  const git = gitState();
  const record: RunRecord = {
    format: 'recpost-run',
    version: 1,
    name: p.name,
    ...(input.pipelineFile ? { pipeline_file: path.resolve(input.pipelineFile) } : {}),
    pipeline: { name: p.name, out_dir: outDir, seed: p.seed, stages: p.stages.map((s) => ({ id: s.id, stage: s.def.name, with: s.config })) },
    overrides: input.overrides ?? [],
    ...(input.engine ? { engine: input.engine } : {}),
    seeds: collectSeeds(p),
    recpost,
    dependencies,
    ...(git ? { git } : {}),
    host: os.hostname(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    argv: process.argv.slice(2),
    started_at: new Date().toISOString(),
    status: 'running',
    ...(attempts.length ? { previous_attempts: attempts } : {}),
  };
  const handle: RunRecordHandle = { file, record, t0: performance.now() };
  writeAtomically(handle.file, record);
  return handle;
}

/** The CLI's exit code for an error: 2 for configuration and data mistakes, else 1. */
export function exitCodeFor(error: unknown): number {
  return error instanceof ConfigError || error instanceof DataError ? 2 : 1;
}

/** Rewrite the record with the end time, backend and outcome (`error` undefined = success). */
export function finishRunRecord(handle: RunRecordHandle, error?: unknown): RunRecord {
  const backend = activeBackend();
  const failed = error !== undefined;
  const message = failed ? (error instanceof Error ? error.message : String(error)).split('\n')[0]! : undefined;
  const record: RunRecord = {
    ...handle.record,
    ...(backend ? { backend: backend.description } : {}),
    ended_at: new Date().toISOString(),
    wall_s: Math.round(performance.now() - handle.t0) / 1000,
    status: failed ? 'failed' : 'succeeded',
    exit_code: failed ? exitCodeFor(error) : 0,
    ...(message !== undefined ? { error: message } : {}),
  };
  handle.record = record;
  writeAtomically(handle.file, record);
  return record;
}
