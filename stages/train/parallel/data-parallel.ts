/**
 * Data-parallel gradients over threads: each optimiser step's minibatch is
 * split into contiguous row slices (row-slices.ts); the main thread computes
 * slice 0 and worker k slice k, each its share of the minibatch loss
 * (slice-gradients.ts); the gradients are summed in slice order (so a given
 * thread count gives the same numbers every run) and handed back as
 * tensors, on which the trainer clips and takes the Adam step once. Before
 * every request the main thread writes its parameters into shared memory,
 * from which every replica loads them: the replicas never drift.
 *
 * The objective's weights are computed once for the whole minibatch, by the
 * trainer, and sliced here; dropout masks are the whole minibatch's (each
 * slice knows its first row); shared negatives are drawn from (seed, step).
 */
import * as tf from '@tensorflow/tfjs-core';
import { activeBackend, type BackendName } from '../backend.js';
import type { OfflineTask, PreparedBatch } from '../offline-trainer.js';
import { layoutOf, writeParams, type ParamLayout } from './param-layout.js';
import { contiguousRowRanges } from './row-slices.js';
import { sliceGradients, type GradientTerm, type SliceResult } from './slice-gradients.js';
import type { DataParallelSpec } from './task-spec.js';
import { GradientWorkerPool } from './worker-pool.js';

export interface ReducedGradients {
  /** The whole minibatch's gradient by parameter name (caller disposes). */
  named: Map<string, tf.Tensor>;
  loss: number;
  nll: number;
  extras: [string, number][];
}

export class DataParallelGradients<P extends PreparedBatch> {
  private readonly mainGrads: Float32Array;
  private readonly sum: Float32Array;

  private constructor(
    private readonly task: OfflineTask<P>,
    private readonly spec: DataParallelSpec<P>,
    private readonly threads: number,
    private readonly layout: ParamLayout,
    private readonly paramView: Float32Array,
    private readonly pool: GradientWorkerPool,
  ) {
    this.mainGrads = new Float32Array(layout.total);
    this.sum = new Float32Array(layout.total);
  }

  /** Start threads − 1 workers replicating `task` (threads ≥ 2). */
  static async start<P extends PreparedBatch>(
    task: OfflineTask<P>,
    spec: DataParallelSpec<P>,
    threads: number,
    label: string,
  ): Promise<DataParallelGradients<P>> {
    if (!(Number.isInteger(threads) && threads >= 2)) throw new Error(`data-parallel training needs at least 2 threads, got ${threads}`);
    const layout = layoutOf(task.params);
    const paramBuffer = new SharedArrayBuffer(layout.total * 4);
    const backend: BackendName = activeBackend()?.name ?? (tf.getBackend() as BackendName);
    const pool = await GradientWorkerPool.start(
      threads - 1,
      { backend, spec: spec.worker, slots: layout.slots, additiveExtras: spec.additiveExtras, params: paramBuffer },
      layout.total,
      label,
    );
    return new DataParallelGradients(task, spec, threads, layout, new Float32Array(paramBuffer), pool);
  }

  /** Tensors alive in each worker after its last gradient (for tests). */
  workerLiveTensors(): readonly number[] {
    return this.pool.liveTensors;
  }

  /** The worker threads (for tests). */
  workerThreads() {
    return this.pool.threads();
  }

  /** Gradient and loss terms of `batch` under `weights` at optimiser step `step`, at the current parameters. */
  async gradients(batch: P, weights: Float32Array, step: number, term: GradientTerm = 'loss'): Promise<ReducedGradients> {
    writeParams(this.task.params, this.layout, this.paramView);
    const M = weights.length;
    const ranges = contiguousRowRanges(this.spec.rows(batch), this.threads);
    const slices = ranges.map((r) => this.spec.slice(batch, r.start, r.end));
    // Slices without targets add nothing; a minibatch without any is computed whole, as with one thread.
    const work = M === 0 ? [{ batch, targetStart: 0, targetEnd: 0, k: 0 }] : slices.map((s, k) => ({ ...s, k })).filter((s) => s.targetEnd > s.targetStart);
    const share = (s: { targetStart: number; targetEnd: number }) => (M === 0 ? 1 : (s.targetEnd - s.targetStart) / M);
    const fromWorkers: Promise<SliceResult>[] = [];
    let own: (typeof work)[number] | undefined;
    for (const s of work) {
      if (s.k === 0) {
        own = s;
        continue;
      }
      fromWorkers[s.k] = this.pool.gradient(s.k - 1, { batch: s.batch, weights: weights.slice(s.targetStart, s.targetEnd), step, share: share(s), term });
    }
    // Settle every request before returning (a failure must not leave a worker mid-request unobserved).
    const settled = Promise.allSettled(fromWorkers.filter((p) => p !== undefined));
    let ownResult: SliceResult | undefined;
    try {
      if (own)
        ownResult = sliceGradients(
          this.task,
          own.batch,
          weights.subarray(own.targetStart, own.targetEnd),
          step,
          share(own),
          this.spec.additiveExtras,
          this.layout,
          this.mainGrads,
          term,
        );
    } finally {
      const outcomes = await settled;
      const failed = outcomes.find((o) => o.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    // Sum in slice order: slice 0 (main), then workers 1, 2, …
    const results: { k: number; result: SliceResult }[] = [];
    if (ownResult) results.push({ k: 0, result: ownResult });
    for (let k = 1; k < fromWorkers.length; k++) if (fromWorkers[k]) results.push({ k, result: await fromWorkers[k]! });
    return this.reduce(results);
  }

  private reduce(results: { k: number; result: SliceResult }[]): ReducedGradients {
    const sum = this.sum;
    const present = new Set<string>();
    let loss = 0;
    let nll = 0;
    const extras = new Map<string, number>();
    results.forEach(({ k, result }, i) => {
      const g = k === 0 ? this.mainGrads : this.pool.grads[k - 1]!;
      if (i === 0) sum.set(g);
      else for (let j = 0; j < sum.length; j++) sum[j] = sum[j]! + g[j]!;
      for (const name of result.present) present.add(name);
      loss += result.loss;
      nll += result.nll;
      for (const [name, v] of Object.entries(result.extras)) extras.set(name, (extras.get(name) ?? 0) + v);
    });
    const named = new Map<string, tf.Tensor>();
    for (const s of this.layout.slots) if (present.has(s.name)) named.set(s.name, tf.tensor(sum.slice(s.offset, s.offset + s.size), s.shape, 'float32'));
    return { named, loss, nll, extras: [...extras] };
  }

  /** Terminate the workers. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
