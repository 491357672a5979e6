/** Messages between the local engine and its worker processes (JSON over IPC). */
import type { TaskProgress, TaskSpec } from './task.js';
import type { SerializedTaskError } from './task-errors.js';

export type ParentMessage = { type: 'run'; id: number; task: TaskSpec; attempt: number };

export type ChildMessage =
  | { type: 'ready'; worker: string }
  | { type: 'progress'; id: number; progress: TaskProgress }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: SerializedTaskError }
  | { type: 'fatal'; error: SerializedTaskError };
