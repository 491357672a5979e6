/**
 * The ingest's parsing threads: started once per run, each initialised with
 * the parse settings (and, for `vocab: fixed`, the frozen vocabularies), then
 * given one range at a time from a queue. A worker that fails or exits
 * rejects its range with a message naming it; `close` ends them all, so no
 * thread outlives the run.
 *
 * The worker module is range-worker.js next to this file in the built dist/,
 * or range-worker.ts when running from sources (tsx, vitest): then the thread
 * first registers tsx's loader, so it can import TypeScript.
 */
import { startModuleWorker } from '../core/module-worker.js';
import type { Worker } from 'node:worker_threads';
import type { ParseSettings } from './ingest-inputs.js';
import type { RangeOutput } from './range-job.js';
import type { RangeWorkerReply, RangeWorkerRequest } from './range-messages.js';
import type { RangeTask } from './range-parse.js';

interface Waiting {
  resolve(out: RangeOutput | null): void;
  reject(e: Error): void;
}

class RangeThread {
  readonly thread: Worker;
  private waiting: Waiting | null = null;
  private failure: Error | null = null;
  private closing = false;

  constructor(readonly index: number) {
    this.thread = startModuleWorker(import.meta.url, 'range-worker');
    this.thread.on('message', (r: RangeWorkerReply) => {
      const w = this.waiting;
      this.waiting = null;
      this.thread.unref();
      if (!w) return;
      if (r.type === 'error') w.reject(new Error(`ingest worker ${this.index} failed: ${r.message}`));
      else w.resolve(r.type === 'range' ? r.out : null);
    });
    this.thread.on('error', (e) => this.fail(new Error(`ingest worker ${this.index} failed: ${e.message}`)));
    this.thread.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`ingest worker ${this.index} exited (code ${code}) while parsing`));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.failure);
  }

  request(msg: RangeWorkerRequest): Promise<RangeOutput | null> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.thread.ref();
      this.thread.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error(`ingest worker ${this.index} was closed`));
    await this.thread.terminate();
  }
}

export class RangeWorkerPool {
  private readonly idle: RangeThread[] = [];
  private readonly queue: { task: RangeTask; resolve(o: RangeOutput): void; reject(e: Error): void }[] = [];
  private nextId = 0;

  private constructor(private readonly threads: RangeThread[]) {
    this.idle.push(...threads);
  }

  /** Start `count` threads and initialise each; a failure closes them all and rejects. */
  static async start(count: number, settings: ParseSettings, fixed: { users: string; items: string } | null): Promise<RangeWorkerPool> {
    const threads: RangeThread[] = [];
    try {
      for (let k = 0; k < count; k++) threads.push(new RangeThread(k + 1));
      await Promise.all(threads.map((t) => t.request({ type: 'init', settings, fixed })));
    } catch (e) {
      await Promise.all(threads.map((t) => t.close()));
      throw e;
    }
    return new RangeWorkerPool(threads);
  }

  /** Parse a range on the next free thread. */
  parse(task: RangeTask): Promise<RangeOutput> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const t = this.idle.shift()!;
      const job = this.queue.shift()!;
      t.request({ type: 'range', id: this.nextId++, task: job.task }).then(
        (out) => {
          this.idle.push(t);
          job.resolve(out!);
          this.pump();
        },
        (e: Error) => job.reject(e),
      );
    }
  }

  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new Error('ingest: the worker pool was closed'));
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
