/** Shared helpers of the dataset-contract tests: temporary dirs, CLI children, kills, directory digests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline, type RunResult } from '../../pipelines/runner.js';
import { MANIFEST_NAME, type DatasetManifest } from '../../stages/io/manifest.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const created: string[] = [];

export function tmpDir(tag = 'dataset'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `recpost-hostile-${tag}-`));
  created.push(d);
  return d;
}

afterAll(() => {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start `recpost <args>` as a child (node --import tsx pipelines/cli.ts). */
export function spawnCli(args: string[]): ChildProcess & { result: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'pipelines', 'cli.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(child, { result });
}

export function runCli(args: string[]): Promise<CliResult> {
  return spawnCli(args).result;
}

/**
 * SIGKILL `child` once `ready()` holds (polled every 5 ms) or `afterMs` has
 * passed since `clockStartsWhen()` first held (default: at once), whichever
 * is first. Resolves to how the child ended.
 */
export async function killWhen(child: ReturnType<typeof spawnCli>, ready: () => boolean, afterMs: number, clockStartsWhen: () => boolean = () => true): Promise<CliResult> {
  let t0 = -1;
  let exited = false;
  void child.result.then(() => (exited = true));
  while (!exited) {
    try {
      if (t0 < 0 && clockStartsWhen()) t0 = Date.now();
    } catch {
      // not yet
    }
    let go = t0 >= 0 && Date.now() - t0 >= afterMs;
    try {
      go ||= ready();
    } catch {
      // the directory being polled moved meanwhile
    }
    if (go) {
      child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return child.result;
}

/** Staging directories of `target` (siblings named <target>.staging-…). */
export function stagingDirs(target: string): string[] {
  const base = path.basename(target);
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) return [];
  return fs
    .readdirSync(parent)
    .filter((n) => n.startsWith(`${base}.staging-`) || n.startsWith(`${base}.old-`))
    .map((n) => path.join(parent, n));
}

/** Part files in the staging directories of `target` so far. */
export function stagedParts(target: string): number {
  let n = 0;
  for (const d of stagingDirs(target)) {
    const walk = (x: string) => {
      for (const e of fs.readdirSync(x, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(x, e.name));
        else if (/^part-\d+\.parquet/.test(e.name)) n++;
      }
    };
    walk(d);
  }
  return n;
}

/** Relative path → SHA-256 of every file below `dir` (null when `dir` does not exist). */
export function digest(dir: string): Record<string, string> | null {
  if (!fs.existsSync(dir)) return null;
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel);
      else out[rel] = createHash('sha256').update(fs.readFileSync(path.join(d, e.name))).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

/** What a dataset holds, independent of when it was written: file digests without the manifest, and the manifest without its date. */
export function contentOf(dir: string): { files: Record<string, string>; manifest: Omit<DatasetManifest, 'createdAt'> } | null {
  const d = digest(dir);
  if (!d) return null;
  delete d[MANIFEST_NAME];
  const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_NAME), 'utf8')) as Partial<DatasetManifest>;
  delete m.createdAt;
  return { files: d, manifest: m as Omit<DatasetManifest, 'createdAt'> };
}

export function readManifestJson(dir: string): DatasetManifest {
  return JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_NAME), 'utf8')) as DatasetManifest;
}

/** An interactions batch of `n` rows, seeded. */
export function interactions(n: number, seed = 1, users = 200): Batch {
  const rand = mulberry32(seed);
  const user_id = new Int32Array(n);
  const item_id = new Int32Array(n);
  const timestamp = new BigInt64Array(n);
  const reward = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    user_id[i] = 1 + (i % users);
    item_id[i] = 1 + Math.floor(rand() * 500);
    timestamp[i] = BigInt(1_000_000 + i);
    reward[i] = 1 + Math.floor(rand() * 5);
  }
  return { table: 'interactions', numRows: n, columns: { user_id, item_id, timestamp, reward } };
}

/** A ratings CSV with a header, `rows` rows, seeded (ids as text, rewards 1–5, increasing timestamps). */
export function ratingsCsv(file: string, rows: number, seed = 1, users = 300): string {
  const rand = mulberry32(seed);
  const lines = ['user_id,item_id,reward,timestamp'];
  for (let i = 0; i < rows; i++) lines.push(`u${1 + (i % users)},i${1 + Math.floor(rand() * 800)},${1 + Math.floor(rand() * 5)},${1_500_000_000 + i}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Run a pipeline in this process with a silent logger. */
export async function runStages(stages: { stage: string; with: Record<string, unknown> }[], outDir: string): Promise<RunResult & { logs: string[] }> {
  const log = memoryLogger();
  const r = await runPipeline(resolvePipeline({ name: 'hostile', stages }), { outDir, logger: log, quiet: true, progress: false });
  return Object.assign(r, { logs: log.lines });
}
