import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { runPlanned, type ShardEngine } from '../../pipelines/plan/plan-runner.js';
import { runShardTask, type ShardResult, type ShardTaskInput } from '../../pipelines/plan/shard-task.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { DatasetError } from '../../stages/io/manifest.js';
import { weightingPipeline, writeExamples } from '../plan/helpers.js';
import { storedKeys, storedObject, untaggedFiles } from './helpers.js';
import { startLocalS3, type LocalS3 } from './s3-server.js';

let s3: LocalS3;
let dir: string;
let input: string;

beforeAll(async () => {
  s3 = await startLocalS3(['data']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-s3-sharded-'));
  input = path.join(dir, 'examples');
  writeExamples(input, 6, 1400);
});
afterAll(async () => {
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const manifestAt = (prefix: string) =>
  JSON.parse(storedObject(s3.dir, 'data', `${prefix}/_manifest.json`).toString('utf8')) as {
    files: { path: string; rows: number; bytes: number; sha256: string }[];
  };

/** What is stored below a prefix: keys and the SHA-256 of their bytes (of a manifest: its content without the time it was written). */
function snapshot(prefix: string): Record<string, string> {
  return Object.fromEntries(
    storedKeys(s3.dir, 'data', prefix).map((k) => {
      const bytes = storedObject(s3.dir, 'data', k);
      if (!k.endsWith('/_manifest.json')) return [k, createHash('sha256').update(bytes).digest('hex')];
      const { createdAt: _at, ...rest } = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      return [k, JSON.stringify(rest)];
    }),
  );
}

/**
 * An engine that runs every shard task in this process and delivers each one
 * twice, as at-least-once delivery may; it records what the shard's area on
 * the store held after each delivery.
 */
function twiceEngine(areas: { first: Record<string, string>; second: Record<string, string> }[]): ShardEngine {
  return {
    kind: 'twice',
    slots: 4,
    async runFlow(flow) {
      const out: ShardResult[] = [];
      for (const child of flow.children) {
        const task = child.input as ShardTaskInput;
        const area = `two/_shards/${task.step}/shard-${String(task.shard).padStart(5, '0')}/`;
        const a = await runShardTask(task, { progress: () => undefined });
        const first = snapshot(area);
        const b = await runShardTask(task, { progress: () => undefined });
        areas.push({ first, second: snapshot(area) });
        expect([b.rows, b.metrics]).toEqual([a.rows, a.metrics]);
        out.push(b);
      }
      return out;
    },
  };
}

describe('sharded writes to s3://', { timeout: 60_000 }, () => {
  it('shards delivered twice change nothing, and the merge equals the one-process run', async () => {
    await runPipeline(weightingPipeline(input, path.join(dir, 'one'), 's3://data/one'), { logger: memoryLogger(), quiet: true });
    const areas: { first: Record<string, string>; second: Record<string, string> }[] = [];
    await runPlanned(weightingPipeline(input, path.join(dir, 'two'), 's3://data/two'), {
      engine: twiceEngine(areas),
      shards: 4,
      logger: memoryLogger(),
      quiet: true,
    });
    // The step with the writer ran 4 shards; each area held the same keys and bytes after both deliveries.
    const written = areas.filter((a) => Object.keys(a.first).length > 0);
    expect(written).toHaveLength(4);
    for (const a of written) {
      expect(Object.keys(a.first).some((k) => /\/out-3-path\/_manifest\.json$/.test(k))).toBe(true);
      expect(a.second).toEqual(a.first);
    }
    const m = manifestAt('two');
    expect(untaggedFiles(m)).toEqual(untaggedFiles(manifestAt('one')));
    expect(storedKeys(s3.dir, 'data', 'two/')).toEqual(['two/_manifest.json', ...m.files.map((f) => `two/${f.path}`)].sort());
  });

  it('a sharded write to a prefix holding objects recpost did not write is refused at the merge, and the shard areas are taken back out', async () => {
    const { PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    const client = new S3Client({
      endpoint: s3.env.AWS_ENDPOINT_URL,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'theirs/notes.txt', Body: Buffer.from('keep me') }));
    client.destroy();
    let err: unknown;
    try {
      await runPlanned(weightingPipeline(input, path.join(dir, 'theirs'), 's3://data/theirs'), {
        engine: twiceEngine([]),
        shards: 2,
        logger: memoryLogger(),
        quiet: true,
      });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe(
      'write_parquet: output s3://data/theirs is not empty and is not a recpost dataset (it holds notes.txt and no _manifest.json); recpost never deletes objects it did not write: choose another prefix',
    );
    expect(storedKeys(s3.dir, 'data', 'theirs/')).toEqual(['theirs/notes.txt']);
  });

  it('a merge with a shard missing is refused naming the shard, and the committed dataset stays', async () => {
    const before = snapshot('two/');
    const { mergeS3ShardDatasets } = await import('../../stages/io/object-store/s3-shard-merge.js');
    let err: unknown;
    try {
      await mergeS3ShardDatasets(['s3://data/two/_shards/9-x-0/shard-00000/out-3-path'], 's3://data/two', 'write_parquet');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toBe(
      's3://data/two/_shards/9-x-0/shard-00000/out-3-path: shard output without _manifest.json: the shard did not finish; rerun it',
    );
    expect(snapshot('two/')).toEqual(before);
  });
});
