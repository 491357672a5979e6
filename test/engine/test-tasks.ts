/**
 * Task kinds the engine tests register in their workers (EngineOptions.modules).
 * They do real work on real files so results can be checked against a
 * sequential computation.
 */
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerTaskKind } from '../../pipelines/engine/task-registry.js';
import type { MergeInput } from '../../pipelines/engine/task.js';
import { ConfigError } from '../../stages/core/config-schema.js';

interface SumInput {
  file: string;
  start: number;
  end: number;
  /** Sleep this long first (ms), after writing our pid to `pidFile`. */
  delayMs?: number;
  pidFile?: string;
  /** Exit the process on attempts ≤ this. */
  crashAttempts?: number;
}

/** Sum of the integers on lines [start, end) of a file. */
registerTaskKind('test.sum-lines', async (raw, ctx) => {
  const input = raw as SumInput;
  if (input.pidFile) fs.writeFileSync(input.pidFile, String(process.pid));
  if (input.crashAttempts !== undefined && ctx.attempt <= input.crashAttempts) process.exit(3);
  if (input.delayMs) await sleep(input.delayMs);
  const lines = fs.readFileSync(input.file, 'utf8').split('\n').slice(input.start, input.end);
  let sum = 0;
  for (const l of lines) sum += Number(l);
  ctx.progress({ rows: lines.length });
  return { sum, rows: lines.length, attempt: ctx.attempt };
});

/** Adds the children's sums (associative: usable in a tree merge). */
registerTaskKind('test.merge-sums', async (raw) => {
  const m = raw as MergeInput<{ tag: string }, { sum: number; rows: number }>;
  let sum = 0;
  let rows = 0;
  for (const c of m.children) {
    sum += c.sum;
    rows += c.rows;
  }
  return { sum, rows, tag: m.input.tag, partial: Boolean(m.partial) };
});

registerTaskKind('test.bad-config', async (raw) => {
  throw new ConfigError(`test.bad-config: field "x" must be positive (got ${(raw as { x: number }).x})`, []);
});

registerTaskKind('test.throws', async () => {
  throw new Error('disk on fire');
});
