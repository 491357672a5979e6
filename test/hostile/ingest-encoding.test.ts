/**
 * Hostile encodings: ids with invalid UTF-8 (which a decoder would turn into
 * the same U+FFFD string, merging distinct users), overlong sequences,
 * encoded surrogates, UTF-16/UTF-32 files, byte-order marks and CRLF.
 * Invalid UTF-8 in an id is rejected; valid text, including a real U+FFFD,
 * is stored as written.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../stages/core/errors.js';
import { loadVocabulary } from '../../stages/ingest/vocab-files.js';
import { quarantineText, quarantined, strictFailure, tmpDir, tuples, writeText } from './ingest-helpers.js';

const HEADER = 'user_id,item_id,reward,timestamp\n';
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const UTF8_HINT =
  'id is not valid UTF-8 (invalid bytes would all read as U+FFFD and merge distinct ids); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8';

describe('invalid UTF-8 in an id is a located error, never a merged id', () => {
  it.each([
    ['latin-1 é (0xE9)', [0xe9]],
    ['latin-1 è (0xE8)', [0xe8]],
    ['overlong "/" (C0 AF)', [0xc0, 0xaf]],
    ['encoded surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['truncated sequence (E2 82)', [0xe2, 0x82]],
    ['byte FF', [0xff]],
  ])('CSV user id with %s', async (_what, bad) => {
    const { err, file } = await strictFailure('u.csv', bytes(HEADER, '1,2,3,4\n', 'caf', bad, ',2,3,4\n'));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(new RegExp(`^${escape(file)}:3: field "user_id": user ${escape(UTF8_HINT)} \\(value: "caf\\uFFFD+"\\)$`));
  });

  it('caf\\xE9 and caf\\xE8 are both quarantined, café (valid UTF-8) is stored, and the vocabulary holds only valid ids', async () => {
    const body = bytes(HEADER, 'caf', [0xe9], ',1,1,1\n', 'caf', [0xe8], ',1,1,2\n', 'café,1,1,3\n', 'caf', [0xef, 0xbf, 0xbd], ',1,1,4\n');
    const r = await quarantineText('u.csv', body, {}, 4);
    expect(r.entries.map((e) => [e.line, e.field, e.reason])).toEqual([
      [2, 'user_id', `user ${UTF8_HINT}`],
      [3, 'user_id', `user ${UTF8_HINT}`],
    ]);
    // A real U+FFFD written as EF BF BD is valid text and its own id.
    expect((await loadVocabulary(r.summary.vocab.users)).rawIds()).toEqual(['café', 'caf\uFFFD']);
  });

  it('an item id in a quoted CSV field', async () => {
    const { err, file } = await strictFailure('q.csv', bytes(HEADER, '1,"x', [0xe9], ',y",3,4\n'));
    expect(err.message).toBe(`${file}:2: field "item_id": item ${UTF8_HINT} (value: "x\uFFFD,y")`);
  });

  it('a session id in TSV', async () => {
    const { err, file } = await strictFailure('s.tsv', bytes('user_id\titem_id\treward\ttimestamp\tsession_id\n1\t2\t3\t4\ts', [0xe9], '\n'));
    expect(err.message).toBe(`${file}:2: field "session_id": session ${UTF8_HINT} (value: "s\uFFFD")`);
  });

  it('a MovieLens :: user id', async () => {
    const { err, file } = await strictFailure('ratings.dat', bytes('u', [0xe9], '::1::5::978300760\n'));
    expect(err.message).toBe(`${file}:1: field "userId": user ${UTF8_HINT} (value: "u\uFFFD")`);
  });

  it('invalid bytes in a column no field reads do not reject the row', async () => {
    const r = await quarantineText('c.csv', bytes('user_id,item_id,reward,timestamp,comment\n1,2,3,4,caf', [0xe9], '\n'), {}, 1);
    expect(r.summary.rows).toBe(1);
    expect(r.entries).toEqual([]);
  });

  it('JSONL: an invalid string id is rejected; invalid bytes elsewhere and an escaped \\ufffd are not', async () => {
    const body = bytes(
      '{"user_id":"caf',
      [0xe9],
      '","item_id":1,"reward":1,"timestamp":1}\n',
      '{"user_id":"a","item_id":1,"reward":1,"timestamp":2,"note":"',
      [0xe8],
      '"}\n',
      '{"user_id":"b\\ufffd","item_id":1,"reward":1,"timestamp":3}\n',
    );
    const r = await quarantineText('j.jsonl', body, {}, 3);
    expect(r.entries.map((e) => [e.line, e.field, e.reason])).toEqual([[1, 'user_id', `user ${UTF8_HINT}`]]);
    expect((await loadVocabulary(r.summary.vocab.users)).rawIds()).toEqual(['a', 'b\uFFFD']);
  });
});

describe('UTF-16 and UTF-32 files are set aside with a message saying how to convert them', () => {
  it.each([
    ['UTF-16LE', [0xff, 0xfe], 'utf16le'],
    ['UTF-16BE', [0xfe, 0xff], 'utf16be'],
  ] as const)('a %s CSV in strict mode names the file', async (name, bom, enc) => {
    const text = enc === 'utf16le' ? Buffer.from(`${HEADER}1,2,3,4\n`, 'utf16le') : Buffer.from(`${HEADER}1,2,3,4\n`, 'utf16le').swap16();
    const { err, file } = await strictFailure('w.csv', Buffer.concat([Buffer.from(bom), text]));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toBe(`${file}: the file starts with a ${name} byte-order mark; ingest reads UTF-8 text: convert it, e.g. iconv -f ${name} -t utf-8`);
  });

  it('a UTF-32LE JSONL file in strict mode', async () => {
    const { err, file } = await strictFailure('w.jsonl', Buffer.from([0xff, 0xfe, 0, 0, 0x7b, 0, 0, 0]));
    expect(err.message).toBe(`${file}: the file starts with a UTF-32LE byte-order mark; ingest reads UTF-8 text: convert it, e.g. iconv -f UTF-32LE -t utf-8`);
  });

  it('in quarantine mode the UTF-16 file is set aside whole and the next file is read', async () => {
    const d = tmpDir('enc');
    writeText(d, 'in/a.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}1,2,3,4\n5,6,7,8\n`, 'utf16le')]));
    writeText(d, 'in/b.csv', `${HEADER}1,2,3,4\n`);
    // a.csv splits on its three 0x0A bytes into 4 byte lines (the last is the NUL after the final LF), all skipped; b.csv: 1 row.
    const r = await quarantined({ path: path.join(d, 'in'), output: path.join(d, 'ds') }, 5);
    expect(r.summary.rows).toBe(1);
    expect(r.summary.filesSetAside).toBe(1);
    expect(r.summary.skippedLines).toBe(4);
    expect(r.entries).toEqual([
      expect.objectContaining({
        file: path.join(d, 'in', 'a.csv'),
        line: 0,
        field: '(file)',
        whole_file: true,
        reason: expect.stringMatching(/^the file starts with a UTF-16LE byte-order mark/),
      }),
    ]);
  });
});

describe('byte-order mark and line ends that are fine', () => {
  it('a UTF-8 BOM, CRLF line ends and a last line without a break read as plain CSV', async () => {
    const r = await quarantineText('b.csv', bytes([0xef, 0xbb, 0xbf], 'user_id,item_id,reward,timestamp\r\n1,2,3,4\r\n\r\n5,6,7,8'), {}, 3);
    expect(tuples(r.all!)).toEqual([
      [1, 1, 4, 3],
      [2, 2, 8, 7],
    ]);
    expect(r.summary.blankLines).toBe(1);
  });

  it('a UTF-8 BOM before JSONL', async () => {
    const r = await quarantineText('b.jsonl', bytes([0xef, 0xbb, 0xbf], '{"user_id":"é","item_id":2,"reward":3,"timestamp":4}\r\n'), {}, 1);
    expect((await loadVocabulary(r.summary.vocab.users)).rawIds()).toEqual(['é']);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
