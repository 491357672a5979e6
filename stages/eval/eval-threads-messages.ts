/** The messages between evaluation and its scoring worker threads (eval-threads-worker.ts). */

export interface EvalInitMessage {
  type: 'init';
  /** The tfjs backend the evaluating thread scores on (the worker starts the same one). */
  backend: 'wasm' | 'cpu';
}

export interface EvalItemsMessage {
  type: 'items';
  /** Float32 [numItems × dim]: the item vectors of the scorer being evaluated. */
  items: SharedArrayBuffer;
  dim: number;
  numItems: number;
}

/** Rank counts of one chunk of contexts over the worker's item range [start, end). */
export interface EvalRankRequest {
  type: 'rank';
  h: Float32Array;
  targets: Int32Array;
  targetScores: Float32Array;
  exclusionOffsets: Int32Array;
  exclusionValues: Int32Array;
  start: number;
  end: number;
  /** Items per score block (rows × width ≤ the thread's share of the bound). */
  width: number;
}

export type EvalWorkerReply = { type: 'ready' } | { type: 'ranked'; atOrAbove: Int32Array } | { type: 'error'; message: string };
