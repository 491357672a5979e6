import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stages/core/config-schema.js';
import { isS3Path, keyOf, parseS3Url } from '../../stages/io/object-store/s3-url.js';
import { isShardArea, s3ShardOutput } from '../../stages/io/object-store/s3-shard-area.js';

describe('s3:// paths', () => {
  it('parses bucket and prefix; trailing slashes and the bucket root are accepted', () => {
    expect(parseS3Url('s3://my-bucket/data/out/')).toEqual({ bucket: 'my-bucket', prefix: 'data/out', url: 's3://my-bucket/data/out' });
    expect(parseS3Url('s3://my.bucket')).toEqual({ bucket: 'my.bucket', prefix: '', url: 's3://my.bucket' });
    expect(keyOf(parseS3Url('s3://b12/x'), 'split=test/part-00000.parquet')).toBe('x/split=test/part-00000.parquet');
    expect(keyOf(parseS3Url('s3://b12'), '_manifest.json')).toBe('_manifest.json');
    expect([isS3Path('s3://b/x'), isS3Path('S3://b/x'), isS3Path('/data/s3://x'), isS3Path('data')]).toEqual([true, true, false, false]);
  });

  it('refuses malformed paths with a ConfigError naming the path', () => {
    const cases: [string, string][] = [
      ['s3://', 's3://: no bucket name (expected s3://bucket/prefix)'],
      ['s3:///x', 's3:///x: no bucket name (expected s3://bucket/prefix)'],
      ['s3://ab/x', 's3://ab/x: "ab" is not a valid bucket name (3 to 63 lower-case letters, digits, "." or "-", starting and ending with a letter or digit)'],
      [
        's3://My_Bucket/x',
        's3://My_Bucket/x: "My_Bucket" is not a valid bucket name (3 to 63 lower-case letters, digits, "." or "-", starting and ending with a letter or digit)',
      ],
      ['s3://bkt/a//b', 's3://bkt/a//b: an empty segment ("//") in the key prefix'],
      ['s3://bkt/a/../b', 's3://bkt/a/../b: a "." or ".." segment in the key prefix'],
      ['S3://bkt/a', 'S3://bkt/a: not an s3:// path (expected s3://bucket/prefix, "s3" in lower case)'],
    ];
    for (const [p, msg] of cases) {
      let err: unknown;
      try {
        parseS3Url(p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe(msg);
    }
  });

  it("names a shard's area below the target, and recognises only such names", () => {
    const area = s3ShardOutput('s3://bkt/out/', '3-exp_rsft-0123456789ab', 1, 4, 'path');
    expect(area).toBe('s3://bkt/out/_shards/3-exp_rsft-0123456789ab/shard-00001/out-4-path');
    expect([isShardArea(area), isShardArea('s3://bkt/out'), isShardArea('s3://bkt/_shards/x/out-4-path')]).toEqual([true, false, false]);
  });
});
