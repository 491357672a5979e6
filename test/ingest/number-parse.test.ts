import { describe, expect, it } from 'vitest';
import { canonicalIdOfString, lastParseError, parseCanonicalId, parseDecimal, parseInteger } from '../../stages/ingest/number-parse.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const dec = (s: string) => parseDecimal(b(s), 0, s.length);
const int = (s: string) => parseInteger(b(s), 0, s.length);

describe('parseDecimal', () => {
  it('agrees with Number() on valid decimals (brute force over random spellings)', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let k = 0; k < 5000; k++) {
      const intDigits = Math.floor(rand() * 8);
      const fracDigits = Math.floor(rand() * 10);
      let s = rand() < 0.3 ? '-' : rand() < 0.1 ? '+' : '';
      for (let d = 0; d < intDigits; d++) s += Math.floor(rand() * 10);
      if (fracDigits > 0 || intDigits === 0) {
        s += '.';
        for (let d = 0; d < Math.max(1, fracDigits); d++) s += Math.floor(rand() * 10);
      }
      if (rand() < 0.2) s += `e${rand() < 0.5 ? '-' : ''}${Math.floor(rand() * 30)}`;
      expect(dec(s), s).toBe(Number(s));
    }
  });

  it('parses the MovieLens spellings exactly', () => {
    expect(dec('3.5')).toBe(3.5);
    expect(dec('4.0')).toBe(4);
    expect(dec('5')).toBe(5);
    expect(dec('.5')).toBe(0.5);
    expect(dec('5.')).toBe(5);
    expect(dec('0.1')).toBe(0.1);
    expect(dec('12345678901234567890')).toBe(12345678901234567890);
  });

  it('rejects anything that is not entirely a number, naming why', () => {
    for (const s of ['4.5abc', 'abc', '4,5', '0x10', '1e', '1e+', '.', '-', '+', '1.2.3', ' 4', '4 ', '--1', 'e5']) {
      expect(Number.isNaN(dec(s)), s).toBe(true);
      expect(lastParseError, s).toBe('not_a_number');
    }
    expect(Number.isNaN(dec(''))).toBe(true);
    expect(lastParseError).toBe('empty');
  });

  it('rejects NaN and infinities as not finite', () => {
    for (const s of ['NaN', 'nan', 'Inf', '-inf', '+Infinity', 'INFINITY']) {
      expect(Number.isNaN(dec(s)), s).toBe(true);
      expect(lastParseError, s).toBe('not_finite');
    }
  });

  // Deliberate change (issue 9): 1e400 was reported as "not finite"; it is a numeral beyond the double range.
  it('rejects numerals beyond the double range as overflow and non-zero numerals below its normal range as underflow', () => {
    for (const s of ['1e400', '-1e999', '1.8e308']) {
      expect(Number.isNaN(dec(s)), s).toBe(true);
      expect(lastParseError, s).toBe('overflow');
    }
    for (const s of ['1e-400', '-1e-330', '1e-310', '0.5e-308']) {
      expect(Number.isNaN(dec(s)), s).toBe(true);
      expect(lastParseError, s).toBe('underflow');
    }
    expect(dec('0e-400')).toBe(0);
    expect(dec('0.000e5')).toBe(0);
    expect(dec('2.2250738585072014e-308')).toBe(2.2250738585072014e-308);
    expect(dec('1.7976931348623157e308')).toBe(1.7976931348623157e308);
  });

  it('reads a sub-range of a larger buffer', () => {
    const buf = b('xx3.25yy');
    expect(parseDecimal(buf, 2, 6)).toBe(3.25);
  });
});

describe('parseInteger', () => {
  it('reads signed whole numbers and rejects fractions and garbage', () => {
    expect(int('978300760')).toBe(978300760);
    expect(int('-42')).toBe(-42);
    expect(int('007')).toBe(7);
    expect(Number.isNaN(int('12.5'))).toBe(true);
    expect(lastParseError).toBe('not_an_integer');
    expect(Number.isNaN(int('12a'))).toBe(true);
    expect(lastParseError).toBe('not_a_number');
    expect(Number.isNaN(int('99999999999999999'))).toBe(true);
    expect(lastParseError).toBe('out_of_range');
    expect(Number.isNaN(int(''))).toBe(true);
    expect(lastParseError).toBe('empty');
  });
});

describe('canonical ids', () => {
  it('treats only canonical non-negative integers as numbers', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['17', 17],
      ['123456789012345', 123456789012345],
      ['1234567890123456', -1],
      ['007', -1],
      ['-3', -1],
      ['+3', -1],
      ['1.0', -1],
      ['u17', -1],
      ['', -1],
    ];
    for (const [s, want] of cases) {
      expect(parseCanonicalId(b(s), 0, s.length), s).toBe(want);
      expect(canonicalIdOfString(s), s).toBe(want);
    }
  });
});
