/**
 * The Redis tests' server: a redis-server this test starts itself on a unix
 * socket (pipelines/engine/redis-local-server.ts). Without redis-server the
 * Redis tests are skipped with a message, except in CI (CI=true), where its
 * absence is a failure: .ci/run installs it.
 */
import { findRedisServer, startLocalRedisServer, type LocalRedisServer } from '../../pipelines/engine/redis-local-server.js';

export type { LocalRedisServer };

const inCi = () => process.env.CI === 'true' || process.env.CI === '1';

/** Whether to skip the Redis tests here: only when redis-server is absent and this is not CI. */
export function skipRedisTests(): boolean {
  if (findRedisServer()) return false;
  if (inCi()) return false;
  process.stderr.write('Redis engine tests skipped: redis-server is not installed (apt-get install -y redis-server; in CI its absence is a failure)\n');
  return true;
}

export function startRedisServer(): Promise<LocalRedisServer> {
  if (!findRedisServer() && inCi()) throw new Error('redis-server is not installed, and CI=true: the Redis engine tests must run in CI (.ci/run installs it)');
  return startLocalRedisServer();
}
