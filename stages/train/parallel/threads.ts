/** The `threads` option of trainers: a count, or 0 for every core the process may use. */
import * as os from 'node:os';

export function resolveThreads(option: number): number {
  return option === 0 ? os.availableParallelism() : option;
}
