import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../stages/core/errors.js';
import { listTemporaryFiles } from '../../stages/ingest/output-dir.js';
import { ingestAll, SAMPLES, tmpDir, tuples, writeText } from './helpers.js';

const HEADER = 'userId,movieId,rating,timestamp\n';

/** Ingest `body` in strict mode and return the DataError it must raise. */
async function strictError(
  name: string,
  body: string,
  extra: Record<string, unknown> | ((dir: string) => Record<string, unknown>) = {},
): Promise<{ err: DataError; file: string; out: string }> {
  const d = tmpDir('strict');
  const file = writeText(d, name, body);
  const out = path.join(d, 'ds');
  try {
    await ingestAll({ path: file, output: out, batch_size: 2, rows_per_file: 2, ...(typeof extra === 'function' ? extra(d) : extra) });
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return { err: e as DataError, file, out };
  }
  throw new Error('expected a DataError');
}

describe('strict mode names file, line, field and value', () => {
  it('wrong field count', async () => {
    const { err, file } = await strictError('a.csv', `${HEADER}1,2,3,4\n1,2,3\n`);
    expect(err.message).toBe(`${file}:3: field "(row)": expected 4 fields, found 3 (value: "1,2,3")`);
    expect([err.file, err.line, err.field, err.value]).toEqual([file, 3, '(row)', '1,2,3']);
  });

  it('non-numeric reward ("4.5abc" is not 4.5)', async () => {
    const { err, file } = await strictError('a.csv', `${HEADER}1,2,4.5abc,4\n`);
    expect(err.message).toBe(`${file}:2: field "rating": reward is not a number (value: "4.5abc")`);
  });

  it('NaN and Inf rewards', async () => {
    expect((await strictError('a.csv', `${HEADER}1,2,3,4\n1,2,NaN,4\n`)).err.message).toMatch(
      /:3: field "rating": reward is not finite \(NaN or Inf\) \(value: "NaN"\)$/,
    );
    expect((await strictError('a.dat', `1::2::inf::4\n`)).err.message).toMatch(
      /a\.dat:1: field "rating": reward is not finite \(NaN or Inf\) \(value: "inf"\)$/,
    );
  });

  it('unparsable timestamp', async () => {
    const { err, file } = await strictError('a.csv', `${HEADER}1,2,3,12:00\n`);
    expect(err.message).toBe(`${file}:2: field "timestamp": timestamp (unix seconds) is not a number (value: "12:00")`);
    const iso = await strictError('b.csv', `${HEADER}1,2,3,2024-02-30\n`, { timestamp_format: 'iso8601' });
    expect(iso.err.message).toBe(`${iso.file}:2: field "timestamp": timestamp has day 30 in month 2 (value: "2024-02-30")`);
  });

  it('empty id', async () => {
    const { err, file } = await strictError('a.csv', `${HEADER}1,2,3,4\r\n1, ,3,4\r\n`);
    expect(err.message).toBe(`${file}:3: field "movieId": item id is empty (value: " ")`);
  });

  it('invalid JSON line', async () => {
    const { err, file } = await strictError('a.jsonl', '{"user_id":1,"item_id":2,"reward":3,"timestamp":4}\n{"user_id":1,"item_id":\n');
    expect(err.file).toBe(file);
    expect(err.line).toBe(2);
    expect(err.field).toBe('(row)');
    expect(err.message).toMatch(/a\.jsonl:2: field "\(row\)": invalid JSON: .+ \(value: "\{\\"user_id\\":1,\\"item_id\\":"\)$/);
  });

  it('JSON values of the wrong kind', async () => {
    const { err } = await strictError('a.jsonl', '{"user_id":1.5,"item_id":2,"reward":3,"timestamp":4}\n');
    expect(err.message).toMatch(/:1: field "user_id": user id must be an integer or a string, got 1\.5 \(value: "1\.5"\)$/);
    const miss = await strictError('b.jsonl', '{"user_id":1,"item_id":2,"reward":3,"timestamp":4}\n{"user_id":1,"item_id":2,"timestamp":4}\n');
    expect(miss.err.message).toMatch(/b\.jsonl:2: field "reward": reward is missing/);
  });

  it('missing mapped column in a header', async () => {
    const { err, file } = await strictError('a.csv', `${HEADER}1,2,3,4\n`, { columns: { item_id: 'itemId' } });
    expect(err.message).toBe(
      `${file}:1: field "itemId": mapped column "itemId" (for item_id) is missing; the source has: userId, movieId, rating, timestamp; the rest of the file is skipped (value: "userId,movieId,rating,timestamp")`,
    );
  });

  it('leaves no temporary files, no part files and no manifest behind', async () => {
    const rows = Array.from({ length: 9 }, (_, k) => `${k},${k},1,${k}\n`).join('');
    const { out, err } = await strictError('a.csv', `${HEADER}${rows}9,9,x,9\n`, (d) => ({ arrow_ipc: path.join(d, 'ipc', 'x.arrow') }));
    expect(err.line).toBe(11);
    expect(listTemporaryFiles(path.dirname(out))).toEqual([]);
    expect(fs.readdirSync(path.join(path.dirname(out), 'ipc'))).toEqual([]);
    // The dataset was staged beside `out` and the staging directory removed: no output directory appears at all.
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(path.dirname(out)).filter((n) => n.includes('.staging-'))).toEqual([]);
  });
});

describe('quarantine mode', () => {
  it('writes every rejected row with its reason, counts them, and keeps the good rows', async () => {
    const d = tmpDir('quarantine');
    const src = path.join(SAMPLES, 'malformed.csv');
    const out = path.join(d, 'ds');
    const { all, summary, logs, metrics } = await ingestAll({ path: src, output: out, mode: 'quarantine' });
    // Good rows: line 2 (1,10), line 8 (4,16), line 11 ("6","1""9").
    expect(tuples(all!)).toEqual([
      [1, 1, 1000, 4],
      [2, 2, 1006, 5],
      [3, 3, 1009, 2.5],
    ]);
    const qfile = path.join(out, '_quarantine', 'rejected.jsonl');
    expect(summary.quarantine).toBe(qfile);
    const rejected = fs
      .readFileSync(qfile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rejected.map((r) => [r.line, r.field, r.value])).toEqual([
      [3, '(row)', '1,11,3.5'],
      [4, 'rating', '4.5abc'],
      [5, 'rating', 'NaN'],
      [6, 'timestamp', 'yesterday'],
      [7, 'userId', ''],
      [9, 'rating', 'Inf'],
      [10, '(row)', '5,18,1.0,1008,extra'],
    ]);
    expect(rejected.every((r) => r.file === src)).toBe(true);
    expect(rejected[0]!.reason).toBe('expected 4 fields, found 3');
    expect(rejected[1]!.reason).toBe('reward is not a number');
    expect(rejected[4]!.reason).toBe('user id is empty');
    expect(rejected[5]!.raw).toBe('4,"17",Inf,1007');
    expect(rejected[6]!.reason).toBe('expected 4 fields, found 5');
    expect(summary.rejected).toBe(7);
    expect(summary.blankLines).toBe(1);
    expect(summary.rejectedBy).toEqual({
      '(row): expected 4 fields, found 3': 1,
      '(row): expected 4 fields, found 5': 1,
      'rating: reward is not a number': 1,
      'rating: reward is not finite': 2,
      'timestamp: timestamp is not a number': 1,
      'userId: user id is empty': 1,
    });
    expect(logs.join('\n')).toMatch(/ingest: 3 rows from 1 file\(s\), 7 rejected → .*rejected\.jsonl/);
    const m = Object.fromEntries(metrics.map((r) => [r.metric, r]));
    expect(m.rows!.value).toBe(3);
    expect(m.rejected!.value).toBe(7);
    expect(m.rejected_fraction!.value).toBeCloseTo(0.7, 12);
    expect(m.rejected_fraction!.count).toBe(10);
    expect(listTemporaryFiles(d)).toEqual([]);
  });

  it('writes an empty quarantine file when nothing is rejected, and skips a file whose header lacks a column', async () => {
    const d = tmpDir('quarantine');
    writeText(d, 'in/a.csv', `${HEADER}1,2,3,4\n`);
    writeText(d, 'in/b.csv', 'user,thing,rating,timestamp\n1,2,3,4\n5,6,7,8\n');
    const clean = await ingestAll({ path: path.join(d, 'in', 'a.csv'), output: path.join(d, 'ds1'), mode: 'quarantine' });
    expect(fs.readFileSync(clean.summary.quarantine!, 'utf8')).toBe('');
    const both = await ingestAll({ path: path.join(d, 'in'), output: path.join(d, 'ds2'), mode: 'quarantine', columns: { item_id: 'movieId' } });
    expect(both.all!.numRows).toBe(1);
    expect(both.summary.skippedFiles).toBe(1);
    expect(both.summary.skippedLines).toBe(2);
    const rec = JSON.parse(fs.readFileSync(both.summary.quarantine!, 'utf8').trim()) as Record<string, unknown>;
    expect(rec).toMatchObject({ line: 1, field: 'movieId', value: 'user,thing,rating,timestamp' });
    expect(rec.reason).toMatch(/mapped column "movieId" \(for item_id\) is missing.*the rest of the file is skipped/);
  });

  it('rejects a stray quote line by line and carries on', async () => {
    const d = tmpDir('quarantine');
    const f = writeText(d, 'q.csv', `${HEADER}1,"2,3,4\n5,6,7,8\n`);
    const { all, summary } = await ingestAll({ path: f, output: path.join(d, 'ds'), mode: 'quarantine' });
    expect(summary.rejected).toBe(1);
    expect(tuples(all!)).toEqual([[1, 1, 8, 7]]);
  });
});

describe('option errors', () => {
  it('are reported before the previous dataset in the output is touched', async () => {
    const d = tmpDir('options');
    const src = path.join(SAMPLES, 'ratings.csv');
    const out = path.join(d, 'ds');
    await ingestAll({ path: src, output: out });
    await expect(ingestAll({ path: src, output: out, quote: "''" })).rejects.toThrow(`ingest: quote must be one ASCII character, got "''"`);
    expect(fs.existsSync(path.join(out, '_manifest.json'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'part-00000.parquet'))).toBe(true);
  });
});
