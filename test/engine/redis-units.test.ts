/** The Redis engine's pure parts: URLs, job ids, the flow tree, error transport. No server needed. */
import { describe, expect, it } from 'vitest';
import { mergeNodeCount } from '../../pipelines/engine/local-engine.js';
import { buildFlow, collectKey } from '../../pipelines/engine/redis-flow.js';
import { decodeTaskError, encodeTaskError, jobIdFor, taskKeyOf, type RedisJobData } from '../../pipelines/engine/redis-jobs.js';
import { parseRedisUrl } from '../../pipelines/engine/redis-url.js';
import type { TaskSpec } from '../../pipelines/engine/task.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import type { FlowJob } from 'bullmq';
import { recpost } from '../cli/helpers.js';

describe('Redis URLs', () => {
  it('reads host, port, credentials, database, TLS and unix sockets', () => {
    expect(parseRedisUrl('redis://cache.internal:6380/2')).toEqual({ host: 'cache.internal', port: 6380, db: 2, maxRetriesPerRequest: null });
    expect(parseRedisUrl('rediss://u:p%40ss@h')).toEqual({ host: 'h', port: 6379, username: 'u', password: 'p@ss', tls: {}, maxRetriesPerRequest: null });
    expect(parseRedisUrl('unix:///tmp/r/redis.sock')).toEqual({ path: '/tmp/r/redis.sock', maxRetriesPerRequest: null });
  });
  it('names the mistake in a bad URL', () => {
    const msg = (u: string) => {
      try {
        parseRedisUrl(u);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg('localhost:6379')).toBe('--redis "localhost:6379": unknown scheme "localhost:" (expected redis:, rediss: or unix:)');
    expect(msg('http://h:1')).toBe('--redis "http://h:1": unknown scheme "http:" (expected redis:, rediss: or unix:)');
    expect(msg('redis://h/zero')).toBe('--redis "redis://h/zero": database "zero" is not a number');
    expect(msg('unix://')).toBe('--redis "unix://": a unix socket URL needs a path (unix:///path/to/redis.sock)');
    expect(msg('not a url')).toBe('--redis "not a url": not a URL (expected redis://host:port, rediss://host:port or unix:///path/to/redis.sock)');
  });
});

describe('job ids', () => {
  it('are the run id and the key, with ":" and "%" escaped, and give the key back', () => {
    expect(jobIdFor('r1', 'ingest/3/abc')).toBe('r1.ingest/3/abc');
    expect(jobIdFor('r1', 'a:b%3Ac')).toBe('r1.a%3Ab%253Ac');
    expect(jobIdFor('r1', 'a:b%3Ac')).not.toContain(':');
    for (const key of ['a:b%3Ac', 'x/1', '%%::', '42']) expect(taskKeyOf(jobIdFor('run-x', key))).toBe(key);
    // Different keys never share an id.
    expect(jobIdFor('r', 'a:b')).not.toBe(jobIdFor('r', 'a%3Ab'));
  });
});

describe('task errors in failure reasons', () => {
  it('round-trip usage and failures; a reason BullMQ wrote is not ours', () => {
    expect(decodeTaskError(encodeTaskError({ usage: true, message: 'x: "y" must be positive' }))).toEqual({ usage: true, message: 'x: "y" must be positive' });
    expect(decodeTaskError(encodeTaskError({ usage: false, message: 'disk on fire', stack: 'at …' }))).toEqual({ usage: false, message: 'disk on fire' });
    expect(decodeTaskError('job stalled more than allowable limit')).toBeUndefined();
    expect(decodeTaskError('recpost-task-error {broken')).toBeUndefined();
  });
});

const tasks = (n: number): TaskSpec[] => Array.from({ length: n }, (_v, i) => ({ kind: 'k', key: `s/${i}`, input: { i } }));
const settings = { queue: 'q', runId: 'R', attempts: 3, backoffMs: 10 };
const data = (j: FlowJob) => j.data as RedisJobData;

describe('flows as BullMQ flows', () => {
  it('puts the shards under the merge, in order, with ids from their keys', () => {
    const b = buildFlow({ label: 'l', children: tasks(3), merge: { kind: 'm', key: 'merge', input: { t: 1 } } }, settings);
    expect(b.rootId).toBe('R.merge');
    expect(data(b.tree)).toEqual({ task: { kind: 'm', key: 'merge', input: { t: 1 } }, children: ['R.s/0', 'R.s/1', 'R.s/2'] });
    expect(b.tree.children!.map((c) => c.opts!.jobId)).toEqual(['R.s/0', 'R.s/1', 'R.s/2']);
    expect(b.tree.children!.every((c) => c.opts!.failParentOnFailure === true && c.opts!.attempts === 3)).toBe(true);
    expect(b.tree.opts!.removeOnComplete).toBe(false);
    expect(b.countedIds).toHaveLength(4);
  });

  it('groups a tree merge as the local engine does: same node count, keys and partial flags', () => {
    // 10 shards, fan-in 3: level 0 has 4 nodes (3,3,3,1), level 1 has 2 (3,1), then the root.
    const b = buildFlow({ label: 'l', children: tasks(10), merge: { kind: 'm', key: 'M', input: null }, treeFanIn: 3 }, settings);
    expect(b.countedIds).toHaveLength(10 + mergeNodeCount(10, 3));
    expect(data(b.tree).children).toEqual(['R.M/tree-1-0', 'R.M/tree-1-1']);
    const t10 = b.tree.children![0]!;
    expect(data(t10)).toEqual({
      task: { kind: 'm', key: 'M/tree-1-0', input: null },
      children: ['R.M/tree-0-0', 'R.M/tree-0-1', 'R.M/tree-0-2'],
      partial: true,
    });
    expect(data(b.tree.children![1]!).children).toEqual(['R.M/tree-0-3']);
    expect(data(t10.children![2]!).children).toEqual(['R.s/6', 'R.s/7', 'R.s/8']);
    expect(new Set(b.allIds).size).toBe(b.allIds.length);
  });

  it('gives a flow without a merge a collect root that is not counted in progress', () => {
    const b = buildFlow({ label: 'l', children: tasks(2) }, settings);
    expect(data(b.tree)).toEqual({ task: { kind: 'engine.collect', key: collectKey(tasks(2)), input: null }, children: ['R.s/0', 'R.s/1'], collect: true });
    expect(b.countedIds).toEqual(['R.s/0', 'R.s/1']);
    expect(collectKey(tasks(2))).not.toBe(collectKey(tasks(3)));
    expect(() => buildFlow({ label: 'empty', children: [] }, settings)).toThrow('flow "empty" has no tasks');
  });
});

describe('cluster flags on the command line', () => {
  it('refuse a bad URL, queue or shard count with one line and exit 2', async () => {
    expect(await recpost(['run', 'p.yaml', '--redis', 'localhost'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --redis "localhost": not a URL (expected redis://host:port, rediss://host:port or unix:///path/to/redis.sock)\n',
    });
    expect(await recpost(['run', 'p.yaml', '--shards', '0'])).toEqual({ code: 2, out: '', err: 'recpost: --shards must be at least 1, got 0\n' });
    expect(await recpost(['run', 'p.yaml', '--queue', 'q'])).toEqual({ code: 2, out: '', err: 'recpost: --queue needs --redis\n' });
    expect(await recpost(['worker', '--redis', 'redis://h', '--queue', 'a:b'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --queue "a:b": a queue name cannot be empty or contain ":"\n',
    });
    expect(await recpost(['worker', '--redis', 'redis://h', '--import', 'nope.ts'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --import nope.ts: no such file\n',
    });
  });

  it('worker --help lists its options', async () => {
    const r = await recpost(['worker', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: recpost worker \[options\]\n/);
    for (const flag of ['--redis <url>', '--concurrency <k>', '--queue <name>', '--lock-duration <ms>', '--stalled-interval <ms>', '--import <module>'])
      expect(r.out).toContain(flag);
  });
});
