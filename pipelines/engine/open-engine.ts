/**
 * Choose the engine a run uses: the local engine (worker processes on this
 * machine, the default) or the cluster engine on Redis + BullMQ when a Redis
 * URL is given. The cluster engine is imported only when asked for, so a
 * local run never loads the Redis client.
 */
import * as os from 'node:os';
import type { Engine, EngineOptions } from './engine.js';
import { LocalEngine } from './local-engine.js';

export interface EngineChoice extends EngineOptions {
  /** Local worker processes (default: the number of cores). */
  workers?: number;
  /** Redis URL (redis://host:port, or unix:///path/to/socket): submit tasks to `recpost worker`s through BullMQ. */
  redis?: string;
  /** The queue `recpost worker`s listen on (default `recpost`); Redis engine only. */
  queue?: string;
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism());
}

export async function openEngine(choice: EngineChoice = {}): Promise<Engine> {
  if (choice.redis !== undefined) {
    const { RedisEngine } = await import('./redis-engine.js');
    return RedisEngine.open({ ...choice, redis: choice.redis });
  }
  return new LocalEngine(choice.workers ?? defaultWorkers(), choice);
}
