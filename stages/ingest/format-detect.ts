/**
 * `format: auto` decides per file, from its extension and its first line:
 *
 * | evidence                                   | format      |
 * | ------------------------------------------ | ----------- |
 * | `.parquet`, or the bytes start with `PAR1` | parquet     |
 * | `.jsonl` / `.ndjson`, or the line starts `{` | jsonl     |
 * | the line contains `::`                     | movielens (ratings.dat of ML-1M / ML-10M) |
 * | `.tsv` / `.tab`, or a tab and no comma     | tsv         |
 * | anything else                              | csv (the ML-20M / ML-latest header `userId,movieId,rating,timestamp` maps by default) |
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileDataError } from './file-errors.js';

export const INPUT_FORMATS = ['csv', 'tsv', 'movielens', 'jsonl', 'parquet'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** The first line of a file (up to 64 KiB), without a byte-order mark or line break. */
export function firstLine(file: string): { line: string; head: Buffer } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new FileDataError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const head = Buffer.alloc(65536);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, n);
    let text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const lines = text.split('\n');
    const line = (lines.find((l) => l.trim() !== '') ?? '').replace(/\r$/, '');
    return { line, head: bytes };
  } finally {
    fs.closeSync(fd);
  }
}

export function detectFormat(file: string): { format: InputFormat; why: string } {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.parquet') return { format: 'parquet', why: 'extension .parquet' };
  const { line, head } = firstLine(file);
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'PAR1') return { format: 'parquet', why: 'Parquet magic bytes' };
  if (ext === '.jsonl' || ext === '.ndjson') return { format: 'jsonl', why: `extension ${ext}` };
  if (line.trimStart().startsWith('{')) return { format: 'jsonl', why: 'the first line is a JSON object' };
  if (line.includes('::')) return { format: 'movielens', why: 'the first line is "::"-separated (MovieLens ratings.dat)' };
  if (ext === '.tsv' || ext === '.tab') return { format: 'tsv', why: `extension ${ext}` };
  if (line.includes('\t') && !line.includes(',')) return { format: 'tsv', why: 'the first line is tab-separated' };
  return { format: 'csv', why: ext === '.csv' ? 'extension .csv' : 'comma-separated text (default)' };
}
