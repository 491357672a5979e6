/**
 * The ingest itself, independent of the stage wrapper: read every input file
 * through its format's parser into interaction batches with dense ids, write
 * them (Parquet dataset, optional Arrow IPC file), persist the vocabularies,
 * and yield each batch for the rest of the pipeline. Returns a summary.
 *
 * Order of effects: vocabularies to extend are loaded first; then the
 * dataset is written into a staging directory beside `output` (part files as
 * they fill, then the Arrow IPC file, the vocabularies and the quarantine
 * file when every input was read, then `_manifest.json` listing them all),
 * and moved into place whole (stages/io/manifest-staging.ts). Until then the
 * previous dataset in `output` is untouched; on failure the staging directory
 * is removed and the previous dataset stays as it was.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch } from '../core/batch.js';
import type { Logger } from '../core/logger.js';
import { Progress, formatCount } from '../core/progress.js';
import type { DatasetManifest } from '../io/dataset-writer.js';
import { canonicalPath } from '../io/manifest-claims.js';
import { DatasetError } from '../io/manifest.js';
import { recoverInterrupted } from '../io/manifest-staging.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { ConfigError } from '../core/config-schema.js';
import { ArrowIpcFileWriter } from './arrow-ipc-file.js';
import { BatchAssembler } from './batch-assembler.js';
import { DEFAULT_CANDIDATES, MOVIELENS_FIELD_NAMES, type MappingRequest } from './column-mapping.js';
import { IngestDataset } from './dataset-sink.js';
import { DelimitedFileParser, type DelimitedOptions } from './delimited-parser.js';
import { detectFormat, firstLine, type InputFormat } from './format-detect.js';
import { IdVocabulary } from './id-vocabulary.js';
import type { IngestConfig } from './ingest-config.js';
import { resolveInputFiles } from './input-files.js';
import { JsonlFileParser } from './jsonl-parser.js';
import { quarantinePath } from './output-dir.js';
import { parquetSchemaNames, readParquetInput } from './parquet-input.js';
import { ParquetReadWorker } from './parquet-read-worker.js';
import { QuarantineLog, StrictRejector, type Rejector } from './rejects.js';
import type { RowSink } from './row-sink.js';
import { parseQuotedRecord } from './rfc4180.js';
import { float32Problem } from './stored-values.js';
import { readTextFile } from './text-reader.js';
import { defaultUnit, makeTimestampParser } from './timestamp-parse.js';
import { loadVocabulary, saveVocabulary, vocabPaths, type VocabPaths } from './vocab-files.js';

export interface IngestEnv {
  log: Logger;
  /** Draw a progress line on stderr. */
  progress: boolean;
  emitMetric?(rec: Omit<MetricRecord, 'run'>): void;
  /** The run's seed, carried into metric records. */
  seed?: number;
}

export interface IngestSummary {
  files: { path: string; format: InputFormat }[];
  rows: number;
  /**
   * Records read: every line of a text file but its accepted header (a quoted
   * record over several lines counts once), every row of a Parquet file.
   * rowsIn = rows + rejected + blankLines + skippedLines, checked at the end.
   */
  rowsIn: number;
  rejected: number;
  /** Files set aside whole in quarantine mode (corrupt or wrong-typed Parquet, UTF-16 text, unreadable). */
  filesSetAside: number;
  /** Rejections per "field: reason". */
  rejectedBy: Record<string, number>;
  blankLines: number;
  /** Files skipped in quarantine mode: set aside whole, or a header that lacked (or repeated) a mapped column. */
  skippedFiles: number;
  /** Lines (rows for Parquet) of skipped files, after their header. */
  skippedLines: number;
  users: number;
  items: number;
  sessions?: number;
  bytes: number;
  seconds: number;
  timestampUnit: 's' | 'ms';
  manifest: DatasetManifest;
  manifestPath: string;
  vocab: VocabPaths;
  quarantine?: string;
  arrowIpc?: string;
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

function delimitedOptions(cfg: IngestConfig, format: InputFormat, mapping: MappingRequest): DelimitedOptions {
  const delimiter = delimiterBytes(cfg.delimiter ?? (format === 'tsv' ? '\t' : format === 'movielens' ? '::' : ','));
  return {
    delimiter,
    quote: quoteByte(cfg.quote, format),
    headerNames: cfg.header_names ?? (format === 'movielens' ? [...MOVIELENS_FIELD_NAMES] : null),
    mapping,
  };
}

/** Column names of a file's first record (header, JSON keys or Parquet schema), for the session probe. */
async function sourceColumnNames(file: string, format: InputFormat, cfg: IngestConfig, parquet: ParquetReadWorker | null): Promise<string[]> {
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

async function openVocabularies(cfg: IngestConfig, dir: string, withSessions: boolean, log: Logger) {
  const paths = vocabPaths(dir, withSessions);
  if (cfg.vocab === 'new') {
    return { users: new IdVocabulary('users'), items: new IdVocabulary('items'), sessions: withSessions ? new IdVocabulary('sessions') : null, paths };
  }
  for (const p of [paths.users, paths.items]) {
    if (!fs.existsSync(p)) throw new Error(`ingest: vocab: ${cfg.vocab} needs an existing vocabulary, but ${p} does not exist (use vocab: new to build one)`);
  }
  const users = await loadVocabulary(paths.users, 'users');
  const items = await loadVocabulary(paths.items, 'items');
  const sessions = withSessions
    ? paths.sessions && fs.existsSync(paths.sessions)
      ? await loadVocabulary(paths.sessions, 'sessions')
      : new IdVocabulary('sessions')
    : null;
  if (cfg.vocab === 'fixed') {
    users.frozen = true;
    items.frozen = true;
  }
  log.info(`ingest: loaded vocabularies from ${dir} (${users.size} users, ${items.size} items${sessions ? `, ${sessions.size} sessions` : ''}; ${cfg.vocab})`);
  return { users, items, sessions, paths };
}

/**
 * Run the ingest. Yields the interaction batches as they are written;
 * returns the summary when everything is in place.
 */
export async function* runIngest(cfg: IngestConfig, env: IngestEnv): AsyncGenerator<Batch, IngestSummary, undefined> {
  const t0 = performance.now();
  const files = resolveInputFiles(cfg.path).map((f) => {
    if (cfg.format !== 'auto') return { path: f, format: cfg.format };
    const d = detectFormat(f);
    env.log.info(`ingest: ${f}: ${d.format} (${d.why})`);
    return { path: f, format: d.format };
  });
  const outReal = canonicalPath(cfg.output);
  const inside = files.find((f) => (canonicalPath(f.path) + path.sep).startsWith(outReal + path.sep));
  if (inside)
    throw new DatasetError(`ingest: input ${inside.path} lies inside the output directory ${cfg.output}, which the ingest rewrites; choose another output`);
  const mapping: MappingRequest = { columns: cfg.columns, extras: cfg.extra_columns, rewardOptional: cfg.default_reward !== undefined };
  const extraNames = Object.keys(cfg.extra_columns);
  if (cfg.default_reward !== undefined) {
    const problem = float32Problem('default_reward', cfg.default_reward);
    if (problem !== null) throw new ConfigError(`ingest: ${problem}`, [problem]);
  }
  const first = files[0]!;
  // Parquet files are decoded on a worker thread, which a corrupt page cannot take the process down with.
  const parquet = files.some((f) => f.format === 'parquet') ? new ParquetReadWorker() : null;
  const withSessions =
    cfg.columns.session_id !== undefined ||
    (await sourceColumnNames(first.path, first.format, cfg, parquet)).some((n) => DEFAULT_CANDIDATES.session_id.includes(n));
  const timestampUnit = cfg.timestamp_unit ?? defaultUnit(cfg.timestamp_format);
  const vocabDir = cfg.vocab_dir ?? path.join(cfg.output, 'vocab');
  // A kill in the middle of the previous run's swap left the previous dataset (and its vocabularies) beside the output: put it back first.
  for (const line of recoverInterrupted(cfg.output)) env.log.info(`ingest: ${line}`);
  const vocabs = await openVocabularies(cfg, vocabDir, withSessions, env.log);

  // Options of each text format, checked before anything in the output is touched.
  const textOptions = new Map<InputFormat, DelimitedOptions>();
  for (const f of files)
    if (f.format !== 'parquet' && f.format !== 'jsonl' && !textOptions.has(f.format)) textOptions.set(f.format, delimitedOptions(cfg, f.format, mapping));

  const sinkOpts = {
    rowsPerFile: cfg.rows_per_file,
    rowGroupSize: cfg.row_group_size,
    compression: cfg.compression,
    metadata: { 'recpost.table': 'interactions', 'recpost.timestamp_unit': timestampUnit },
    schemaOf: emptyBatch(withSessions, extraNames),
  };
  // The staging directory beside the output: refused here (exit 2) when the output holds files recpost did not write.
  const dataset = new IngestDataset(cfg.output, sinkOpts, cfg.encode_in_worker);
  const quarantine = cfg.mode === 'quarantine' ? new QuarantineLog(quarantinePath(dataset.writer.stagingDir)) : null;
  const rejector: Rejector = quarantine ?? new StrictRejector();
  let ipc: ArrowIpcFileWriter | null = null;
  const asm = new BatchAssembler(cfg.batch_size, withSessions, extraNames);
  const sink: RowSink = {
    asm,
    users: vocabs.users,
    items: vocabs.items,
    sessions: vocabs.sessions,
    rejector,
    timestampFormat: cfg.timestamp_format,
    timestampUnit,
    parseTimestamp: makeTimestampParser(cfg.timestamp_format, timestampUnit),
    defaultReward: cfg.default_reward,
    extraNames,
    info: (m) => env.log.info(m),
    maxLineBytes: cfg.max_line_bytes,
    stats: { rowsIn: 0, blankLines: 0, skippedFiles: 0, skippedLines: 0 },
  };

  const totalBytes = files.reduce((s, f) => s + fs.statSync(f.path).size, 0);
  const progress = new Progress('ingest', env.progress, totalBytes);
  let bytesBefore = 0;
  let rowsReported = 0;
  const report = (bytesDone: number) => {
    progress.advance(asm.total - rowsReported, bytesBefore + bytesDone);
    rowsReported = asm.total;
  };
  let ok = false;
  try {
    ipc = cfg.arrow_ipc ? new ArrowIpcFileWriter(dataset.writer.pathFor(cfg.arrow_ipc)) : null;
    for (const f of files) {
      const size = fs.statSync(f.path).size;
      // A text file yields after each chunk (bytes read so far), a Parquet file after each row group (fraction of its rows).
      const steps =
        f.format === 'parquet'
          ? readParquetInput(f.path, sink, mapping, parquet!, cfg.mode === 'quarantine')
          : readTextFile(
              f.path,
              f.format === 'jsonl' ? new JsonlFileParser(sink, f.path, mapping) : new DelimitedFileParser(sink, f.path, textOptions.get(f.format)!),
              cfg.read_bytes,
              (reason) => {
                rejector.rejectFile({ file: f.path, reason });
                sink.stats.skippedFiles++;
              },
            );
      for await (const position of steps) {
        report(f.format === 'parquet' ? Math.round(position * size) : position);
        for (const b of drain(asm)) {
          await dataset.write(b);
          ipc?.write(b);
          yield b;
        }
      }
      bytesBefore += size;
    }
    asm.flush();
    for (const b of drain(asm)) {
      await dataset.write(b);
      ipc?.write(b);
      yield b;
    }
    progress.finish();
    // Every record read is stored, rejected, blank or skipped: a row lost on the way is a bug, never a silent result.
    const accounted = asm.total + rejector.count + sink.stats.blankLines + sink.stats.skippedLines;
    if (accounted !== sink.stats.rowsIn) {
      throw new Error(
        `ingest: internal accounting error: ${sink.stats.rowsIn} records read but ${asm.total} stored + ${rejector.count} rejected + ${sink.stats.blankLines} blank + ${sink.stats.skippedLines} skipped = ${accounted}`,
      );
    }

    await dataset.finishParts();
    if (ipc) await ipc.close(emptyBatch(withSessions, extraNames));
    saveIngestSideFiles(dataset, vocabs, vocabDir, quarantine, ipc, cfg.arrow_ipc);
    const manifest = dataset.writer.commit();
    ok = true;
    const seconds = (performance.now() - t0) / 1000;
    const summary: IngestSummary = {
      files,
      rows: asm.total,
      rowsIn: sink.stats.rowsIn,
      rejected: rejector.count,
      filesSetAside: rejector.files,
      rejectedBy: quarantine ? Object.fromEntries(quarantine.byReason) : {},
      blankLines: sink.stats.blankLines,
      skippedFiles: sink.stats.skippedFiles,
      skippedLines: sink.stats.skippedLines,
      users: vocabs.users.size,
      items: vocabs.items.size,
      ...(vocabs.sessions ? { sessions: vocabs.sessions.size } : {}),
      bytes: totalBytes,
      seconds,
      timestampUnit,
      manifest,
      manifestPath: path.join(cfg.output, '_manifest.json'),
      vocab: vocabs.paths,
      ...(quarantine ? { quarantine: quarantinePath(cfg.output) } : {}),
      ...(ipc && cfg.arrow_ipc ? { arrowIpc: cfg.arrow_ipc } : {}),
    };
    reportSummary(summary, cfg, env);
    return summary;
  } finally {
    await parquet?.terminate();
    if (!ok) {
      quarantine?.abort();
      await ipc?.abort();
      await dataset.abort();
    }
  }
}

/**
 * Write the vocabularies and finish the quarantine file into the staging
 * directory, and list them (and an Arrow IPC file inside the output) in the
 * manifest. A vocab_dir outside the output is written in place (atomically).
 */
function saveIngestSideFiles(
  dataset: IngestDataset,
  vocabs: { users: IdVocabulary; items: IdVocabulary; sessions: IdVocabulary | null; paths: VocabPaths },
  vocabDir: string,
  quarantine: QuarantineLog | null,
  ipc: ArrowIpcFileWriter | null,
  ipcPath: string | undefined,
): void {
  const w = dataset.writer;
  fs.mkdirSync(w.pathFor(vocabDir), { recursive: true });
  const kinds: [IdVocabulary | null, string | undefined][] = [
    [vocabs.users, vocabs.paths.users],
    [vocabs.items, vocabs.paths.items],
    [vocabs.sessions, vocabs.paths.sessions],
  ];
  for (const [vocab, file] of kinds) {
    if (!vocab || !file) continue;
    saveVocabulary(vocab, w.pathFor(file));
    if (w.contains(file)) w.addSideFile(file, 'vocabulary', { rows: vocab.size });
  }
  if (quarantine) {
    quarantine.close();
    w.addSideFile(quarantinePath(w.dir), 'quarantine', { rows: quarantine.count });
  }
  if (ipc && ipcPath && w.contains(ipcPath)) w.addSideFile(ipcPath, 'arrow_ipc', { rows: ipc.rows, bytes: ipc.bytes, sha256: ipc.sha256 });
}

function* drain(asm: BatchAssembler): Generator<Batch> {
  while (asm.ready.length > 0) yield asm.ready.shift()!;
}

function emptyBatch(withSessions: boolean, extraNames: readonly string[]): Batch {
  const columns: Batch['columns'] = {
    user_id: new Int32Array(0),
    item_id: new Int32Array(0),
    timestamp: new BigInt64Array(0),
    reward: new Float32Array(0),
  };
  if (withSessions) columns.session_id = new Int32Array(0);
  for (const n of extraNames) columns[n] = new Float64Array(0);
  return { table: 'interactions', numRows: 0, columns };
}

function reportSummary(s: IngestSummary, cfg: IngestConfig, env: IngestEnv): void {
  const rate = s.seconds > 0 ? s.rows / s.seconds : 0;
  const rejected =
    cfg.mode === 'quarantine'
      ? `, ${s.rejected} rejected → ${s.quarantine}${
          s.rejected
            ? ` (${Object.entries(s.rejectedBy)
                .map(([k, v]) => `${k} ×${v}`)
                .join('; ')})`
            : ''
        }`
      : '';
  const skipped = s.skippedFiles
    ? `, ${s.skippedFiles} file(s) skipped (${s.skippedLines} lines${s.filesSetAside ? `; ${s.filesSetAside} set aside whole` : ''})`
    : '';
  const blank = s.blankLines ? `, ${s.blankLines} blank line(s) skipped` : '';
  env.log.info(
    `ingest: ${s.rows} rows from ${s.files.length} file(s)${rejected}${skipped}${blank}; ${s.users} users, ${s.items} items${s.sessions !== undefined ? `, ${s.sessions} sessions` : ''}; ` +
      `${s.seconds.toFixed(2)} s (${formatCount(rate)} rows/s) → ${cfg.output} (${s.manifest.files.length} part file(s)), vocabularies in ${path.dirname(s.vocab.users)}`,
  );
  env.log.info(`ingest: ${s.rowsIn} records read = ${s.rows} stored + ${s.rejected} rejected + ${s.blankLines} blank + ${s.skippedLines} skipped`);
  const rec = (metric: string, value: number, count = 1) =>
    env.emitMetric?.({ method: 'ingest', seed: env.seed ?? 0, step: 0, epoch: 0, split: 'ingest', metric, value, count });
  rec('rows', s.rows);
  rec('rows_in', s.rowsIn);
  rec('rejected', s.rejected);
  rec('rejected_fraction', s.rows + s.rejected > 0 ? s.rejected / (s.rows + s.rejected) : 0, s.rows + s.rejected);
  rec('skipped_files', s.skippedFiles);
  rec('users', s.users);
  rec('items', s.items);
  rec('rows_per_second', rate);
}
