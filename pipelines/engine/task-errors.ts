/**
 * Errors crossing a process boundary. A user mistake found by a task (bad
 * configuration, bad data, a path the user gave) must still end the run with
 * exit 2 and its one line, so it travels as `usage` and is rebuilt as a
 * ConfigError; anything else is a failure (exit 1) with the worker's message.
 * Usage errors are never retried: the data will not change.
 */
import { ConfigError } from '../../stages/core/config-schema.js';
import { DataError } from '../../stages/core/errors.js';

export interface SerializedTaskError {
  usage: boolean;
  message: string;
  stack?: string;
}

const USER_PATH_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EROFS']);

export function serializeTaskError(e: unknown): SerializedTaskError {
  if (e instanceof ConfigError || e instanceof DataError) return { usage: true, message: e.message };
  const errno = e as NodeJS.ErrnoException;
  if (e instanceof Error && typeof errno.code === 'string' && USER_PATH_CODES.has(errno.code) && typeof errno.path === 'string') {
    return { usage: true, message: e.message };
  }
  if (e instanceof Error) return { usage: false, message: e.message, stack: e.stack };
  return { usage: false, message: String(e) };
}

/** A task's failure, as the coordinator sees it. */
export class TaskFailedError extends Error {
  constructor(
    readonly taskKey: string,
    message: string,
    readonly attempts: number,
    readonly workerStack?: string,
  ) {
    super(message);
    this.name = 'TaskFailedError';
  }
}

/** Rebuild a task's error in the coordinator: usage errors as ConfigError (exit 2), others as TaskFailedError naming the task. */
export function taskError(key: string, err: SerializedTaskError, attempts: number): Error {
  if (err.usage) return new ConfigError(err.message, [err.message]);
  return new TaskFailedError(key, `task ${key} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${err.message}`, attempts, err.stack);
}
