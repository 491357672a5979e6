import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runPipeline } from '../../pipelines/runner.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { positionOf, recpost, removeTmpDirs, tmpDir } from '../cli/helpers.js';
import { writeExamples } from '../plan/helpers.js';
import { copyPipeline, storedKeys, storedObject, untaggedFiles } from './helpers.js';
import { startLocalS3, type LocalS3 } from './s3-server.js';

let s3: LocalS3;
let dir: string;
/** The manifest entries of the weighting pipeline run in this process on local files. */
let localFiles: string[];

type Manifest = { files: { path: string; rows: number; bytes: number; sha256: string }[] };

/** read → reward statistics → exp_rsft weights → write, from `input` to `output`. */
function weighting(name: string, input: string, output: string) {
  return {
    name,
    seed: 3,
    stages: [
      { stage: 'read_parquet', with: { path: input, table: 'examples' } },
      { stage: 'reward_stats', with: { barrier: true, rows: 'all' } },
      { stage: 'exp_rsft', with: { lambda: 0.5 } },
      { stage: 'write_parquet', with: { path: output, rows_per_file: 700 } },
    ],
  };
}

function pipelineFile(name: string, input: string, output: string): string {
  const f = path.join(dir, `${name}.json`);
  fs.writeFileSync(f, JSON.stringify(weighting(name, input, output)));
  return f;
}

const manifestAt = (prefix: string) => JSON.parse(storedObject(s3.dir, 'data', `${prefix}/_manifest.json`).toString('utf8')) as Manifest;

beforeAll(async () => {
  s3 = await startLocalS3(['data']);
  dir = tmpDir('s3');
  const examples = path.join(dir, 'examples');
  writeExamples(examples, 4, 1400, 2);
  const local = path.join(dir, 'local');
  await runPipeline(resolvePipeline({ ...weighting('local', examples, path.join(local, 'out')), out_dir: local }, 'local.json'), {
    logger: memoryLogger(),
    quiet: true,
  });
  localFiles = untaggedFiles(JSON.parse(fs.readFileSync(path.join(local, 'out', '_manifest.json'), 'utf8')) as Manifest);
  await runPipeline(copyPipeline(examples, path.join(dir, 'up'), 's3://data/in', { rows_per_file: 1400, row_group_size: 700 }), {
    logger: memoryLogger(),
    quiet: true,
  });
});
afterAll(async () => {
  await s3.close();
  removeTmpDirs();
});

// Worker processes start under tsx and import every stage: slow on a loaded machine.
describe('recpost run with s3:// paths', { timeout: 120_000 }, () => {
  it('runs a pipeline file from s3:// to s3://, and with --workers 2 (sharded writes merged on the store) gives the one-process dataset', async () => {
    const env = s3.env;
    expect(localFiles).toHaveLength(8);
    const one = await recpost(['run', pipelineFile('one', 's3://data/in', 's3://data/one'), '--out', path.join(dir, 'one'), '--quiet'], { env });
    expect([one.code, one.err]).toEqual([0, '']);
    expect(untaggedFiles(manifestAt('one'))).toEqual(localFiles);

    const two = await recpost(
      ['run', pipelineFile('two', path.join(dir, 'examples'), 's3://data/two'), '--workers', '2', '--shards', '4', '--out', path.join(dir, 'two'), '--quiet'],
      { env },
    );
    expect([two.code, two.err]).toEqual([0, '']);
    const m = manifestAt('two');
    expect(untaggedFiles(m)).toEqual(localFiles);
    // The shards' areas are gone: the prefix holds the manifest and the parts it lists.
    expect(storedKeys(s3.dir, 'data', 'two/')).toEqual(['two/_manifest.json', ...m.files.map((f) => `two/${f.path}`)].sort());
  });

  it('with --workers 2 the worker processes read their own parts from s3:// and give the one-process dataset', async () => {
    const env = s3.env;
    const runDir = path.join(dir, 'wread');
    const r = await recpost(
      ['run', pipelineFile('wread', 's3://data/in', path.join(runDir, 'out')), '--workers', '2', '--shards', '4', '--out', runDir, '--quiet'],
      {
        env,
      },
    );
    expect([r.code, r.err]).toEqual([0, '']);
    expect(untaggedFiles(JSON.parse(fs.readFileSync(path.join(runDir, 'out', '_manifest.json'), 'utf8')) as Manifest)).toEqual(localFiles);
  });

  it('a static shard whose pipeline writes to a missing bucket exits 2 with the one-process line before the shard runs', async () => {
    const runDir = path.join(dir, 'snb');
    const r = await recpost(
      ['run', pipelineFile('snb', 's3://data/in', 's3://nobucket/out'), '--shard-index', '0', '--shard-count', '2', '--out', runDir, '--quiet'],
      { env: s3.env },
    );
    expect([r.code, r.err]).toEqual([
      2,
      'recpost: s3://nobucket/out: listing failed: NoSuchBucket: the bucket does not exist: create it, or check the bucket name and AWS_ENDPOINT_URL\n',
    ]);
  });

  it('exits 2 with one line for a missing bucket, a malformed s3:// path (validate) and a prefix whose writer did not finish', async () => {
    const env = s3.env;
    const missing = await recpost(['run', pipelineFile('nb', path.join(dir, 'examples'), 's3://nobucket/out'), '--out', path.join(dir, 'nb'), '--quiet'], {
      env,
    });
    expect([missing.code, missing.err]).toEqual([
      2,
      'recpost: s3://nobucket/out: listing failed: NoSuchBucket: the bucket does not exist: create it, or check the bucket name and AWS_ENDPOINT_URL\n',
    ]);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify(weighting('bad', 's3://data/in', 's3://Bad_Bucket/out'), null, 1));
    const validate = await recpost(['validate', bad], { env });
    // Cross-field problems are located at the stage's options (its "with" object).
    expect([validate.code, validate.err]).toEqual([
      2,
      `recpost: ${bad}:${positionOf(fs.readFileSync(bad, 'utf8'), '{\n    "path": "s3://Bad_Bucket/out"')}: stages[3] (stage "write_parquet"): s3://Bad_Bucket/out: "Bad_Bucket" is not a valid bucket name (3 to 63 lower-case letters, digits, "." or "-", starting and ending with a letter or digit)\n`,
    ]);
    // The part of a dataset without its manifest, as a killed writer leaves it.
    const client = new S3Client({
      endpoint: env.AWS_ENDPOINT_URL,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const part = manifestAt('in').files[0]!.path;
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: `half/${part}`, Body: storedObject(s3.dir, 'data', `in/${part}`) }));
    client.destroy();
    const half = await recpost(['run', pipelineFile('half', 's3://data/half', path.join(dir, 'half', 'out')), '--out', path.join(dir, 'half'), '--quiet'], {
      env,
    });
    expect(half.code).toBe(2);
    expect(half.err).toMatch(
      /^recpost: s3:\/\/data\/half: recpost parts \(part-00000-[0-9a-f]{8}\.parquet\) but no _manifest\.json: the writer that made this prefix did not finish; rerun it\n$/,
    );
  });
});
