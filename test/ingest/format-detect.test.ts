import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../stages/ingest/format-detect.js';
import { SAMPLES, tmpDir, writeText } from './helpers.js';

describe('format: auto', () => {
  it('decides by extension and first line', () => {
    const d = tmpDir('detect');
    const cases: [string, string, string][] = [
      ['ratings.dat', '1::1193::5::978300760\n', 'movielens'],
      ['ratings.txt', '\ufeff1::2::3::4\r\n', 'movielens'],
      ['ratings.csv', 'userId,movieId,rating,timestamp\n', 'csv'],
      ['log.tsv', 'a,b\tc\n', 'tsv'],
      ['u.data', '196\t242\t3\t881250949\n', 'tsv'],
      ['events.json', '  {"user": 1}\n', 'jsonl'],
      ['events.ndjson', '', 'jsonl'],
      ['odd.bin', 'PAR1xxxx', 'parquet'],
      ['x.parquet', 'whatever', 'parquet'],
      ['noext', 'a;b;c\n', 'csv'],
    ];
    for (const [name, text, want] of cases) expect(detectFormat(writeText(d, name, text)).format, name).toBe(want);
    expect(detectFormat(path.join(SAMPLES, 'interactions.jsonl')).format).toBe('jsonl');
  });
});
