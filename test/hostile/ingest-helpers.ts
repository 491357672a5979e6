/**
 * Helpers of the hostile-input ingest tests: run an ingest that must fail
 * (and return its error) or must finish (and check that every record read is
 * accounted for), read the quarantine file, and run the CLI as a child
 * process.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ingestAll, tmpDir, writeText, type RunOutcome } from '../ingest/helpers.js';

export { tmpDir, writeText, tuples } from '../ingest/helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Run an ingest that must throw; returns the error and the paths. */
export async function ingestError(options: Record<string, unknown>): Promise<Error> {
  try {
    await ingestAll(options);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the ingest to fail');
}

/** Write `body` to `name` in a fresh directory and ingest it in strict mode; it must fail. */
export async function strictFailure(name: string, body: string | Buffer, options: Record<string, unknown> = {}): Promise<{ err: Error; file: string }> {
  const d = tmpDir('hostile');
  const file = writeText(d, name, body);
  return { err: await ingestError({ path: file, output: path.join(d, 'ds'), ...options }), file };
}

export interface QuarantineEntry {
  file: string;
  line: number;
  field: string;
  value: string;
  value_bytes: number;
  reason: string;
  raw: string;
  raw_bytes: number;
  whole_file: boolean;
}

export interface Balanced extends RunOutcome {
  entries: QuarantineEntry[];
  out: string;
}

/**
 * Ingest in quarantine mode and check the balance: records read = stored +
 * rejected + blank + skipped, the quarantine file holds one entry per
 * rejected row (plus one per file set aside), and, when given, the number of
 * records read equals `expectRowsIn` (counted by the test from its input).
 */
export async function quarantined(options: Record<string, unknown>, expectRowsIn?: number): Promise<Balanced> {
  const out = (options.output as string | undefined) ?? path.join(tmpDir('hostile'), 'ds');
  const r = await ingestAll({ mode: 'quarantine', ...options, output: out });
  const s = r.summary;
  expect(s.rowsIn).toBe(s.rows + s.rejected + s.blankLines + s.skippedLines);
  if (expectRowsIn !== undefined) expect(s.rowsIn).toBe(expectRowsIn);
  expect(r.all?.numRows ?? 0).toBe(s.rows);
  const text = fs.readFileSync(s.quarantine!, 'utf8');
  const entries =
    text === ''
      ? []
      : text
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as QuarantineEntry);
  expect(entries.filter((e) => !e.whole_file)).toHaveLength(s.rejected);
  expect(entries.filter((e) => e.whole_file)).toHaveLength(s.filesSetAside);
  return { ...r, entries, out };
}

/** Write `body` and ingest it in quarantine mode (balance checked). */
export async function quarantineText(
  name: string,
  body: string | Buffer,
  options: Record<string, unknown> = {},
  expectRowsIn?: number,
): Promise<Balanced & { file: string }> {
  const d = tmpDir('hostile');
  const file = writeText(d, name, body);
  return { ...(await quarantined({ path: file, output: path.join(d, 'ds'), ...options }, expectRowsIn)), file };
}

/** Stored rewards of a run, as numbers. */
export function rewards(r: RunOutcome): number[] {
  return r.all ? Array.from(r.all.columns.reward as Float32Array) : [];
}

export interface CliOutcome {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** `node --import tsx pipelines/cli.ts stage ingest --opt …` in a scratch directory (so runs/ lands there). */
export function runCliIngest(opts: Record<string, string>, cwd = tmpDir('cli')): Promise<CliOutcome> {
  const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
  const args = [
    '--import',
    tsx,
    path.join(ROOT, 'pipelines', 'cli.ts'),
    'stage',
    'ingest',
    ...Object.entries(opts).flatMap(([k, v]) => ['--opt', `${k}=${v}`]),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, stdout }));
  });
}
