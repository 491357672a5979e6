/**
 * Evaluation on several cores: the catalog of a factored scorer (ScoreFactors)
 * is split into `threads` contiguous item ranges; the evaluating thread scores
 * the first and worker threads (eval-threads-worker.ts) the others, each in
 * item blocks holding at most its share of the score bound. Their rank
 * counts are integers added together, so the ranks are exactly those of one
 * thread, whatever the thread count or the order replies arrive in.
 *
 * Workers start once per stage (each starts its backend) and get each
 * scorer's item vectors once, in shared memory. A worker that fails or exits
 * rejects the pending chunk with a message naming it; close() terminates
 * them all. The worker module is eval-threads-worker.js in the built dist/,
 * or the .ts source under tsx / vitest (then the thread registers tsx first).
 */
import { startModuleWorker } from '../core/module-worker.js';
import * as os from 'node:os';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { RankingScorer } from '../core/policy.js';
import { BlockedRanking, itemBlocks } from './blocked-topk.js';
import type { EvalInitMessage, EvalItemsMessage, EvalRankRequest, EvalWorkerReply } from './eval-threads-messages.js';
import { blockScores } from './factor-scores.js';

/** The `threads` option: 0 means every core the process may use. */
export function resolveEvalThreads(option: number): number {
  return option === 0 ? os.availableParallelism() : option;
}

class ScoringWorker {
  readonly thread: Worker;
  private pending: { resolve(r: EvalWorkerReply): void; reject(e: Error): void } | undefined;
  private failure: Error | undefined;
  private closing = false;

  constructor(readonly index: number) {
    this.thread = startModuleWorker(import.meta.url, 'eval-threads-worker');
    this.thread.unref();
    this.thread.on('message', (r: EvalWorkerReply) => {
      const p = this.pending;
      this.pending = undefined;
      this.thread.unref();
      if (!p) return;
      if (r.type === 'error') p.reject(new Error(`${this.name} failed: ${r.message}`));
      else p.resolve(r);
    });
    this.thread.on('error', (e) => this.fail(new Error(`${this.name} failed: ${e.message}`)));
    this.thread.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`${this.name} exited (code ${code}) during evaluation`));
    });
  }

  private get name(): string {
    return `evaluation worker ${this.index}`;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(this.failure);
  }

  request(msg: EvalInitMessage | EvalItemsMessage | EvalRankRequest, transfer: ArrayBuffer[] = []): Promise<EvalWorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error(`${this.name}: a request is already pending`));
    return new Promise<EvalWorkerReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.thread.ref(); // keep the process alive while the worker has work (only then)
      this.thread.postMessage(msg, transfer);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error(`${this.name} was closed`));
    await this.thread.terminate();
  }
}

export interface RankJob {
  scorer: RankingScorer;
  dim: number;
  /** The scorer's item vectors [numItems × dim]. */
  items: Float32Array;
  /** Context vectors of the chunk [rows × dim]. */
  h: Float32Array;
  maxScoreFloats: number;
}

export class EvalThreadPool {
  private scorer: RankingScorer | undefined;

  private constructor(private readonly workers: ScoringWorker[]) {}

  /** Threads in all: the workers and the evaluating thread. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Start `threads − 1` workers on the active backend; any failure terminates them all and rejects. */
  static async start(threads: number): Promise<EvalThreadPool> {
    const backend = tf.getBackend();
    if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`evaluation threads run on the wasm or cpu backend, not ${backend}`);
    const workers: ScoringWorker[] = [];
    try {
      for (let k = 1; k < threads; k++) workers.push(new ScoringWorker(k));
      await Promise.all(workers.map((w) => w.request({ type: 'init', backend })));
    } catch (e) {
      await Promise.all(workers.map((w) => w.close()));
      throw e;
    }
    return new EvalThreadPool(workers);
  }

  private async shareItems(job: RankJob): Promise<void> {
    if (this.scorer === job.scorer) return;
    let sab: SharedArrayBuffer;
    if (job.items.buffer instanceof SharedArrayBuffer && job.items.byteOffset === 0 && job.items.byteLength === job.items.buffer.byteLength)
      sab = job.items.buffer;
    else {
      sab = new SharedArrayBuffer(job.items.byteLength);
      new Float32Array(sab).set(job.items);
    }
    await Promise.all(this.workers.map((w) => w.request({ type: 'items', items: sab, dim: job.dim, numItems: job.scorer.numItems })));
    this.scorer = job.scorer;
  }

  /** Fold the whole catalog (items 1..numItems−1) into `state`, split across the threads. */
  async rank(state: BlockedRanking, job: RankJob): Promise<void> {
    await this.shareItems(job);
    const n = job.scorer.numItems;
    const t = this.threads;
    const rows = state.rows;
    const width = Math.max(1, Math.floor(job.maxScoreFloats / t / Math.max(1, rows)));
    const bounds = Array.from({ length: t + 1 }, (_, i) => 1 + Math.floor(((n - 1) * i) / t));
    const replies = this.workers.map((w, k) => {
      const req: EvalRankRequest = {
        type: 'rank',
        h: job.h,
        targets: state.targets,
        targetScores: state.targetScores,
        exclusionOffsets: state.exclusions.offsets,
        exclusionValues: state.exclusions.values,
        start: bounds[k + 1]!,
        end: bounds[k + 2]!,
        width,
      };
      return w.request(req);
    });
    // This thread's share while the workers score theirs; a failure of ours still waits for theirs to settle.
    let own: unknown;
    try {
      for (const [s, e] of itemBlocks(bounds[0]!, bounds[1]!, width)) {
        state.addBlock(blockScores(job.h, rows, job.dim, job.items.subarray(s * job.dim, e * job.dim), e - s), s, e);
      }
    } catch (e) {
      own = e;
    }
    const settled = await Promise.allSettled(replies);
    if (own) throw own;
    const empty = { topItems: new Int32Array(0), topScores: new Float32Array(0), topFilled: new Int32Array(rows) };
    for (const r of settled) {
      if (r.status === 'rejected') throw r.reason;
      if (r.value.type !== 'ranked') throw new Error(`evaluation worker: unexpected reply ${r.value.type}`);
      state.merge({ atOrAbove: r.value.atOrAbove, ...empty });
    }
  }

  /** The worker threads (for tests that kill one). */
  workerThreads(): Worker[] {
    return this.workers.map((w) => w.thread);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
