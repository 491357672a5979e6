/**
 * The cluster-engine flags of `recpost run`: `--redis <url>` (submit to
 * `recpost worker`s through Redis instead of local worker processes),
 * `--queue <name>` (the workers' queue) and `--shards <n>` (how many shards a
 * shardable step is cut into; default: the engine's slots). Parsed and
 * checked here; the run command hands `engineChoiceFromFlags` to openEngine
 * and `shards` to the plan runner.
 */
import { Option } from 'commander';
import { ConfigError } from '../../stages/core/config-schema.js';
import { integerOption } from '../args.js';
import { checkQueueName, DEFAULT_QUEUE } from './redis-jobs.js';
import { parseRedisUrl } from './redis-url.js';

export interface RedisRunFlags {
  redis?: string;
  queue?: string;
  shards?: number;
}

function shardsOption(value: string): number {
  const n = integerOption('--shards')(value);
  if (n < 1) throw new ConfigError(`--shards must be at least 1, got ${n}`, ['--shards']);
  return n;
}

/** The flags, as commander options (the run command adds each with `.addOption`). */
export const REDIS_RUN_OPTIONS = {
  redis: () => new Option('--redis <url>', 'run the shards on `recpost worker`s through Redis (redis://host:port, rediss://…, unix:///path/to/redis.sock)'),
  queue: () => new Option('--queue <name>', `the queue the workers take jobs from (with --redis; default ${DEFAULT_QUEUE})`),
  shards: () => new Option('--shards <n>', 'shards per shardable step (default: one per worker)').argParser(shardsOption),
};

/** The Redis part of openEngine's choice (checked: a bad URL or queue is a ConfigError naming the flag), or undefined without --redis. */
export function engineChoiceFromFlags(flags: RedisRunFlags): { redis: string; queue?: string } | undefined {
  if (flags.redis === undefined) {
    if (flags.queue !== undefined) throw new ConfigError('--queue needs --redis', ['--queue']);
    return undefined;
  }
  parseRedisUrl(flags.redis);
  if (flags.queue !== undefined) checkQueueName(flags.queue);
  return { redis: flags.redis, ...(flags.queue !== undefined ? { queue: flags.queue } : {}) };
}
