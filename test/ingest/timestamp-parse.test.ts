import { describe, expect, it } from 'vitest';
import { daysFromCivil, lastTimestampError, makeTimestampParser, parseIso8601, timestampFromNumber } from '../../stages/ingest/timestamp-parse.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const iso = (s: string) => parseIso8601(b(s), 0, s.length);

describe('ISO 8601', () => {
  it('matches Date.parse on zoned forms', () => {
    for (const s of [
      '2024-03-01T10:00:00Z',
      '2024-02-29T23:59:59.999Z',
      '1970-01-01T00:00:00Z',
      '1969-12-31T23:59:59Z',
      '2000-01-01T12:30:00+05:30',
      '2000-01-01T12:30:00-08:00',
      '1999-12-31T23:00Z',
      '2024-03-02T23:59:59.25Z',
    ]) {
      expect(iso(s), s).toBe(Date.parse(s));
    }
  });

  it('reads dates without a zone as UTC, and the other accepted spellings', () => {
    expect(iso('2024-03-03')).toBe(Date.UTC(2024, 2, 3));
    expect(iso('2024-03-03 04:05:06')).toBe(Date.UTC(2024, 2, 3, 4, 5, 6));
    expect(iso('2024-03-03T04:05')).toBe(Date.UTC(2024, 2, 3, 4, 5));
    expect(iso('2024-03-03T04:05:06+0130')).toBe(Date.UTC(2024, 2, 3, 2, 35, 6));
    expect(iso('2024-03-03T04:05:06-01')).toBe(Date.UTC(2024, 2, 3, 5, 5, 6));
  });

  it('rejects impossible or malformed dates', () => {
    for (const s of ['2023-02-29', '2024-13-01', '2024-04-31', '2024-03-01T24:00:00Z', '2024-3-1', '03/01/2024', 'yesterday', '2024-03-01T10:00:00Q', '']) {
      expect(Number.isNaN(iso(s)), s).toBe(true);
    }
    expect(Number.isNaN(iso('2024-03-01T10:00:00.1234Z'))).toBe(true);
    expect(lastTimestampError).toMatch(/sub-millisecond/);
    expect(iso('2024-03-01T10:00:00.1230Z')).toBe(Date.parse('2024-03-01T10:00:00.123Z'));
  });

  it('counts days like the proleptic Gregorian calendar of Date.UTC', () => {
    for (let y = 1600; y <= 2400; y += 7) {
      for (const [m, d] of [
        [1, 1],
        [2, 28],
        [3, 1],
        [12, 31],
      ] as const) {
        expect(daysFromCivil(y, m, d) * 86_400_000, `${y}-${m}-${d}`).toBe(Date.UTC(y, m - 1, d));
      }
    }
  });
});

describe('stored units', () => {
  it('converts between input formats and the stored unit, never truncating', () => {
    const p = (fmt: 'unix_s' | 'unix_ms' | 'iso8601', unit: 's' | 'ms', s: string) => makeTimestampParser(fmt, unit)(b(s), 0, s.length);
    expect(p('unix_s', 's', '978300760')).toBe(978300760);
    expect(p('unix_s', 'ms', '978300760')).toBe(978300760000);
    expect(p('unix_ms', 'ms', '978300760123')).toBe(978300760123);
    expect(p('unix_ms', 's', '978300760000')).toBe(978300760);
    expect(Number.isNaN(p('unix_ms', 's', '978300760123'))).toBe(true);
    expect(lastTimestampError).toMatch(/timestamp_unit: ms/);
    expect(p('iso8601', 's', '2001-01-01T00:00:00Z')).toBe(978307200);
    expect(Number.isNaN(p('iso8601', 's', '2001-01-01T00:00:00.5Z'))).toBe(true);
    expect(Number.isNaN(p('unix_s', 's', '97830.5'))).toBe(true);
    expect(lastTimestampError).toMatch(/not a whole number/);
  });

  it('accepts JSON numbers under the same rules', () => {
    expect(timestampFromNumber(1000, 'unix_s', 'ms')).toBe(1_000_000);
    expect(Number.isNaN(timestampFromNumber(1.5, 'unix_s', 's'))).toBe(true);
    expect(Number.isNaN(timestampFromNumber(1000, 'iso8601', 's'))).toBe(true);
  });
});
