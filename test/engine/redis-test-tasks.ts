/**
 * Task kinds of the Redis engine tests (imported by `recpost worker --import`).
 * Each run of a task appends a line to a log file, so a test can count how
 * often a task really ran (at-least-once delivery) and on which worker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerTaskKind } from '../../pipelines/engine/task-registry.js';
import { ConfigError } from '../../stages/core/config-schema.js';

interface ShardInput {
  file: string;
  start: number;
  end: number;
  /** Append `<key> <worker> <attempt>` here on every run. */
  runLog: string;
  key: string;
  /** Write the worker's name here when starting (the test kills or stops that worker). */
  workerFile?: string;
  delayMs?: number;
  /** Write the shard's sum to <outDir>/<key>.txt (same bytes however often it runs). */
  outDir?: string;
}

/** Sum of lines [start, end) of a file, logged per run, written idempotently to an output file. */
registerTaskKind('test.redis-shard', async (raw, ctx) => {
  const input = raw as ShardInput;
  fs.appendFileSync(input.runLog, `${input.key} ${ctx.worker} ${ctx.attempt}\n`);
  if (input.workerFile) fs.writeFileSync(input.workerFile, ctx.worker);
  if (input.delayMs) await sleep(input.delayMs);
  const lines = fs.readFileSync(input.file, 'utf8').split('\n').slice(input.start, input.end);
  let sum = 0;
  for (const l of lines) sum += Number(l);
  ctx.progress({ rows: lines.length });
  if (input.outDir) {
    const out = path.join(input.outDir, `${input.key.replace(/\//g, '_')}.txt`);
    const tmp = `${out}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${sum}\n`);
    fs.renameSync(tmp, out);
  }
  return { sum, rows: lines.length };
});

/** A user's mistake found by a task: logged, then a ConfigError (must not be retried). */
registerTaskKind('test.redis-usage', async (raw, ctx) => {
  const input = raw as { runLog: string };
  fs.appendFileSync(input.runLog, `usage ${ctx.worker} ${ctx.attempt}\n`);
  throw new ConfigError('shards.yaml:3: field "rows" must be positive (got 0)', []);
});
