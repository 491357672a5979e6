/**
 * ingest with `output: s3://…` (issue 10 item 3): one process and sharded
 * (byte ranges on an engine), user buckets kept, the quarantine file and the
 * vocabularies uploaded as side files, the manifest last; a failed rerun
 * leaves the dataset on the store as it was; split_sequences after it reads
 * the dataset from the store bucket by bucket in its shards.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { runPlanned } from '../../pipelines/plan/plan-runner.js';
import type { ShardTaskInput } from '../../pipelines/plan/shard-task.js';
import { resolvePipeline, type ResolvedPipeline } from '../../pipelines/spec.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ARTIFACT } from '../../stages/core/artifacts.js';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { readAnyDataset } from '../../stages/io/object-store/any-dataset.js';
import { readAll } from '../plan/helpers.js';
import { inProcessEngine, storedKeys, storedObject } from './helpers.js';
import { startLocalS3, type LocalS3 } from './s3-server.js';

let s3: LocalS3;
let dir: string;
let csv: string;

type Entry = { path: string; rows?: number; bytes: number; sha256?: string; bucket?: number };
type Manifest = { rows: number; files: Entry[]; side_files?: Entry[] };

beforeAll(async () => {
  s3 = await startLocalS3(['data']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-s3-ingest-'));
  csv = path.join(dir, 'ratings.csv');
  let s = 17;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['user,item,rating,timestamp'];
  for (let i = 0; i < 3000; i++)
    lines.push(`${r() < 0.5 ? `u-${Math.floor(r() * 70)}` : Math.floor(r() * 90)},${1 + Math.floor(r() * 40)},${1 + Math.floor(r() * 5)},${i}`);
  lines.splice(1500, 0, 'u-1,7,not-a-number,1499'); // one bad row: quarantined, or fatal in strict mode
  fs.writeFileSync(csv, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function pipeline(outDir: string, output: string, mode: 'quarantine' | 'strict' = 'quarantine'): ResolvedPipeline {
  return resolvePipeline(
    {
      name: 's3-ingest',
      out_dir: outDir,
      seed: 5,
      stages: [
        { stage: 'ingest', with: { path: csv, output, mode, rows_per_file: 300, user_buckets: 4, threads: 1, range_bytes: 16_384 } },
        { stage: 'split_sequences', with: { max_len: 5, threshold: 3, batch_size: 97, output: path.join(outDir, 'examples') } },
      ],
    },
    's3-ingest.yaml',
  );
}

const stored = (prefix: string) => JSON.parse(storedObject(s3.dir, 'data', `${prefix}/_manifest.json`).toString('utf8')) as Manifest;
const local = (d: string) => JSON.parse(fs.readFileSync(path.join(d, '_manifest.json'), 'utf8')) as Manifest;
/** An entry with the upload's run tag taken out of its name. */
const untagged = (e: Entry) => ({ ...e, path: e.path.replace(/-[0-9a-f]{8}(\.[a-z]+)$/, '$1') });

/** The split's examples in `runDir` equal those of `refDir`, split by split (the merge orders parts split-major). */
async function expectSameExamples(runDir: string, refDir: string): Promise<void> {
  for (const split of ['train', 'valid', 'test'])
    expect((await readAll(path.join(runDir, 'examples', `split=${split}`))).columns).toEqual(
      (await readAll(path.join(refDir, 'examples', `split=${split}`))).columns,
    );
}

async function readS3(url: string): Promise<Batch> {
  const out: Batch[] = [];
  for await (const b of readAnyDataset(url)) out.push(b);
  return concatBatches(out);
}

function snapshot(prefix: string): Record<string, string> {
  return Object.fromEntries(
    storedKeys(s3.dir, 'data', prefix).map((k) => [
      k,
      createHash('sha256')
        .update(storedObject(s3.dir, 'data', k))
        .digest('hex'),
    ]),
  );
}

describe('ingest to s3://', { timeout: 60_000 }, () => {
  it('one process: the parts (with their buckets), vocabularies and quarantine file of the local ingest, the manifest last; the split reads it', async () => {
    const ref = path.join(dir, 'ref');
    await runPipeline(pipeline(ref, path.join(ref, 'interactions')), { logger: memoryLogger(), quiet: true });
    const want = local(path.join(ref, 'interactions'));
    expect(new Set(want.files.map((f) => f.bucket))).toEqual(new Set([0, 1, 2, 3]));
    expect(want.side_files!.map((f) => f.path)).toEqual(['_quarantine/rejected.jsonl', 'vocab/items.parquet', 'vocab/users.parquet']);

    const one = path.join(dir, 'one');
    await runPipeline(pipeline(one, 's3://data/ing1'), { logger: memoryLogger(), quiet: true });
    const m = stored('ing1');
    expect(m.files.map(untagged)).toEqual(want.files);
    expect(m.side_files!.map(untagged)).toEqual(want.side_files);
    expect(m.files.every((f) => /^bucket=\d{5}\/part-\d{5}-[0-9a-f]{8}\.parquet$/.test(f.path))).toBe(true);
    expect(storedKeys(s3.dir, 'data', 'ing1/')).toEqual(['ing1/_manifest.json', ...[...m.files, ...m.side_files!].map((f) => `ing1/${f.path}`)].sort());
    expect(storedObject(s3.dir, 'data', `ing1/${m.side_files![2]!.path}`)).toEqual(fs.readFileSync(path.join(ref, 'interactions', 'vocab', 'users.parquet')));
    await expectSameExamples(one, ref);
  });

  it('a failed rerun (strict mode stops at the bad row) leaves the dataset on the store as it was', async () => {
    const before = snapshot('ing1/');
    await expect(runPipeline(pipeline(path.join(dir, 'fail'), 's3://data/ing1', 'strict'), { logger: memoryLogger(), quiet: true })).rejects.toThrow(
      /ratings\.csv:1501/,
    );
    expect(snapshot('ing1/')).toEqual(before);
  });

  it('sharded (byte ranges, then one split shard per bucket reading its parts from the store): the rows, buckets and examples of one process', async () => {
    const ref = path.join(dir, 'ref');
    const shards: ShardTaskInput[] = [];
    const two = path.join(dir, 'two');
    const r = await runPlanned(pipeline(two, 's3://data/ing2'), {
      engine: inProcessEngine(2, { before: (input) => shards.push(input) }),
      shards: 2,
      logger: memoryLogger(),
      quiet: true,
    });
    const m = stored('ing2');
    expect(m.rows).toBe(local(path.join(ref, 'interactions')).rows);
    expect((await readS3('s3://data/ing2')).columns).toEqual((await readAll(path.join(ref, 'interactions'))).columns);
    expect(m.side_files!.map((f) => untagged(f).path)).toEqual(['_quarantine/rejected.jsonl', 'vocab/items.parquet', 'vocab/users.parquet']);
    // The run's summary and dataset artifact name the dataset on the store.
    const summary = r.artifacts.get(ARTIFACT.ingest)!;
    expect([summary.manifestPath, summary.quarantine]).toEqual(['s3://data/ing2/_manifest.json', `s3://data/ing2/${m.side_files![0]!.path}`]);
    expect(r.artifacts.get(ARTIFACT.dataset)!.dir).toBe('s3://data/ing2');
    // The split ran as 4 shards, one per bucket, each reading that bucket's parts from the store.
    expect(shards.map((t) => [t.input!.dataset, [...new Set(t.input!.buckets)]])).toEqual([0, 1, 2, 3].map((b) => ['s3://data/ing2', [b]]));
    for (const t of shards) expect(t.input!.parts.every((p) => p.file.startsWith('s3://data/ing2/bucket='))).toBe(true);
    await expectSameExamples(two, ref);
  });

  it('a missing bucket fails before any input is read, naming the s3:// path and the operation', async () => {
    await expect(runPipeline(pipeline(path.join(dir, 'nb'), 's3://nobucket/x'), { logger: memoryLogger(), quiet: true })).rejects.toThrow(
      /^s3:\/\/nobucket\/x: listing failed: NoSuchBucket: the bucket does not exist/,
    );
    expect(fs.existsSync(path.join(dir, 'nb', '.recpost', 's3-ingest'))).toBe(false);
  });
});

describe('uploading a dataset committed on disk', { timeout: 60_000 }, () => {
  it('a part that changed on disk before the upload stops it: what it put is deleted, the dataset on the store stays', async () => {
    const copy = path.join(dir, 'changed');
    fs.cpSync(path.join(dir, 'ref', 'interactions'), copy, { recursive: true });
    const m = local(copy);
    const victim = path.join(copy, ...m.files[m.files.length - 1]!.path.split('/'));
    const bytes = fs.readFileSync(victim);
    bytes[200] = bytes[200]! ^ 0xff;
    fs.writeFileSync(victim, bytes);
    const before = snapshot('ing1/');
    const { uploadDataset } = await import('../../stages/io/object-store/s3-dataset-upload.js');
    await expect(uploadDataset(copy, 's3://data/ing1', 'ingest')).rejects.toThrow(
      `${victim}: its bytes differ from the SHA-256 in its manifest; the local copy changed before upload`,
    );
    expect(snapshot('ing1/')).toEqual(before);
  });
});
