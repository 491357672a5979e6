#!/usr/bin/env node
// Runs the dependency check (test/check-dependencies.mjs), then the vitest
// suite, and ends with the plain closing line "N passed, N failed"
// (", N skipped" when any), read by CI. A failed dependency check counts as one
// failure and fails the command; otherwise the exit code is vitest's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const deps = spawnSync(process.execPath, ['test/check-dependencies.mjs'], { stdio: 'inherit' });
const depsFailed = deps.status !== 0;

const dir = mkdtempSync(join(tmpdir(), 'recpost-tests-'));
const report = join(dir, 'report.json');
const r = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  passed = j.numPassedTests ?? 0;
  // A suite that fails to load has no failed tests of its own: count it once.
  failed = j.numFailedTests || j.numFailedTestSuites || 0;
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
} catch {
  failed = Math.max(failed, 1);
}
rmSync(dir, { recursive: true, force: true });
if (depsFailed) failed += 1;
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(depsFailed ? 1 : (r.status ?? 1));
