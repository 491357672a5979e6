/**
 * Hostile sizes and paths: lines longer than max_line_bytes (in one chunk,
 * across many chunks, endless), long values in rejected rows (cut to 4 KiB
 * in the quarantine file with their length), devices, FIFOs, missing paths,
 * empty globs and empty files.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stages/core/config-schema.js';
import { DataError } from '../../stages/core/errors.js';
import { QUARANTINE_TEXT_BYTES } from '../../stages/ingest/rejects.js';
import { ingestError, quarantineText, strictFailure, tmpDir, tuples, writeText } from './ingest-helpers.js';

const HEADER = 'user_id,item_id,reward,timestamp\n';

describe('lines longer than max_line_bytes', () => {
  it('strict: a located error with the line number', async () => {
    const { err, file } = await strictFailure('l.csv', `${HEADER}1,2,3,4\n${'x'.repeat(10_000)}\n5,6,7,8\n`, { max_line_bytes: 1024 });
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toBe(`${file}:3: field "(row)": line is longer than max_line_bytes (1024 bytes) (value: "${'x'.repeat(77)}...")`);
  });

  it('quarantine: the line is set aside cut to 4 KiB with its full length, and the next lines are read', async () => {
    const r = await quarantineText('l.csv', `${HEADER}1,2,3,4\n${'y'.repeat(10_000)}\n5,6,7,8\n`, { max_line_bytes: 1024 }, 3);
    expect(tuples(r.all!)).toEqual([
      [1, 1, 4, 3],
      [2, 2, 8, 7],
    ]);
    expect(r.entries).toHaveLength(1);
    const e = r.entries[0]!;
    expect([e.line, e.field, e.reason, e.raw_bytes, e.raw]).toEqual([
      3,
      '(row)',
      'line is longer than max_line_bytes (1024 bytes)',
      10_000,
      'y'.repeat(QUARANTINE_TEXT_BYTES),
    ]);
  });

  it('a long line read in many small chunks is dropped as it comes and the count of lines stays right', async () => {
    const r = await quarantineText('l.csv', `${HEADER}${'z'.repeat(5000)}\n1,2,3,4\n${'w'.repeat(3000)}`, { max_line_bytes: 256, read_bytes: 64 }, 3);
    expect(tuples(r.all!)).toEqual([[1, 1, 4, 3]]);
    expect(r.entries.map((e) => e.line)).toEqual([2, 4]);
    for (const e of r.entries) {
      expect(e.raw_bytes).toBeGreaterThan(256);
      expect(e.raw).toBe(e.raw[0]!.repeat(e.raw_bytes));
    }
  });

  it('a file of one endless line (20 MiB, no line break) ends in a located error under the default limit', async () => {
    const { err, file } = await strictFailure('endless.csv', Buffer.alloc(20 << 20, 0x61));
    expect(err.message).toMatch(
      new RegExp(
        `^${file.replace(/[.]/g, '\\.')}:1: field "\\(header\\)": header line is longer than max_line_bytes \\(16777216 bytes\\); the rest of the file is skipped`,
      ),
    );
  });

  it('a 20 MiB row after the header is a located error at its line', async () => {
    const { err, file } = await strictFailure('big.csv', Buffer.concat([Buffer.from(`${HEADER}1,2,3,4\n`), Buffer.alloc(20 << 20, 0x30), Buffer.from('\n')]));
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:3: field "\\(row\\)": line is longer than max_line_bytes \\(16777216 bytes\\)`));
  });

  it('JSONL lines too', async () => {
    const big = `{"user_id":1,"item_id":2,"reward":3,"timestamp":4,"pad":"${'p'.repeat(5000)}"}`;
    const r = await quarantineText('l.jsonl', `${big}\n{"user_id":1,"item_id":2,"reward":3,"timestamp":4}\n`, { max_line_bytes: 1000 }, 2);
    expect(r.summary.rows).toBe(1);
    expect(r.entries.map((e) => [e.line, e.raw_bytes, e.raw.length])).toEqual([[1, big.length, QUARANTINE_TEXT_BYTES]]);
  });

  it('a quoted field left open is rejected within max_line_bytes and reading resumes at the next line', async () => {
    const r = await quarantineText('q.csv', `${HEADER}1,"${'a'.repeat(100)}\n${'b'.repeat(100)}\n5,6,7,8\n`, { max_line_bytes: 64 }, 3);
    expect(r.entries.map((e) => [e.line, e.reason])).toEqual([
      [2, 'line is longer than max_line_bytes (64 bytes)'],
      [3, 'line is longer than max_line_bytes (64 bytes)'],
    ]);
    expect(tuples(r.all!)).toEqual([[1, 1, 8, 7]]);
  });
});

describe('long values in rejected rows are cut to 4 KiB at a character boundary, with their length', () => {
  it('a 6000-byte reward of 3-byte characters', async () => {
    const value = '€'.repeat(2000);
    const r = await quarantineText('v.csv', `${HEADER}1,2,${value},4\n`, {}, 1);
    const e = r.entries[0]!;
    expect(e.value_bytes).toBe(6000);
    expect(e.value).toBe('€'.repeat(Math.floor(QUARANTINE_TEXT_BYTES / 3)));
    expect(e.raw_bytes).toBe(6000 + '1,2,,4'.length);
    expect(Buffer.byteLength(e.raw)).toBeLessThanOrEqual(QUARANTINE_TEXT_BYTES);
    expect(e.reason).toBe('reward is not a number');
  });

  it('short values are kept whole with their byte length', async () => {
    const r = await quarantineText('v.csv', `${HEADER}1,2,é,4\n`, {}, 1);
    expect([r.entries[0]!.value, r.entries[0]!.value_bytes, r.entries[0]!.raw, r.entries[0]!.raw_bytes]).toEqual(['é', 2, '1,2,é,4', 8]);
  });
});

describe('paths that are not regular files, or nothing', () => {
  it('/dev/zero is a configuration error, not an endless read', async () => {
    const err = await ingestError({ path: '/dev/zero', output: path.join(tmpDir('dev'), 'ds') });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('ingest: path: /dev/zero is a character device; ingest reads regular files (and directories of them)');
  });

  it('a FIFO is a configuration error (nothing blocks on it)', async () => {
    const d = tmpDir('fifo');
    const fifo = path.join(d, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    const err = await ingestError({ path: fifo, output: path.join(d, 'ds') });
    expect(err.message).toBe(`ingest: path: ${fifo} is a FIFO (named pipe); ingest reads regular files (and directories of them)`);
  });

  it('a missing path, an empty glob and a directory without data files name the path or pattern', async () => {
    const d = tmpDir('missing');
    const missing = await ingestError({ path: path.join(d, 'nope.csv'), output: path.join(d, 'ds') });
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.message).toBe(`ingest: path: no such file or directory: ${path.join(d, 'nope.csv')}`);
    const glob = await ingestError({ path: path.join(d, 'logs-*.csv'), output: path.join(d, 'ds') });
    expect(glob.message).toBe(`ingest: path: no files match the pattern ${path.join(d, 'logs-*.csv')}`);
    fs.mkdirSync(path.join(d, 'empty'));
    writeText(d, 'empty/readme.md', 'not data');
    const dir = await ingestError({ path: path.join(d, 'empty'), output: path.join(d, 'ds') });
    expect(dir.message).toMatch(new RegExp(`^ingest: path: no data files \\(.csv .tsv .*\\) under ${path.join(d, 'empty')}$`));
  });

  it('an empty file and a header-only file ingest to an empty dataset, balanced at zero', async () => {
    const empty = await quarantineText('e.csv', '', {}, 0);
    expect(empty.summary.rows).toBe(0);
    const header = await quarantineText('h.csv', HEADER, {}, 0);
    expect(header.summary.rows).toBe(0);
    const blanks = await quarantineText('b.jsonl', '\n\n\r\n', {}, 3);
    expect(blanks.summary.blankLines).toBe(3);
  });
});
