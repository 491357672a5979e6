/** The `threads` option of trainers: a count, or 0 for every core the process may use. */
import * as os from 'node:os';
import type { Logger } from '../../core/logger.js';
import type { BackendName } from '../backend.js';

export function resolveThreads(option: number): number {
  return option === 0 ? os.availableParallelism() : option;
}

/**
 * The threads a run uses on `backend`: native TensorFlow already runs every
 * kernel on all cores (and its addon is not meant to be loaded per worker
 * thread), so there it is one, with a notice; elsewhere the option.
 */
export function trainingThreads(option: number, backend: BackendName | undefined, log?: Pick<Logger, 'info'>, label = 'train'): number {
  const threads = resolveThreads(option);
  if (threads > 1 && (backend === 'tensorflow' || backend === 'webgpu')) {
    const why = backend === 'webgpu' ? 'the WebGPU backend (the GPU does the work)' : 'the native TensorFlow backend (it already uses every core)';
    log?.info(`${label}: threads ${threads} ignored on ${why}; training on one thread`);
    return 1;
  }
  if (threads > 1) log?.info(`${label}: ${threads} threads (data-parallel gradients)`);
  return threads;
}
