/**
 * What every way of running an ingest (one thread, several threads, shards
 * driven by an engine) derives alike from the configuration: the input files
 * and their formats, whether sessions are kept, the options of each text
 * format, and the row sink's settings. Each piece is a pure function of the
 * configuration and the input files, so separate processes agree on it.
 */
import * as path from 'node:path';
import type { Logger } from '../core/logger.js';
import { ConfigError } from '../core/config-schema.js';
import { canonicalPath } from '../io/manifest-claims.js';
import { DatasetError } from '../io/manifest.js';
import { DEFAULT_CANDIDATES, MOVIELENS_FIELD_NAMES, type MappingRequest } from './column-mapping.js';
import type { DelimitedOptions } from './delimited-parser.js';
import { detectFormat, firstLine, type InputFormat } from './format-detect.js';
import type { IngestConfig } from './ingest-config.js';
import { resolveInputFiles } from './input-files.js';
import { parquetSchemaNames } from './parquet-input.js';
import { ParquetReadWorker } from './parquet-read-worker.js';
import { parseQuotedRecord } from './rfc4180.js';
import { float32Problem } from './stored-values.js';
import { defaultUnit, type TimestampFormat, type TimestampUnit } from './timestamp-parse.js';

export interface InputFile {
  path: string;
  format: InputFormat;
}

function delimiterBytes(d: string): Uint8Array {
  const text = d === '\\t' || d.toLowerCase() === 'tab' ? '\t' : d;
  if (text.length === 0) throw new Error('ingest: delimiter must not be empty');
  return Buffer.from(text, 'utf8');
}

function quoteByte(q: string | undefined, format: InputFormat): number {
  const text = q ?? (format === 'movielens' ? '' : '"');
  if (text === '') return -1;
  const b = Buffer.from(text, 'utf8');
  if (b.length !== 1) throw new Error(`ingest: quote must be one ASCII character, got ${JSON.stringify(text)}`);
  return b[0]!;
}

export function mappingOf(cfg: IngestConfig): MappingRequest {
  return { columns: cfg.columns, extras: cfg.extra_columns, rewardOptional: cfg.default_reward !== undefined };
}

export function delimitedOptions(cfg: IngestConfig, format: InputFormat, mapping: MappingRequest): DelimitedOptions {
  const delimiter = delimiterBytes(cfg.delimiter ?? (format === 'tsv' ? '\t' : format === 'movielens' ? '::' : ','));
  return {
    delimiter,
    quote: quoteByte(cfg.quote, format),
    headerNames: cfg.header_names ?? (format === 'movielens' ? [...MOVIELENS_FIELD_NAMES] : null),
    mapping,
  };
}

/** The input files in reading order with their formats (auto-detected ones logged). */
export function ingestInputFiles(cfg: IngestConfig, log?: Pick<Logger, 'info'>): InputFile[] {
  const files = resolveInputFiles(cfg.path).map((f) => {
    if (cfg.format !== 'auto') return { path: f, format: cfg.format };
    const d = detectFormat(f);
    log?.info(`ingest: ${f}: ${d.format} (${d.why})`);
    return { path: f, format: d.format };
  });
  const outReal = canonicalPath(cfg.output);
  const inside = files.find((f) => (canonicalPath(f.path) + path.sep).startsWith(outReal + path.sep));
  if (inside)
    throw new DatasetError(`ingest: input ${inside.path} lies inside the output directory ${cfg.output}, which the ingest rewrites; choose another output`);
  if (cfg.default_reward !== undefined) {
    const problem = float32Problem('default_reward', cfg.default_reward);
    if (problem !== null) throw new ConfigError(`ingest: ${problem}`, [problem]);
  }
  return files;
}

/** Column names of a file's first record (header, JSON keys or Parquet schema), for the session probe. */
export async function sourceColumnNames(file: string, format: InputFormat, cfg: IngestConfig, parquet: ParquetReadWorker | null): Promise<string[]> {
  if (format === 'parquet') return parquetSchemaNames(file, parquet!);
  if (format === 'movielens') return cfg.header_names ?? [...MOVIELENS_FIELD_NAMES];
  const { line } = firstLine(file);
  if (format === 'jsonl') {
    try {
      const o = JSON.parse(line) as unknown;
      return typeof o === 'object' && o !== null ? Object.keys(o) : [];
    } catch {
      return [];
    }
  }
  if (cfg.header_names) return cfg.header_names;
  const opts = delimitedOptions(cfg, format, { columns: {}, extras: {}, rewardOptional: true });
  const b = Buffer.from(line, 'utf8');
  const r = parseQuotedRecord(b, 0, b.length, true, opts.delimiter, opts.quote);
  return r.kind === 'ok' ? r.fields.map((f) => f.trim()) : [];
}

/** Whether the session column is kept: named in the configuration, or present in the first file. */
export async function sessionsKept(cfg: IngestConfig, files: InputFile[], parquet: ParquetReadWorker | null): Promise<boolean> {
  if (cfg.columns.session_id !== undefined) return true;
  const first = files[0]!;
  let reader = parquet;
  if (first.format === 'parquet' && !reader) reader = new ParquetReadWorker();
  try {
    return (await sourceColumnNames(first.path, first.format, cfg, reader)).some((n) => DEFAULT_CANDIDATES.session_id.includes(n));
  } finally {
    if (reader && reader !== parquet) await reader.terminate();
  }
}

/** Everything a parser of any byte range needs besides the bytes: plain data, sent to worker threads as is. */
export interface ParseSettings {
  mapping: MappingRequest;
  /** Options of each delimited format present among the inputs. */
  textOptions: Partial<Record<InputFormat, DelimitedOptions>>;
  withSessions: boolean;
  extraNames: string[];
  timestampFormat: TimestampFormat;
  timestampUnit: TimestampUnit;
  defaultReward: number | undefined;
  maxLineBytes: number;
  readBytes: number;
  batchSize: number;
  quarantine: boolean;
}

export function parseSettings(cfg: IngestConfig, files: InputFile[], withSessions: boolean): ParseSettings {
  const mapping = mappingOf(cfg);
  const textOptions: Partial<Record<InputFormat, DelimitedOptions>> = {};
  // Options of each text format, checked before anything in the output is touched.
  for (const f of files)
    if (f.format !== 'parquet' && f.format !== 'jsonl' && !textOptions[f.format]) textOptions[f.format] = delimitedOptions(cfg, f.format, mapping);
  return {
    mapping,
    textOptions,
    withSessions,
    extraNames: Object.keys(cfg.extra_columns),
    timestampFormat: cfg.timestamp_format,
    timestampUnit: cfg.timestamp_unit ?? defaultUnit(cfg.timestamp_format),
    defaultReward: cfg.default_reward,
    maxLineBytes: cfg.max_line_bytes,
    readBytes: cfg.read_bytes,
    batchSize: cfg.batch_size,
    quarantine: cfg.mode === 'quarantine',
  };
}
