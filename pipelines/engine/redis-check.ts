/**
 * Before a coordinator or a worker starts: can Redis be reached at all (a
 * wrong URL is the user's mistake, exit 2, instead of BullMQ retrying the
 * connection forever), and is it set up so queued jobs cannot be lost
 * (`maxmemory-policy noeviction`: any other policy lets Redis drop a job's
 * keys under memory pressure, and a flow then waits forever).
 */
import { Redis } from 'ioredis';
import { ConfigError } from '../../stages/core/config-schema.js';
import { parseRedisUrl } from './redis-url.js';

export interface RedisCheck {
  /** Redis's `maxmemory_policy` (INFO memory), when it reports one. */
  evictionPolicy?: string;
  /** A line to print when the policy can lose jobs. */
  warning?: string;
}

export async function checkRedis(url: string, timeoutMs = 5000): Promise<RedisCheck> {
  const client = new Redis({ ...parseRedisUrl(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // ioredis reports the cause (ECONNREFUSED, ENOENT for a socket) as an 'error' event; the rejected call only says "Connection is closed."
  let cause: Error | undefined;
  client.on('error', (e: Error) => (cause ??= e));
  try {
    await client.connect();
    const info = await client.info('memory');
    const evictionPolicy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    const warning =
      evictionPolicy !== undefined && evictionPolicy !== 'noeviction'
        ? `Redis at ${url} has maxmemory-policy ${evictionPolicy}: it may evict queued jobs; set it to noeviction`
        : undefined;
    return { ...(evictionPolicy !== undefined ? { evictionPolicy } : {}), ...(warning ? { warning } : {}) };
  } catch (e) {
    const why = cause?.message ?? (e instanceof Error ? e.message : String(e));
    throw new ConfigError(`--redis ${url}: cannot connect (${why})`, [why]);
  } finally {
    client.disconnect();
  }
}
