/**
 * A Redis URL as the user writes it (`--redis <url>`), turned into ioredis
 * connection options. Accepted: `redis://[user:password@]host[:port][/db]`,
 * `rediss://…` (TLS), and `unix:///path/to/redis.sock` (a local socket,
 * what the tests use). Anything else is the user's mistake: ConfigError.
 */
import { ConfigError } from '../../stages/core/config-schema.js';

export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  path?: string;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
  /** BullMQ requires null for workers and queue-event listeners (commands wait as long as it takes). */
  maxRetriesPerRequest: null;
}

const bad = (url: string, why: string) => new ConfigError(`--redis ${JSON.stringify(url)}: ${why}`, [why]);

export function parseRedisUrl(url: string): RedisConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad(url, 'not a URL (expected redis://host:port, rediss://host:port or unix:///path/to/redis.sock)');
  }
  const auth = {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
  if (u.protocol === 'unix:') {
    if (!u.pathname || u.pathname === '/') throw bad(url, 'a unix socket URL needs a path (unix:///path/to/redis.sock)');
    return { path: decodeURIComponent(u.pathname), ...auth, maxRetriesPerRequest: null };
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(url, `unknown scheme "${u.protocol}" (expected redis:, rediss: or unix:)`);
  if (!u.hostname) throw bad(url, 'no host');
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  let db: number | undefined;
  if (dbText !== '') {
    if (!/^\d+$/.test(dbText)) throw bad(url, `database "${dbText}" is not a number`);
    db = Number(dbText);
  }
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    ...auth,
    ...(db !== undefined ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
