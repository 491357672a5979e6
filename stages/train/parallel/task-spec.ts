/**
 * What a task must say to be trained data-parallel: how a worker thread
 * rebuilds the same task (a structured-cloneable description, built into a
 * task by worker-tasks.ts), and how a prepared minibatch splits into
 * contiguous row slices with their targets.
 */
import type { PreparedBatch } from '../offline-trainer.js';
import type { SasrecConfig } from '../sasrec.js';
import type { SasrecTaskOptions } from '../sasrec-task.js';

/** A worker's recipe for the task (every field survives postMessage). */
export type WorkerTaskSpec = {
  kind: 'sasrec';
  config: SasrecConfig;
  options: SasrecTaskOptions;
  /** Times each item is a target (the sampled softmax's proposal). */
  targetCounts: Float64Array;
};

/** Rows [start, end) of a prepared minibatch, owning its arrays (nothing shared with the whole batch), and the range of its targets. */
export interface BatchSlice<P> {
  batch: P;
  targetStart: number;
  targetEnd: number;
}

export interface DataParallelSpec<P extends PreparedBatch> {
  worker: WorkerTaskSpec;
  /** Rows (sequences) of a prepared minibatch. */
  rows(batch: P): number;
  slice(batch: P, start: number, end: number): BatchSlice<P>;
  /**
   * Names of the task's extra scalars that are means over the minibatch's
   * targets (so slices' shares add up, like the loss); others are not
   * reported with threads > 1.
   */
  additiveExtras: readonly string[];
}
