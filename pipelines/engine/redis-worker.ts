/**
 * A worker of the cluster engine (`recpost worker --redis <url>`): a BullMQ
 * Worker on the run queue whose jobs run in sandboxed child processes
 * (redis-processor.ts), `concurrency` of them at once. One log line per job
 * (done or failed), per stalled job given back, and per connection error.
 */
import * as os from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type Job } from 'bullmq';
import { decodeTaskError, DEFAULT_QUEUE, KEY_PREFIX, taskKeyOf, WORKER_DEFAULTS, type RedisJobData } from './redis-jobs.js';
import { parseRedisUrl } from './redis-url.js';

export interface RedisWorkerOptions {
  /** Redis URL (redis://, rediss://, unix://). */
  redis: string;
  queue?: string;
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** Extra modules registering task kinds (file URLs), imported by each sandboxed process. */
  modules?: string[];
  /** Where the one-line log goes (default: stderr). */
  log?: (line: string) => void;
}

export interface RunningWorker {
  /** host:pid, as tasks see it in ctx.worker. */
  readonly name: string;
  /** Stop taking jobs; `force` = do not wait for the running ones (their locks expire and another worker takes them). */
  close(force?: boolean): Promise<void>;
}

/** The processor file: dist's .js, or the .ts source under tsx (the sandboxed process inherits the worker's --import tsx). */
function processorFile(): string {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return fileURLToPath(new URL('./redis-processor.js', here));
  return fileURLToPath(new URL('./redis-processor.ts', here));
}

/** Node options for the sandboxed processes: the worker's own, plus tsx's loader when running from sources without it. */
function processorExecArgv(): string[] | undefined {
  if (!import.meta.url.endsWith('.ts')) return undefined;
  if (process.execArgv.some((a) => a.includes('tsx'))) return undefined;
  return [...process.execArgv, '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
}

function describe(job: Job<RedisJobData> | undefined): string {
  if (!job) return 'a job';
  if (job.data.collect) return `flow ${taskKeyOf(job.id ?? '')} (collect)`;
  return `${job.data.task.key} (${job.data.task.kind})`;
}

const seconds = (job: Job) => (job.finishedOn && job.processedOn ? `${((job.finishedOn - job.processedOn) / 1000).toFixed(1)} s` : '?');

export async function startRedisWorker(opts: RedisWorkerOptions): Promise<RunningWorker> {
  const connection = parseRedisUrl(opts.redis);
  const name = `${os.hostname()}:${process.pid}`;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const execArgv = processorExecArgv();
  const worker = new Worker<RedisJobData>(opts.queue ?? DEFAULT_QUEUE, processorFile(), {
    connection,
    prefix: KEY_PREFIX,
    name,
    autorun: false,
    concurrency: opts.concurrency ?? WORKER_DEFAULTS.concurrency,
    lockDuration: opts.lockDurationMs ?? WORKER_DEFAULTS.lockDurationMs,
    stalledInterval: opts.stalledIntervalMs ?? WORKER_DEFAULTS.stalledIntervalMs,
    maxStalledCount: opts.maxStalledCount ?? WORKER_DEFAULTS.maxStalledCount,
    workerForkOptions: {
      env: { ...process.env, RECPOST_TASK_MODULES: JSON.stringify(opts.modules ?? []), RECPOST_WORKER_NAME: name },
      ...(execArgv ? { execArgv } : {}),
    },
  });
  worker.on('completed', (job) => log(`done ${describe(job)} in ${seconds(job)} (attempt ${job.attemptsStarted || 1})`));
  worker.on('failed', (job, err) => {
    const reason = decodeTaskError(err.message)?.message ?? err.message;
    const attempts = job?.opts.attempts ?? 1;
    const final = !job || job.attemptsMade >= attempts || err.name === 'UnrecoverableError';
    log(`failed ${describe(job)} (attempt ${job?.attemptsStarted || 1}${final ? '' : ', will retry'}): ${reason}`);
  });
  worker.on('stalled', (jobId) => log(`stalled ${taskKeyOf(jobId)}: its worker stopped renewing the lock; given back to the queue`));
  worker.on('error', (err) => log(`error: ${err.message}`));
  await worker.waitUntilReady();
  void worker.run().catch((e: unknown) => log(`error: ${e instanceof Error ? e.message : String(e)}`));
  let closing: Promise<void> | undefined;
  return {
    name,
    close(force = false) {
      if (force) return worker.close(true);
      closing ??= worker.close();
      return closing;
    },
  };
}
