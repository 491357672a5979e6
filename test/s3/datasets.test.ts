import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runPipeline } from '../../pipelines/runner.js';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { DatasetError } from '../../stages/io/manifest.js';
import { readS3Dataset } from '../../stages/io/object-store/s3-dataset-read.js';
import { s3WritesSettled } from '../../stages/io/object-store/s3-dataset-writer.js';
import { readAll, readJson, writeExamples } from '../plan/helpers.js';
import { copyPipeline, storedKeys, storedObject, untaggedFiles } from './helpers.js';
import { startLocalS3, type LocalS3 } from './s3-server.js';

let s3: LocalS3;
let dir: string;
let input: string;
let client: S3Client;

beforeAll(async () => {
  s3 = await startLocalS3(['data']);
  client = new S3Client({
    endpoint: s3.env.AWS_ENDPOINT_URL,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-s3-'));
  input = path.join(dir, 'examples');
  writeExamples(input, 3, 1400);
});
afterAll(async () => {
  client.destroy();
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function readS3(url: string): Promise<Batch> {
  const out: Batch[] = [];
  for await (const b of readS3Dataset(url, { table: 'examples' })) out.push(b);
  return concatBatches(out);
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

const run = (from: string, to: string, extra: Record<string, unknown> = {}) =>
  runPipeline(copyPipeline(from, path.join(dir, 'run'), to, extra), { logger: memoryLogger(), quiet: true });

/** The stored objects below a prefix with their bytes (from the server's files). */
function snapshot(prefix: string): Record<string, string> {
  return Object.fromEntries(storedKeys(s3.dir, 'data', prefix).map((k) => [k, storedObject(s3.dir, 'data', k).toString('base64')]));
}

describe('datasets on s3:// (local s3rver)', { timeout: 60_000 }, () => {
  it('write_parquet → read_parquet round trip equals the local run: the same manifest entries, part bytes and rows', async () => {
    const local = path.join(dir, 'local-out');
    await run(input, local, { partition_by: 'split' });
    await run(input, 's3://data/rt/out', { partition_by: 'split' });
    const lm = readJson(path.join(local, '_manifest.json')) as { files: { path: string; rows: number; bytes: number; sha256: string }[] };
    const sm = JSON.parse(storedObject(s3.dir, 'data', 'rt/out/_manifest.json').toString('utf8')) as typeof lm;
    expect(untaggedFiles(sm)).toEqual(untaggedFiles(lm));
    expect(sm.files.length).toBe(lm.files.length);
    expect(storedKeys(s3.dir, 'data', 'rt/out/')).toEqual(['rt/out/_manifest.json', ...sm.files.map((f) => `rt/out/${f.path}`)].sort());
    sm.files.forEach((f, i) =>
      expect(storedObject(s3.dir, 'data', `rt/out/${f.path}`).equals(fs.readFileSync(path.join(local, lm.files[i]!.path)))).toBe(true),
    );

    const want = await readAll(local);
    const got = await readS3('s3://data/rt/out');
    expect(got.numRows).toBe(4200);
    expect(got.columns).toEqual(want.columns);
    // A Hive partition below the dataset: the parent manifest's parts below it.
    const test = await readS3('s3://data/rt/out/split=test');
    expect(test.numRows).toBe(420);
    expect(test.columns).toEqual((await readAll(path.join(local, 'split=test'))).columns);
    // read_parquet from s3:// → a local dataset: byte for byte the local run's parts.
    await run('s3://data/rt/out/split=train', path.join(dir, 'back'));
    await run(path.join(local, 'split=train'), path.join(dir, 'back-local'));
    expect(readJson(path.join(dir, 'back', '_manifest.json')).files).toEqual(readJson(path.join(dir, 'back-local', '_manifest.json')).files);
  });

  it('a rerun that fails mid-stream leaves the committed dataset unchanged and readable and deletes what it uploaded; a rerun that succeeds replaces it', async () => {
    await run(input, 's3://data/rr/out');
    const before = snapshot('rr/');
    expect(Object.keys(before)).toHaveLength(7);
    // An input whose third part was damaged after it was written: the first parts are uploaded before the reader meets it.
    const damaged = path.join(dir, 'damaged');
    writeExamples(damaged, 3, 1400, 11);
    const part = path.join(damaged, 'part-00002.parquet');
    const bytes = fs.readFileSync(part);
    bytes[100] = bytes[100]! ^ 0xff;
    fs.writeFileSync(part, bytes);
    const err = await errorOf(run(damaged, 's3://data/rr/out'));
    expect(err.message).toBe(
      `${part}: its bytes differ from the SHA-256 in the dataset's manifest; the dataset was changed or damaged after it was written; rerun the writer`,
    );
    await s3WritesSettled();
    expect(snapshot('rr/')).toEqual(before);
    expect((await readS3('s3://data/rr/out')).columns).toEqual((await readAll(input)).columns);

    const other = path.join(dir, 'other');
    writeExamples(other, 2, 1400, 12);
    await run(other, 's3://data/rr/out');
    const after = storedKeys(s3.dir, 'data', 'rr/');
    expect(after.filter((k) => Object.keys(before).includes(k))).toEqual(['rr/out/_manifest.json']);
    expect(after).toHaveLength(5);
    expect((await readS3('s3://data/rr/out')).columns).toEqual((await readAll(other)).columns);
  });

  it('refuses a prefix with recpost parts but no manifest, naming the s3:// path', async () => {
    await run(input, 's3://data/nm/out');
    await client.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'nm/out/_manifest.json' }));
    const err = await errorOf(readS3('s3://data/nm/out'));
    expect(err).toBeInstanceOf(DatasetError);
    expect(err.message).toMatch(
      /^s3:\/\/data\/nm\/out: recpost parts \(part-00000-[0-9a-f]{8}\.parquet, part-00001-[0-9a-f]{8}\.parquet\) but no _manifest\.json: the writer that made this prefix did not finish; rerun it$/,
    );
  });

  it('refuses a part whose size or bytes differ from the manifest, naming the part', async () => {
    await run(input, 's3://data/bad/out');
    const m = JSON.parse(storedObject(s3.dir, 'data', 'bad/out/_manifest.json').toString('utf8')) as { files: { path: string; bytes: number }[] };
    const p1 = m.files[1]!.path;
    const original = storedObject(s3.dir, 'data', `bad/out/${p1}`);
    const flipped = Buffer.from(original);
    flipped[50] = flipped[50]! ^ 0x01;
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: `bad/out/${p1}`, Body: flipped }));
    const hash = await errorOf(readS3('s3://data/bad/out'));
    expect(hash.message).toBe(
      `s3://data/bad/out/${p1}: its bytes differ from the SHA-256 in s3://data/bad/out/_manifest.json; the dataset was changed or damaged after it was written; rerun the writer`,
    );
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: `bad/out/${p1}`, Body: original.subarray(0, original.length - 3) }));
    const size = await errorOf(readS3('s3://data/bad/out'));
    expect(size.message).toBe(
      `s3://data/bad/out/${p1}: ${original.length - 3} bytes, but s3://data/bad/out/_manifest.json lists ${m.files[1]!.bytes} (truncated or rewritten); the dataset was changed after it was written; rerun the writer`,
    );
  });

  it('reads a prefix written by another tool in key order, with the one-line notice, and refuses to write over it', async () => {
    const objects: [string, string][] = [
      ['b.parquet', 'part-00000.parquet'],
      ['a.parquet', 'part-00001.parquet'],
    ];
    for (const [name, file] of objects)
      await client.send(new PutObjectCommand({ Bucket: 'data', Key: `foreign/x/${name}`, Body: fs.readFileSync(path.join(input, file)) }));
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'foreign/x/_SUCCESS', Body: Buffer.alloc(0) }));
    const logger = memoryLogger();
    await runPipeline(copyPipeline('s3://data/foreign/x', path.join(dir, 'run'), path.join(dir, 'from-foreign')), { logger, quiet: true });
    expect(logger.lines.filter((l) => l.includes('no _manifest'))).toEqual([
      'warning: read_parquet: s3://data/foreign/x: no _manifest.json (not written by recpost): reading its 2 .parquet object(s) in key order, unverified',
    ]);
    const all = await readAll(input);
    const got = await readAll(path.join(dir, 'from-foreign'));
    // a.parquet (input part 1) first, then b.parquet (input part 0).
    expect(Array.from((got.columns.item_id as Int32Array).subarray(0, 1400))).toEqual(Array.from((all.columns.item_id as Int32Array).subarray(1400, 2800)));
    const err = await errorOf(run(input, 's3://data/foreign/x'));
    expect(err.message).toBe(
      'write_parquet: output s3://data/foreign/x is not empty and is not a recpost dataset (it holds _SUCCESS, a.parquet, b.parquet and no _manifest.json); recpost never deletes objects it did not write: choose another prefix',
    );
    expect(storedKeys(s3.dir, 'data', 'foreign/')).toEqual(['foreign/x/_SUCCESS', 'foreign/x/a.parquet', 'foreign/x/b.parquet']);
  });

  it('no credentials at all is one line naming the path, the operation and the variables to set', async () => {
    const saved = { ...process.env };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_PROFILE;
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'none', 'credentials');
    process.env.AWS_CONFIG_FILE = path.join(dir, 'none', 'config');
    try {
      const err = await errorOf(run(input, 's3://data/nocred'));
      expect(err).toBeInstanceOf(DatasetError);
      expect(err.message).toBe(
        's3://data/nocred: listing failed: CredentialsProviderError: no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
      );
    } finally {
      Object.assign(process.env, saved);
      delete process.env.AWS_SHARED_CREDENTIALS_FILE;
      delete process.env.AWS_CONFIG_FILE;
    }
  });

  it('refuses a run whose s3:// output is its s3:// input, before anything is written; a reader stopped early cancels its download', async () => {
    await run(input, 's3://data/same/out');
    const before = snapshot('same/');
    const err = await errorOf(run('s3://data/same/out', 's3://data/same/out'));
    expect(err.message).toBe(
      'read_parquet: input s3://data/same/out is also the output of write_parquet (s3://data/same/out); input equal to output is refused: write to another directory',
    );
    await s3WritesSettled();
    expect(snapshot('same/')).toEqual(before);
    let first: Batch | undefined;
    for await (const b of readS3Dataset('s3://data/same/out')) {
      first = b;
      break;
    }
    expect(first?.numRows).toBe(300);
    expect((await readS3('s3://data/same/out')).numRows).toBe(4200);
  });

  it('a missing bucket is one line naming the path and the operation', async () => {
    const err = await errorOf(run(input, 's3://no-such-bucket/out'));
    expect(err).toBeInstanceOf(DatasetError);
    expect(err.message).toBe(
      's3://no-such-bucket/out: listing failed: NoSuchBucket: the bucket does not exist: create it, or check the bucket name and AWS_ENDPOINT_URL',
    );
  });
});
