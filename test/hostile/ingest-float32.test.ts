/**
 * Hostile numbers: rewards at and beyond the float32 limits, float64
 * overflow and underflow, NaN and infinity spellings, in every text format
 * and in Parquet. A value is stored exactly as float32 rounding gives it, or
 * the row is a located error (strict) / a quarantined row (quarantine).
 */
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../stages/core/config-schema.js';
import { DataError } from '../../stages/core/errors.js';
import { ingestAll } from '../ingest/helpers.js';
import { quarantineText, quarantined, rewards, strictFailure, tmpDir, writeText } from './ingest-helpers.js';

const FLT_MAX = (2 - 2 ** -23) * 2 ** 127;
const FLT_MIN_NORMAL = 2 ** -126;
const HEADER = 'user_id,item_id,reward,timestamp\n';
const RANGE = 'is beyond the float32 range (±3.4028235e38) and would be stored as';
const F64_OVER = 'reward is beyond the float64 range (±1.7976931348623157e308)';
const F64_UNDER = 'reward is too close to zero to be stored (non-zero, below 2.2250738585072014e-308, the smallest normal float64)';

/** The one reward stored from a one-row CSV. */
async function storedCsvReward(text: string): Promise<number> {
  const d = tmpDir('f32');
  const r = await ingestAll({ path: writeText(d, 'r.csv', `${HEADER}1,2,${text},5\n`), output: path.join(d, 'ds') });
  expect(r.summary.rows).toBe(1);
  return rewards(r)[0]!;
}

describe('CSV rewards that float32 stores (nearest float32, relative change ≤ 2^-24)', () => {
  it.each([
    ['3.4028235e38', FLT_MAX],
    ['-3.4028235e38', -FLT_MAX],
    ['3.4028234663852886e38', FLT_MAX],
    ['1.17549435e-38', FLT_MIN_NORMAL],
    ['1.1754943508222875e-38', FLT_MIN_NORMAL],
    ['16777217', 16777216],
    ['0.1', 13421773 * 2 ** -27],
    ['4.5', 4.5],
  ])('%s is stored as %d', async (text, expected) => {
    expect(await storedCsvReward(text)).toBe(expected);
  });

  it('0 and -0 are stored as themselves', async () => {
    expect(Object.is(await storedCsvReward('0'), 0)).toBe(true);
    expect(Object.is(await storedCsvReward('-0.0'), -0)).toBe(true);
  });
});

describe('CSV rewards that float32 would change are located errors', () => {
  it.each([
    ['1e39', `reward 1e+39 ${RANGE} +Infinity`],
    ['-1e39', `reward -1e+39 ${RANGE} -Infinity`],
    ['3.4028236e38', `reward 3.4028236e+38 ${RANGE} +Infinity`],
    ['1e-50', 'reward 1e-50 is too close to zero for float32 (non-zero, below 1.4e-45) and would be stored as 0'],
    ['-7e-46', 'reward -7e-46 is too close to zero for float32 (non-zero, below 1.4e-45) and would be stored as 0'],
    [
      '1.4e-45',
      `reward 1.4e-45 is below the smallest normal float32 (1.17549435e-38) and would be stored as ${2 ** -149} (a subnormal with fewer than 24 significant bits)`,
    ],
    [
      '1.1754942e-38',
      `reward 1.1754942e-38 is below the smallest normal float32 (1.17549435e-38) and would be stored as ${FLT_MIN_NORMAL - 2 ** -149} (a subnormal with fewer than 24 significant bits)`,
    ],
    ['1e400', F64_OVER],
    ['-1e400', F64_OVER],
    ['1e-400', F64_UNDER],
    ['1e-310', F64_UNDER],
    ['NaN', 'reward is not finite (NaN or Inf)'],
    ['nan', 'reward is not finite (NaN or Inf)'],
    ['inf', 'reward is not finite (NaN or Inf)'],
    ['-Infinity', 'reward is not finite (NaN or Inf)'],
    ['+INF', 'reward is not finite (NaN or Inf)'],
  ])('%s', async (text, reason) => {
    const { err, file } = await strictFailure('r.csv', `${HEADER}1,2,4,5\n1,3,${text},6\n`);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toBe(`${file}:3: field "reward": ${reason} (value: "${text}")`);
  });

  it('in quarantine mode every such row is set aside with its reason, the rest stored, and the counts balance', async () => {
    const bad = ['1e39', '-1e39', '1e-50', '1.4e-45', '1e400', '1e-400', 'NaN', 'inf'];
    const body = `${HEADER}1,1,2.5,1\n${bad.map((b, k) => `1,${k + 2},${b},${k + 2}\n`).join('')}\n2,1,3.4028235e38,20\n`;
    const r = await quarantineText('r.csv', body, {}, 1 + bad.length + 1 + 1);
    expect(rewards(r)).toEqual([2.5, FLT_MAX]);
    expect(r.summary.blankLines).toBe(1);
    expect(r.entries.map((e) => [e.line, e.field, e.value])).toEqual(bad.map((b, k) => [k + 3, 'reward', b]));
    expect(r.entries[0]!.reason).toBe(`reward 1e+39 ${RANGE} +Infinity`);
  });
});

describe('the other text formats apply the same rule', () => {
  it('MovieLens :: names the rating field and the line', async () => {
    const { err, file } = await strictFailure('ratings.dat', '1::2::5::978300760\n1::3::1e39::978300761\n');
    expect(err.message).toBe(`${file}:2: field "rating": reward 1e+39 ${RANGE} +Infinity (value: "1e39")`);
  });

  it('TSV names the field and the line', async () => {
    const { err, file } = await strictFailure('r.tsv', 'user_id\titem_id\treward\ttimestamp\n1\t2\t1e-50\t5\n');
    expect(err.message).toBe(
      `${file}:2: field "reward": reward 1e-50 is too close to zero for float32 (non-zero, below 1.4e-45) and would be stored as 0 (value: "1e-50")`,
    );
  });

  it('a quoted CSV field goes through the same check', async () => {
    const { err, file } = await strictFailure('r.csv', `${HEADER}1,2,"1e39",5\n`);
    expect(err.message).toBe(`${file}:2: field "reward": reward 1e+39 ${RANGE} +Infinity (value: "1e39")`);
  });

  it.each([
    ['1e39', `reward 1e+39 ${RANGE} +Infinity`, '1e39'],
    ['"1e39"', `reward 1e+39 ${RANGE} +Infinity`, '1e39'],
    ['1e-50', 'reward 1e-50 is too close to zero for float32 (non-zero, below 1.4e-45) and would be stored as 0', '1e-50'],
    ['1e400', F64_OVER, '1e400'],
    ['1e-400', F64_UNDER, '1e-400'],
    [`0.${'0'.repeat(350)}1`, F64_UNDER, `0.${'0'.repeat(75)}...`], // messages show 77 characters of a value
    ['"NaN"', 'reward is not finite (NaN or Inf)', 'NaN'],
  ])('JSONL reward %s', async (json, reason, shown) => {
    const { err, file } = await strictFailure('r.jsonl', `{"user_id":1,"item_id":2,"reward":${json},"timestamp":5}\n`);
    expect(err.message).toBe(`${file}:1: field "reward": ${reason} (value: "${shown}")`);
  });

  it('JSONL NaN and Infinity literals (not JSON) are invalid rows, counted and balanced', async () => {
    const lines = ['NaN', 'Infinity', '-Infinity', '2'].map((v, k) => `{"user_id":1,"item_id":${k},"reward":${v},"timestamp":5}`);
    const r = await quarantineText('r.jsonl', `${lines.join('\n')}\n`, {}, 4);
    expect(rewards(r)).toEqual([2]);
    expect(r.entries.map((e) => [e.line, e.field])).toEqual([
      [1, '(row)'],
      [2, '(row)'],
      [3, '(row)'],
    ]);
    for (const e of r.entries) expect(e.reason).toMatch(/^invalid JSON: /);
  });

  it('JSONL zeros and the float32 limits are stored exactly', async () => {
    const lines = ['0', '-0', '0e-400', '3.4028235e38', '1.17549435e-38'].map((v, k) => `{"user_id":1,"item_id":${k},"reward":${v},"timestamp":5}`);
    const r = await quarantineText('r.jsonl', `${lines.join('\n')}\n`, {}, 5);
    expect(rewards(r)).toEqual([0, -0, 0, FLT_MAX, FLT_MIN_NORMAL]);
    expect(Object.is(rewards(r)[1], -0)).toBe(true);
  });
});

describe('float64 extra columns keep what float64 holds, and reject what it cannot', () => {
  it('1e39 and 1e-300 are stored exactly; 1e-320 and 1e400 are errors', async () => {
    const body = 'user_id,item_id,reward,timestamp,dwell\n1,1,1,1,1e39\n1,2,1,2,1e-300\n1,3,1,3,1e-320\n1,4,1,4,1e400\n';
    const r = await quarantineText('x.csv', body, { extra_columns: { dwell_s: 'dwell' } }, 4);
    expect(Array.from(r.all!.columns.dwell_s as Float64Array)).toEqual([1e39, 1e-300]);
    expect(r.entries.map((e) => [e.line, e.field, e.reason])).toEqual([
      [4, 'dwell', 'dwell_s is too close to zero to be stored (non-zero, below 2.2250738585072014e-308, the smallest normal float64)'],
      [5, 'dwell', 'dwell_s is beyond the float64 range (±1.7976931348623157e308)'],
    ]);
  });
});

describe('default_reward', () => {
  it('beyond float32 is a configuration error', async () => {
    const d = tmpDir('f32');
    const f = writeText(d, 'x.csv', 'user_id,item_id,timestamp\n1,2,3\n');
    await expect(ingestAll({ path: f, output: path.join(d, 'ds'), default_reward: 1e39 })).rejects.toThrow(ConfigError);
    await expect(ingestAll({ path: f, output: path.join(d, 'ds'), default_reward: 1e39 })).rejects.toThrow(`ingest: default_reward 1e+39 ${RANGE} +Infinity`);
  });
});

describe('Parquet rewards', () => {
  let db: DuckDBInstance;
  beforeAll(async () => {
    db = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => db.closeSync());
  const copy = async (select: string, file: string) => {
    const c = await db.connect();
    try {
      await c.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
    } finally {
      c.closeSync();
    }
  };

  it('DECIMAL(p,s) columns are read with their scale (DECIMAL(4,1) 4.5 is 4.5, not 45), negative values included', async () => {
    const d = tmpDir('pq');
    const f = path.join(d, 'dec.parquet');
    await copy(
      `SELECT * FROM (VALUES (1, 1, 4.5::DECIMAL(4,1), 10, 3.1415926535::DECIMAL(38,10)), (1, 2, (-4.5)::DECIMAL(4,1), 11, (-2.125)::DECIMAL(38,10)), (2, 1, 0.1::DECIMAL(4,1), 12, 123456789012.0000000001::DECIMAL(38,10))) t(user_id, item_id, reward, timestamp, signal)`,
      f,
    );
    const r = await quarantined({ path: f, extra_columns: { signal: 'signal' } }, 3);
    expect(rewards(r)).toEqual([4.5, -4.5, Math.fround(0.1)]);
    expect(Array.from(r.all!.columns.signal as Float64Array)).toEqual([3.1415926535, -2.125, 123456789012.0000000001]);
  });

  it('a DECIMAL(38,38) reward below the float32 normal range is rejected, shown with its scale', async () => {
    const d = tmpDir('pq');
    const f = path.join(d, 'decbad.parquet');
    const tiny = `0.${'0'.repeat(37)}1`;
    await copy(`SELECT * FROM (VALUES (1, 1, 0.5::DECIMAL(38,38), 10), (1, 2, '${tiny}'::DECIMAL(38,38), 11)) t(user_id, item_id, reward, timestamp)`, f);
    const r = await quarantined({ path: f }, 2);
    expect(rewards(r)).toEqual([0.5]);
    expect(r.entries.map((e) => [e.line, e.field, e.value, e.reason])).toEqual([
      [
        2,
        'reward',
        tiny,
        `reward 1e-38 is below the smallest normal float32 (1.17549435e-38) and would be stored as ${Math.fround(1e-38)} (a subnormal with fewer than 24 significant bits)`,
      ],
    ]);
  });

  it('a DOUBLE reward beyond float32 names the file and row; a FLOAT subnormal is stored exactly as it is', async () => {
    const d = tmpDir('pq');
    const f = path.join(d, 'dbl.parquet');
    await copy(`SELECT * FROM (VALUES (1, 1, 2.0::DOUBLE, 10), (1, 2, 1e39::DOUBLE, 11)) t(user_id, item_id, reward, timestamp)`, f);
    const err = await ingestAllError(f);
    expect(err.message).toBe(`${f}:2: field "reward": reward 1e+39 ${RANGE} +Infinity (value: "1e+39")`);
    const g = path.join(d, 'flt.parquet');
    await copy(`SELECT * FROM (VALUES (1, 1, '1.4e-45'::FLOAT, 10), (1, 2, '3.4028235e38'::FLOAT, 11)) t(user_id, item_id, reward, timestamp)`, g);
    const r = await quarantined({ path: g }, 2);
    expect(rewards(r)).toEqual([2 ** -149, FLT_MAX]);
  });
});

async function ingestAllError(file: string): Promise<Error> {
  try {
    await ingestAll({ path: file, output: path.join(path.dirname(file), 'ds') });
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}
