/**
 * One pass over a delimited line whose ids, reward and timestamp are plain
 * numbers (the usual ratings log: `1,296,5.0,1147880044`): the fields are
 * split and their digits accumulated in the same loop over the bytes, instead
 * of splitting first and parsing each field again.
 *
 * It only recognises the simple spellings, and says so (`ok`) when every
 * mapped field had one: canonical integer ids (no sign, no leading zero, at
 * most 15 digits), a reward of digits with at most one dot (at most 15
 * digits), a timestamp of at most 15 digits. Anything else (spaces, signs,
 * exponents, text ids, empty fields, a wrong field count) leaves `ok` false
 * and the caller parses the line again by the general rules; so the values taken from this path are, by construction,
 * those the general parsers give for the same bytes (see number-parse.ts:
 * parseCanonicalId, parseDecimal's exact short-decimal path, parseInteger).
 */

import { POW10 } from './number-parse.js';

const LF = 10;
const CR = 13;
const DOT = 46;
const ZERO = 48;

/** What a field of the line holds (an entry of `NumericLinePlan.roles`). */
export const ROLE_OTHER = 0;
export const ROLE_USER = 1;
export const ROLE_ITEM = 2;
export const ROLE_REWARD = 3;
export const ROLE_TIMESTAMP = 4;

export interface NumericLinePlan {
  /** Role of each field, by position. */
  roles: Uint8Array;
  /** The one-byte delimiter (not a digit, a dot or a line-break byte). */
  delimiter: number;
  /** Quote byte, or -1: a field starting with it sends the line to the general path. */
  quote: number;
}

/** The values of one line, valid when `ok`. */
export class NumericLine {
  ok = false;
  user = 0;
  item = 0;
  reward = 0;
  timestamp = 0;
}

/** True when a delimiter byte cannot be confused with a number's bytes or a line break. */
export function numericLineDelimiter(d: number): boolean {
  return d !== LF && d !== CR && d !== DOT && !(d >= ZERO && d <= ZERO + 9) && d !== 43 && d !== 45;
}

/**
 * Scan the line starting at `pos` (a record start, not past the end). Returns
 * the position after its line break, or -1 when the line does not end before
 * `limit` or a field starts with the quote (the general path reads it then).
 */
export function scanNumericLine(buf: Uint8Array, pos: number, limit: number, plan: NumericLinePlan, out: NumericLine): number {
  const roles = plan.roles;
  const nRoles = roles.length;
  const d0 = plan.delimiter;
  const q = plan.quote;
  let ok = true;
  let f = 0;
  let i = pos;
  for (;;) {
    if (i >= limit) return -1;
    const fs = i;
    if (buf[fs] === q) return -1;
    const role = f < nRoles ? roles[f]! : ROLE_OTHER;
    let v = 0;
    let n = 0;
    let dot = -1;
    if (role === ROLE_REWARD) {
      for (; i < limit; i++) {
        const d = buf[i]! - ZERO;
        if (d >>> 0 <= 9) v = v * 10 + d;
        else if (d === DOT - ZERO && dot < 0) dot = i - fs;
        else break;
      }
      n = i - fs - (dot < 0 ? 0 : 1);
      if (dot >= 0) dot = n - (i - fs - dot - 1);
    } else if (role !== ROLE_OTHER) {
      for (; i < limit; i++) {
        const d = buf[i]! - ZERO;
        if (d >>> 0 > 9) break;
        v = v * 10 + d;
      }
      n = i - fs;
    }
    const digitsEnd = i;
    let c = 0;
    for (; i < limit; i++) {
      c = buf[i]!;
      if (c === d0 || c === LF) break;
    }
    if (i >= limit) return -1;
    let fe = i;
    if (c === LF && fe > pos && buf[fe - 1] === CR) fe--;
    if (role !== ROLE_OTHER) {
      if (digitsEnd !== fe || n === 0 || n > 15) ok = false;
      else if (role === ROLE_USER || role === ROLE_ITEM) {
        if (n > 1 && buf[fs] === ZERO) ok = false;
        else if (role === ROLE_USER) out.user = v;
        else out.item = v;
      } else if (role === ROLE_REWARD) out.reward = dot < 0 || dot === n ? v : v / POW10[n - dot]!;
      else out.timestamp = v;
    }
    f++;
    if (c === LF) {
      out.ok = ok && f === nRoles;
      return i + 1;
    }
    i++;
  }
}
