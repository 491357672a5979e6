/**
 * The Redis engine on this machine, for the scaling benchmark and the tests:
 * a throwaway redis-server on a unix socket and `recpost worker` processes
 * (real CLI processes, as a cluster would run them), started and stopped
 * around a function that gets the Redis URL.
 *
 *   const rows = await withRedisWorkers(2, (redis) => runPipelineOn(openEngine({ redis })));
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startLocalRedisServer } from '../pipelines/engine/redis-local-server.js';

export interface WorkerProcessOptions {
  concurrency?: number;
  queue?: string;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Extra task modules (file URLs or paths) the worker imports (`--import`). */
  imports?: string[];
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the worker wrote to stderr so far (its one-line-per-job log). */
  log(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Peak resident memory (VmHWM, bytes) of the worker process and of each of
   * its job processes now alive (where shards run), read from /proc (Linux).
   */
  peakMemory(): { worker: number; processors: number[] };
  /** Send a signal (default SIGTERM) and wait for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** VmHWM of a process in bytes (0 when it is gone or /proc is absent). */
function peakRss(pid: number): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The job processes of a worker: its direct children (/proc/<pid>/task/<tid>/children) running BullMQ's sandbox (not tsx's esbuild service). */
function jobProcessPids(pid: number): number[] {
  return childPids(pid).filter((c) => {
    try {
      return fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('bullmq');
    } catch {
      return false;
    }
  });
}

function childPids(pid: number): number[] {
  try {
    const pids: number[] = [];
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    }
    return pids;
  } catch {
    return [];
  }
}

/** `recpost …` as a command: dist's cli.js, or cli.ts under tsx when running from sources. */
function cliCommand(): string[] {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return [fileURLToPath(new URL('../pipelines/cli.js', here))];
  const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
  return ['--import', tsx, fileURLToPath(new URL('../pipelines/cli.ts', here))];
}

/** Start `recpost worker --redis <url>` and wait until it says it is taking jobs. */
export async function spawnRedisWorker(redis: string, opts: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const args = [...cliCommand(), 'worker', '--redis', redis];
  if (opts.concurrency !== undefined) args.push('--concurrency', String(opts.concurrency));
  if (opts.queue !== undefined) args.push('--queue', opts.queue);
  if (opts.lockDurationMs !== undefined) args.push('--lock-duration', String(opts.lockDurationMs));
  if (opts.stalledIntervalMs !== undefined) args.push('--stalled-interval', String(opts.stalledIntervalMs));
  for (const m of opts.imports ?? []) args.push('--import', m);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, RECPOST_DEBUG: '' } });
  let log = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (/ worker \S+: queue /.test(log)) resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`recpost worker exited (${signal ?? code}) before it was ready:\n${log}`)));
  });
  await ready;
  const pid = child.pid ?? -1;
  return {
    child,
    pid,
    log: () => log,
    peakMemory: () => ({ worker: peakRss(pid), processors: jobProcessPids(pid).map(peakRss) }),
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const r = await exited;
        clearTimeout(timer);
        return r;
      }
      return exited;
    },
  };
}

/** Start redis-server and `n` worker processes, run `fn` with the Redis URL, then stop them all (workers first, gracefully). */
export async function withRedisWorkers<T>(n: number, fn: (redis: string, workers: WorkerProcess[]) => Promise<T>, opts: WorkerProcessOptions = {}): Promise<T> {
  const server = await startLocalRedisServer();
  const workers: WorkerProcess[] = [];
  try {
    const started = await Promise.allSettled(Array.from({ length: n }, () => spawnRedisWorker(server.url, opts)));
    for (const s of started) if (s.status === 'fulfilled') workers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    return await fn(server.url, workers);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
  }
}

/**
 * Redis memory per queued job: INFO memory's used_memory before and after
 * queueing one flow of `jobs` shard tasks (inputs of about `inputBytes` of
 * JSON each) under a merge, with no worker taking them. On a fresh server.
 */
export async function measureQueuedJobMemory(jobs: number, inputBytes: number): Promise<{ jobs: number; inputBytes: number; bytesPerJob: number }> {
  const { Redis } = await import('ioredis');
  const { FlowProducer } = await import('bullmq');
  const { buildFlow } = await import('../pipelines/engine/redis-flow.js');
  const { KEY_PREFIX } = await import('../pipelines/engine/redis-jobs.js');
  const { parseRedisUrl } = await import('../pipelines/engine/redis-url.js');
  const server = await startLocalRedisServer();
  const client = new Redis(parseRedisUrl(server.url));
  const producer = new FlowProducer({ connection: parseRedisUrl(server.url), prefix: KEY_PREFIX });
  try {
    const used = async () => Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))?.[1]);
    // Warm up: BullMQ loads its scripts and creates the queue's meta keys on first use.
    await producer.add(
      buildFlow({ label: 'warm', children: [{ kind: 'k', key: 'warm', input: null }] }, { queue: 'measure', runId: 'warm', attempts: 3, backoffMs: 1000 }).tree,
    );
    const before = await used();
    const pad = 'x'.repeat(Math.max(0, inputBytes - 60));
    const children = Array.from({ length: jobs }, (_v, i) => ({
      kind: 'ingest.range',
      key: `ingest/${i}/0123456789abcdef`,
      input: { part: i, path: `/data/shards/${i}`, pad },
    }));
    const flow = buildFlow(
      { label: 'm', children, merge: { kind: 'ingest.commit', key: 'ingest/commit', input: {} }, treeFanIn: 64 },
      { queue: 'measure', runId: 'run-measure', attempts: 3, backoffMs: 1000 },
    );
    await producer.add(flow.tree);
    const after = await used();
    return { jobs, inputBytes, bytesPerJob: Math.round((after - before) / jobs) };
  } finally {
    await producer.close();
    client.disconnect();
    await server.stop();
  }
}
