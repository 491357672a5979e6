/**
 * What the Redis engine's coordinator and its workers agree on: the queue,
 * the shape of a job's data, job ids, how a task's error travels in a
 * BullMQ failure reason, and the lock and stall settings.
 */
import { ConfigError } from '../../stages/core/config-schema.js';
import type { TaskSpec } from './task.js';
import type { SerializedTaskError } from './task-errors.js';

/** The queue workers take jobs from unless told otherwise (`--queue`). Runs share it; their job ids differ by run id. */
export const DEFAULT_QUEUE = 'recpost';

/** A queue name from the command line: BullMQ refuses ":" in it. */
export function checkQueueName(name: string): string {
  if (name === '' || name.includes(':')) throw new ConfigError(`--queue ${JSON.stringify(name)}: a queue name cannot be empty or contain ":"`, ['--queue']);
  return name;
}

/** BullMQ's key prefix: every key is `recpost:<queue>:…`, apart from other users of the same Redis. */
export const KEY_PREFIX = 'recpost';

/**
 * Lock and stall settings of `recpost worker`. The task runs in a sandboxed
 * child process, so the worker's own event loop is always free to renew the
 * lock (every lockDuration / 2) however long and CPU-bound a shard is; the
 * lock duration only bounds how long a job of a dead worker (killed, lost
 * machine) waits before another worker's stall check gives it back:
 * at most lockDuration + stalledInterval.
 */
export const WORKER_DEFAULTS = {
  lockDurationMs: 60_000,
  stalledIntervalMs: 30_000,
  /** A job whose worker died is given back this many times before it fails. */
  maxStalledCount: 2,
  concurrency: 1,
} as const;

/** The data of one BullMQ job. */
export interface RedisJobData {
  /** The task; for a merge node its input is the merge's own input (children come from Redis). */
  task: TaskSpec;
  /** Merge and collect nodes: the job ids of the children, in order (their results are read from Redis in this order). */
  children?: string[];
  /** An intermediate node of a tree merge. */
  partial?: boolean;
  /** The root of a flow without a merge: returns the children's results in order; not a task. */
  collect?: boolean;
}

/**
 * The BullMQ job id of a task: the run id, then the task key with `%` and
 * `:` escaped (BullMQ refuses `:` in ids). Deterministic, so submitting the
 * same task twice in a run names the same job and BullMQ recognises it.
 */
export function jobIdFor(runId: string, key: string): string {
  return `${runId}.${key.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'))}`;
}

/** A task key back from its job id (for log lines). */
export function taskKeyOf(jobId: string): string {
  const dot = jobId.indexOf('.');
  return jobId.slice(dot + 1).replace(/%3A|%25/g, (c) => (c === '%3A' ? ':' : '%'));
}

const ERROR_MARK = 'recpost-task-error ';

/** A task's error as a BullMQ failure reason (the only text that travels with a failed job). */
export function encodeTaskError(e: SerializedTaskError): string {
  return ERROR_MARK + JSON.stringify({ usage: e.usage, message: e.message });
}

/** The task's error from a failure reason, or undefined when BullMQ itself failed the job (stalled too often, a child failed). */
export function decodeTaskError(reason: string): SerializedTaskError | undefined {
  if (!reason.startsWith(ERROR_MARK)) return undefined;
  try {
    const e = JSON.parse(reason.slice(ERROR_MARK.length)) as { usage?: unknown; message?: unknown };
    if (typeof e.usage === 'boolean' && typeof e.message === 'string') return { usage: e.usage, message: e.message };
  } catch {
    /* not ours after all */
  }
  return undefined;
}
