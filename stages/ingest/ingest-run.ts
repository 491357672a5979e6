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
import * as os from 'node:os';
import * as path from 'node:path';
import { ARTIFACT, type ArtifactMap } from '../core/artifacts.js';
import type { Batch } from '../core/batch.js';
import type { Logger } from '../core/logger.js';
import { Progress, formatCount } from '../core/progress.js';
import type { DatasetManifest } from '../io/dataset-writer.js';
import { recoverInterrupted } from '../io/manifest-staging.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { ArrowIpcFileWriter } from './arrow-ipc-file.js';
import { BatchAssembler } from './batch-assembler.js';
import { IngestDataset } from './dataset-sink.js';
import { BucketedIngestDataset } from './bucket-writer.js';
import { UserBuckets } from './user-buckets.js';
import { DelimitedFileParser } from './delimited-parser.js';
import type { InputFormat } from './format-detect.js';
import { IdVocabulary } from './id-vocabulary.js';
import type { IngestConfig } from './ingest-config.js';
import { ingestInputFiles, parseSettings, sessionsKept, type ParseSettings } from './ingest-inputs.js';
import { planRanges } from './byte-ranges.js';
import { ingestRanges } from './parallel-ingest.js';
import { RangeWorkerPool } from './range-pool.js';
import { Rebatcher } from './rebatch.js';
import { JsonlFileParser } from './jsonl-parser.js';
import { quarantinePath } from './output-dir.js';
import { readParquetInput } from './parquet-input.js';
import { ParquetReadWorker } from './parquet-read-worker.js';
import { QuarantineLog, StrictRejector, type Rejector } from './rejects.js';
import type { RowSink } from './row-sink.js';
import { readTextFile } from './text-reader.js';
import { defaultUnit, makeTimestampParser } from './timestamp-parse.js';
import { loadVocabulary, saveVocabulary, vocabPaths, type VocabPaths } from './vocab-files.js';

/** Where the ingest writes its dataset: unpartitioned (IngestDataset) or by user bucket (BucketedIngestDataset). */
interface IngestOutput {
  readonly writer: {
    readonly dir: string;
    readonly stagingDir: string;
    pathFor(p: string): string;
    contains(p: string): boolean;
    addSideFile(p: string, role: 'vocabulary' | 'arrow_ipc' | 'quarantine', info?: { rows?: number; bytes?: number; sha256?: string }): void;
    commit(): DatasetManifest;
  };
  write(batch: Batch): Promise<void>;
  finishParts(): Promise<void>;
  abort(): Promise<void>;
}

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

export async function openVocabularies(cfg: IngestConfig, dir: string, withSessions: boolean, log: Logger) {
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
  const files = ingestInputFiles(cfg, env.log);
  const extraNames = Object.keys(cfg.extra_columns);
  // Parquet files are decoded on a worker thread, which a corrupt page cannot take the process down with.
  const parquet = files.some((f) => f.format === 'parquet') ? new ParquetReadWorker() : null;
  const withSessions = await sessionsKept(cfg, files, parquet);
  const timestampUnit = cfg.timestamp_unit ?? defaultUnit(cfg.timestamp_format);
  const vocabDir = cfg.vocab_dir ?? path.join(cfg.output, 'vocab');
  // A kill in the middle of the previous run's swap left the previous dataset (and its vocabularies) beside the output: put it back first.
  for (const line of recoverInterrupted(cfg.output)) env.log.info(`ingest: ${line}`);
  const vocabs = await openVocabularies(cfg, vocabDir, withSessions, env.log);

  // Options of each text format, checked before anything in the output is touched.
  const settings = parseSettings(cfg, files, withSessions);

  const sinkOpts = {
    rowsPerFile: cfg.rows_per_file,
    rowGroupSize: cfg.row_group_size,
    compression: cfg.compression,
    metadata: { 'recpost.table': 'interactions', 'recpost.timestamp_unit': timestampUnit },
    schemaOf: emptyBatch(withSessions, extraNames),
  };
  // The staging directory beside the output: refused here (exit 2) when the output holds files recpost did not write.
  const dataset: IngestOutput =
    cfg.user_buckets > 1
      ? new BucketedIngestDataset(cfg.output, sinkOpts, cfg.encode_in_worker, new UserBuckets(cfg.user_buckets, vocabs.users))
      : new IngestDataset(cfg.output, sinkOpts, cfg.encode_in_worker);
  const quarantine = cfg.mode === 'quarantine' ? new QuarantineLog(quarantinePath(dataset.writer.stagingDir)) : null;
  const rejector: Rejector = quarantine ?? new StrictRejector();
  let ipc: ArrowIpcFileWriter | null = null;
  // Shared columns when a worker encodes the parts: it reads them in place (no copy on this thread).
  const asm = new BatchAssembler(cfg.batch_size, withSessions, extraNames, cfg.encode_in_worker);
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
  // One thread: the parsers fill `asm` on this thread. Several: ranges parsed on worker threads are merged into `rows`.
  let rows: { readonly ready: Batch[]; readonly total: number; flush(): void } = asm;
  let rowsReported = 0;
  const report = (bytesDone: number) => {
    progress.advance(rows.total - rowsReported, bytesDone);
    rowsReported = rows.total;
  };
  let ok = false;
  let pool: RangeWorkerPool | null = null;
  try {
    ipc = cfg.arrow_ipc ? new ArrowIpcFileWriter(dataset.writer.pathFor(cfg.arrow_ipc)) : null;
    const threads = cfg.threads === 0 ? os.availableParallelism() : cfg.threads;
    const ranges =
      threads > 1
        ? await planRanges(files, settings, { rangeBytes: cfg.range_bytes, countLines: false, refuseQuoted: false, info: (m) => env.log.info(m) })
        : [];
    let steps: AsyncGenerator<number>;
    if (ranges.length > 1) {
      const n = Math.min(threads, ranges.length);
      pool = await RangeWorkerPool.start(n, settings, vocabs.users.frozen ? { users: vocabs.paths.users, items: vocabs.paths.items } : null);
      env.log.info(`ingest: ${ranges.length} byte ranges on ${n} threads`);
      const merged = new Rebatcher(cfg.batch_size);
      rows = merged;
      steps = ingestRanges(ranges, pool, { ...vocabs, rejector, stats: sink.stats, info: (m) => env.log.info(m), rows: merged }, n + 2);
    } else steps = sequentialSteps(files, sink, settings, parquet);
    for await (const bytesDone of steps) {
      report(bytesDone);
      for (const b of drain(rows)) {
        await dataset.write(b);
        ipc?.write(b);
        yield b;
      }
    }
    await pool?.close();
    pool = null;
    rows.flush();
    for (const b of drain(rows)) {
      await dataset.write(b);
      ipc?.write(b);
      yield b;
    }
    progress.finish();
    // Every record read is stored, rejected, blank or skipped: a row lost on the way is a bug, never a silent result.
    const accounted = rows.total + rejector.count + sink.stats.blankLines + sink.stats.skippedLines;
    if (accounted !== sink.stats.rowsIn) {
      throw new Error(
        `ingest: internal accounting error: ${sink.stats.rowsIn} records read but ${rows.total} stored + ${rejector.count} rejected + ${sink.stats.blankLines} blank + ${sink.stats.skippedLines} skipped = ${accounted}`,
      );
    }

    // The last parts are handed to the encoder at once (finishParts flushes before its first await);
    // the side files are written on this thread while the worker encodes them.
    const partsDone = dataset.finishParts();
    partsDone.catch(() => undefined); // reported by the await below, or replaced by a side file's error
    if (ipc) await ipc.close(emptyBatch(withSessions, extraNames));
    saveIngestSideFiles(dataset, vocabs, vocabDir, quarantine, ipc, cfg.arrow_ipc);
    await partsDone;
    const manifest = dataset.writer.commit();
    ok = true;
    const seconds = (performance.now() - t0) / 1000;
    const summary: IngestSummary = {
      files,
      rows: rows.total,
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
    await pool?.close();
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
  dataset: IngestOutput,
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

function* drain(rows: { readonly ready: Batch[] }): Generator<Batch> {
  while (rows.ready.length > 0) yield rows.ready.shift()!;
}

/**
 * The one-thread ingest: every file through its parser on this thread, in
 * order. Yields the input bytes done: a text file after each chunk, a
 * Parquet file after each row group (by its fraction of rows).
 */
async function* sequentialSteps(
  files: { path: string; format: InputFormat }[],
  sink: RowSink,
  settings: ParseSettings,
  parquet: ParquetReadWorker | null,
): AsyncGenerator<number> {
  let bytesBefore = 0;
  for (const f of files) {
    const size = fs.statSync(f.path).size;
    const steps =
      f.format === 'parquet'
        ? readParquetInput(f.path, sink, settings.mapping, parquet!, settings.quarantine)
        : readTextFile(
            f.path,
            f.format === 'jsonl' ? new JsonlFileParser(sink, f.path, settings.mapping) : new DelimitedFileParser(sink, f.path, settings.textOptions[f.format]!),
            settings.readBytes,
            (reason) => {
              sink.rejector.rejectFile({ file: f.path, reason });
              sink.stats.skippedFiles++;
            },
          );
    for await (const position of steps) yield bytesBefore + (f.format === 'parquet' ? Math.round(position * size) : position);
    bytesBefore += size;
  }
}

export function emptyBatch(withSessions: boolean, extraNames: readonly string[]): Batch {
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

/** What an ingest publishes for later stages (the stage, and the sharded ingest's coordinator): vocabularies, the dataset, the summary. */
export function publishIngestArtifacts(artifacts: ArtifactMap, cfg: IngestConfig, s: IngestSummary): void {
  artifacts.set(ARTIFACT.vocab, s.vocab);
  artifacts.set(ARTIFACT.dataset, {
    dir: cfg.output,
    manifest: s.manifest,
    manifestPath: s.manifestPath,
    table: 'interactions',
    timestampUnit: s.timestampUnit,
  });
  artifacts.set(ARTIFACT.ingest, s);
}

export function reportSummary(s: IngestSummary, cfg: IngestConfig, env: IngestEnv): void {
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
