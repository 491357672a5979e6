/**
 * Timestamps from bytes to the stored int64 unit.
 *
 * Input formats (option `timestamp_format`):
 * - `unix_s`: whole seconds since 1970-01-01 UTC (MovieLens), e.g. 978300760;
 * - `unix_ms`: whole milliseconds since the epoch, e.g. 978300760123;
 * - `iso8601`: `YYYY-MM-DD`, optionally `T` or a space and `hh:mm[:ss[.fff]]`,
 *   optionally `Z` or an offset `±hh:mm` / `±hhmm` / `±hh`. Without a zone the
 *   time is read as UTC (never as the machine's local time).
 *
 * Stored unit (option `timestamp_unit`): `s` or `ms` since the epoch, UTC. A
 * value that the stored unit cannot hold exactly (milliseconds that are not a
 * whole second when storing seconds) is an error, never a silent truncation.
 */
import { lastParseError, parseInteger, describeFailure } from './number-parse.js';

export type TimestampFormat = 'unix_s' | 'unix_ms' | 'iso8601';
export type TimestampUnit = 's' | 'ms';

/** Parses bytes [start, end) to the stored unit; NaN on failure (see `lastTimestampError`). */
export type TimestampParser = (buf: Uint8Array, start: number, end: number) => number;

export let lastTimestampError = '';

function fail(reason: string): number {
  lastTimestampError = reason;
  return Number.NaN;
}

/** The stored unit a format gets when `timestamp_unit` is not set. */
export function defaultUnit(format: TimestampFormat): TimestampUnit {
  return format === 'unix_ms' ? 'ms' : 's';
}

export function makeTimestampParser(format: TimestampFormat, unit: TimestampUnit): TimestampParser {
  if (format === 'unix_s') {
    const scale = unit === 's' ? 1 : 1000;
    return (buf, s, e) => {
      const v = parseInteger(buf, s, e);
      if (Number.isNaN(v)) return fail(describeFailure('timestamp (unix seconds)', lastParseError));
      return scale === 1 ? v : checkSafe(v * scale);
    };
  }
  if (format === 'unix_ms') {
    return (buf, s, e) => {
      const v = parseInteger(buf, s, e);
      if (Number.isNaN(v)) return fail(describeFailure('timestamp (unix milliseconds)', lastParseError));
      return toUnit(v, unit);
    };
  }
  return (buf, s, e) => {
    const ms = parseIso8601(buf, s, e);
    return Number.isNaN(ms) ? ms : toUnit(ms, unit);
  };
}

function checkSafe(v: number): number {
  return Number.isSafeInteger(v) ? v : fail('timestamp is out of range');
}

/** Milliseconds since the epoch → the stored unit (NaN when seconds cannot hold it exactly). */
export function toUnit(ms: number, unit: TimestampUnit): number {
  if (unit === 'ms') return ms;
  if (ms % 1000 !== 0) return fail('timestamp has sub-second precision but timestamp_unit is "s" (set timestamp_unit: ms)');
  return ms / 1000;
}

/** Convert a JSON number to the stored unit (JSONL, and numeric Parquet columns). */
export function timestampFromNumber(v: number, format: TimestampFormat, unit: TimestampUnit): number {
  if (!Number.isFinite(v)) return fail('timestamp is not finite');
  if (!Number.isInteger(v)) return fail('timestamp is not a whole number');
  if (!Number.isSafeInteger(v)) return fail('timestamp is out of range');
  if (format === 'iso8601') return fail('timestamp is a number but timestamp_format is iso8601');
  if (format === 'unix_s') return unit === 's' ? v : checkSafe(v * 1000);
  return toUnit(v, unit);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Read exactly `n` digits at `i`; -1 if any is not a digit or the range is short. */
function digitsAt(buf: Uint8Array, i: number, n: number, end: number): number {
  if (i + n > end) return -1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = buf[i + k]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Milliseconds since the epoch of an ISO 8601 date-time, or NaN (see module doc). */
export function parseIso8601(buf: Uint8Array, start: number, end: number): number {
  const bad = () => fail('timestamp is not an ISO 8601 date-time (YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|±hh:mm])');
  if (start >= end) return fail('timestamp is empty');
  let i = start;
  const y = digitsAt(buf, i, 4, end);
  if (y < 0 || buf[i + 4] !== 45) return bad();
  const mo = digitsAt(buf, i + 5, 2, end);
  if (mo < 0 || buf[i + 7] !== 45) return bad();
  const d = digitsAt(buf, i + 8, 2, end);
  if (d < 0) return bad();
  if (mo < 1 || mo > 12) return fail(`timestamp has month ${mo}`);
  const dim = mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1]!;
  if (d < 1 || d > dim) return fail(`timestamp has day ${d} in month ${mo}`);
  i += 10;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let ms = 0;
  let offsetMin = 0;
  if (i < end && (buf[i] === 84 || buf[i] === 116 || buf[i] === 32)) {
    h = digitsAt(buf, i + 1, 2, end);
    if (h < 0 || buf[i + 3] !== 58) return bad();
    mi = digitsAt(buf, i + 4, 2, end);
    if (mi < 0) return bad();
    i += 6;
    if (i < end && buf[i] === 58) {
      sec = digitsAt(buf, i + 1, 2, end);
      if (sec < 0) return bad();
      i += 3;
      if (i < end && (buf[i] === 46 || buf[i] === 44)) {
        i++;
        const f0 = i;
        let scale = 100;
        while (i < end && buf[i]! >= 48 && buf[i]! <= 57) {
          const dgt = buf[i]! - 48;
          if (scale >= 1) ms += dgt * scale;
          else if (dgt !== 0) return fail('timestamp has sub-millisecond precision, which is not stored');
          scale /= 10;
          i++;
        }
        if (i === f0) return bad();
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return fail(`timestamp has time ${h}:${mi}:${sec}`);
    if (i < end) {
      const z = buf[i]!;
      if (z === 90 || z === 122) i++;
      else if (z === 43 || z === 45) {
        const sign = z === 45 ? -1 : 1;
        const oh = digitsAt(buf, i + 1, 2, end);
        if (oh < 0) return bad();
        i += 3;
        let om = 0;
        if (i < end) {
          if (buf[i] === 58) i++;
          om = digitsAt(buf, i, 2, end);
          if (om < 0) return bad();
          i += 2;
        }
        if (oh > 23 || om > 59) return fail(`timestamp has offset ${oh}:${om}`);
        offsetMin = sign * (oh * 60 + om);
      }
    }
  }
  if (i !== end) return bad();
  return ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi - offsetMin) * 60_000 + sec * 1000 + ms;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (exact for every year 0000–9999). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Bytes of a string, for the string-valued paths (quoted CSV fields, JSONL, Parquet utf8). */
export function stringBytes(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}
