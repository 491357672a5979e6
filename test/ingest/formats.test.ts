import * as fs from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { loadVocabulary } from '../../stages/ingest/vocab-files.js';
import { ingestAll, SAMPLES, tmpDir, tuples, writeText } from './helpers.js';

describe('MovieLens ratings.dat (::)', () => {
  it('reads every row with dense ids in first-seen order', async () => {
    const out = path.join(tmpDir(), 'ds');
    const { all, summary, logs } = await ingestAll({ path: path.join(SAMPLES, 'ratings.dat'), output: out });
    expect(summary.files[0]!.format).toBe('movielens');
    expect(logs.join('\n')).toMatch(/movielens/);
    expect(tuples(all!)).toEqual([
      [1, 1, 978300760, 5],
      [1, 2, 978302109, 3],
      [1, 3, 978301968, 3],
      [2, 4, 978298709, 5],
      [2, 5, 978299000, 4],
      [2, 1, 978299620, 4],
      [3, 6, 978298147, 4],
      [3, 7, 978297867, 2],
      [3, 8, 978297867, 3],
      [4, 9, 978294008, 5],
      [4, 10, 978293924, 3],
      [5, 11, 978243170, 4],
    ]);
    expect(summary.users).toBe(5);
    expect(summary.items).toBe(11);
    expect((await loadVocabulary(summary.vocab.items)).rawIds()).toEqual(['1193', '661', '914', '1357', '3068', '3421', '1641', '648', '3468', '1210', '2987']);
    expect((await loadVocabulary(summary.vocab.users)).rawIds()).toEqual(['1', '2', '3', '4', '5']);
    expect(summary.vocab.users).toBe(path.join(out, 'vocab', 'users.parquet'));
  });
});

describe('CSV with the ML-20M header', () => {
  it('maps userId, movieId, rating, timestamp by default and keeps half stars', async () => {
    const { all, summary } = await ingestAll({ path: path.join(SAMPLES, 'ratings.csv'), output: path.join(tmpDir(), 'ds') });
    expect(summary.files[0]!.format).toBe('csv');
    expect(tuples(all!)).toEqual([
      [1, 1, 1112486027, 3.5],
      [1, 2, 1112484676, 3.5],
      [1, 3, 1112484819, 3.5],
      [2, 4, 974820889, 4],
      [2, 5, 974820598, 5],
      [3, 6, 944919407, 4],
      [3, 7, 945116389, 3],
      [3, 3, 944919422, 0.5],
      [4, 8, 840879390, 3],
      [4, 9, 840878363, 4],
    ]);
    expect(all!.columns.session_id).toBeUndefined();
  });

  it('cuts the stream into batches of batch_size rows', async () => {
    const { batches } = await ingestAll({ path: path.join(SAMPLES, 'ratings.csv'), output: path.join(tmpDir(), 'ds'), batch_size: 4 });
    expect(batches.map((b) => b.numRows)).toEqual([4, 4, 2]);
    expect(batches.every((b) => b.table === 'interactions')).toBe(true);
  });
});

describe('JSON Lines', () => {
  it('maps keys, string and numeric ids, ISO timestamps, sessions and extra columns', async () => {
    const { all, summary } = await ingestAll({
      path: path.join(SAMPLES, 'interactions.jsonl'),
      output: path.join(tmpDir(), 'ds'),
      timestamp_format: 'iso8601',
      timestamp_unit: 'ms',
      extra_columns: { watch_seconds: 'watch_seconds' },
    });
    expect(summary.files[0]!.format).toBe('jsonl');
    expect(tuples(all!)).toEqual([
      [1, 1, Date.UTC(2024, 2, 1, 10, 0, 0), 4.5],
      [1, 2, Date.UTC(2024, 2, 1, 10, 5, 30), 2],
      [2, 1, Date.UTC(2024, 2, 2, 7, 0, 0), 5],
      [3, 3, Date.UTC(2024, 2, 2, 23, 59, 59, 250), 3.5],
      [2, 4, Date.UTC(2024, 2, 3), 1],
    ]);
    expect(Array.from(all!.columns.session_id as Int32Array)).toEqual([1, 1, 2, 3, 4]);
    expect(Array.from(all!.columns.watch_seconds as Float64Array)).toEqual([312, 20.5, 1200, 0, 45]);
    expect((await loadVocabulary(summary.vocab.items)).rawIds()).toEqual(['sku-17', 'sku-3', '42', 'sku-9']);
    expect((await loadVocabulary(summary.vocab.users)).rawIds()).toEqual(['alice', 'bob', 'carol']);
    expect((await loadVocabulary(summary.vocab.sessions!)).rawIds()).toEqual(['s1', 's2', 's3', 's4']);
  });
});

describe('TSV and headerless files', () => {
  it('reads a TSV with a header and an explicit column mapping', async () => {
    const d = tmpDir();
    const f = writeText(d, 'log.tsv', 'who\twhat\tstars\twhen\tnote\nu1\ti9\t4\t100\thello, world\nu2\ti9\t2.5\t200\t\n');
    const { all, summary } = await ingestAll({
      path: f,
      output: path.join(d, 'ds'),
      columns: { user_id: 'who', item_id: 'what', reward: 'stars', timestamp: 'when' },
    });
    expect(summary.files[0]!.format).toBe('tsv');
    expect(tuples(all!)).toEqual([
      [1, 1, 100, 4],
      [2, 1, 200, 2.5],
    ]);
  });

  it('reads an ML-100K style u.data (tab, no header) in MovieLens field order, and says so', async () => {
    const d = tmpDir();
    const f = writeText(d, 'u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n');
    const { all, logs } = await ingestAll({ path: f, output: path.join(d, 'ds') });
    expect(tuples(all!)).toEqual([
      [1, 1, 881250949, 3],
      [2, 2, 891717742, 3],
      [1, 3, 878887116, 1],
    ]);
    expect(logs.join('\n')).toMatch(/no header; reading its fields as userId, movieId, rating, timestamp/);
  });

  it('uses header_names for files without a header', async () => {
    const d = tmpDir();
    const f = writeText(d, 'x.csv', '100,a,b,1.5\n200,c,a,2.5\n');
    const { all } = await ingestAll({ path: f, output: path.join(d, 'ds'), header_names: ['ts', 'user', 'item', 'rating'] });
    expect(tuples(all!)).toEqual([
      [1, 1, 100, 1.5],
      [2, 2, 200, 2.5],
    ]);
  });
});

describe('column mapping', () => {
  it('takes explicit names, extra columns and a default reward', async () => {
    const d = tmpDir();
    const f = writeText(d, 'clicks.csv', 'uid,iid,when,dwell\n7,70,5,1.25\n8,70,6,3\n');
    const { all } = await ingestAll({
      path: f,
      output: path.join(d, 'ds'),
      columns: { user_id: 'uid', item_id: 'iid', timestamp: 'when' },
      default_reward: 1,
      extra_columns: { dwell: 'dwell' },
    });
    expect(tuples(all!)).toEqual([
      [1, 1, 5, 1],
      [2, 1, 6, 1],
    ]);
    expect(Array.from(all!.columns.dwell as Float64Array)).toEqual([1.25, 3]);
  });

  it('without a default reward, a source without a reward column is an error naming the columns it has', async () => {
    const d = tmpDir();
    const f = writeText(d, 'clicks.csv', 'user_id,item_id,timestamp\n7,70,5\n');
    await expect(ingestAll({ path: f, output: path.join(d, 'ds') })).rejects.toThrow(
      `${f}:1: field "reward": no column for reward (looked for "reward", "rating", "Rating"; the source has: user_id, item_id, timestamp); name it with columns.reward`,
    );
  });
});

describe('Parquet input', () => {
  it('reads string and integer ids, Arrow timestamps in their unit, and maps columns', async () => {
    const d = tmpDir();
    const f = path.join(d, 'in.parquet');
    writeParquetFile(
      f,
      new arrow.Table({
        member: arrow.vectorFromArray(['m1', 'm2', 'm1'], new arrow.Utf8()),
        product: arrow.vectorFromArray([10n, 20n, 30n], new arrow.Int64()),
        score: arrow.vectorFromArray([1.5, 2, 0.5], new arrow.Float64()),
        at: arrow.vectorFromArray([1000, 2000, 3000], new arrow.TimestampMillisecond()),
      }),
    );
    const { all, summary } = await ingestAll({
      path: f,
      output: path.join(d, 'ds'),
      columns: { user_id: 'member', item_id: 'product', reward: 'score', timestamp: 'at' },
    });
    expect(summary.files[0]!.format).toBe('parquet');
    expect(tuples(all!)).toEqual([
      [1, 1, 1, 1.5],
      [2, 2, 2, 2],
      [1, 3, 3, 0.5],
    ]);
    expect((await loadVocabulary(summary.vocab.items)).rawIds()).toEqual(['10', '20', '30']);
  });
});

describe('many files', () => {
  it('reads a directory in name order, one vocabulary across files', async () => {
    const d = tmpDir();
    writeText(d, 'logs/b.csv', 'user_id,item_id,reward,timestamp\n2,20,1,2\n');
    writeText(d, 'logs/a.csv', 'user_id,item_id,reward,timestamp\n1,10,1,1\n2,10,1,1\n');
    writeText(d, 'logs/_ignored.csv', 'garbage\n');
    writeText(d, 'logs/.hidden.csv', 'garbage\n');
    writeText(d, 'logs/sub/c.dat', '3::20::5::3\n');
    const { all, summary } = await ingestAll({ path: path.join(d, 'logs'), output: path.join(d, 'ds') });
    expect(summary.files.map((f) => path.basename(f.path))).toEqual(['a.csv', 'b.csv', 'c.dat']);
    expect(tuples(all!)).toEqual([
      [1, 1, 1, 1],
      [2, 1, 1, 1],
      [2, 2, 2, 1],
      [3, 2, 3, 5],
    ]);
    const glob = await ingestAll({ path: path.join(d, 'logs', '*.csv'), output: path.join(d, 'ds2') });
    expect(glob.summary.files.map((f) => path.basename(f.path))).toEqual(['a.csv', 'b.csv']);
    const deep = await ingestAll({ path: path.join(d, '**', '*.dat'), output: path.join(d, 'ds3') });
    expect(deep.summary.files.map((f) => path.basename(f.path))).toEqual(['c.dat']);
    await expect(ingestAll({ path: path.join(d, 'nothing-*.csv'), output: path.join(d, 'ds4') })).rejects.toThrow(/no files match/);
  });
});

describe('text edge cases', () => {
  it('handles CRLF, a byte-order mark, quoted fields, spaces around fields and a missing final newline', async () => {
    const d = tmpDir();
    const f = writeText(d, 'x.csv', '\ufeffuser_id,item_id,reward,timestamp\r\n a ,"x,y",4.5, 10\r\n"b","say ""hi""",1,20\r\nc,"multi\nline",2,30');
    const { all, summary } = await ingestAll({ path: f, output: path.join(d, 'ds') });
    expect(tuples(all!)).toEqual([
      [1, 1, 10, 4.5],
      [2, 2, 20, 1],
      [3, 3, 30, 2],
    ]);
    expect((await loadVocabulary(summary.vocab.items)).rawIds()).toEqual(['x,y', 'say "hi"', 'multi\nline']);
    expect((await loadVocabulary(summary.vocab.users)).rawIds()).toEqual(['a', 'b', 'c']);
  });

  it('gives the same rows for any read size (records split across chunks), against a reference parse', async () => {
    const d = tmpDir();
    let seed = 5;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const rows: [string, string, number, number][] = [];
    let text = 'user_id,item_id,reward,timestamp\n';
    for (let k = 0; k < 600; k++) {
      const user = rand() < 0.5 ? String(Math.floor(rand() * 40)) : `u${Math.floor(rand() * 40)}`;
      const item = rand() < 0.2 ? `it "${k % 7}", x` : String(Math.floor(rand() * 100));
      const reward = Math.floor(rand() * 10) / 2;
      const ts = 1000 + k;
      rows.push([user, item, reward, ts]);
      const itemText = item.includes('"') ? `"${item.replace(/"/g, '""')}"` : item;
      text += `${user},${itemText},${reward},${ts}${rand() < 0.3 ? '\r\n' : '\n'}`;
    }
    const f = writeText(d, 'x.csv', text);
    const users = new Map<string, number>();
    const items = new Map<string, number>();
    const id = (m: Map<string, number>, k: string) => m.get(k) ?? (m.set(k, m.size + 1), m.size);
    const expected = rows.map(([u, i, r, t]) => [id(users, u), id(items, i), t, r]);
    for (const read_bytes of [16, 37, 4096]) {
      const { all } = await ingestAll({ path: f, output: path.join(d, `ds-${read_bytes}`), read_bytes, batch_size: 64 });
      expect(tuples(all!), `read_bytes ${read_bytes}`).toEqual(expected);
    }
  });

  it('skips blank lines and counts them', async () => {
    const d = tmpDir();
    const f = writeText(d, 'x.csv', 'user_id,item_id,reward,timestamp\n\n1,2,3,4\n\r\n\n5,6,7,8\n\n');
    const { all, summary } = await ingestAll({ path: f, output: path.join(d, 'ds') });
    expect(all!.numRows).toBe(2);
    expect(summary.blankLines).toBe(4);
  });
});

describe('Arrow IPC output', () => {
  it('writes the same rows as an Arrow IPC file', async () => {
    const d = tmpDir();
    const ipc = path.join(d, 'arrow', 'interactions.arrow');
    const { all } = await ingestAll({ path: path.join(SAMPLES, 'ratings.dat'), output: path.join(d, 'ds'), arrow_ipc: ipc, batch_size: 5 });
    const t = arrow.tableFromIPC(fs.readFileSync(ipc));
    expect(t.numRows).toBe(12);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['user_id', 'item_id', 'timestamp', 'reward']);
    expect(Array.from(t.getChild('item_id')!.toArray() as Int32Array)).toEqual(Array.from(all!.columns.item_id as Int32Array));
    expect(Array.from(t.getChild('timestamp')!.toArray() as BigInt64Array)).toEqual(Array.from(all!.columns.timestamp as BigInt64Array));
  });
});

describe('timestamps', () => {
  it('stores negative, beyond-32-bit and largest safe timestamps exactly as int64', async () => {
    const d = tmpDir();
    const values = [-1, -4294967297, 2 ** 40 + 5, 0, 9007199254740991, -9007199254740991];
    const f = writeText(d, 't.csv', `user_id,item_id,reward,timestamp\n${values.map((v, k) => `1,${k},1,${v}`).join('\n')}\n`);
    const { all } = await ingestAll({ path: f, output: path.join(d, 'ds') });
    expect(Array.from(all!.columns.timestamp as BigInt64Array)).toEqual(values.map((v) => BigInt(v)));
  });
});

describe('guards', () => {
  it('refuses an input inside the output directory', async () => {
    const d = tmpDir();
    const f = writeText(d, 'ds/in.csv', 'user_id,item_id,reward,timestamp\n1,2,3,4\n');
    await expect(ingestAll({ path: f, output: path.join(d, 'ds') })).rejects.toThrow(/lies inside the output directory/);
  });
});

describe('part files', () => {
  it('holds exactly rows_per_file rows per part when encoding on the main thread', async () => {
    const d = tmpDir();
    const { summary } = await ingestAll({ path: path.join(SAMPLES, 'ratings.dat'), output: path.join(d, 'ds'), rows_per_file: 5, batch_size: 3 });
    expect(summary.manifest.files.map((f) => [f.path, f.rows])).toEqual([
      ['part-00000.parquet', 5],
      ['part-00001.parquet', 5],
      ['part-00002.parquet', 2],
    ]);
  });
});

describe('re-ingesting a dataset', () => {
  it('reads a recpost dataset directory through its manifest (not its vocabulary files), keeping raw ids', async () => {
    const d = tmpDir();
    const first = await ingestAll({ path: path.join(SAMPLES, 'ratings.csv'), output: path.join(d, 'ds1'), rows_per_file: 4 });
    const again = await ingestAll({ path: path.join(d, 'ds1'), output: path.join(d, 'ds2') });
    expect(again.summary.files.map((f) => path.basename(f.path))).toEqual(['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']);
    // Dense ids are already first-seen order, so a second pass maps them to themselves.
    expect(tuples(again.all!)).toEqual(tuples(first.all!));
  });
});
