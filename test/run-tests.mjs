#!/usr/bin/env node
// Runs the static checks (the dependency check test/check-dependencies.mjs, the
// type check, ESLint and the Prettier check), then the vitest suite, and ends
// with the plain closing line "N passed, N failed" (", N skipped" when any),
// read by CI. Each failed static check counts as one failure and fails the
// command; otherwise the exit code is vitest's. With arguments (a subset of
// test files) only the dependency check runs before vitest.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const targeted = process.argv.length > 2;
const checks = [
  ['dependency check', ['test/check-dependencies.mjs']],
  ...(targeted
    ? []
    : [
        ['type check', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']],
        ['eslint', ['node_modules/eslint/bin/eslint.js', '.']],
        ['prettier --check', ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', '**/*.{ts,mjs,js,json}']],
      ]),
];
let staticFailures = 0;
for (const [name, args] of checks) {
  const c = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (c.status !== 0) {
    staticFailures++;
    process.stdout.write(`static check failed: ${name}\n`);
  } else process.stdout.write(`${name}: ok\n`);
}
const depsFailed = staticFailures > 0;

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
failed += staticFailures;
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(depsFailed ? 1 : (r.status ?? 1));
