/** Options of the `ingest` stage: their declaration (validated, documented) and type. */
import type { Fields } from '../core/config-schema.js';
import { INTERACTION_FIELDS, type InteractionField } from './column-mapping.js';
import { INPUT_FORMATS, type InputFormat } from './format-detect.js';
import type { IngestMode } from './rejects.js';
import type { TimestampFormat, TimestampUnit } from './timestamp-parse.js';
import type { ParquetCompression } from '../io/parquet.js';

export type VocabMode = 'new' | 'extend' | 'fixed';

export interface IngestConfig {
  path: string;
  format: 'auto' | InputFormat;
  columns: Partial<Record<InteractionField, string>>;
  extra_columns: Record<string, string>;
  header_names?: string[];
  delimiter?: string;
  quote?: string;
  timestamp_format: TimestampFormat;
  timestamp_unit?: TimestampUnit;
  default_reward?: number;
  mode: IngestMode;
  output: string;
  rows_per_file: number;
  row_group_size: number;
  compression: ParquetCompression;
  arrow_ipc?: string;
  batch_size: number;
  vocab_dir?: string;
  vocab: VocabMode;
  encode_in_worker: boolean;
  read_bytes: number;
  max_line_bytes: number;
  threads: number;
  range_bytes: number;
  user_buckets: number;
}

/** Codec chosen by measurement (bench/ingest.ts; see the README's ingest section). */
export const DEFAULT_COMPRESSION: ParquetCompression = 'snappy';

export const ingestFields: Fields = {
  path: {
    type: 'string',
    required: true,
    doc: 'Input: a file, a directory (its data files, recursively, skipping names starting with "." or "_"; a recpost dataset directory gives the files of its _manifest.json), or a glob (*, ?, [..], **). Files are read in name order.',
  },
  format: {
    type: 'string',
    enum: ['auto', ...INPUT_FORMATS],
    default: 'auto',
    doc: 'auto decides per file: .parquet → parquet; .jsonl/.ndjson or a first line starting with { → jsonl; a first line containing :: → movielens (ratings.dat); .tsv or tabs without commas → tsv; otherwise csv.',
  },
  columns: {
    type: 'map',
    values: { type: 'string', doc: 'source column name' },
    default: {},
    doc: `Source column of each of our fields (${INTERACTION_FIELDS.join(', ')}). Unnamed fields are looked up among usual names (user_id/userId/UserID/user, item_id/itemId/movieId/MovieID/item, reward/rating, timestamp/ts/time, session_id/sessionId/session). session_id is optional: it is kept when named here or present in the first file; rows of a file without it get session_id 0.`,
  },
  extra_columns: {
    type: 'map',
    values: { type: 'string', doc: 'source column name' },
    default: {},
    doc: 'Extra numeric signal columns to keep: output name → source column; stored as float64 and validated like rewards.',
  },
  header_names: {
    type: 'array',
    items: { type: 'string', doc: 'field name' },
    doc: 'For CSV/TSV files without a header line: the names of their fields, in order (MovieLens files use userId, movieId, rating, timestamp).',
  },
  delimiter: {
    type: 'string',
    doc: 'Field separator (default: "," for csv, tab for tsv, "::" for movielens). "\\t" or "tab" mean a tab.',
  },
  quote: {
    type: 'string',
    doc: 'Quote character of CSV/TSV fields (RFC 4180; default "\\"" for csv and tsv, none for movielens); "" turns quoting off.',
  },
  timestamp_format: {
    type: 'string',
    enum: ['unix_s', 'unix_ms', 'iso8601'],
    default: 'unix_s',
    doc: 'How timestamps are written: unix_s (whole seconds), unix_ms (whole milliseconds), iso8601 (YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|±hh:mm]; no zone = UTC).',
  },
  timestamp_unit: {
    type: 'string',
    enum: ['s', 'ms'],
    doc: 'Unit of the stored int64 timestamp (since 1970-01-01 UTC). Default: ms for unix_ms input, s otherwise. A value the unit cannot hold exactly is a data error.',
  },
  default_reward: {
    type: 'number',
    doc: 'Reward of every row when the source has no reward column (implicit feedback logs). Unset: a reward column is required.',
  },
  mode: {
    type: 'string',
    enum: ['strict', 'quarantine'],
    default: 'strict',
    doc: 'strict: the first bad row stops the ingest with its file, line, field and value. quarantine: bad rows go to <output>/_quarantine/rejected.jsonl with the reason, are counted, and the ingest continues.',
  },
  output: {
    type: 'string',
    required: true,
    doc: 'Output Parquet dataset directory: part-NNNNN.parquet files of at most rows_per_file rows, then _manifest.json (written last: its presence means the dataset is whole). Or s3://bucket/prefix: written to a local copy under <out_dir>/.recpost/, then uploaded with the manifest last.',
  },
  rows_per_file: { type: 'integer', min: 1, default: 1 << 20, doc: 'Maximum rows per Parquet part file.' },
  row_group_size: { type: 'integer', min: 1, default: 131072, doc: 'Rows per Parquet row group.' },
  compression: {
    type: 'string',
    enum: ['zstd', 'snappy', 'gzip', 'lz4', 'none'],
    default: DEFAULT_COMPRESSION,
    doc: 'Parquet page codec. snappy by measurement (bench/ingest.ts): zstd files are ~30% smaller but take ~40% more CPU to write and read slower.',
  },
  arrow_ipc: { type: 'string', doc: 'Also write the interactions as one Arrow IPC file at this path.' },
  batch_size: { type: 'integer', min: 1, default: 65536, doc: 'Rows per batch emitted downstream.' },
  vocab_dir: { type: 'string', doc: 'Directory of the id vocabularies users.parquet, items.parquet (and sessions.parquet); default <output>/vocab.' },
  vocab: {
    type: 'string',
    enum: ['new', 'extend', 'fixed'],
    default: 'new',
    doc: 'new: build fresh vocabularies. extend: load the existing ones from vocab_dir, keep their indices, append new ids, rewrite them. fixed: load them and reject rows whose user or item is unknown.',
  },
  encode_in_worker: {
    type: 'boolean',
    default: true,
    doc: 'Encode Parquet part files on a worker thread, overlapping with parsing (false: encode on the main thread).',
  },
  read_bytes: { type: 'integer', min: 16, default: 4 << 20, doc: 'Bytes read from a text file per I/O call.' },
  threads: {
    type: 'integer',
    min: 0,
    default: 1,
    doc: 'Threads parsing text input: byte ranges of range_bytes, cut at line starts, parsed on worker threads and merged in file order, so the dataset, vocabularies, quarantine file and messages equal the one-thread run. 1 (default) = the parser on the main thread; 0 = every core. Measured on 2 cores, 6M rows, CPU time of the whole process: 1 thread 3.5 s, 2 threads 4.6 s (merging and re-cutting the rows of the ranges costs more than the second parser saves while the Parquet encoder holds the second core), so more threads pay only with more cores than 2. Files smaller than range_bytes, and Parquet files, are one range each; when the whole input is one range it is read on the main thread.',
  },
  range_bytes: {
    type: 'integer',
    min: 16,
    default: 8 << 20,
    doc: 'Bytes of text per range parsed by a worker thread (threads ≠ 1). Memory grows with range_bytes × threads, not with the input.',
  },
  user_buckets: {
    type: 'integer',
    min: 1,
    default: 1,
    doc: "Hash-partition the dataset by user into this many buckets (bucket = FNV-1a of the raw user id's UTF-8 bytes mod user_buckets): parts bucket=NNNNN/part-NNNNN.parquet, each listed with its bucket in the manifest, bucket 0 first, rows in file order within a bucket. 1: one unpartitioned sequence of parts.",
  },
  max_line_bytes: {
    type: 'integer',
    min: 16,
    default: 16 << 20,
    doc: 'Longest line (text record) accepted, in bytes. A longer line is a located error in strict mode and a quarantined row in quarantine mode (its first 4 KiB kept); it is never held in memory whole.',
  },
};
