/**
 * User buckets: the dataset is bucket-major, every part holds one bucket's
 * users only (FNV-1a of the raw id mod B), and the layout depends on B only:
 * one thread, two threads and shards give the same rows per bucket, each
 * bucket being the unpartitioned dataset's rows of its users, in order.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../stages/core/config-schema.js';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ingestFields, type IngestConfig } from '../../stages/ingest/ingest-config.js';
import { commitIngest, ingestRange, mergeRangeIds, planIngestRanges, scanRangeIds } from '../../stages/ingest/ingest-shards.js';
import { fnv1a32, userBucket } from '../../stages/ingest/user-buckets.js';
import { loadVocabulary } from '../../stages/ingest/vocab-files.js';
import { readManifest } from '../../stages/io/manifest.js';
import { listDatasetBucket } from '../../stages/io/manifest-read.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { ingestAll, tmpDir, writeText } from './helpers.js';
import { datasetRows } from './same-dataset.js';

const B = 4;

function csv(rows: number): string {
  let s = 9;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out = ['user,item,rating,timestamp'];
  for (let i = 0; i < rows; i++) out.push(`${r() < 0.5 ? `user-${Math.floor(r() * 70)}` : Math.floor(r() * 120)},${Math.floor(r() * 50)},${1 + (i % 5)},${i}`);
  return `${out.join('\n')}\n`;
}

async function bucketRows(dir: string, b: number): Promise<number[][]> {
  const batches: Batch[] = [];
  for (const p of listDatasetBucket(dir, b)) batches.push(...(await readParquetAll(p.file)));
  const all = batches.filter((x) => x.numRows > 0);
  if (all.length === 0) return [];
  const c = concatBatches(all).columns;
  const u = c.user_id as Int32Array;
  return Array.from(u, (_, k) => [u[k]!, (c.item_id as Int32Array)[k]!, Number((c.timestamp as BigInt64Array)[k]!)]);
}

describe('user buckets', () => {
  it('FNV-1a matches the published 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(userBucket('foobar', 7)).toBe(0xbf9cf968 % 7);
  });

  it('give the same bucket-major dataset on one thread, two threads and shards', async () => {
    const dir = tmpDir('buckets');
    const file = writeText(dir, 'in.csv', csv(3000));
    const base = { path: file, rows_per_file: 200, user_buckets: B };
    await ingestAll({ ...base, output: path.join(dir, 'plain'), user_buckets: 1, threads: 1 });
    await ingestAll({ ...base, output: path.join(dir, 'one'), threads: 1 });
    await ingestAll({ ...base, output: path.join(dir, 'two'), threads: 2, range_bytes: 700 });
    const cfg = validateConfig<IngestConfig>('ingest', ingestFields, { ...base, output: path.join(dir, 'shards') });
    const ranges = await planIngestRanges(cfg, 4, memoryLogger());
    expect(ranges.length).toBe(4);
    const ids = ranges.map((r) => path.join(dir, 'work', `ids-${r.index}.json`));
    for (const [k, r] of ranges.entries()) await scanRangeIds(cfg, r, ids[k]!);
    await mergeRangeIds(cfg, ids, path.join(dir, 'work', 'vocab'));
    const results = [];
    for (const r of ranges) results.push(await ingestRange(cfg, r, path.join(dir, 'work', 'vocab'), path.join(dir, 'work', 'parts')));
    await commitIngest(cfg, results, path.join(dir, 'work', 'vocab'));

    const plain = (await datasetRows(path.join(dir, 'plain')))!;
    const users = await loadVocabulary(path.join(dir, 'plain', 'vocab', 'users.parquet'));
    const pu = plain.columns.user_id as Int32Array;
    for (let b = 0; b < B; b++) {
      // The bucket is the unpartitioned rows of its users, in file order.
      const expected: number[][] = [];
      for (let k = 0; k < plain.numRows; k++)
        if (userBucket(users.rawId(pu[k]!), B) === b)
          expected.push([pu[k]!, (plain.columns.item_id as Int32Array)[k]!, Number((plain.columns.timestamp as BigInt64Array)[k]!)]);
      expect(expected.length).toBeGreaterThan(0);
      for (const out of ['one', 'two', 'shards']) expect(await bucketRows(path.join(dir, out), b)).toEqual(expected);
    }
    for (const out of ['one', 'two', 'shards']) {
      const m = readManifest(path.join(dir, out));
      const order = m.files.map((f) => f.bucket!);
      expect(order).toEqual([...order].sort((x, y) => x - y));
      expect(m.files.every((f) => f.path.startsWith(`bucket=${String(f.bucket).padStart(5, '0')}/part-`))).toBe(true);
      expect(m.rows).toBe(3000);
    }
    // One and two threads cut the parts alike.
    expect(readManifest(path.join(dir, 'two')).files.map((f) => [f.path, f.rows])).toEqual(
      readManifest(path.join(dir, 'one')).files.map((f) => [f.path, f.rows]),
    );
  });
});
