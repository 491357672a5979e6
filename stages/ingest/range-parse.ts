/**
 * Parse one byte range of an input file into a row sink: the records that
 * start in [start, stop). The range's parser is given the file's header
 * names (or the keys of its first JSON object) and the number of lines
 * before the range, so it reads the range exactly as the sequential parser
 * reads those bytes, with the same line numbers in its messages.
 *
 * A record that starts before `stop` is read to its end even past `stop` (a
 * quoted CSV field may hold line breaks), and the range reports where its
 * last record ended: a range whose start is not where the previous one
 * ended began inside such a record, and the caller reads it again from the
 * right place (parallel-ingest.ts). A Parquet file is always one range.
 */
import * as fs from 'node:fs';
import { BatchAssembler } from './batch-assembler.js';
import { DelimitedFileParser } from './delimited-parser.js';
import type { InputFormat } from './format-detect.js';
import type { IdVocabulary } from './id-vocabulary.js';
import type { ParseSettings } from './ingest-inputs.js';
import { JsonlFileParser } from './jsonl-parser.js';
import type { ParquetReadWorker } from './parquet-read-worker.js';
import type { RejectedFile, RejectedRow, Rejector } from './rejects.js';
import type { RowSink } from './row-sink.js';
import { makeTimestampParser } from './timestamp-parse.js';

/** One range of one input file, as planned (byte-ranges.ts). Plain data. */
export interface RangeTask {
  file: string;
  format: InputFormat;
  /** First byte of the range: 0, or just after a line break. */
  start: number;
  /** No record starting at or after this byte belongs to the range. */
  stop: number;
  /** The file's size when planned. */
  size: number;
  /** Lines of the file before `start` when known (0 when the caller adds them afterwards). */
  lineBase: number;
  /** Names of the header's fields (delimited text, ranges after the first). */
  header?: string[];
  /** Keys of the file's first object (JSON Lines, ranges after the first). */
  keys?: string[];
}

/** A rejection, recorded in order for the caller to replay into the run's rejector. */
export type RejectEntry = { row: RejectedRow } | { file: RejectedFile };

/** Thrown inside a strict range at its first rejection: the range stops there and reports it. */
export class RangeStopped extends Error {}

/** A rejector that records rejections in order (strict: stops at the first). */
export class CollectingRejector implements Rejector {
  readonly entries: RejectEntry[] = [];
  count = 0;
  files = 0;
  constructor(private readonly strict: boolean) {}
  reject(row: RejectedRow): void {
    this.count++;
    this.entries.push({ row });
    if (this.strict) throw new RangeStopped();
  }
  rejectFile(file: RejectedFile): void {
    this.files++;
    this.entries.push({ file });
    if (this.strict) throw new RangeStopped();
  }
}

/** A row sink for one range: its own batch assembler and rejector, the given vocabularies. */
export function rangeSink(
  settings: ParseSettings,
  vocabs: { users: IdVocabulary; items: IdVocabulary; sessions: IdVocabulary | null },
  rejector: Rejector,
  info: (msg: string) => void,
): RowSink {
  return {
    asm: new BatchAssembler(settings.batchSize, settings.withSessions, settings.extraNames),
    users: vocabs.users,
    items: vocabs.items,
    sessions: vocabs.sessions,
    rejector,
    timestampFormat: settings.timestampFormat,
    timestampUnit: settings.timestampUnit,
    parseTimestamp: makeTimestampParser(settings.timestampFormat, settings.timestampUnit),
    defaultReward: settings.defaultReward,
    extraNames: settings.extraNames,
    info,
    maxLineBytes: settings.maxLineBytes,
    stats: { rowsIn: 0, blankLines: 0, skippedFiles: 0, skippedLines: 0 },
  };
}

export interface RangeParsed {
  /** Where the range's last record ended (the next range must start here). */
  end: number;
  /** Lines the range's parser started (the next range's lineBase adds them). */
  lines: number;
}

interface Consumer {
  consume(buf: Buffer, eof: boolean, stop?: number): number;
  readonly lines: number;
}

function textParser(task: RangeTask, sink: RowSink, settings: ParseSettings): Consumer {
  const first = task.start === 0;
  if (task.format === 'jsonl')
    return new JsonlFileParser(sink, task.file, settings.mapping, first ? undefined : { line: task.lineBase, keys: task.keys ?? [] });
  const opts = settings.textOptions[task.format]!;
  if (first) return new DelimitedFileParser(sink, task.file, opts);
  return new DelimitedFileParser(sink, task.file, { ...opts, headerNames: task.header ?? null }, { line: task.lineBase });
}

/**
 * Parse `task` into `sink`, calling `afterChunk` after each chunk read (the
 * caller takes the finished batches from `sink.asm.ready`).
 */
export async function parseRange(
  task: RangeTask,
  sink: RowSink,
  settings: ParseSettings,
  parquet: () => ParquetReadWorker,
  afterChunk: () => void | Promise<void>,
): Promise<RangeParsed> {
  if (task.format === 'parquet') {
    // Imported here: Arrow and parquet-wasm would cost every text-only worker thread their load time.
    const { readParquetInput } = await import('./parquet-input.js');
    for await (const _ of readParquetInput(task.file, sink, settings.mapping, parquet(), settings.quarantine)) await afterChunk();
    return { end: task.size, lines: 0 };
  }
  const parser = textParser(task, sink, settings);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(task.file, 'r');
  } catch (e) {
    // Gone or unreadable since it was listed: strict mode stops, quarantine mode sets the file aside.
    sink.rejector.rejectFile({ file: task.file, reason: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
    sink.stats.skippedFiles++;
    return { end: task.size, lines: 0 };
  }
  try {
    const chunk = settings.readBytes;
    let buf = Buffer.allocUnsafe(chunk);
    /** File offset of buf[0]. */
    let at = task.start;
    let kept = 0;
    for (;;) {
      if (buf.length - kept < chunk / 2) {
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, kept + chunk));
        buf.copy(grown, 0, 0, kept);
        buf = grown;
      }
      // Read up to the range's end; past it only while a record is still open (small reads).
      const readAt = at + kept;
      const want = readAt < task.stop ? Math.min(buf.length - kept, task.stop - readAt) : Math.min(buf.length - kept, 1 << 16);
      const { bytesRead } = await fh.read(buf, kept, want, readAt);
      const eof = bytesRead === 0;
      const end = kept + bytesRead;
      const used = parser.consume(buf.subarray(0, end), eof, task.stop - at);
      await afterChunk();
      if (eof || at + used >= task.stop) return { end: at + used, lines: parser.lines - task.lineBase };
      kept = end - used;
      if (kept > 0) buf.copy(buf, 0, used, end);
      at += used;
    }
  } finally {
    await fh.close();
  }
}
