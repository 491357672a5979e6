import { describe, expect, it } from 'vitest';
import { firstRepeatedKey, topLevelKeys } from '../../stages/ingest/json-keys.js';
import { decimalText } from '../../stages/ingest/parquet-input.js';
import { boundedString, boundedText } from '../../stages/ingest/rejects.js';
import { float32Problem, FLOAT32_MAX, FLOAT32_MIN_NORMAL } from '../../stages/ingest/stored-values.js';
import { utf16Bom } from '../../stages/ingest/text-encoding.js';

describe('float32Problem', () => {
  // The float32 rounding boundary above FLT_MAX is FLT_MAX + half an ulp = (2 − 2^-24)·2^127; ties go to even (2^128 → ∞).
  const boundary = (2 - 2 ** -24) * 2 ** 127;
  const below = boundary - 2 ** 75; // the double just below the boundary (double ulp at 2^127 is 2^75)

  it('accepts values that round within the normal range, exact subnormals and zeros', () => {
    for (const v of [
      0,
      -0,
      1,
      3.7,
      FLOAT32_MAX,
      -FLOAT32_MAX,
      below,
      FLOAT32_MIN_NORMAL,
      FLOAT32_MIN_NORMAL - 2 ** -160,
      2 ** -149,
      -(2 ** -140),
      Number.NaN,
    ]) {
      expect(float32Problem('r', v), String(v)).toBeNull();
    }
  });

  it('rejects overflow at the rounding boundary, underflow to zero and inexact subnormals', () => {
    expect(float32Problem('r', boundary)).toMatch(/would be stored as \+Infinity$/);
    expect(float32Problem('r', -boundary)).toMatch(/would be stored as -Infinity$/);
    expect(float32Problem('r', 2 ** -151)).toMatch(/would be stored as 0$/);
    expect(float32Problem('r', 1.5 * 2 ** -149)).toMatch(/would be stored as 2\.8\d*e-45 \(a subnormal/);
    // Rounds to the largest subnormal, MIN_NORMAL − 2^-149 (just below, MIN_NORMAL − 2^-160 rounds up to the normal MIN_NORMAL: accepted above).
    expect(float32Problem('r', FLOAT32_MIN_NORMAL - 2 ** -149 - 2 ** -160)).toMatch(/below the smallest normal float32/);
  });
});

describe('decimalText', () => {
  /** Two's complement little-endian 32-bit words of a 128-bit integer. */
  const words = (v: bigint) => {
    const u = BigInt.asUintN(128, v);
    return new Uint32Array([0, 1, 2, 3].map((k) => Number((u >> BigInt(32 * k)) & 0xffffffffn)));
  };
  it.each([
    [45n, 1, '4.5'],
    [-45n, 1, '-4.5'],
    [5n, 3, '0.005'],
    [-5n, 3, '-0.005'],
    [0n, 2, '0.00'],
    [123n, 0, '123'],
    [7n, -2, '700'],
    [-(10n ** 37n), 38, '-0.10000000000000000000000000000000000000'],
    [170141183460469231731687303715884105727n, 0, '170141183460469231731687303715884105727'],
  ])('%s with scale %s is %s', (v, scale, text) => {
    expect(decimalText(words(v), scale)).toBe(text);
  });
});

describe('topLevelKeys and firstRepeatedKey', () => {
  it('finds keys, escaped spellings and value spans, ignoring nested objects and strings', () => {
    const text = ' { "a" : 1 , "b\\u0022c":"x,\\"}" ,"n":{"a":[1,{"a":2}]},"a":-1.5e-3 } ';
    const k = topLevelKeys(text);
    expect(k.keys).toEqual(['a', 'b"c', 'n', 'a']);
    expect(k.keys.map((_, j) => text.slice(k.valueStart[j], k.valueEnd[j]))).toEqual(['1', '"x,\\"}"', '{"a":[1,{"a":2}]}', '-1.5e-3']);
    expect(firstRepeatedKey(k.keys)).toEqual({ key: 'a', first: 0, second: 3 });
    expect(firstRepeatedKey(k.keys, new Set(['n']))).toBeNull();
    expect(topLevelKeys('{}').keys).toEqual([]);
  });
});

describe('boundedText and boundedString', () => {
  it('cut at a character boundary and report the full UTF-8 length', () => {
    const b = Buffer.from('aé€😀', 'utf8'); // 1 + 2 + 3 + 4 bytes
    expect(boundedText(b, 0, b.length, 4)).toEqual({ text: 'aé', bytes: 10 });
    expect(boundedText(b, 0, b.length, 6)).toEqual({ text: 'aé€', bytes: 10 });
    expect(boundedText(b, 0, b.length, 9)).toEqual({ text: 'aé€', bytes: 10 });
    expect(boundedText(b, 0, b.length, 10)).toEqual({ text: 'aé€😀', bytes: 10 });
    expect(boundedString('€'.repeat(10), 8)).toEqual({ text: '€€', bytes: 30 });
    expect(boundedString('short', 8)).toEqual({ text: 'short', bytes: 5 });
  });
});

describe('utf16Bom', () => {
  it('names UTF-16 and UTF-32 marks and nothing else', () => {
    expect(utf16Bom(Buffer.from([0xff, 0xfe, 0x41, 0]))).toBe('UTF-16LE');
    expect(utf16Bom(Buffer.from([0xfe, 0xff, 0, 0x41]))).toBe('UTF-16BE');
    expect(utf16Bom(Buffer.from([0xff, 0xfe, 0, 0]))).toBe('UTF-32LE');
    expect(utf16Bom(Buffer.from([0, 0, 0xfe, 0xff]))).toBe('UTF-32BE');
    expect(utf16Bom(Buffer.from([0xef, 0xbb, 0xbf, 0x41]))).toBeNull();
    expect(utf16Bom(Buffer.from('user_id'))).toBeNull();
  });
});
