/**
 * The local engine: N worker processes on this machine, one task at a time
 * each, no server to start. Processes (not threads) because a task runs
 * stages with their own WASM backends and global state, and because a
 * crashed or killed worker must not take the run with it: its task is given
 * to another worker (up to maxAttempts), and a replacement process starts.
 *
 * Workers are forked from task-process.js in dist/, or task-process.ts under
 * tsx's loader when running from sources (tests, `npx tsx`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Engine, EngineOptions, EngineProgress } from './engine.js';
import type { ChildMessage, ParentMessage } from './local-messages.js';
import type { FlowSpec, MergeInput, TaskSpec } from './task.js';
import { taskError, TaskFailedError, type SerializedTaskError } from './task-errors.js';

interface FlowState {
  progress: EngineProgress;
  rows: Map<string, number>;
  failed: boolean;
  onProgress?: (p: EngineProgress) => void;
}

interface Job {
  id: number;
  task: TaskSpec;
  attempt: number;
  flow: FlowState;
  resolve(result: unknown): void;
  reject(e: Error): void;
}

interface WorkerProcess {
  child: ChildProcess;
  ready: boolean;
  job?: Job;
  name: string;
}

function workerEntry(): { file: string; execArgv: string[] } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { file: fileURLToPath(new URL('./task-process.js', here)), execArgv: [] };
  const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
  return { file: fileURLToPath(new URL('./task-process.ts', here)), execArgv: ['--import', tsx] };
}

/** How many merge nodes a tree reduction of n results with fan-in f makes (the root included). */
export function mergeNodeCount(n: number, fanIn: number | undefined): number {
  if (!fanIn || fanIn < 2) return 1;
  let nodes = 0;
  let level = n;
  while (level > fanIn) {
    level = Math.ceil(level / fanIn);
    nodes += level;
  }
  return nodes + 1;
}

export class LocalEngine implements Engine {
  readonly kind = 'local' as const;
  private readonly procs: WorkerProcess[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing = false;
  private fatal: Error | undefined;
  private readonly maxAttempts: number;

  constructor(
    readonly slots: number,
    private readonly opts: EngineOptions = {},
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`workers must be a positive integer (got ${slots})`);
    this.maxAttempts = opts.maxAttempts ?? 3;
  }

  /** Process ids of the workers now running (tests kill them). */
  workerPids(): number[] {
    return this.procs.map((p) => p.child.pid ?? -1);
  }

  /** Pids of workers running a task now. */
  busyWorkerPids(): number[] {
    return this.procs.filter((p) => p.job).map((p) => p.child.pid ?? -1);
  }

  async runFlow(flow: FlowSpec, onProgress?: (p: EngineProgress) => void): Promise<unknown> {
    this.start();
    const total = flow.children.length + (flow.merge ? mergeNodeCount(flow.children.length, flow.treeFanIn) : 0);
    const state: FlowState = { progress: { label: flow.label, done: 0, total, rows: 0, retries: 0, running: 0 }, rows: new Map(), failed: false, onProgress };
    try {
      const results = await Promise.all(flow.children.map((t) => this.submit(t, state)));
      if (!flow.merge) return results;
      let level = results;
      const fanIn = flow.treeFanIn;
      let depth = 0;
      while (fanIn && fanIn >= 2 && level.length > fanIn) {
        const groups: unknown[][] = [];
        for (let i = 0; i < level.length; i += fanIn) groups.push(level.slice(i, i + fanIn));
        const d = depth++;
        level = await Promise.all(
          groups.map((children, g) => {
            const input: MergeInput = { input: flow.merge!.input, children, partial: true };
            return this.submit({ kind: flow.merge!.kind, key: `${flow.merge!.key}/tree-${d}-${g}`, input }, state);
          }),
        );
      }
      const input: MergeInput = { input: flow.merge.input, children: level };
      return await this.submit({ ...flow.merge, input }, state);
    } catch (e) {
      state.failed = true;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('engine closed'));
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
            p.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (p.child.connected) p.child.disconnect();
            else p.child.kill('SIGTERM');
          }),
      ),
    );
    this.procs.length = 0;
  }

  private start(): void {
    if (this.closing) throw new Error('engine closed');
    while (this.procs.length < this.slots) this.spawn();
  }

  private spawn(): void {
    const { file, execArgv } = workerEntry();
    const child = fork(file, [], {
      execArgv,
      env: { ...process.env, RECPOST_TASK_MODULES: JSON.stringify(this.opts.modules ?? []) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const proc: WorkerProcess = { child, ready: false, name: `worker pid ${child.pid}` };
    this.procs.push(proc);
    child.on('message', (m: ChildMessage) => this.onMessage(proc, m));
    child.on('exit', (code, signal) => this.onExit(proc, code, signal));
    child.on('error', () => {
      /* 'exit' follows and is handled there */
    });
  }

  private onMessage(proc: WorkerProcess, m: ChildMessage): void {
    switch (m.type) {
      case 'ready':
        proc.ready = true;
        proc.name = m.worker;
        this.pump();
        return;
      case 'fatal':
        this.failAll(new Error(`a worker process could not start: ${m.error.message}`));
        return;
      case 'progress': {
        const job = proc.job;
        if (!job || job.id !== m.id) return;
        if (m.progress.rows !== undefined) {
          job.flow.rows.set(job.task.key, m.progress.rows);
          let rows = 0;
          for (const r of job.flow.rows.values()) rows += r;
          job.flow.progress.rows = rows;
        }
        this.report(job.flow);
        return;
      }
      case 'result':
      case 'error': {
        const job = proc.job;
        if (!job || job.id !== m.id) return;
        proc.job = undefined;
        job.flow.progress.running--;
        if (m.type === 'result') {
          job.flow.progress.done++;
          this.report(job.flow);
          job.resolve(m.result);
        } else this.retryOrFail(job, m.error);
        this.pump();
        return;
      }
    }
  }

  private onExit(proc: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const i = this.procs.indexOf(proc);
    if (i >= 0) this.procs.splice(i, 1);
    const job = proc.job;
    proc.job = undefined;
    if (job) {
      job.flow.progress.running--;
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      this.retryOrFail(job, { usage: false, message: `worker ${proc.name} ${how} while running it` });
    }
    if (!this.closing && !this.fatal && (this.queue.length > 0 || job)) this.spawn();
    this.pump();
  }

  private retryOrFail(job: Job, error: SerializedTaskError): void {
    if (job.flow.failed) return job.reject(taskError(job.task.key, error, job.attempt));
    if (!error.usage && job.attempt < this.maxAttempts) {
      job.attempt++;
      job.flow.progress.retries++;
      this.report(job.flow);
      this.queue.unshift(job);
      if (this.procs.length < this.slots && !this.closing) this.spawn();
      return;
    }
    job.reject(taskError(job.task.key, error, job.attempt));
  }

  private submit(task: TaskSpec, flow: FlowState): Promise<unknown> {
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, attempt: 1, flow, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const proc of this.procs) {
      if (!proc.ready || proc.job || !proc.child.connected) continue;
      let job = this.queue.shift();
      // Tasks of a flow that already failed are dropped, not run.
      while (job && job.flow.failed) {
        job.reject(new Error('flow failed'));
        job = this.queue.shift();
      }
      if (!job) return;
      proc.job = job;
      job.flow.progress.running++;
      const msg: ParentMessage = { type: 'run', id: job.id, task: job.task, attempt: job.attempt };
      proc.child.send(msg);
    }
  }

  private report(flow: FlowState): void {
    flow.onProgress?.({ ...flow.progress });
  }

  private failAll(e: Error): void {
    this.fatal = e;
    for (const j of this.queue.splice(0)) j.reject(e);
    for (const p of this.procs) {
      if (p.job) {
        const j = p.job;
        p.job = undefined;
        j.reject(e);
      }
    }
  }
}

export { TaskFailedError };
