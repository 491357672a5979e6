/** The messages between the trainer and its gradient workers (gradient-worker.ts). */
import type { BackendName } from '../backend.js';
import type { ParamSlot } from './param-layout.js';
import type { GradientTerm, SliceResult } from './slice-gradients.js';
import type { WorkerTaskSpec } from './task-spec.js';

export interface InitMessage {
  type: 'init';
  backend: BackendName;
  spec: WorkerTaskSpec;
  slots: ParamSlot[];
  additiveExtras: readonly string[];
  /** Float32 [total]: the current parameters, written by the trainer before each request. */
  params: SharedArrayBuffer;
  /** Float32 [total]: this worker's gradient. */
  grads: SharedArrayBuffer;
}

export interface GradientRequest {
  type: 'grad';
  id: number;
  batch: unknown;
  weights: Float32Array;
  step: number;
  share: number;
  term: GradientTerm;
}

export type WorkerReply =
  { type: 'ready' } | { type: 'done'; id: number; result: SliceResult; liveTensors: number } | { type: 'error'; id?: number; message: string };
