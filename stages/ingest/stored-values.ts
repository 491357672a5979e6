/**
 * Values are stored as read: these checks reject a value that the stored
 * column would change by more than its ordinary rounding.
 *
 * Rewards are stored as float32. Rounding a double to the nearest float32 in
 * the normal range changes it by at most 2^-24 relative (IEEE 754 round to
 * nearest), which is accepted: 3.7 is stored as 3.70000005. Everything
 * else is a change of a different kind and is rejected:
 * - overflow: a finite value whose float32 is ±Infinity (|v| ≥ 3.40282357e38,
 *   e.g. 1e39); 3.4028235e38 itself rounds to the largest float32 and is kept;
 * - underflow: a non-zero value whose float32 is 0 (|v| < 2^-150, e.g. 1e-50);
 * - precision loss below the normal range: a value whose float32 is subnormal
 *   (0 < |f| < 2^-126 ≈ 1.17549435e-38) and differs from it (subnormals keep
 *   fewer than 24 significant bits, so the relative change can reach 100%);
 *   a value that is exactly a subnormal float32 (a float32 Parquet column)
 *   is kept as it is.
 *
 * Decimal text is first read as a double (see number-parse.ts, which rejects
 * a non-zero numeral whose double is 0 or subnormal the same way).
 */
import { isUtf8 } from 'node:buffer';

/** Smallest positive normal float32, 2^-126. */
export const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;
/** Largest finite float32, (2 − 2^-23)·2^127. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Why `v` cannot be stored as float32 (see the module doc), or null when it
 * can. Callers test `Math.fround(v) !== v` first: the common case costs one
 * comparison.
 */
export function float32Problem(what: string, v: number): string | null {
  const f = Math.fround(v);
  if (f === v || v !== v) return null;
  if (f === Infinity || f === -Infinity) {
    return `${what} ${v} is beyond the float32 range (±3.4028235e38) and would be stored as ${f > 0 ? '+' : '-'}Infinity`;
  }
  if (f === 0) return `${what} ${v} is too close to zero for float32 (non-zero, below 1.4e-45) and would be stored as 0`;
  if (f < FLOAT32_MIN_NORMAL && f > -FLOAT32_MIN_NORMAL) {
    return `${what} ${v} is below the smallest normal float32 (1.17549435e-38) and would be stored as ${f} (a subnormal with fewer than 24 significant bits)`;
  }
  return null;
}

/**
 * True when bytes [start, end) are valid UTF-8. The decoders replace each
 * invalid sequence by U+FFFD, so that `caf\xE9` and `caf\xE8` would become
 * the same id; callers check the bytes only when the decoded text holds a
 * U+FFFD (rare), so valid ids cost one string search.
 */
export function validUtf8(buf: Uint8Array, start: number, end: number): boolean {
  return isUtf8(buf.subarray(start, end));
}

/** The reason given for an id that is not valid UTF-8. */
export function invalidUtf8Reason(what: string): string {
  return `${what} id is not valid UTF-8 (invalid bytes would all read as U+FFFD and merge distinct ids); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8`;
}
