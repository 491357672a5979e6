/**
 * The shard API driven by hand, as the engine would (JSON in and out, any
 * order, retries): the committed dataset equals the single-process run's row
 * for row, with byte-equal vocabularies and quarantine file and equal
 * counters; a duplicated commit changes nothing; a strict error names the
 * global line; a file with quoted fields is one range.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ingestFields, type IngestConfig } from '../../stages/ingest/ingest-config.js';
import {
  commitIngest,
  ingestRange,
  mergeRangeIds,
  planIngestRanges,
  scanRangeIds,
  type IngestRange,
  type IngestRangeResult,
} from '../../stages/ingest/ingest-shards.js';
import { readManifest } from '../../stages/io/manifest.js';
import { verifyDataset } from '../../stages/io/manifest-read.js';
import { ingestAll, tmpDir, writeText } from './helpers.js';
import { counters, expectSameDataset } from './same-dataset.js';

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function csv(rows: number, seed: number, special: (i: number) => string | null = () => null): string {
  const r = lcg(seed);
  const out = ['user,item,rating,timestamp'];
  for (let i = 0; i < rows; i++)
    out.push(special(i) ?? `${r() < 0.3 ? `u${Math.floor(r() * 90)}` : Math.floor(r() * 200)},${Math.floor(r() * 300)},${1 + (i % 5)},${5000 + i}`);
  return `${out.join('\n')}\n`;
}

const cfgOf = (o: Record<string, unknown>) => validateConfig<IngestConfig>('ingest', ingestFields, o);
/** Through JSON, as an engine hands values between processes. */
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Drive the five functions over the plan: scans out of order, ingests out of order with one range run twice, results shuffled and duplicated. */
async function runShards(cfg: IngestConfig, work: string, count: number) {
  const ranges = json(await planIngestRanges(cfg, count, memoryLogger()));
  const idFiles = ranges.map((r) => path.join(work, `ids-${r.index}.json`));
  for (const k of [...ranges.keys()].reverse()) await scanRangeIds(json(cfg), ranges[k]!, idFiles[k]!);
  await scanRangeIds(cfg, ranges[0]!, idFiles[0]!); // a duplicated scan
  const vocabDir = path.join(work, 'vocab');
  const sizes = await mergeRangeIds(cfg, idFiles, vocabDir);
  const order = ranges.map((_, k) => (k + 1) % ranges.length).reverse();
  const results: IngestRangeResult[] = [];
  for (const k of order) results.push(json(await ingestRange(cfg, ranges[k]!, vocabDir, path.join(work, 'parts'))));
  if (ranges.length > 1) results.push(json(await ingestRange(cfg, ranges[1]!, vocabDir, path.join(work, 'parts')))); // retried
  const summary = await commitIngest(cfg, json(results), vocabDir);
  return { ranges, sizes, summary, results, vocabDir };
}

describe('ingest shards', () => {
  it('give the single-process dataset over 4 ranges (quarantine mode, string and integer ids)', async () => {
    const dir = tmpDir('shards');
    const file = writeText(
      dir,
      'in.csv',
      csv(2000, 5, (i) => (i === 10 ? '1,2,x,3' : i === 1500 ? '' : i === 1700 ? '7,,1,2' : null)),
    );
    const base = { path: file, mode: 'quarantine', rows_per_file: 300, encode_in_worker: false };
    const single = await ingestAll({ ...base, output: path.join(dir, 'single'), threads: 1 });
    const cfg = cfgOf({ ...base, output: path.join(dir, 'sharded') });
    const { ranges, sizes, summary } = await runShards(cfg, path.join(dir, 'work'), 4);
    expect(ranges).toHaveLength(4);
    expect(ranges[0]!.firstLine).toBe(1);
    // firstLine is the line of the range's first byte: one more than the line breaks before it.
    const text = fs.readFileSync(file, 'utf8');
    for (const r of ranges.slice(1)) expect(r.firstLine).toBe(text.slice(0, r.start).split('\n').length);
    expect(sizes).toEqual({ users: single.summary.users, items: single.summary.items });
    expect(counters(summary)).toEqual(counters(single.summary));
    await expectSameDataset(path.join(dir, 'single'), path.join(dir, 'sharded'));
    expect(single.summary.rejected).toBe(2);
  });

  it('extend loaded vocabularies as the single-process run does', async () => {
    const dir = tmpDir('shards');
    const first = writeText(dir, 'first.csv', csv(300, 8));
    const second = writeText(dir, 'second.csv', csv(1500, 9));
    for (const v of ['v-single', 'v-sharded']) await ingestAll({ path: first, output: path.join(dir, `base-${v}`), vocab_dir: path.join(dir, v) });
    const single = await ingestAll({ path: second, output: path.join(dir, 'single'), vocab: 'extend', vocab_dir: path.join(dir, 'v-single'), threads: 1 });
    const cfg = cfgOf({ path: second, output: path.join(dir, 'sharded'), vocab: 'extend', vocab_dir: path.join(dir, 'v-sharded') });
    const { summary } = await runShards(cfg, path.join(dir, 'work'), 4);
    expect(counters(summary)).toEqual(counters(single.summary));
    await expectSameDataset(path.join(dir, 'single'), path.join(dir, 'sharded'));
    for (const f of ['users.parquet', 'items.parquet'])
      expect(fs.readFileSync(path.join(dir, 'v-sharded', f))).toEqual(fs.readFileSync(path.join(dir, 'v-single', f)));
  });

  it('change nothing when the commit is repeated', async () => {
    const dir = tmpDir('shards');
    const file = writeText(dir, 'in.csv', csv(800, 2));
    const cfg = cfgOf({ path: file, output: path.join(dir, 'out'), rows_per_file: 100 });
    const { results, vocabDir, summary } = await runShards(cfg, path.join(dir, 'work'), 3);
    const before = fs.readFileSync(path.join(dir, 'out', '_manifest.json'), 'utf8');
    const again = await commitIngest(cfg, [...results].reverse(), vocabDir);
    expect(fs.readFileSync(path.join(dir, 'out', '_manifest.json'), 'utf8')).toBe(before);
    expect(again.manifest).toEqual(summary.manifest);
    expect(readManifest(path.join(dir, 'out')).rows).toBe(800);
  });

  it('commit the bytes on disk when a range was run again after its result was taken', async () => {
    const dir = tmpDir('shards');
    const file = writeText(dir, 'in.csv', csv(900, 6));
    const cfg = cfgOf({ path: file, output: path.join(dir, 'out'), rows_per_file: 100 });
    const work = path.join(dir, 'work');
    const { results, ranges, vocabDir } = await runShards(cfg, work, 3);
    // A second delivery of range 1 that finds no finished result rewrites its parts (footer bytes may differ).
    fs.rmSync(path.join(work, 'parts', 'range-00001-result.json'));
    await ingestRange(cfg, ranges[1]!, vocabDir, path.join(work, 'parts'));
    fs.rmSync(path.join(dir, 'out'), { recursive: true });
    await commitIngest(cfg, results, vocabDir);
    const m = await verifyDataset(path.join(dir, 'out'), { hashes: true });
    expect(m.rows).toBe(900);
  });

  it('stop a strict range with the global line of the bad row', async () => {
    const dir = tmpDir('shards');
    const file = writeText(
      dir,
      'in.csv',
      csv(1000, 3, (i) => (i === 900 ? '5,6,4.5x,7' : null)),
    );
    const cfg = cfgOf({ path: file, output: path.join(dir, 'out') });
    const ranges = await planIngestRanges(cfg, 4, memoryLogger());
    const ids = ranges.map((r) => path.join(dir, `ids-${r.index}.json`));
    for (const [k, r] of ranges.entries()) await scanRangeIds(cfg, r, ids[k]!);
    await mergeRangeIds(cfg, ids, path.join(dir, 'vocab'));
    const last = ranges.at(-1)!;
    await expect(ingestRange(cfg, last, path.join(dir, 'vocab'), path.join(dir, 'parts'))).rejects.toThrow(`${file}:902: field "rating"`);
  });

  it('keep a file with quoted fields whole, and say so once', async () => {
    const dir = tmpDir('shards');
    const file = writeText(
      dir,
      'q.csv',
      csv(500, 4, (i) => (i === 250 ? 'u1,2,3,"4\n"' : null)),
    );
    const log = memoryLogger();
    const ranges: IngestRange[] = await planIngestRanges(cfgOf({ path: file, output: path.join(dir, 'out') }), 4, log);
    expect(ranges).toHaveLength(1);
    expect(log.lines.filter((l) => l.includes('holds quoted fields'))).toHaveLength(1);
  });

  it('refuse arrow_ipc and a count below 1 with a configuration error', async () => {
    const dir = tmpDir('shards');
    const file = writeText(dir, 'in.csv', csv(10, 1));
    await expect(planIngestRanges(cfgOf({ path: file, output: path.join(dir, 'o'), arrow_ipc: path.join(dir, 'x.arrow') }), 2)).rejects.toThrow(
      'ingest: arrow_ipc is not written by a sharded ingest',
    );
    await expect(planIngestRanges(cfgOf({ path: file, output: path.join(dir, 'o') }), 0)).rejects.toThrow('must be a positive integer, got 0');
  });
});
