/** Messages between the ingest and its range worker threads. */
import type { ParseSettings } from './ingest-inputs.js';
import type { RangeOutput } from './range-job.js';
import type { RangeTask } from './range-parse.js';

export type RangeWorkerRequest =
  | { type: 'init'; settings: ParseSettings; fixed: { users: string; items: string } | null }
  | { type: 'range'; id: number; task: RangeTask }
  | { type: 'close' };

export type RangeWorkerReply = { type: 'ready' } | { type: 'range'; id: number; out: RangeOutput } | { type: 'error'; id: number; message: string };
