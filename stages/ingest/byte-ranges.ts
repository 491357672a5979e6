/**
 * Planning: cut the input files into byte ranges that parse independently.
 *
 * Each text file is cut at line starts after its header (or, for JSON Lines,
 * after its first object, whose keys give the mapping): range 0 starts at
 * byte 0 and reads the byte-order mark and the header itself; every later
 * range is given the header's names (or the first object's keys). A file
 * whose header cannot be used (skipped or set aside in quarantine mode, a
 * UTF-16 byte-order mark, a header longer than the probe) is one range, read
 * exactly as the sequential ingest reads it. A Parquet file is one range.
 *
 * A quoted CSV field may hold a line break, so a cut at a line start may fall
 * inside a record. Two answers, chosen by the caller:
 * - on threads, ranges are parsed speculatively and checked afterwards (a
 *   range must start where the previous one's last record ended; one that
 *   does not is parsed again from there: parallel-ingest.ts);
 * - for shards (separate processes, no checking afterwards), `refuseQuoted`
 *   keeps a file that contains the quote byte after its header whole, and
 *   says so once per file.
 * `countLines` counts the line breaks before each cut, so each range knows
 * the line number of its first record (shards; threads add them as ranges
 * finish, without this extra pass).
 */
import * as fs from 'node:fs';
import { IdVocabulary } from './id-vocabulary.js';
import type { InputFile, ParseSettings } from './ingest-inputs.js';
import { CollectingRejector, rangeSink, type RangeTask } from './range-parse.js';
import { DelimitedFileParser } from './delimited-parser.js';
import { JsonlFileParser } from './jsonl-parser.js';

const LF = 10;
/** The header (or the first JSON object) must lie within this many bytes for a file to be cut. */
const PROBE_BYTES = 4 << 20;
const SCAN_BYTES = 4 << 20;

export interface PlannedRange extends RangeTask {
  /** Position in reading order over all files (0-based). */
  index: number;
  /** 1-based line number of the range's first record when counted (countLines), else 0 (unknown until the ranges before it are read). */
  firstLine: number;
}

export interface PlanOptions {
  /** Target bytes per range. */
  rangeBytes: number;
  countLines: boolean;
  refuseQuoted: boolean;
  info(msg: string): void;
}

interface HeaderProbe {
  /** A line start after the header (or the first object): cuts come after it. */
  end: number;
  header?: string[];
  keys?: string[];
}

async function readAt(fh: fs.promises.FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Parse the file's first lines as the first range would, until its header (first object) is accepted. Null: do not cut the file. */
async function probeHeader(fh: fs.promises.FileHandle, file: InputFile, size: number, settings: ParseSettings): Promise<HeaderProbe | null> {
  const head = await readAt(fh, 0, Math.min(size, PROBE_BYTES));
  const rejector = new CollectingRejector(false);
  const vocabs = { users: new IdVocabulary('users'), items: new IdVocabulary('items'), sessions: settings.withSessions ? new IdVocabulary('sessions') : null };
  const sink = rangeSink({ ...settings, batchSize: 1024 }, vocabs, rejector, () => undefined);
  const delimited = file.format === 'jsonl' ? null : new DelimitedFileParser(sink, file.path, settings.textOptions[file.format]!);
  const jsonl = file.format === 'jsonl' ? new JsonlFileParser(sink, file.path, settings.mapping) : null;
  let from = 0;
  let pos = 0;
  while (pos < head.length) {
    const nl = head.indexOf(LF, pos);
    const lineEnd = nl < 0 ? head.length : nl + 1;
    const chunk = head.subarray(from, lineEnd);
    from += delimited ? delimited.consume(chunk, lineEnd === size) : jsonl!.consume(chunk, lineEnd === size);
    if (sink.stats.skippedFiles > 0) return null;
    const header = delimited?.columnNames;
    const keys = jsonl?.firstKeys;
    if (header) return { end: lineEnd, header: [...header] };
    if (keys) return { end: lineEnd, keys: [...keys] };
    if (nl < 0) break;
    pos = lineEnd;
  }
  return null;
}

/** The first line start at or after `pos` (the file's size when none). */
async function lineStartFrom(fh: fs.promises.FileHandle, pos: number, size: number): Promise<number> {
  let at = pos - 1;
  while (at < size) {
    const buf = await readAt(fh, at, Math.min(1 << 16, size - at));
    const nl = buf.indexOf(LF);
    if (nl >= 0) return at + nl + 1;
    at += buf.length;
  }
  return size;
}

/** True when byte `byte` occurs in [from, size) of the file. */
async function containsByte(fh: fs.promises.FileHandle, byte: number, from: number, size: number): Promise<boolean> {
  for (let at = from; at < size; at += SCAN_BYTES) {
    const buf = await readAt(fh, at, Math.min(SCAN_BYTES, size - at));
    if (buf.indexOf(byte) >= 0) return true;
  }
  return false;
}

/** Line breaks before each of `cuts` (ascending). */
async function lineBreaksBefore(fh: fs.promises.FileHandle, cuts: number[]): Promise<number[]> {
  const out: number[] = [];
  let count = 0;
  let at = 0;
  for (const cut of cuts) {
    while (at < cut) {
      const buf = await readAt(fh, at, Math.min(SCAN_BYTES, cut - at));
      for (let p = buf.indexOf(LF); p >= 0; p = buf.indexOf(LF, p + 1)) count++;
      at += buf.length;
      if (buf.length === 0) break;
    }
    out.push(count);
  }
  return out;
}

async function planFile(file: InputFile, settings: ParseSettings, opts: PlanOptions): Promise<Omit<PlannedRange, 'index'>[]> {
  let size: number;
  try {
    size = fs.statSync(file.path).size;
  } catch {
    size = 0;
  }
  const whole: Omit<PlannedRange, 'index'>[] = [{ file: file.path, format: file.format, start: 0, stop: size, size, lineBase: 0, firstLine: 1 }];
  const pieces = Math.ceil(size / opts.rangeBytes);
  if (file.format === 'parquet' || pieces <= 1) return whole;
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file.path, 'r');
  } catch {
    return whole; // the range reports the file as unreadable, as the sequential ingest does
  }
  try {
    const probe = await probeHeader(fh, file, size, settings);
    if (!probe || probe.end >= size) return whole;
    const quote = file.format === 'jsonl' ? -1 : settings.textOptions[file.format]!.quote;
    if (opts.refuseQuoted && quote >= 0 && (await containsByte(fh, quote, probe.end, size))) {
      opts.info(
        `ingest: ${file.path}: holds quoted fields, which may contain line breaks, so it is read as one range (not split); set quote: "" if the file has no quoting`,
      );
      return whole;
    }
    const cuts: number[] = [];
    for (let k = 1; k < pieces; k++) {
      const nominal = probe.end + Math.round((k * (size - probe.end)) / pieces);
      const cut = await lineStartFrom(fh, Math.max(nominal, probe.end), size);
      if (cut < size && cut > (cuts.at(-1) ?? 0)) cuts.push(cut);
    }
    if (cuts.length === 0) return whole;
    const breaks = opts.countLines ? await lineBreaksBefore(fh, cuts) : null;
    const starts = [0, ...cuts];
    return starts.map((start, k) => ({
      file: file.path,
      format: file.format,
      start,
      stop: starts[k + 1] ?? size,
      size,
      lineBase: k === 0 || !breaks ? 0 : breaks[k - 1]!,
      firstLine: k === 0 ? 1 : breaks ? breaks[k - 1]! + 1 : 0,
      ...(k > 0 && probe.header ? { header: probe.header } : {}),
      ...(k > 0 && probe.keys ? { keys: probe.keys } : {}),
    }));
  } finally {
    await fh.close();
  }
}

/** The ranges of every input file, in reading order. */
export async function planRanges(files: InputFile[], settings: ParseSettings, opts: PlanOptions): Promise<PlannedRange[]> {
  const out: PlannedRange[] = [];
  for (const f of files) for (const r of await planFile(f, settings, opts)) out.push({ ...r, index: out.length });
  return out;
}

/** The header names (or first object's keys) a range after the first is read with, found again from the file. */
export async function headerOfFile(file: InputFile, settings: ParseSettings): Promise<{ header?: string[]; keys?: string[] } | null> {
  const size = fs.statSync(file.path).size;
  const fh = await fs.promises.open(file.path, 'r');
  try {
    const probe = await probeHeader(fh, file, size, settings);
    return probe ? { ...(probe.header ? { header: probe.header } : {}), ...(probe.keys ? { keys: probe.keys } : {}) } : null;
  } finally {
    await fh.close();
  }
}
