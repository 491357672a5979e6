/**
 * The Redis engine for real: a redis-server started here on a unix socket,
 * `recpost worker` processes forked from the CLI, flows submitted through
 * openEngine. Workers run with a 2 s lock and a 0.5 s stall check, so a dead
 * or frozen worker's job is taken over within about 3 s (robust to a loaded machine delaying a renewal).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnRedisWorker, type WorkerProcess } from '../../bench/redis-harness.js';
import type { EngineProgress } from '../../pipelines/engine/engine.js';
import { LocalEngine } from '../../pipelines/engine/local-engine.js';
import { openEngine } from '../../pipelines/engine/open-engine.js';
import { checkRedis } from '../../pipelines/engine/redis-check.js';
import { RedisEngine } from '../../pipelines/engine/redis-engine.js';
import { parseRedisUrl } from '../../pipelines/engine/redis-url.js';
import type { FlowSpec, TaskSpec } from '../../pipelines/engine/task.js';
import { TaskFailedError } from '../../pipelines/engine/task-errors.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { recpost } from '../cli/helpers.js';
import { skipRedisTests, startRedisServer, type LocalRedisServer } from '../helpers/redis-server.js';

const skip = skipRedisTests();
const tasksModule = path.join(import.meta.dirname, 'redis-test-tasks.ts');
const localModules = [pathToFileURL(path.join(import.meta.dirname, 'test-tasks.ts')).href];
const FAST = { lockDurationMs: 2000, stalledIntervalMs: 500, imports: [tasksModule, path.join(import.meta.dirname, 'test-tasks.ts')] };
const N = 1200;

let dir: string;
let numbers: string;
let expectedSum = 0;
let server: LocalRedisServer;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-redis-engine-'));
  numbers = path.join(dir, 'numbers.txt');
  const values = Array.from({ length: N }, (_v, i) => (i * 7919) % 1009);
  expectedSum = values.reduce((a, b) => a + b, 0);
  fs.writeFileSync(numbers, values.join('\n'));
  server = await startRedisServer();
  workers.push(...(await Promise.all([spawnRedisWorker(server.url, FAST), spawnRedisWorker(server.url, FAST)])));
});

afterAll(async () => {
  if (skip) return;
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

let runLogCount = 0;
/** K shards of `test.redis-shard` over the numbers file, logging runs to a fresh file. */
function shardTasks(k: number, extra: (i: number) => object = () => ({})): { tasks: TaskSpec[]; runLog: string } {
  const runLog = path.join(dir, `runs-${runLogCount++}.log`);
  fs.writeFileSync(runLog, '');
  const size = Math.ceil(N / k);
  const tasks = Array.from({ length: k }, (_v, i) => {
    const key = `sum/${i}`;
    return { kind: 'test.redis-shard', key, input: { file: numbers, start: i * size, end: Math.min(N, (i + 1) * size), runLog, key, ...extra(i) } };
  });
  return { tasks, runLog };
}

const runs = (runLog: string) => fs.readFileSync(runLog, 'utf8').trim().split('\n').filter(Boolean);
const pidOf = (worker: string) => Number(worker.split(':').pop());
const workerWithPid = (pid: number) => workers.find((w) => w.pid === pid);

async function waitFor(file: string, ms = 20_000): Promise<string> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') !== '') return fs.readFileSync(file, 'utf8');
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${file} did not appear`);
}

async function withEngine<T>(f: (e: RedisEngine) => Promise<T>, opts: { runId?: string } = {}): Promise<T> {
  const e = await RedisEngine.open({ redis: server.url, retryDelayMs: 50, ...opts });
  try {
    return await f(e);
  } finally {
    await e.close();
  }
}

/** Keys Redis still holds for a run's jobs. */
async function keysOfRun(runId: string, queue = 'recpost'): Promise<string[]> {
  const r = new Redis(parseRedisUrl(server.url));
  try {
    return (await r.keys(`recpost:${queue}:${runId}.*`)).sort();
  } finally {
    r.disconnect();
  }
}

const merged = (label: string, tasks: TaskSpec[], fanIn?: number): FlowSpec => ({
  label,
  children: tasks,
  merge: { kind: 'test.merge-sums', key: `${label}/merge`, input: { tag: label } },
  ...(fanIn ? { treeFanIn: fanIn } : {}),
});

describe.skipIf(skip)('Redis engine with recpost worker processes', () => {
  it('runs a flow of 8 shards with a tree merge on 2 workers: the same result as the local engine; its jobs are removed after', async () => {
    const { tasks } = shardTasks(8);
    const local = new LocalEngine(2, { modules: [...localModules, pathToFileURL(tasksModule).href] });
    let localOut: unknown;
    try {
      localOut = await local.runFlow(merged('sum', tasks, 3));
    } finally {
      await local.close();
    }
    expect(localOut).toEqual({ sum: expectedSum, rows: N, tag: 'sum', partial: false });
    // The local engine ran each task once; the Redis run logs to a fresh file.
    const again = shardTasks(8);
    const seen: EngineProgress[] = [];
    const e = await openEngine({ redis: server.url });
    try {
      expect(e).toBeInstanceOf(RedisEngine);
      expect(e.slots).toBe(2);
      const out = await e.runFlow(merged('sum', again.tasks, 3), (p) => seen.push(p));
      expect(out).toEqual(localOut);
      const last = seen[seen.length - 1]!;
      expect(last).toEqual({ label: 'sum', done: 8 + 3 + 1, total: 12, rows: N, retries: 0, running: 0 });
      expect(Math.max(...seen.map((p) => p.running))).toBeLessThanOrEqual(2);
      // Both workers took shards, each in its job process (what the benchmark's peak memory per worker reads).
      expect(new Set(runs(again.runLog).map((l) => l.split(' ')[1])).size).toBe(2);
      for (const w of workers) {
        const mem = w.peakMemory();
        expect(mem.worker).toBeGreaterThan(10 * 2 ** 20);
        expect(mem.processors).toHaveLength(1);
        expect(mem.processors[0]).toBeGreaterThan(10 * 2 ** 20);
      }
      // Without a merge: the children's results in order.
      const parts = (await e.runFlow({ label: 'parts', children: shardTasks(3).tasks })) as { rows: number }[];
      expect(parts.map((r) => r.rows)).toEqual([400, 400, 400]);
      expect(await keysOfRun((e as RedisEngine).runId)).toEqual([]);
    } finally {
      await e.close();
    }
  });

  it('gives the job of a worker killed with SIGKILL to another worker (stall recovery); the result is unchanged', async () => {
    const workerFile = path.join(dir, 'victim.txt');
    const outDir = fs.mkdtempSync(path.join(dir, 'out-'));
    const { tasks, runLog } = shardTasks(4, (i) => ({ outDir, ...(i === 1 ? { delayMs: 2500, workerFile } : {}) }));
    await withEngine(async (e) => {
      let retries = 0;
      const run = e.runFlow(merged('kill', tasks), (p) => (retries = p.retries));
      const victimPid = pidOf(await waitFor(workerFile));
      const victim = workerWithPid(victimPid)!;
      expect(victim).toBeDefined();
      process.kill(victimPid, 'SIGKILL');
      expect((await victim.exited).signal).toBe('SIGKILL');
      const out = (await run) as { sum: number; rows: number };
      expect(out).toEqual({ sum: expectedSum, rows: N, tag: 'kill', partial: false });
      expect(retries).toBe(1);
      const shard1 = runs(runLog).filter((l) => l.startsWith('sum/1 '));
      expect(shard1).toHaveLength(2);
      expect(pidOf(shard1[0]!.split(' ')[1]!)).toBe(victimPid);
      expect(pidOf(shard1[1]!.split(' ')[1]!)).not.toBe(victimPid);
      const survivor = workers.find((w) => w !== victim)!;
      expect(survivor.log()).toContain('stalled sum/1: its worker stopped renewing the lock; given back to the queue');
      // Every shard's output file is there once, with its sum.
      const files = fs.readdirSync(outDir).sort();
      expect(files).toEqual(['sum_0.txt', 'sum_1.txt', 'sum_2.txt', 'sum_3.txt']);
      expect(files.reduce((s, f) => s + Number(fs.readFileSync(path.join(outDir, f), 'utf8')), 0)).toBe(expectedSum);
      workers.splice(workers.indexOf(victim), 1, await spawnRedisWorker(server.url, FAST));
    });
  });

  it('a job run twice (its worker frozen past its lock, then resumed) changes nothing: the late completion is refused', async () => {
    const workerFile = path.join(dir, 'frozen.txt');
    const outDir = fs.mkdtempSync(path.join(dir, 'out-'));
    const { tasks, runLog } = shardTasks(4, (i) => ({ outDir, ...(i === 2 ? { delayMs: 1500, workerFile } : {}) }));
    await withEngine(async (e) => {
      const run = e.runFlow(merged('stall', tasks));
      const frozenPid = pidOf(await waitFor(workerFile));
      process.kill(frozenPid, 'SIGSTOP');
      let out: unknown;
      try {
        out = await run;
      } finally {
        process.kill(frozenPid, 'SIGCONT');
      }
      expect(out).toEqual({ sum: expectedSum, rows: N, tag: 'stall', partial: false });
      // The frozen worker's process finished the task too once resumed: two runs of shard 2, one result.
      // Its late completion is refused (the job has moved on: the lock is lost, the completed job already removed).
      const late = new RegExp(`error: Missing key for job ${e.runId}\\.sum/2\\. moveToFinished`);
      for (let i = 0; i < 100 && !late.test(workerWithPid(frozenPid)!.log()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(workerWithPid(frozenPid)!.log()).toMatch(late);
      expect(runs(runLog).filter((l) => l.startsWith('sum/2 '))).toHaveLength(2);
      expect(fs.readdirSync(outDir).reduce((s, f) => s + Number(fs.readFileSync(path.join(outDir, f), 'utf8')), 0)).toBe(expectedSum);
      // The engine goes on working.
      expect(await e.runFlow(merged('after', shardTasks(2).tasks))).toEqual({ sum: expectedSum, rows: N, tag: 'after', partial: false });
    });
  });

  it('recognises the same flow submitted twice (same engine, or a second coordinator of the same run): each task runs once', async () => {
    const { tasks, runLog } = shardTasks(4, () => ({ delayMs: 200 }));
    await withEngine(async (e) => {
      const [a, b] = await Promise.all([e.runFlow(merged('dup', tasks)), e.runFlow(merged('dup', tasks))]);
      expect(a).toEqual({ sum: expectedSum, rows: N, tag: 'dup', partial: false });
      expect(b).toEqual(a);
      expect(runs(runLog)).toHaveLength(4);
      // A second coordinator process of this run (same run id) joins the flow already queued.
      const second = shardTasks(4, () => ({ delayMs: 400 }));
      const first = e.runFlow(merged('dup2', second.tasks));
      await waitFor(second.runLog);
      const joined = await withEngine((other) => other.runFlow(merged('dup2', second.tasks)), { runId: e.runId });
      expect(joined).toEqual(await first);
      expect(runs(second.runLog)).toHaveLength(4);
    });
  });

  it('returns a usage error as a ConfigError with its message, run once; other failures are retried, then name the task', async () => {
    const runLog = path.join(dir, 'usage.log');
    fs.writeFileSync(runLog, '');
    await withEngine(async (e) => {
      const usage: FlowSpec = { label: 'bad', children: [...shardTasks(2).tasks, { kind: 'test.redis-usage', key: 'bad/0', input: { runLog } }] };
      const err = await e.runFlow(usage).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe('shards.yaml:3: field "rows" must be positive (got 0)');
      expect(runs(runLog)).toHaveLength(1);
      const err2 = await e.runFlow({ label: 'throws', children: [{ kind: 'test.throws', key: 't', input: {} }] }).catch((x: unknown) => x);
      expect(err2).toBeInstanceOf(TaskFailedError);
      expect((err2 as Error).message).toBe('task t failed after 3 attempts: disk on fire');
      expect(await keysOfRun(e.runId)).toEqual([]);
    });
  });
});

describe.skipIf(skip)('Redis setup check', () => {
  it('warns when the eviction policy could drop queued jobs', async () => {
    expect(await checkRedis(server.url)).toEqual({ evictionPolicy: 'noeviction' });
    const r = new Redis(parseRedisUrl(server.url));
    try {
      await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
      expect(await checkRedis(server.url)).toEqual({
        evictionPolicy: 'allkeys-lru',
        warning: `Redis at ${server.url} has maxmemory-policy allkeys-lru: it may evict queued jobs; set it to noeviction`,
      });
    } finally {
      await r.config('SET', 'maxmemory-policy', 'noeviction');
      r.disconnect();
    }
  });
});

describe.skipIf(skip)('recpost worker', () => {
  it('cannot connect: one line, exit 2', async () => {
    const r = await recpost(['worker', '--redis', `unix://${dir}/nothing.sock`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^recpost: --redis unix://${dir}/nothing\\.sock: cannot connect \\(.*ENOENT.*\\)\\n$`));
    const bad = await recpost(['worker', '--redis', server.url, '--concurrency', '0']);
    expect(bad).toEqual({ code: 2, out: '', err: 'recpost: --concurrency must be at least 1, got 0\n' });
  });

  it('--concurrency 2 runs two jobs at once, each in its own job process', async () => {
    const w = await spawnRedisWorker(server.url, { ...FAST, queue: 'pair', concurrency: 2 });
    const { tasks, runLog } = shardTasks(2, () => ({ delayMs: 1000 }));
    const engine = await openEngine({ redis: server.url, queue: 'pair' });
    try {
      let most = 0;
      const out = await engine.runFlow(merged('pair', tasks), (p) => (most = Math.max(most, p.running)));
      expect(out).toEqual({ sum: expectedSum, rows: N, tag: 'pair', partial: false });
      expect(most).toBe(2);
      expect(new Set(runs(runLog).map((l) => pidOf(l.split(' ')[1]!)))).toEqual(new Set([w.pid]));
      expect(w.peakMemory().processors).toHaveLength(2);
      expect(w.log()).toContain(', concurrency 2, lock 2000 ms, stall check every 500 ms');
    } finally {
      await engine.close();
      await w.stop();
    }
  });

  it('on SIGTERM finishes its running job, then exits 0', async () => {
    const w = await spawnRedisWorker(server.url, { ...FAST, queue: 'sigterm' });
    const workerFile = path.join(dir, 'sigterm.txt');
    const outDir = fs.mkdtempSync(path.join(dir, 'out-'));
    const { tasks } = shardTasks(1, () => ({ delayMs: 1500, workerFile, outDir }));
    const engine = await openEngine({ redis: server.url, queue: 'sigterm' });
    try {
      // The flow cannot finish: its collect root needs a worker, and the only one stops.
      const run = engine.runFlow({ label: 'one', children: tasks }).catch((e: unknown) => e);
      await waitFor(workerFile);
      w.child.kill('SIGTERM');
      expect(await w.exited).toEqual({ code: 0, signal: null });
      expect(w.log()).toMatch(
        /SIGTERM: finishing running jobs, taking no new ones \(signal again to exit now\)\n.*done sum\/0 \(test\.redis-shard\) in [\d.]+ s \(attempt 1\)\n.*worker \S+ stopped\n$/,
      );
      expect(fs.readFileSync(path.join(outDir, 'sum_0.txt'), 'utf8')).toBe(`${expectedSum}\n`);
      await engine.close();
      expect(((await run) as Error).message).toBe('engine closed');
      // Closing removed the flow's jobs: its collect root no longer waits in Redis.
      expect(await keysOfRun((engine as RedisEngine).runId, 'sigterm')).toEqual([]);
    } finally {
      await engine.close();
      await w.stop('SIGKILL');
    }
  });
});
