/**
 * Strict number parsing straight from bytes (a Buffer range), without making
 * strings: the ingest hot loop calls these for every field of every row.
 *
 * Strict means the whole range must be the number: "4.5abc", "", "4,5", "0x10"
 * and "1e" are errors, never 4.5 or 0. Failures return NaN and leave the cause
 * in `lastParseError` (a module-level slot, so the fast path allocates nothing).
 */

/** Why the last parse returned NaN (valid only right after a NaN return). */
export type ParseFailure = 'empty' | 'not_a_number' | 'not_finite' | 'not_an_integer' | 'out_of_range' | 'overflow' | 'underflow';

/** Smallest positive normal double, 2^-1022. */
export const FLOAT64_MIN_NORMAL = 2.2250738585072014e-308;

export let lastParseError: ParseFailure = 'empty';

function fail(why: ParseFailure): number {
  lastParseError = why;
  return Number.NaN;
}

const ZERO = 48;
const NINE = 57;
const DOT = 46;
const MINUS = 45;
const PLUS = 43;

/** Exact powers of ten as doubles (10^0 … 10^22 are exactly representable). */
export const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** True for a byte range spelling nan / inf / infinity (any case, optional sign). */
function isNonFiniteWord(buf: Uint8Array, start: number, end: number): boolean {
  let s = start;
  if (s < end && (buf[s] === MINUS || buf[s] === PLUS)) s++;
  const n = end - s;
  if (n !== 3 && n !== 8) return false;
  let word = '';
  for (let i = s; i < end; i++) word += String.fromCharCode(buf[i]! | 0x20);
  return word === 'nan' || word === 'inf' || word === 'infinity';
}

/**
 * A finite decimal: optional sign, digits with an optional fraction, optional
 * exponent (`-3`, `4.5`, `.5`, `5.`, `1e-3`). NaN/Inf spellings fail with
 * `not_finite`, anything else malformed with `not_a_number`, a numeral
 * beyond the double range (1e400) with `overflow`, and a non-zero numeral
 * whose double is 0 or subnormal (1e-400, 1e-310) with `underflow`: the value
 * would not be the one written.
 *
 * Short decimals (≤ 15 significant digits, ≤ 22 fraction digits, no exponent)
 * take Clinger's fast path: an exact integer divided by an exact power of ten
 * is one correctly rounded operation, so the result equals Number(text).
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  if (start >= end) return fail('empty');
  let i = start;
  let neg = false;
  const c0 = buf[i]!;
  if (c0 === MINUS || c0 === PLUS) {
    neg = c0 === MINUS;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let fracDigits = 0;
  let sawDot = false;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c >= ZERO && c <= NINE) {
      mant = mant * 10 + (c - ZERO);
      digits++;
      if (sawDot) fracDigits++;
    } else if (c === DOT && !sawDot) sawDot = true;
    else break;
  }
  if (i === end) {
    if (digits === 0) return fail(isNonFiniteWord(buf, start, end) ? 'not_finite' : 'not_a_number');
    if (digits <= 15 && fracDigits <= 22) {
      const v = fracDigits === 0 ? mant : mant / POW10[fracDigits]!;
      return neg ? -v : v;
    }
    return slowDecimal(buf, start, end);
  }
  // An exponent must follow at least one digit and have digits of its own.
  const c = buf[i]!;
  if (digits === 0 || (c !== 101 && c !== 69)) {
    return fail(isNonFiniteWord(buf, start, end) ? 'not_finite' : 'not_a_number');
  }
  i++;
  if (i < end && (buf[i] === MINUS || buf[i] === PLUS)) i++;
  const expStart = i;
  while (i < end && buf[i]! >= ZERO && buf[i]! <= NINE) i++;
  if (i !== end || i === expStart) return fail('not_a_number');
  return slowDecimal(buf, start, end);
}

/** Syntax already checked: let the engine round (long mantissas, exponents). */
function slowDecimal(buf: Uint8Array, start: number, end: number): number {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  const v = Number(s);
  if (!Number.isFinite(v)) return fail('overflow');
  if (v < FLOAT64_MIN_NORMAL && v > -FLOAT64_MIN_NORMAL && (v !== 0 || hasNonZeroDigit(buf, start, end))) return fail('underflow');
  return v;
}

/** True when the mantissa of a numeral (the digits before any exponent) is not all zeros. */
function hasNonZeroDigit(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 101 || c === 69) return false;
    if (c > ZERO && c <= NINE) return true;
  }
  return false;
}

/**
 * A whole number: optional sign and decimal digits only, within ±(2^53 − 1)
 * (`out_of_range` beyond; `not_an_integer` for "12.5" or "1e3"). Leading zeros
 * are accepted here (this parses values, not ids; see `parseCanonicalId`).
 */
export function parseInteger(buf: Uint8Array, start: number, end: number): number {
  if (start >= end) return fail('empty');
  let i = start;
  let neg = false;
  const c0 = buf[i]!;
  if (c0 === MINUS || c0 === PLUS) {
    neg = c0 === MINUS;
    i++;
    if (i === end) return fail('not_a_number');
  }
  let v = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < ZERO || c > NINE) {
      const d = parseDecimal(buf, start, end);
      return fail(Number.isNaN(d) ? lastParseError : 'not_an_integer');
    }
    v = v * 10 + (c - ZERO);
  }
  if (v > Number.MAX_SAFE_INTEGER) return fail('out_of_range');
  return neg ? -v : v;
}

/**
 * A raw id that is a canonical non-negative decimal integer ("0", "17"; no
 * sign, no leading zeros, at most 15 digits) parses to its number; anything
 * else ("007", "-3", "u17", "1.0") returns -1 and is kept as a string id.
 * Canonical means String(n) spells the bytes exactly, so "007" and "7" stay
 * different ids and the vocabulary's utf8 raw_id column round-trips.
 */
export function parseCanonicalId(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n === 0 || n > 15) return -1;
  const c0 = buf[start]!;
  if (c0 === ZERO) return n === 1 ? 0 : -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < ZERO || c > NINE) return -1;
    v = v * 10 + (c - ZERO);
  }
  return v;
}

/** The same canonical-integer test on a string (JSONL values, quoted CSV fields, vocabulary files). */
export function canonicalIdOfString(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  const c0 = s.charCodeAt(0);
  if (c0 === ZERO) return n === 1 ? 0 : -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < ZERO || c > NINE) return -1;
    v = v * 10 + (c - ZERO);
  }
  return v;
}

/** Human wording of a failure, for DataError reasons. */
export function describeFailure(what: string, why: ParseFailure): string {
  switch (why) {
    case 'empty':
      return `${what} is empty`;
    case 'not_a_number':
      return `${what} is not a number`;
    case 'not_finite':
      return `${what} is not finite (NaN or Inf)`;
    case 'not_an_integer':
      return `${what} is not a whole number`;
    case 'out_of_range':
      return `${what} is out of range`;
    case 'overflow':
      return `${what} is beyond the float64 range (±1.7976931348623157e308)`;
    case 'underflow':
      return `${what} is too close to zero to be stored (non-zero, below 2.2250738585072014e-308, the smallest normal float64)`;
  }
}
