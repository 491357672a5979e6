/**
 * The gradient worker threads of one training run: started once (each
 * initialises its backend and model replica), one request at a time each,
 * terminated at the end of the run or on the first failure. A worker that
 * throws, fails to start or exits while it has work rejects the pending
 * request with a message naming it; the trainer then stops and closes the
 * pool, so no thread outlives the run.
 *
 * The worker module is gradient-worker.js next to this file in the built
 * dist/, or gradient-worker.ts when running from sources (tsx, vitest): then
 * the thread first registers tsx's loader, so it can import TypeScript.
 */
import { startModuleWorker } from '../../core/module-worker.js';
import type { Worker } from 'node:worker_threads';
import type { GradientRequest, InitMessage, WorkerReply } from './messages.js';
import type { SliceResult } from './slice-gradients.js';

interface Pending {
  id?: number;
  resolve(r: WorkerReply): void;
  reject(e: Error): void;
}

class GradientWorker {
  readonly thread: Worker;
  private pending: Pending | undefined;
  private failure: Error | undefined;
  private closing = false;

  constructor(
    readonly index: number,
    private readonly label: string,
  ) {
    this.thread = startModuleWorker(import.meta.url, 'gradient-worker');
    this.thread.on('message', (r: WorkerReply) => {
      const p = this.pending;
      if (!p) return;
      this.pending = undefined;
      this.thread.unref();
      if (r.type === 'error') p.reject(new Error(`${this.name} failed: ${r.message}`));
      else p.resolve(r);
    });
    this.thread.on('error', (e) => this.fail(new Error(`${this.name} failed: ${e.message}`)));
    this.thread.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`${this.name} exited (code ${code}) during training`));
    });
  }

  private get name(): string {
    return `${this.label}: training worker ${this.index}`;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(this.failure);
  }

  request(msg: InitMessage | GradientRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error(`${this.name}: a request is already pending`));
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      // Keep the process alive while the worker has work (only then).
      this.thread.ref();
      this.thread.postMessage(msg, transfer);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error(`${this.name} was closed`));
    await this.thread.terminate();
  }
}

export class GradientWorkerPool {
  private constructor(
    private readonly workers: GradientWorker[],
    /** Each worker's gradient buffer (float32 views of shared memory). */
    readonly grads: Float32Array[],
  ) {}

  /** Start `count` workers and initialise each; any failure terminates them all and rejects. */
  static async start(count: number, init: Omit<InitMessage, 'type' | 'grads'>, total: number, label: string): Promise<GradientWorkerPool> {
    const workers: GradientWorker[] = [];
    const grads: Float32Array[] = [];
    try {
      for (let k = 0; k < count; k++) workers.push(new GradientWorker(k + 1, label));
      await Promise.all(
        workers.map((w) => {
          const buf = new SharedArrayBuffer(total * 4);
          grads.push(new Float32Array(buf));
          return w.request({ type: 'init', ...init, grads: buf });
        }),
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.close()));
      throw e;
    }
    return new GradientWorkerPool(workers, grads);
  }

  /** Tensors alive in each worker after its last request (a leak shows as growth). */
  readonly liveTensors: number[] = [];

  get size(): number {
    return this.workers.length;
  }

  /** Worker k's gradient of a slice (written into grads[k]). */
  async gradient(k: number, req: Omit<GradientRequest, 'type' | 'id'>): Promise<SliceResult> {
    const w = this.workers[k];
    if (!w) throw new Error(`no training worker ${k + 1}`);
    const r = await w.request({ type: 'grad', id: 0, ...req });
    if (r.type !== 'done') throw new Error(`training worker ${k + 1}: unexpected reply ${r.type}`);
    this.liveTensors[k] = r.liveTensors;
    return r.result;
  }

  /** The worker threads (for tests that kill one). */
  threads(): Worker[] {
    return this.workers.map((w) => w.thread);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
