/**
 * The one-pass numeric line (numeric-line.ts) against the general parser: the
 * same rows, vocabularies and counters whether lines take it or not, values
 * equal to an independent reading of the text, and the scanner's values equal
 * to the general number parsers' on random fields.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../stages/core/seeded-random.js';
import { NumericLine, ROLE_ITEM, ROLE_OTHER, ROLE_REWARD, ROLE_TIMESTAMP, ROLE_USER, scanNumericLine } from '../../stages/ingest/numeric-line.js';
import { parseCanonicalId, parseDecimal, parseInteger } from '../../stages/ingest/number-parse.js';
import { ingestAll, tmpDir, writeText } from './helpers.js';
import { counters, datasetRows } from './same-dataset.js';

/** Lines of edge values (user,item,rating,timestamp): some take the one-pass path, the rest the general one. */
const EDGE_LINES = [
  '1,10,5.0,1147880044',
  '0,0,0.5,0',
  '16777221,999999999999999,3,000123',
  '1000000000000000,017,4.,999999999999999',
  'u7,10,.5,1147880045',
  '1,10,-1.5,1147880046',
  '2,11,1e0,9007199254740991',
  '2,11,0.1,-5',
  '"3",12,2.5,1147880047',
  '3,12,+3,1147880048',
  '3,12,1e-50,1147880049',
  '3,12,2.5',
  '',
  '4,13,1.25,12345678901234567',
  '4,13,1.25,1147880050\r',
  '4,14,123456789012.5,1147880051',
  '5,15,0000000000000001.5,1147880052',
  '5,16,NaN,1147880053',
  '5,17,2.5,1147880054,extra',
  '6,18,3.5,1147880055',
];

function csv(lines: string[], pad: boolean): string {
  // A space after every field: the line is no longer plain numbers, so it takes the general path (which trims the space).
  const body = pad
    ? lines.map((l) => (l === '' || l.includes('"') ? l : l.replace(/\r$/, '').split(',').join(' ,') + ' ' + (l.endsWith('\r') ? '\r' : '')))
    : lines;
  return `userId,movieId,rating,timestamp\n${body.join('\n')}\n`;
}

function plain(b: Awaited<ReturnType<typeof datasetRows>>): Record<string, number[]> {
  if (!b) return {};
  return Object.fromEntries(Object.entries(b.columns).map(([k, c]) => [k, Array.from(c as ArrayLike<number | bigint>, Number)]));
}

describe('one-pass numeric lines', () => {
  it('give the rows, vocabularies and counters of the general path (quarantine mode, edge values)', async () => {
    const dir = tmpDir('onepass');
    const runs = [];
    for (const pad of [false, true]) {
      const file = writeText(dir, `in-${pad}.csv`, csv(EDGE_LINES, pad));
      const out = path.join(dir, `out-${pad}`);
      const r = await ingestAll({ path: file, output: out, mode: 'quarantine', rows_per_file: 4 });
      runs.push({ out, r });
    }
    const [fast, general] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(counters(fast.r.summary)).toEqual(counters(general.r.summary));
    expect(plain(await datasetRows(fast.out))).toEqual(plain(await datasetRows(general.out)));
    for (const v of ['users', 'items'])
      expect(fs.readFileSync(path.join(fast.out, 'vocab', `${v}.parquet`))).toEqual(fs.readFileSync(path.join(general.out, 'vocab', `${v}.parquet`)));
    // Independent reading of the kept lines (user, item as text in first-seen order; reward as float32; timestamp as integer).
    const kept = [
      ['1', '10', 5, 1147880044],
      ['0', '0', 0.5, 0],
      ['16777221', '999999999999999', 3, 123],
      ['1000000000000000', '017', 4, 999999999999999],
      ['u7', '10', 0.5, 1147880045],
      ['1', '10', -1.5, 1147880046],
      ['2', '11', 1, 9007199254740991],
      ['2', '11', Math.fround(0.1), -5],
      ['3', '12', 2.5, 1147880047],
      ['3', '12', 3, 1147880048],
      ['4', '13', 1.25, 1147880050],
      ['4', '14', Math.fround(123456789012.5), 1147880051],
      ['5', '15', 1.5, 1147880052],
      ['6', '18', 3.5, 1147880055],
    ] as const;
    const index = (seen: Map<string, number>, raw: string) => seen.get(raw) ?? (seen.set(raw, seen.size + 1), seen.size);
    const users = new Map<string, number>();
    const items = new Map<string, number>();
    const expected = { user_id: [] as number[], item_id: [] as number[], reward: [] as number[], timestamp: [] as number[] };
    for (const [u, i, r, t] of kept) {
      expected.user_id.push(index(users, u));
      expected.item_id.push(index(items, i));
      expected.reward.push(r);
      expected.timestamp.push(t);
    }
    const got = plain(await datasetRows(fast.out));
    expect({ user_id: got.user_id, item_id: got.item_id, reward: got.reward, timestamp: got.timestamp }).toEqual(expected);
    expect(fast.r.summary.rejected).toBe(5); // 1e-50, short row, 17-digit timestamp, NaN, extra field
    expect(fast.r.summary.blankLines).toBe(1);
  });

  for (const [format, unit, stamps] of [
    ['unix_s', 's', ['1147880044', '0', '000017', '-5', '999999999999999', '9007199254740991']],
    ['unix_s', 'ms', ['1147880044', '0', '9007199254740', '9007199254741', '999999999999999']],
    ['unix_ms', 'ms', ['1147880044123', '0', '-1000', '999999999999999']],
    ['unix_ms', 's', ['1147880044000', '1147880044123', '0']],
    ['iso8601', 's', ['2006-05-17T15:34:04Z', '2006-05-17', '2006-05-17T15:34:04.5Z']],
  ] as const) {
    it(`give the general path's rows and rejections for ${format} timestamps stored in ${unit}`, async () => {
      const dir = tmpDir('onepass-ts');
      const lines = stamps.map((t, k) => `${k + 1},${7 - k},${(k % 10) / 2 + 0.5},${t}`);
      const outs = [];
      for (const pad of [false, true]) {
        const out = path.join(dir, `out-${pad}`);
        const r = await ingestAll({
          path: writeText(dir, `in-${pad}.csv`, csv(lines, pad)),
          output: out,
          mode: 'quarantine',
          timestamp_format: format,
          timestamp_unit: unit,
        });
        outs.push({ out, r });
      }
      const [fast, general] = outs as [(typeof outs)[0], (typeof outs)[0]];
      expect(counters(fast.r.summary)).toEqual(counters(general.r.summary));
      expect(plain(await datasetRows(fast.out))).toEqual(plain(await datasetRows(general.out)));
      expect(fast.r.summary.rows).toBeGreaterThan(0);
    });
  }

  it('store what the general number parsers read, on random fields', () => {
    const rand = mulberry32(11);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(rand() * 10))).join('');
    const often = <T>(usual: () => T, rare: readonly T[]) => (rand() < 0.8 ? usual() : pick(rare));
    const idField = () => often(() => digits(1 + Math.floor(rand() * 17)), ['0', '0' + digits(2), '', ' 5', 'x1', '-3']);
    const rewardField = () =>
      often(
        () => `${digits(1 + Math.floor(rand() * 9))}.${digits(Math.floor(rand() * 9))}`,
        [digits(1 + Math.floor(rand() * 17)), '.5', '5.', '1.2.3', '1e3', '', '-2'],
      );
    const tsField = () => often(() => digits(1 + Math.floor(rand() * 17)), ['00' + digits(3), '', '+1', '1 ']);
    const plan = { roles: Uint8Array.of(ROLE_USER, ROLE_ITEM, ROLE_REWARD, ROLE_TIMESTAMP, ROLE_OTHER), delimiter: 44, quote: 34 };
    const out = new NumericLine();
    let oks = 0;
    for (let n = 0; n < 20000; n++) {
      const fields = [idField(), idField(), rewardField(), tsField(), pick(['', 'abc', '1.5'])];
      const buf = Buffer.from(`${fields.join(',')}\n`);
      const next = scanNumericLine(buf, 0, buf.length, plan, out);
      expect(next).toBe(buf.length);
      if (!out.ok) continue;
      oks++;
      const f = (k: number) => Buffer.from(fields[k]!);
      const at = (k: number): [Buffer, number, number] => [f(k), 0, f(k).length];
      expect(out.user).toBe(parseCanonicalId(...at(0)));
      expect(out.item).toBe(parseCanonicalId(...at(1)));
      expect(out.reward).toBe(parseDecimal(...at(2)));
      expect(out.timestamp).toBe(parseInteger(...at(3)));
    }
    expect(oks).toBeGreaterThan(2000);
  });

  it('leave a line to the general path when it does not end in the buffer or a field is quoted', () => {
    const plan = { roles: Uint8Array.of(ROLE_USER, ROLE_ITEM, ROLE_REWARD, ROLE_TIMESTAMP), delimiter: 44, quote: 34 };
    const out = new NumericLine();
    const b = Buffer.from('1,2,3.5,4');
    expect(scanNumericLine(b, 0, b.length, plan, out)).toBe(-1);
    const q = Buffer.from('1,"2",3.5,4\n');
    expect(scanNumericLine(q, 0, q.length, plan, out)).toBe(-1);
    const crlf = Buffer.from('1,2,3.5,4\r\n7,');
    expect(scanNumericLine(crlf, 0, crlf.length, plan, out)).toBe(11);
    expect([out.ok, out.user, out.item, out.reward, out.timestamp]).toEqual([true, 1, 2, 3.5, 4]);
  });
});
