/**
 * Ingest on several threads equals the one-thread ingest: the same Parquet
 * rows (byte-equal parts, since the batches are re-cut alike), byte-equal
 * vocabularies and quarantine files, equal counters, and the same strict
 * error (file and global line number), with ranges small enough that every
 * file is cut into many.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { ingestAll, tmpDir, writeText } from './helpers.js';
import { counters, expectSameDataset } from './same-dataset.js';

/** A deterministic pseudo-random stream in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function ratingsCsv(rows: number, seed: number, bad: (i: number) => string | null = () => null): string {
  const r = lcg(seed);
  const out = ['userId,movieId,rating,timestamp'];
  for (let i = 0; i < rows; i++) {
    const special = bad(i);
    if (special !== null) out.push(special);
    else
      out.push(
        `${Math.floor(r() * 300) * 3},${r() < 0.2 ? `m${Math.floor(r() * 50)}` : Math.floor(r() * 400)},${(Math.floor(r() * 10) + 1) / 2},${1_600_000_000 + i}`,
      );
  }
  return `${out.join('\n')}\n`;
}

async function both(options: Record<string, unknown>, dir: string) {
  const one = await ingestAll({ ...options, output: path.join(dir, 'one'), threads: 1 });
  const two = await ingestAll({ ...options, output: path.join(dir, 'two'), threads: 2, range_bytes: 512 });
  return { one, two, a: path.join(dir, 'one'), b: path.join(dir, 'two') };
}

describe('ingest on threads', () => {
  it('gives the one-thread dataset, vocabularies and counters for a CSV cut into many ranges', async () => {
    const dir = tmpDir('threads');
    const file = writeText(dir, 'r.csv', ratingsCsv(3000, 7));
    const { one, two, a, b } = await both({ path: file, batch_size: 700, rows_per_file: 1100 }, dir);
    expect(two.logs.some((l) => /byte ranges on 2 threads/.test(l))).toBe(true);
    expect(counters(two.summary)).toEqual(counters(one.summary));
    await expectSameDataset(a, b, { sameParts: true });
    // The batches emitted downstream are cut alike too.
    expect(two.batches.map((x) => x.numRows)).toEqual(one.batches.map((x) => x.numRows));
    // First id seen = 1: the user of the first data line is index 1 in both.
    expect((two.all!.columns.user_id as Int32Array)[0]).toBe(1);
  });

  it('quarantines the same rows with the same global line numbers', async () => {
    const dir = tmpDir('threads');
    const badAt = new Set([5, 240, 241, 900, 1777, 2999]);
    const text = ratingsCsv(3000, 11, (i) => (badAt.has(i) ? (i % 2 ? `${i},7,abc,1` : '') : null));
    const file = writeText(dir, 'q.csv', text);
    const { one, two, a, b } = await both({ path: file, mode: 'quarantine' }, dir);
    expect(one.summary.rejected).toBe(4);
    expect(one.summary.blankLines).toBe(2);
    expect(counters(two.summary)).toEqual(counters(one.summary));
    await expectSameDataset(a, b, { sameParts: true });
    const lines = fs
      .readFileSync(path.join(b, '_quarantine', 'rejected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { line: number }).line);
    // Line 1 is the header: data row i is on line i + 2.
    expect(lines).toEqual([5 + 2, 241 + 2, 1777 + 2, 2999 + 2]);
  });

  it('stops a strict ingest with the error of the one-thread run (global line number)', async () => {
    const dir = tmpDir('threads');
    const file = writeText(
      dir,
      's.csv',
      ratingsCsv(3000, 3, (i) => (i === 2500 ? '9,9,4.5x,100' : null)),
    );
    const err = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (e: Error) => e.message,
      );
    const one = await err(ingestAll({ path: file, output: path.join(dir, 'one'), threads: 1 }));
    const two = await err(ingestAll({ path: file, output: path.join(dir, 'two'), threads: 2, range_bytes: 512 }));
    expect(one).toContain(`${file}:2502: field "rating"`);
    expect(two).toBe(one);
    expect(fs.existsSync(path.join(dir, 'two'))).toBe(false);
  });

  it('reads a quoted field holding line breaks across a range boundary as the one-thread run does, and says so', async () => {
    const dir = tmpDir('threads');
    const r = lcg(5);
    const out = ['user,item,rating,timestamp,note'];
    for (let i = 0; i < 400; i++) {
      // Every 37th record has a quoted note of several lines, long enough to cross 512-byte cuts.
      const note = i % 37 === 0 ? `"${'line one\n'.repeat(30)}end"` : 'plain';
      out.push(`u${Math.floor(r() * 40)},${Math.floor(r() * 90)},${(Math.floor(r() * 10) + 1) / 2},${1000 + i},${note}`);
    }
    out.push('u1,5,abc,7,"bad\nrow"');
    const file = writeText(dir, 'quoted.csv', `${out.join('\n')}\n`);
    const { one, two, a, b } = await both({ path: file, mode: 'quarantine' }, dir);
    expect(one.summary.rows).toBe(400);
    expect(counters(two.summary)).toEqual(counters(one.summary));
    await expectSameDataset(a, b, { sameParts: true });
    expect(two.logs.filter((l) => /quoted record spans the range boundary/.test(l))).toHaveLength(1);
  });

  it('extends loaded vocabularies exactly as the one-thread run does', async () => {
    const dir = tmpDir('threads');
    const first = writeText(dir, 'first.csv', ratingsCsv(500, 1));
    const second = writeText(dir, 'second.csv', ratingsCsv(3000, 2));
    for (const name of ['one', 'two']) {
      await ingestAll({ path: first, output: path.join(dir, 'base'), vocab_dir: path.join(dir, `vocab-${name}`) });
    }
    await ingestAll({ path: second, output: path.join(dir, 'one'), vocab: 'extend', vocab_dir: path.join(dir, 'vocab-one'), threads: 1 });
    const two = await ingestAll({
      path: second,
      output: path.join(dir, 'two'),
      vocab: 'extend',
      vocab_dir: path.join(dir, 'vocab-two'),
      threads: 2,
      range_bytes: 400,
    });
    expect(two.logs.some((l) => /byte ranges/.test(l))).toBe(true);
    await expectSameDataset(path.join(dir, 'one'), path.join(dir, 'two'), { sameParts: true });
    for (const f of ['users.parquet', 'items.parquet'])
      expect(fs.readFileSync(path.join(dir, 'vocab-two', f))).toEqual(fs.readFileSync(path.join(dir, 'vocab-one', f)));
  });

  it('rejects unknown ids of a fixed vocabulary on worker threads as the one-thread run does', async () => {
    const dir = tmpDir('threads');
    const base = writeText(dir, 'base.csv', ratingsCsv(300, 1));
    const more = writeText(dir, 'more.csv', ratingsCsv(2000, 9));
    await ingestAll({ path: base, output: path.join(dir, 'base') });
    const opts = { path: more, vocab: 'fixed', vocab_dir: path.join(dir, 'base', 'vocab'), mode: 'quarantine' };
    const { one, two, a, b } = await both(opts, dir);
    expect(one.summary.rejected).toBeGreaterThan(0);
    expect(counters(two.summary)).toEqual(counters(one.summary));
    await expectSameDataset(a, b, { sameParts: true });
  });

  it('reads JSON Lines with sessions and several files in order', async () => {
    const dir = tmpDir('threads');
    const r = lcg(4);
    const jsonl = (n: number, off: number) =>
      Array.from({ length: n }, (_, i) =>
        i === 17
          ? '{"user": 1, bad json'
          : JSON.stringify({ user: `u${Math.floor(r() * 60)}`, item: Math.floor(r() * 80), session: `s${Math.floor((i + off) / 9)}`, rating: 3, ts: 10 + i }),
      ).join('\n');
    writeText(dir, 'in/a.jsonl', `${jsonl(900, 0)}\n`);
    writeText(dir, 'in/b.jsonl', `${jsonl(700, 900)}\n\n`);
    const { one, two, a, b } = await both({ path: path.join(dir, 'in'), mode: 'quarantine', columns: { session_id: 'session' } }, dir);
    expect(one.summary.sessions).toBeGreaterThan(100);
    expect(counters(two.summary)).toEqual(counters(one.summary));
    await expectSameDataset(a, b, { sameParts: true });
  });

  it('reads a Parquet file between two cut CSV files in name order', async () => {
    const dir = tmpDir('threads');
    writeText(dir, 'in/a.csv', ratingsCsv(1200, 21));
    const n = 500;
    writeParquetFile(
      path.join(dir, 'in', 'b.parquet'),
      new arrow.Table({
        userId: arrow.vectorFromArray(
          Array.from({ length: n }, (_, i) => `p${i % 37}`),
          new arrow.Utf8(),
        ),
        movieId: arrow.vectorFromArray(
          Array.from({ length: n }, (_, i) => BigInt(i % 91)),
          new arrow.Int64(),
        ),
        rating: arrow.vectorFromArray(
          Array.from({ length: n }, (_, i) => 1 + (i % 4)),
          new arrow.Float64(),
        ),
        timestamp: arrow.vectorFromArray(
          Array.from({ length: n }, (_, i) => BigInt(7000 + i)),
          new arrow.Int64(),
        ),
      }),
    );
    writeText(dir, 'in/c.csv', ratingsCsv(1200, 22));
    const { one, two, a, b } = await both({ path: path.join(dir, 'in') }, dir);
    expect(one.summary.rows).toBe(2900);
    expect(counters(two.summary)).toEqual(counters(one.summary));
    await expectSameDataset(a, b, { sameParts: true });
  });

  it('reads a header-less MovieLens file (numeric first line) with a byte-order mark', async () => {
    const dir = tmpDir('threads');
    const r = lcg(8);
    const body = Array.from({ length: 1500 }, (_, i) => `${Math.floor(r() * 100)}::${Math.floor(r() * 200)}::${1 + (i % 5)}::${900 + i}`).join('\n');
    const file = writeText(dir, 'ratings.dat', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${body}\n`)]));
    const { one, two, a, b } = await both({ path: file }, dir);
    expect(one.summary.rows).toBe(1500);
    expect(counters(two.summary)).toEqual(counters(one.summary));
    await expectSameDataset(a, b, { sameParts: true });
  });
});
