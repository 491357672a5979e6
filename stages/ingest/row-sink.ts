/**
 * Where parsed rows go: the batch assembler, the three vocabularies and the
 * rejector, plus the value rules every input format shares (what an id, a
 * reward and a timestamp may be). Parsers validate every field of a row
 * first and assign vocabulary indices last, so a rejected row never adds an
 * id to a vocabulary.
 */
import type { BatchAssembler } from './batch-assembler.js';
import type { IdVocabulary } from './id-vocabulary.js';
import type { Rejector } from './rejects.js';
import type { TimestampFormat, TimestampParser, TimestampUnit } from './timestamp-parse.js';

export interface RowSink {
  asm: BatchAssembler;
  users: IdVocabulary;
  items: IdVocabulary;
  /** Present when a session column is mapped (in any input file). */
  sessions: IdVocabulary | null;
  rejector: Rejector;
  timestampFormat: TimestampFormat;
  timestampUnit: TimestampUnit;
  parseTimestamp: TimestampParser;
  /** Reward of rows whose source has no reward column (undefined: a reward column is required). */
  defaultReward: number | undefined;
  /** Output names of the extra float64 columns, in order. */
  extraNames: readonly string[];
  /** Informational messages (header guesses). */
  info(msg: string): void;
  /** Longest line (record) a text parser accepts, in bytes; longer ones are rejected, never held whole. */
  maxLineBytes: number;
  /**
   * Counts beside the stored rows (asm.total) and the rejected ones
   * (rejector.count). `rowsIn` counts every record read (a line, a quoted
   * record over several lines, a Parquet row; not an accepted header line),
   * so that rowsIn = stored + rejected + blankLines + skippedLines.
   */
  stats: { rowsIn: number; blankLines: number; skippedFiles: number; skippedLines: number };
}

/**
 * Index of a validated raw id, or 0 when a frozen vocabulary does not know it.
 * `canonical` ≥ 0 is the id as a number; otherwise `text` is used.
 */
export function assignId(vocab: IdVocabulary, canonical: number, text: () => string): number {
  return canonical >= 0 ? vocab.indexOfNumber(canonical) : vocab.indexOfString(text());
}

export function unknownIdReason(vocab: IdVocabulary): string {
  return `${vocab.name.replace(/s$/, '')} id is not in the fixed vocabulary (vocab: fixed)`;
}
