import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { runPlanned, type ShardEngine } from '../../pipelines/plan/plan-runner.js';
import { mergeStatic, runStaticShard } from '../../pipelines/plan/static-shards.js';
import { runShardTask, type ShardResult, type ShardTaskInput } from '../../pipelines/plan/shard-task.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { DatasetError } from '../../stages/io/manifest.js';
import { partFiles, weightingPipeline, writeExamples } from '../plan/helpers.js';
import { copyPipeline, inProcessEngine, storedKeys, storedObject, untaggedFiles } from './helpers.js';
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

/** Directories named `stream` below `dir` (intermediate copies of a stream between steps). */
function streamCopies(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name === 'stream')
    .map((e) => e.name);
}

describe('sharded reads from s3://', { timeout: 60_000 }, () => {
  it('each shard reads only its own parts from the store (no copy in the run directory), and the output equals the one-process run', async () => {
    await runPipeline(copyPipeline(input, path.join(dir, 'up'), 's3://data/sin', { rows_per_file: 1400, row_group_size: 700 }), {
      logger: memoryLogger(),
      quiet: true,
    });
    const inParts = manifestAt('sin').files.map((f) => `s3://data/sin/${f.path}`);
    expect(inParts).toHaveLength(6);
    await runPipeline(weightingPipeline('s3://data/sin', path.join(dir, 'r1'), path.join(dir, 'r1', 'out')), { logger: memoryLogger(), quiet: true });
    const seen: ShardTaskInput[] = [];
    await runPlanned(weightingPipeline('s3://data/sin', path.join(dir, 'r3'), path.join(dir, 'r3', 'out')), {
      engine: inProcessEngine(3, { before: (input) => seen.push(input) }),
      shards: 3,
      logger: memoryLogger(),
      quiet: true,
      keepSteps: true,
    });
    // Two sharded steps (read + reward_stats, then exp_rsft + write), both reading the dataset on the store: 3 shards of 2 parts each.
    expect(seen.map((t) => [t.input?.dataset, t.input?.parts.map((p) => p.file)])).toEqual(
      [0, 1].flatMap(() => [0, 2, 4].map((k) => ['s3://data/sin', inParts.slice(k, k + 2)])),
    );
    expect(seen.every((t) => t.input!.parts.every((p) => p.sha256 !== undefined && p.bytes !== undefined))).toBe(true);
    expect(streamCopies(path.join(dir, 'r3', '.recpost'))).toEqual([]);
    expect(partFiles(path.join(dir, 'r3', 'out'))).toEqual(partFiles(path.join(dir, 'r1', 'out')));
  });

  it('a part whose bytes differ from the manifest (same size) fails the shard that reads it, naming the object', async () => {
    const { PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    await runPipeline(copyPipeline(input, path.join(dir, 'up2'), 's3://data/bad', { rows_per_file: 1400, row_group_size: 700 }), {
      logger: memoryLogger(),
      quiet: true,
    });
    const part = manifestAt('bad').files[3]!.path;
    const bytes = Buffer.from(storedObject(s3.dir, 'data', `bad/${part}`));
    bytes[100] = bytes[100]! ^ 0xff;
    const client = new S3Client({
      endpoint: s3.env.AWS_ENDPOINT_URL,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: `bad/${part}`, Body: bytes }));
    client.destroy();
    const seen: ShardTaskInput[] = [];
    let err: unknown;
    try {
      await runPlanned(weightingPipeline('s3://data/bad', path.join(dir, 'rbad'), path.join(dir, 'rbad', 'out')), {
        engine: inProcessEngine(3, { before: (input) => seen.push(input) }),
        shards: 3,
        logger: memoryLogger(),
        quiet: true,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toBe(
      `s3://data/bad/${part}: its bytes differ from the SHA-256 in s3://data/bad/_manifest.json; the dataset was changed or damaged after it was written; rerun the writer`,
    );
    // The shards before the damaged part's ran; the one holding part 3 (shard 1: parts 2 and 3) failed.
    expect(seen.map((t) => t.shard)).toEqual([0, 1]);
    expect(fs.existsSync(path.join(dir, 'rbad', 'out'))).toBe(false);
  });
});

describe('static sharding (--shard-index I --shard-count N, then merge) with s3://', { timeout: 60_000 }, () => {
  it('each shard reads its own parts from the store, writes into shard areas there, and the merges give the one-process dataset', async () => {
    const quiet = { logger: memoryLogger(), quiet: true };
    await runPipeline(weightingPipeline('s3://data/sin', path.join(dir, 'st1'), 's3://data/st1'), quiet);
    const p = () => weightingPipeline('s3://data/sin', path.join(dir, 'st2'), 's3://data/st2');
    for (const round of [1, 2]) {
      for (const i of [1, 0]) await runStaticShard(p(), { ...quiet, shardIndex: i, shardCount: 2 });
      const m = await mergeStatic(p(), { ...quiet, shardCount: 2 });
      expect(m.next === undefined).toBe(round === 2);
    }
    const merged = manifestAt('st2');
    expect(untaggedFiles(merged)).toEqual(untaggedFiles(manifestAt('st1')));
    expect(storedKeys(s3.dir, 'data', 'st2/')).toEqual(['st2/_manifest.json', ...merged.files.map((f) => `st2/${f.path}`)].sort());
  });

  it('a target in a missing bucket fails the first shard of the first step with the one-process message, before it reads anything', async () => {
    const runDir = path.join(dir, 'stbad');
    let err: unknown;
    try {
      await runStaticShard(weightingPipeline('s3://data/sin', runDir, 's3://nobucket/out'), {
        logger: memoryLogger(),
        quiet: true,
        shardIndex: 0,
        shardCount: 2,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toBe(
      's3://nobucket/out: listing failed: NoSuchBucket: the bucket does not exist: create it, or check the bucket name and AWS_ENDPOINT_URL',
    );
    expect(fs.readdirSync(runDir, { recursive: true }).filter((f) => String(f).endsWith('_done.json'))).toEqual([]);
  });
});
