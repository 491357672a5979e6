/**
 * The sandboxed processor of `recpost worker`: BullMQ runs it in a child
 * process of the worker (one per concurrency slot, reused across jobs), so
 * a task's CPU-bound work never blocks the worker's lock renewal. It imports
 * the task catalog (and the modules of `--import`, passed in
 * RECPOST_TASK_MODULES), then runs one job at a time: a task, a merge node
 * (children's results read from Redis in the order the job names them) or
 * the collect root of a flow without a merge.
 *
 * Errors leave as a BullMQ failure whose reason carries the serialized task
 * error; a usage error is an UnrecoverableError, so BullMQ does not retry it.
 */
import * as os from 'node:os';
import { UnrecoverableError, type SandboxedJob } from 'bullmq';
import { taskCatalogUrl } from './catalog-location.js';
import { encodeTaskError, type RedisJobData } from './redis-jobs.js';
import type { MergeInput, TaskContext, TaskProgress } from './task.js';
import { serializeTaskError } from './task-errors.js';
import { taskHandler } from './task-registry.js';

const modulesLoaded = (async () => {
  await import(taskCatalogUrl());
  for (const m of JSON.parse(process.env.RECPOST_TASK_MODULES ?? '[]') as string[]) await import(m);
})();

// The worker that forked this process is gone (killed with SIGKILL, say): its
// jobs go back to the queue by the stall check, so this copy must not linger.
process.on('disconnect', () => process.exit(0));

const PROGRESS_EVERY_MS = 500;

async function childrenInOrder(job: SandboxedJob<RedisJobData>, ids: string[]): Promise<unknown[]> {
  const values = await job.getChildrenValues<unknown>();
  return ids.map((id) => {
    const key = `${job.queueQualifiedName}:${id}`;
    if (!(key in values))
      throw new Error(`the result of child job ${id} is missing from Redis (was the queue's data evicted? use maxmemory-policy noeviction)`);
    return values[key];
  });
}

export default async function processRedisJob(job: SandboxedJob<RedisJobData>): Promise<unknown> {
  await modulesLoaded;
  const { task, children, partial, collect } = job.data;
  let input: unknown = task.input;
  if (children) {
    const results = await childrenInOrder(job, children);
    if (collect) return results;
    const merge: MergeInput = { input: task.input, children: results, ...(partial ? { partial: true } : {}) };
    input = merge;
  }
  let last = 0;
  const ctx: TaskContext = {
    attempt: Math.max(1, job.attemptsStarted || job.attemptsMade + 1),
    worker: process.env.RECPOST_WORKER_NAME ?? `${os.hostname()}:${process.pid}`,
    progress(p: TaskProgress) {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      job.updateProgress({ ...p }).catch(() => undefined);
    },
  };
  try {
    const result = await taskHandler(task.kind)(input, ctx);
    return result ?? null;
  } catch (e) {
    const s = serializeTaskError(e);
    const err = s.usage ? new UnrecoverableError(encodeTaskError(s)) : new Error(encodeTaskError(s));
    if (s.stack) err.stack = s.stack;
    throw err;
  }
}
