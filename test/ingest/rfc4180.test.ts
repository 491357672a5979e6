import { describe, expect, it } from 'vitest';
import { parseQuotedRecord } from '../../stages/ingest/rfc4180.js';

const comma = Buffer.from(',');
const parse = (s: string, eof = true, delim = comma) => {
  const b = Buffer.from(s, 'utf8');
  return parseQuotedRecord(b, 0, b.length, eof, delim, 34);
};

describe('RFC 4180 records', () => {
  it('handles quotes, doubled quotes, delimiters and line breaks inside quotes', () => {
    const text = '"a,b","say ""hi""","line1\nline2",plain,""\nnext';
    const r = parse(text);
    expect(r).toEqual({ kind: 'ok', fields: ['a,b', 'say "hi"', 'line1\nline2', 'plain', ''], next: text.indexOf('next'), innerNewlines: 1 });
  });

  it('ends a record at CRLF and keeps a stray quote inside an unquoted field', () => {
    expect(parse('x,ab"c\r\n')).toMatchObject({ kind: 'ok', fields: ['x', 'ab"c'] });
    expect(parse('"q"\r\nz')).toMatchObject({ kind: 'ok', fields: ['q'], next: 5 });
  });

  it('works with a multi-byte delimiter', () => {
    expect(parse('1::"a::b"::3\n', true, Buffer.from('::'))).toMatchObject({ kind: 'ok', fields: ['1', 'a::b', '3'] });
  });

  it('asks for more input when a quoted field is still open, and reports it at the end of the file', () => {
    expect(parse('1,"abc', false)).toEqual({ kind: 'more' });
    expect(parse('1,"abc', true)).toEqual({ kind: 'error', reason: 'quoted field is not closed before the end of the file' });
  });

  it('rejects text after a closing quote', () => {
    expect(parse('"ab"c,d\n')).toEqual({ kind: 'error', reason: 'unexpected character "c" after a closing quote' });
  });
});
