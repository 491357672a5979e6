/**
 * The cluster engine: flows go to Redis as BullMQ flows (redis-flow.ts) and
 * `recpost worker`s on any machine run them (redis-worker.ts). This side
 * submits, follows the queue's event stream for progress (tasks done, rows,
 * retries, running), waits for the root job, hands back its result and
 * removes the flow's jobs.
 *
 * Delivery is at least once: a job whose worker died is run again by another
 * (stall recovery), and a job can even finish twice when a stalled worker
 * comes back; tasks are idempotent, and BullMQ keeps only the first
 * completion (the late one has lost its lock). Each engine has a run id
 * that prefixes its job ids, so runs sharing a queue never share jobs, and
 * submitting the same flow twice in a run is recognised (one set of jobs).
 */
import { randomBytes } from 'node:crypto';
import { FlowProducer, Job, Queue, QueueEvents } from 'bullmq';
import type { Engine, EngineOptions, EngineProgress } from './engine.js';
import { checkRedis } from './redis-check.js';
import { buildFlow } from './redis-flow.js';
import { decodeTaskError, DEFAULT_QUEUE, KEY_PREFIX, taskKeyOf } from './redis-jobs.js';
import { parseRedisUrl } from './redis-url.js';
import type { FlowSpec } from './task.js';
import { taskError, TaskFailedError } from './task-errors.js';

const ENGINE_CLOSED = Symbol('engine closed');

function rejecter(): { promise: Promise<never>; reject(reason: unknown): void } {
  let reject: (reason: unknown) => void = () => undefined;
  const promise = new Promise<never>((_resolve, r) => (reject = r));
  promise.catch(() => undefined);
  return { promise, reject };
}

/**
 * EngineOptions.modules does not reach workers on other machines: a worker
 * imports extra task modules itself (`recpost worker --import <module>`).
 */
export interface RedisEngineOptions extends EngineOptions {
  /** Redis URL (redis://, rediss://, unix://). */
  redis: string;
  /** The queue the workers listen on (default `recpost`; `recpost worker --queue`). */
  queue?: string;
  /** Prefix of this run's job ids (default: random). */
  runId?: string;
  /** First retry delay in ms, doubled at each further attempt (default 1000). */
  retryDelayMs?: number;
  /** Where a warning about the Redis setup goes (default: stderr). */
  warn?: (line: string) => void;
}

/** What one flow's events update. */
interface FlowTracker {
  counted: Set<string>;
  starts: Map<string, number>;
  rows: Map<string, number>;
  running: Set<string>;
  completed: Set<string>;
  failures: { id: string; reason: string }[];
  progress: EngineProgress;
  onProgress?: (p: EngineProgress) => void;
}

export class RedisEngine implements Engine {
  readonly kind = 'redis' as const;
  readonly runId: string;
  readonly queueName: string;
  private readonly queue: Queue;
  private readonly producer: FlowProducer;
  private readonly events: QueueEvents;
  /** Job id → the flow it belongs to. */
  private readonly trackers = new Map<string, FlowTracker>();
  /** Root job id → the flow's result, for a second submit of the same flow. */
  private readonly inflight = new Map<string, Promise<unknown>>();
  private closed: Promise<void> | undefined;
  /** Rejected by close(): flows still waiting end with "engine closed". */
  private readonly closing = rejecter();

  private constructor(
    private readonly opts: RedisEngineOptions,
    /** Workers connected to the queue when the engine opened (at least 1). */
    readonly slots: number,
    queue: Queue,
    events: QueueEvents,
  ) {
    this.runId = opts.runId ?? `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    this.queueName = opts.queue ?? DEFAULT_QUEUE;
    this.queue = queue;
    this.events = events;
    this.producer = new FlowProducer({ connection: parseRedisUrl(opts.redis), prefix: KEY_PREFIX });
    this.producer.on('error', () => undefined);
    this.listen();
  }

  /** Connect (ConfigError if Redis cannot be reached), start following the queue's events, count the workers. */
  static async open(opts: RedisEngineOptions): Promise<RedisEngine> {
    const check = await checkRedis(opts.redis);
    if (check.warning) (opts.warn ?? ((l: string) => process.stderr.write(`recpost: warning: ${l}\n`)))(check.warning);
    const connection = parseRedisUrl(opts.redis);
    const name = opts.queue ?? DEFAULT_QUEUE;
    const queue = new Queue(name, { connection, prefix: KEY_PREFIX });
    const events = new QueueEvents(name, { connection, prefix: KEY_PREFIX });
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const workers = await queue.getWorkersCount().catch(() => 0);
    return new RedisEngine(opts, Math.max(1, workers), queue, events);
  }

  async runFlow(flow: FlowSpec, onProgress?: (p: EngineProgress) => void): Promise<unknown> {
    if (this.closed) throw new Error('engine closed');
    const built = buildFlow(flow, {
      queue: this.queueName,
      runId: this.runId,
      attempts: this.opts.maxAttempts ?? 3,
      backoffMs: this.opts.retryDelayMs ?? 1000,
    });
    const already = this.inflight.get(built.rootId);
    if (already) return already;
    const tracker: FlowTracker = {
      counted: new Set(built.countedIds),
      starts: new Map(),
      rows: new Map(),
      running: new Set(),
      completed: new Set(),
      failures: [],
      progress: { label: flow.label, done: 0, total: built.countedIds.length, rows: 0, retries: 0, running: 0 },
      onProgress,
    };
    const run = (async () => {
      for (const id of built.allIds) this.trackers.set(id, tracker);
      try {
        // The same flow submitted before in this run (by another coordinator process, say): wait for those jobs.
        const root = (await Job.fromId(this.queue, built.rootId)) ?? (await this.producer.add(built.tree)).job;
        try {
          return await Promise.race([root.waitUntilFinished(this.events), this.closing.promise]);
        } catch (e) {
          if (e === ENGINE_CLOSED) throw new Error('engine closed');
          throw this.flowError(tracker, built.rootId, e);
        }
      } finally {
        for (const id of built.allIds) this.trackers.delete(id);
        await this.removeJobs(built.rootId, built.allIds);
      }
    })();
    this.inflight.set(built.rootId, run);
    try {
      return await run;
    } finally {
      this.inflight.delete(built.rootId);
    }
  }

  /** Flows still waiting end with "engine closed" and their jobs are removed (workers finish the running ones; nothing reads them). */
  close(): Promise<void> {
    this.closing.reject(ENGINE_CLOSED);
    this.closed ??= (async () => {
      await Promise.allSettled([...this.inflight.values()]);
      await Promise.allSettled([this.events.close(), this.producer.close(), this.queue.close()]);
    })();
    return this.closed;
  }

  private listen(): void {
    const on = (id: string, f: (t: FlowTracker) => void) => {
      const t = this.trackers.get(id);
      if (!t) return;
      const before = JSON.stringify(t.progress);
      f(t);
      t.progress.running = t.running.size;
      if (JSON.stringify(t.progress) !== before) t.onProgress?.({ ...t.progress });
    };
    this.events.on('active', ({ jobId }) =>
      on(jobId, (t) => {
        const n = (t.starts.get(jobId) ?? 0) + 1;
        t.starts.set(jobId, n);
        if (n > 1 && t.counted.has(jobId)) t.progress.retries++;
        if (t.counted.has(jobId)) t.running.add(jobId);
      }),
    );
    this.events.on('progress', ({ jobId, data }) =>
      on(jobId, (t) => {
        const rows = typeof data === 'object' && data !== null ? (data as { rows?: unknown }).rows : undefined;
        if (typeof rows !== 'number') return;
        t.rows.set(jobId, rows);
        let sum = 0;
        for (const r of t.rows.values()) sum += r;
        t.progress.rows = sum;
      }),
    );
    this.events.on('completed', ({ jobId }) =>
      on(jobId, (t) => {
        t.running.delete(jobId);
        if (t.counted.has(jobId) && !t.completed.has(jobId)) {
          t.completed.add(jobId);
          t.progress.done++;
        }
      }),
    );
    this.events.on('failed', ({ jobId, failedReason }) =>
      on(jobId, (t) => {
        t.running.delete(jobId);
        t.failures.push({ id: jobId, reason: failedReason });
      }),
    );
    for (const back of ['stalled', 'waiting', 'delayed'] as const)
      this.events.on(back, ({ jobId }: { jobId: string }) => on(jobId, (t) => t.running.delete(jobId)));
  }

  /**
   * The error a failed flow ends with: the first task's own error (usage →
   * ConfigError, exit 2; else TaskFailedError naming the task and its
   * attempts), else what BullMQ said (a job stalled too often, say).
   */
  private flowError(t: FlowTracker, rootId: string, e: unknown): Error {
    const attempts = (id: string) => Math.max(1, t.starts.get(id) ?? 1);
    for (const f of t.failures) {
      const own = decodeTaskError(f.reason);
      if (own) return taskError(taskKeyOf(f.id), own, attempts(f.id));
    }
    const first = t.failures.find((f) => !/^child \S+ failed$/.test(f.reason));
    const reason = first?.reason ?? (e instanceof Error ? e.message : String(e));
    const id = first?.id ?? rootId;
    const own = decodeTaskError(reason);
    if (own) return taskError(taskKeyOf(id), own, attempts(id));
    return new TaskFailedError(taskKeyOf(id), `task ${taskKeyOf(id)} failed: ${reason}`, attempts(id));
  }

  /** Remove the flow's jobs: the root with its children; after a failure also each leftover job (a running one finishes and removes itself). */
  private async removeJobs(rootId: string, ids: string[]): Promise<void> {
    const removed = await this.queue.remove(rootId, { removeChildren: true }).catch(() => 0);
    if (removed === 1) return;
    await Promise.allSettled(ids.map((id) => this.queue.remove(id)));
  }
}
