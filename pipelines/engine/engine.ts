/**
 * What the pipeline runner asks of an engine: run flows of tasks somewhere
 * and hand back the results. Two engines implement it: the local engine
 * (worker processes on this machine, local-engine.ts) and the cluster engine
 * (Redis + BullMQ, workers on any machine). The coordinator never cares which.
 */
import type { FlowSpec } from './task.js';

export interface EngineProgress {
  label: string;
  /** Tasks finished (children and merges). */
  done: number;
  total: number;
  /** Rows reported by the flow's tasks so far. */
  rows: number;
  /** Attempts beyond the first (a crashed worker, a failed try). */
  retries: number;
  /** Tasks running now. */
  running: number;
}

export interface Engine {
  readonly kind: 'local' | 'redis';
  /** Tasks that can run at once. */
  readonly slots: number;
  /** Run the children in parallel, then the merge; resolves to the merge's result (or the children's results in order). */
  runFlow(flow: FlowSpec, onProgress?: (p: EngineProgress) => void): Promise<unknown>;
  /** Stop the workers this engine started (idempotent). */
  close(): Promise<void>;
}

export interface EngineOptions {
  /** Extra modules each worker imports at start (file URLs), registering task kinds (tests use this). */
  modules?: string[];
  /** Attempts per task before the flow fails (default 3). Usage errors are never retried. */
  maxAttempts?: number;
}
