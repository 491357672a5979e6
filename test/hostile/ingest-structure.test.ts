/**
 * Hostile structure: repeated header names and JSON keys, malformed rows in
 * every text format, ids beyond int32 and 2^53, timestamps beyond the int64
 * range and the stored unit. Each case is the exact stored value or the
 * exact located error; quarantine runs balance rows in = out + rejected +
 * blank + skipped.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stages/core/config-schema.js';
import { DataError } from '../../stages/core/errors.js';
import { loadVocabulary } from '../../stages/ingest/vocab-files.js';
import { ingestAll } from '../ingest/helpers.js';
import { quarantineText, strictFailure, tmpDir, tuples, writeText } from './ingest-helpers.js';

const HEADER = 'user_id,item_id,reward,timestamp\n';

describe('a header that names a mapped column twice', () => {
  it('is a located error naming both positions (CSV)', async () => {
    const { err, file } = await strictFailure('d.csv', 'user_id,item_id,reward,timestamp,reward\n1,2,3,4,5\n');
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toBe(
      `${file}:1: field "reward": column "reward" (for reward) appears twice in the header, as fields 3 and 5; rename one of them; the rest of the file is skipped (value: "user_id,item_id,reward,timestamp,reward")`,
    );
  });

  it('names the mapped source column (TSV, columns option)', async () => {
    const { err, file } = await strictFailure('d.tsv', 'who\titem_id\treward\ttimestamp\twho\n1\t2\t3\t4\t5\n', { columns: { user_id: 'who' } });
    expect(err.message).toMatch(
      new RegExp(`^${file.replace(/[.]/g, '\\.')}:1: field "who": column "who" \\(for user_id\\) appears twice in the header, as fields 1 and 5;`),
    );
  });

  it('in quarantine mode the file is skipped and counted, the next file read', async () => {
    const d = tmpDir('dup');
    writeText(d, 'in/a.csv', 'user_id,item_id,reward,timestamp,timestamp\n1,2,3,4,5\n6,7,8,9,10\n');
    writeText(d, 'in/b.csv', `${HEADER}1,2,3,4\n`);
    const { quarantined } = await import('./ingest-helpers.js');
    const r = await quarantined({ path: path.join(d, 'in'), output: path.join(d, 'ds') }, 1 + 2 + 1);
    expect(r.summary.rows).toBe(1);
    expect(r.summary.skippedLines).toBe(2);
    expect(r.entries.map((e) => [e.line, e.field])).toEqual([[1, 'timestamp']]);
  });

  it('in header_names is a configuration error', async () => {
    const d = tmpDir('dup');
    const f = writeText(d, 'n.csv', '1,2,3,4,5\n');
    const opts = { path: f, output: path.join(d, 'ds'), header_names: ['user_id', 'item_id', 'reward', 'timestamp', 'user_id'] };
    await expect(ingestAll(opts)).rejects.toThrow(ConfigError);
    await expect(ingestAll(opts)).rejects.toThrow(
      'ingest: header_names: column "user_id" (for user_id) appears twice in the header, as fields 1 and 5; rename one of them',
    );
  });

  it('repeats of columns no field reads are ignored (and said so)', async () => {
    const r = await quarantineText('u.csv', 'user_id,item_id,reward,timestamp,note,note,,\n1,2,3,4,a,b,,\n', {}, 1);
    expect(tuples(r.all!)).toEqual([[1, 1, 4, 3]]);
    expect(r.logs.join('\n')).toContain('the header repeats "note", "", which no field reads (ignored)');
  });
});

describe('a JSON object that repeats a key a field reads', () => {
  it('is a located error naming both positions', async () => {
    const { err, file } = await strictFailure('k.jsonl', '{"user_id":1,"item_id":2,"reward":3,"reward":4,"timestamp":5}\n');
    expect(err.message).toBe(
      `${file}:1: field "reward": key "reward" appears twice in the object, as keys 3 and 4; which value is meant is not knowable (value: "4")`,
    );
  });

  it('is found when the repeat is spelled with an escape', async () => {
    const { err } = await strictFailure('k.jsonl', '{"user_id":1,"item_id":2,"reward":3,"timestamp":5,"user\\u005fid":7}\n');
    expect(err.message).toMatch(/:1: field "user_id": key "user_id" appears twice in the object, as keys 1 and 5;/);
  });

  it('in quarantine mode rejects that row only; repeats of unread keys and inside nested objects pass', async () => {
    const lines = [
      '{"user_id":1,"item_id":2,"reward":3,"timestamp":5}',
      '{"user_id":1,"item_id":2,"item_id":9,"reward":3,"timestamp":5}',
      '{"user_id":1,"item_id":3,"reward":3,"timestamp":5,"x":1,"x":"two"}',
      '{"user_id":1,"item_id":4,"reward":3,"timestamp":5,"meta":{"a":1,"a":[1,{"b":"}\\""}]}}',
      '{"user_id":1,"item_id":5,"reward":3,"timestamp":5,"note":"reward","reward_src":{"reward":0}}',
    ];
    const r = await quarantineText('k.jsonl', `${lines.join('\n')}\n`, {}, 5);
    expect(r.summary.rows).toBe(4);
    expect(Array.from(r.all!.columns.reward as Float32Array)).toEqual([3, 3, 3, 3]);
    expect(r.entries.map((e) => [e.line, e.field, e.value])).toEqual([[2, 'item_id', '9']]);
  });
});

describe('malformed rows in each text format', () => {
  it('CSV: field counts, stray quotes, text after a closing quote, empty ids; quoted commas, newlines and doubled quotes are data', async () => {
    const body = [
      HEADER.trimEnd(),
      '1,2,3,4', // 2 ok
      '1,2,3', // 3 too few
      '1,2,3,4,5', // 4 too many
      '1,"2"x,3,4', // 5 text after closing quote
      '"a,b","c""d",1.5,6', // 6 ok: ids a,b and c"d
      '1,"multi', // 7-8 ok: item id "multi\nline"
      'line",2,7',
      ',2,3,4', // 9 empty user
      '', // 10 blank
      '1,2,x,4', // 11 bad reward
    ].join('\n');
    const r = await quarantineText('m.csv', `${body}\n`, {}, 9);
    expect(r.entries.map((e) => [e.line, e.field, e.reason])).toEqual([
      [3, '(row)', 'expected 4 fields, found 3'],
      [4, '(row)', 'expected 4 fields, found 5'],
      [5, '(row)', 'unexpected character "x" after a closing quote'],
      [9, 'user_id', 'user id is empty'],
      [11, 'reward', 'reward is not a number'],
    ]);
    expect((await loadVocabulary(r.summary.vocab.items)).rawIds()).toEqual(['2', 'c"d', 'multi\nline']);
    expect((await loadVocabulary(r.summary.vocab.users)).rawIds()).toEqual(['1', 'a,b']);
  });

  it('MovieLens ::, TSV and JSONL rows of the wrong shape', async () => {
    const ml = await quarantineText('ratings.dat', '1::2::5::978300760\n1::2::5\n1::2::5::978300760::x\n1:2:5:9\n', {}, 4);
    expect(ml.entries.map((e) => e.reason)).toEqual(['expected 4 fields, found 3', 'expected 4 fields, found 5', 'expected 4 fields, found 1']);
    const tsv = await quarantineText('t.tsv', 'user_id\titem_id\treward\ttimestamp\n1\t2\t3\t4\n1\t2\t3\n1 2 3 4\n', {}, 3);
    expect(tsv.entries.map((e) => [e.line, e.reason])).toEqual([
      [3, 'expected 4 fields, found 3'],
      [4, 'expected 4 fields, found 1'],
    ]);
    const jl = await quarantineText(
      'j.jsonl',
      '{"user_id":1,"item_id":2,"reward":3,"timestamp":4}\n[1,2,3]\n"text"\n{"user_id":1,\n{"user_id":null,"item_id":2,"reward":3,"timestamp":4}\n',
      {},
      5,
    );
    expect(jl.entries.map((e) => [e.line, e.field])).toEqual([
      [2, '(row)'],
      [3, '(row)'],
      [4, '(row)'],
      [5, 'user_id'],
    ]);
    expect(jl.entries[0]!.reason).toBe('a JSON Lines row must be an object');
  });
});

describe('ids beyond int32 and 2^53 are kept exactly as written', () => {
  it('CSV: 2^31, 2^53, 2^53 + 1 and a 20-digit id are four distinct users with their exact text', async () => {
    const ids = ['2147483648', '9007199254740992', '9007199254740993', '99999999999999999999', '2147483647'];
    const r = await quarantineText('big.csv', `${HEADER}${ids.map((u, k) => `${u},1,1,${k}`).join('\n')}\n`, {}, 5);
    expect(Array.from(r.all!.columns.user_id as Int32Array)).toEqual([1, 2, 3, 4, 5]);
    expect((await loadVocabulary(r.summary.vocab.users)).rawIds()).toEqual(ids);
  });

  it('JSONL: a numeric id beyond 2^53 − 1 is an error (JSON.parse rounds it); as a string it is kept', async () => {
    const { err, file } = await strictFailure('big.jsonl', '{"user_id":9007199254740993,"item_id":1,"reward":1,"timestamp":1}\n');
    expect(err.message).toBe(
      `${file}:1: field "user_id": user id is a number beyond 2^53 − 1, which JSON.parse rounds (to 9007199254740992); write large ids as strings (value: "9007199254740993")`,
    );
    const r = await quarantineText(
      'big.jsonl',
      '{"user_id":"9007199254740993","item_id":1,"reward":1,"timestamp":1}\n{"user_id":"9007199254740992","item_id":1,"reward":1,"timestamp":1}\n',
      {},
      2,
    );
    expect((await loadVocabulary(r.summary.vocab.users)).rawIds()).toEqual(['9007199254740993', '9007199254740992']);
  });
});

describe('timestamps beyond what the stored int64 unit holds exactly', () => {
  it.each([
    ['9007199254740992', 'unix_s', undefined, 'timestamp (unix seconds) is out of range'],
    ['9223372036854775808', 'unix_s', undefined, 'timestamp (unix seconds) is out of range'],
    ['-9223372036854775809', 'unix_s', undefined, 'timestamp (unix seconds) is out of range'],
    ['9007199254741', 'unix_s', 'ms', 'timestamp is out of range'],
    ['1.5', 'unix_ms', undefined, 'timestamp (unix milliseconds) is not a whole number'],
    ['1500', 'unix_ms', 's', 'timestamp has sub-second precision but timestamp_unit is "s" (set timestamp_unit: ms)'],
    ['10000-01-01', 'iso8601', undefined, 'timestamp is not an ISO 8601 date-time (YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|±hh:mm])'],
  ])('%s as %s (unit %s)', async (ts, format, unit, reason) => {
    const { err, file } = await strictFailure('t.csv', `${HEADER}1,2,3,${ts}\n`, { timestamp_format: format, ...(unit ? { timestamp_unit: unit } : {}) });
    expect(err.message).toBe(`${file}:2: field "timestamp": ${reason} (value: "${ts}")`);
  });

  it('the largest exact values are stored', async () => {
    const r = await quarantineText('t.csv', `${HEADER}1,2,3,9007199254740991\n1,2,3,-9007199254740991\n`, {}, 2);
    expect(Array.from(r.all!.columns.timestamp as BigInt64Array)).toEqual([9007199254740991n, -9007199254740991n]);
  });

  it('JSONL: 1e20 is out of range', async () => {
    const { err, file } = await strictFailure('t.jsonl', '{"user_id":1,"item_id":2,"reward":3,"timestamp":1e20}\n');
    expect(err.message).toBe(`${file}:1: field "timestamp": timestamp is out of range (value: "1e20")`);
  });
});
