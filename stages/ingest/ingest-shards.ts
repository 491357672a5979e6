/**
 * The ingest as shards, for an engine that runs them on other processes or
 * machines (pipelines/engine): plain functions of JSON values, each
 * idempotent — a retried or duplicated call rewrites the same files with the
 * same bytes, or (commit) finds its work done and changes nothing.
 *
 *   planIngestRanges → scanRangeIds per range (pass 1: the range's ids in
 *   first-seen order) → mergeRangeIds (the vocabularies, merged in range
 *   order: equal to the sequential run's) → ingestRange per range (pass 2:
 *   parts encoded with the fixed vocabularies) → commitIngest (parts,
 *   vocabularies, quarantine file and manifest moved into the output through
 *   the staged commit, in range order).
 *
 * The dataset equals the single-process run's row for row (and bucket for
 * bucket with user_buckets > 1); its parts are cut per range, so their
 * number and sizes may differ. Line numbers are global: planning counts the
 * line breaks before each cut. A CSV/TSV file holding the quote byte after
 * its header is not cut (a quoted field may hold a line break), and planning
 * says so once per file. `arrow_ipc` is not written by a sharded ingest.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Batch } from '../core/batch.js';
import { sliceBatch } from '../core/batch.js';
import { ConfigError } from '../core/config-schema.js';
import { stderrLogger, type Logger } from '../core/logger.js';
import { encodePartInline, sha256Hex } from '../io/dataset-writer.js';
import { DatasetError, readManifest, MANIFEST_NAME, type DatasetManifest } from '../io/manifest.js';
import { sha256OfFile } from '../io/manifest-read.js';
import { recoverInterrupted } from '../io/manifest-staging.js';
import { parquetRowCount, writeFileAtomic, type ParquetWriteOptions } from '../io/parquet.js';
import { headerOfFile, planRanges } from './byte-ranges.js';
import type { InputFormat } from './format-detect.js';
import { IdVocabulary } from './id-vocabulary.js';
import type { IngestConfig } from './ingest-config.js';
import { ingestInputFiles, parseSettings, sessionsKept, type InputFile, type ParseSettings } from './ingest-inputs.js';
import { emptyBatch, openVocabularies, type IngestSummary } from './ingest-run.js';
import { quarantinePath } from './output-dir.js';
import { ParquetReadWorker } from './parquet-read-worker.js';
import { partName, PartsDataset } from './parts-dataset.js';
import { CollectingRejector, parseRange, rangeSink, type RangeTask, type RejectEntry } from './range-parse.js';
import { QuarantineLog, StrictRejector, type Rejector } from './rejects.js';
import { trackTemp, untrackTemp } from './temp-files.js';
import { defaultUnit } from './timestamp-parse.js';
import { UserBuckets } from './user-buckets.js';
import { loadVocabulary, saveVocabulary, vocabPaths } from './vocab-files.js';

export interface IngestRange {
  index: number;
  file: string;
  /** First byte of the range (0, or a line start after the header). */
  start: number;
  /** No record starting at or after this byte belongs to the range. */
  end: number;
  /** 1-based line number of the range's first line. */
  firstLine: number;
  /** Filled by planning (pass ranges back as returned): the file's format, its header names or first JSON object's keys. */
  format?: InputFormat;
  header?: string[];
  keys?: string[];
}

export interface IngestRangePart {
  /** Absolute path of the part file written in partsDir. */
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
  bucket?: number;
}

export interface IngestRangeCounters {
  rows: number;
  rowsIn: number;
  rejected: number;
  filesSetAside: number;
  blankLines: number;
  skippedFiles: number;
  skippedLines: number;
}

export interface IngestRangeResult {
  index: number;
  file: string;
  start: number;
  end: number;
  parts: IngestRangePart[];
  /** Quarantine mode: the range's rejections (JSON Lines of {row} / {file} entries), replayed in order by the commit. */
  quarantine?: { path: string; rows: number; files: number };
  counters: IngestRangeCounters;
}

interface ShardContext {
  files: InputFile[];
  withSessions: boolean;
  settings: ParseSettings;
}

async function shardContext(cfg: IngestConfig): Promise<ShardContext> {
  if (cfg.arrow_ipc !== undefined) {
    const why = 'arrow_ipc is not written by a sharded ingest; convert the committed dataset instead';
    throw new ConfigError(`ingest: ${why}`, [why]);
  }
  const files = ingestInputFiles(cfg);
  const withSessions = await sessionsKept(cfg, files, null);
  return { files, withSessions, settings: parseSettings(cfg, files, withSessions) };
}

const pad = (n: number) => String(n).padStart(5, '0');

/** The range as the parser's task; header names are found again when a caller dropped them. */
async function taskOf(ctx: ShardContext, range: IngestRange): Promise<RangeTask> {
  const file = ctx.files.find((f) => f.path === range.file);
  const format = range.format ?? file?.format;
  if (!format) throw new ConfigError(`ingest: range ${range.index}: ${range.file} is not among the inputs of path`, ['range']);
  let { header, keys } = range;
  if (range.start > 0 && format !== 'parquet' && !header && !keys) {
    const found = await headerOfFile({ path: range.file, format }, ctx.settings);
    if (!found)
      throw new ConfigError(`ingest: range ${range.index} of ${range.file} starts at byte ${range.start}, but the file's header cannot be read`, ['range']);
    ({ header, keys } = found);
  }
  return {
    file: range.file,
    format,
    start: range.start,
    stop: range.end,
    size: fs.statSync(range.file).size,
    lineBase: range.start > 0 ? range.firstLine - 1 : 0,
    ...(header ? { header } : {}),
    ...(keys ? { keys } : {}),
  };
}

/** Parse a range with a Parquet reader made on demand (and stopped after). */
async function parseShard(task: RangeTask, ...args: [Parameters<typeof parseRange>[1], ParseSettings, () => void | Promise<void>]) {
  let parquet: ParquetReadWorker | null = null;
  try {
    return await parseRange(task, args[0], args[1], () => (parquet ??= new ParquetReadWorker()), args[2]);
  } finally {
    await (parquet as ParquetReadWorker | null)?.terminate();
  }
}

/**
 * Plan about `count` ranges over the inputs (text files cut at line starts;
 * each Parquet file, and each text file that cannot be cut, is one range).
 */
export async function planIngestRanges(cfg: IngestConfig, count: number, log: Pick<Logger, 'info'> = stderrLogger()): Promise<IngestRange[]> {
  if (!Number.isSafeInteger(count) || count < 1) throw new ConfigError(`ingest: the number of ranges must be a positive integer, got ${count}`, ['count']);
  const ctx = await shardContext(cfg);
  const textBytes = ctx.files.filter((f) => f.format !== 'parquet').reduce((s, f) => s + fs.statSync(f.path).size, 0);
  const rangeBytes = Math.max(1, Math.ceil(textBytes / count));
  const ranges = await planRanges(ctx.files, ctx.settings, { rangeBytes, countLines: true, refuseQuoted: true, info: (m) => log.info(m) });
  return ranges.map((r) => ({
    index: r.index,
    file: r.file,
    start: r.start,
    end: r.stop,
    firstLine: r.firstLine,
    format: r.format,
    ...(r.header ? { header: r.header } : {}),
    ...(r.keys ? { keys: r.keys } : {}),
  }));
}

interface RangeIds {
  index: number;
  file: string;
  start: number;
  end: number;
  rows: number;
  users: string[];
  items: string[];
  sessions?: string[];
}

/** Pass 1: the range's user, item (and session) ids in first-seen order, written to `outFile` (JSON). */
export async function scanRangeIds(cfg: IngestConfig, range: IngestRange, outFile: string): Promise<{ rows: number }> {
  const ctx = await shardContext(cfg);
  const task = await taskOf(ctx, range);
  const vocabs = { users: new IdVocabulary('users'), items: new IdVocabulary('items'), sessions: ctx.withSessions ? new IdVocabulary('sessions') : null };
  // Rejected rows add no id; in strict mode the error itself is raised by pass 2.
  const sink = rangeSink(ctx.settings, vocabs, new CollectingRejector(false), () => undefined);
  const parsed = await parseShard(task, sink, ctx.settings, () => {
    sink.asm.ready.length = 0;
  });
  sink.asm.flush();
  const ids: RangeIds = {
    index: range.index,
    file: range.file,
    start: range.start,
    end: parsed.end,
    rows: sink.asm.total,
    users: vocabs.users.rawIds(),
    items: vocabs.items.rawIds(),
    ...(vocabs.sessions ? { sessions: vocabs.sessions.rawIds() } : {}),
  };
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  writeFileAtomic(outFile, JSON.stringify(ids));
  return { rows: ids.rows };
}

/**
 * Merge the ranges' ids (files in range order) into the vocabularies —
 * starting from the loaded ones with `vocab: extend` / `fixed` — and write
 * them to `vocabDir` (users.parquet, items.parquet[, sessions.parquet]).
 */
export async function mergeRangeIds(cfg: IngestConfig, files: string[], vocabDir: string): Promise<{ users: number; items: number }> {
  const ctx = await shardContext(cfg);
  const quiet = stderrLogger(true);
  const vocabs = await openVocabularies(cfg, cfg.vocab_dir ?? path.join(cfg.output, 'vocab'), ctx.withSessions, quiet);
  let prev: RangeIds | null = null;
  for (const f of files) {
    const ids = JSON.parse(fs.readFileSync(f, 'utf8')) as RangeIds;
    if (prev && prev.file === ids.file && ids.start !== prev.end)
      throw new Error(
        `ingest: ${ids.file}: range ${ids.index} starts at byte ${ids.start}, but the previous range's last record ends at byte ${prev.end}; list the id files in range order, or plan the ranges again`,
      );
    for (const raw of ids.users) vocabs.users.indexOfString(raw);
    for (const raw of ids.items) vocabs.items.indexOfString(raw);
    if (vocabs.sessions) for (const raw of ids.sessions ?? []) vocabs.sessions.indexOfString(raw);
    prev = ids;
  }
  fs.mkdirSync(vocabDir, { recursive: true });
  const out = vocabPaths(vocabDir, ctx.withSessions);
  saveVocabulary(vocabs.users, out.users);
  saveVocabulary(vocabs.items, out.items);
  if (vocabs.sessions && out.sessions) saveVocabulary(vocabs.sessions, out.sessions);
  return { users: vocabs.users.size, items: vocabs.items.size };
}

function encodeOptions(cfg: IngestConfig): ParquetWriteOptions {
  const unit = cfg.timestamp_unit ?? defaultUnit(cfg.timestamp_format);
  return { compression: cfg.compression, rowGroupSize: cfg.row_group_size, metadata: { 'recpost.table': 'interactions', 'recpost.timestamp_unit': unit } };
}

/** A finished range's result kept beside its parts, so that a retried call returns it instead of writing the parts again. */
function cachedResult(file: string, key: string): IngestRangeResult | null {
  try {
    const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as { key: string; result: IngestRangeResult };
    if (kept.key !== key) return null;
    const whole = kept.result.parts.every((p) => fs.statSync(p.path, { throwIfNoEntry: false })?.size === p.bytes);
    const rejects = kept.result.quarantine ? fs.existsSync(kept.result.quarantine.path) : true;
    return whole && rejects ? kept.result : null;
  } catch {
    return null;
  }
}

/**
 * Pass 2: parse the range with the merged vocabularies and write its parts
 * into `partsDir` (names from the range index). A call repeated after one
 * that finished returns that one's result and writes nothing.
 */
export async function ingestRange(cfg: IngestConfig, range: IngestRange, vocabDir: string, partsDir: string): Promise<IngestRangeResult> {
  const resultFile = path.resolve(partsDir, `range-${pad(range.index)}-result.json`);
  const key = sha256Hex(JSON.stringify({ cfg, range, vocabDir: path.resolve(vocabDir) }));
  const cached = cachedResult(resultFile, key);
  if (cached) return cached;
  const ctx = await shardContext(cfg);
  const task = await taskOf(ctx, range);
  const paths = vocabPaths(vocabDir, ctx.withSessions);
  const users = await loadVocabulary(paths.users, 'users');
  const items = await loadVocabulary(paths.items, 'items');
  const sessions = paths.sessions ? await loadVocabulary(paths.sessions, 'sessions') : null;
  for (const v of [users, items, sessions]) if (v) v.frozen = true;
  const quarantine = cfg.mode === 'quarantine';
  const rejector: Rejector = quarantine ? new CollectingRejector(false) : new StrictRejector();
  const sink = rangeSink(ctx.settings, { users, items, sessions }, rejector, () => undefined);
  const buckets = cfg.user_buckets > 1 ? new UserBuckets(cfg.user_buckets, users) : null;
  fs.mkdirSync(partsDir, { recursive: true });
  const opts = encodeOptions(cfg);
  const parts: IngestRangePart[] = [];
  const pending = new Map<number, { batches: Batch[]; rows: number; next: number }>();
  const flush = (bucket: number) => {
    const p = pending.get(bucket);
    if (!p || p.rows === 0) return;
    const name = `range-${pad(range.index)}${buckets ? `-bucket-${pad(bucket)}` : ''}-part-${pad(p.next++)}.parquet`;
    const file = path.resolve(partsDir, name);
    const tmp = `${file}.tmp-${process.pid}`;
    trackTemp(tmp);
    try {
      const w = encodePartInline(p.batches, tmp, opts);
      fs.renameSync(tmp, file);
      parts.push({ path: file, rows: p.rows, bytes: w.bytes, sha256: w.sha256, ...(buckets ? { bucket } : {}) });
    } finally {
      fs.rmSync(tmp, { force: true });
      untrackTemp(tmp);
    }
    p.batches = [];
    p.rows = 0;
  };
  const add = (bucket: number, batch: Batch) => {
    let p = pending.get(bucket);
    if (!p) pending.set(bucket, (p = { batches: [], rows: 0, next: 0 }));
    for (let start = 0; start < batch.numRows;) {
      const take = Math.min(batch.numRows - start, cfg.rows_per_file - p.rows);
      p.batches.push(take === batch.numRows ? batch : sliceBatch(batch, start, start + take));
      p.rows += take;
      start += take;
      if (p.rows >= cfg.rows_per_file) flush(bucket);
    }
  };
  const drain = () => {
    for (const b of sink.asm.ready.splice(0)) {
      if (buckets) for (const x of buckets.split(b)) add(x.bucket, x.batch);
      else add(0, b);
    }
  };
  const parsed = await parseShard(task, sink, ctx.settings, drain);
  sink.asm.flush();
  drain();
  for (const b of [...pending.keys()].sort((x, y) => x - y)) flush(b);
  // Parts of one bucket are listed in order; the commit orders buckets.
  let rejects: IngestRangeResult['quarantine'];
  if (rejector instanceof CollectingRejector) {
    const file = path.resolve(partsDir, `range-${pad(range.index)}-rejected.jsonl`);
    writeFileAtomic(file, rejector.entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    rejects = { path: file, rows: rejector.count, files: rejector.files };
  }
  const result: IngestRangeResult = {
    index: range.index,
    file: range.file,
    start: range.start,
    end: parsed.end,
    parts,
    ...(rejects ? { quarantine: rejects } : {}),
    counters: {
      rows: sink.asm.total,
      rowsIn: sink.stats.rowsIn,
      rejected: rejector.count,
      filesSetAside: rejector.files,
      blankLines: sink.stats.blankLines,
      skippedFiles: sink.stats.skippedFiles,
      skippedLines: sink.stats.skippedLines,
    },
  };
  writeFileAtomic(resultFile, JSON.stringify({ key, result }));
  return result;
}

/** Replay the ranges' rejections, in order, into a quarantine log. */
function replayRejects(results: IngestRangeResult[], q: QuarantineLog): void {
  for (const r of results) {
    if (!r.quarantine) continue;
    const text = fs.readFileSync(r.quarantine.path, 'utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const e = JSON.parse(line) as RejectEntry;
      if ('row' in e) q.reject(e.row);
      else q.rejectFile(e.file);
    }
  }
}

/**
 * Every part of the results in dataset order (bucket-major, then range
 * order, then each range's order), with its size and SHA-256 measured from
 * the file: a range delivered twice at once may have rewritten its parts
 * after its result was taken (parquet-wasm orders footer metadata by a hash
 * map, so equal rows need not give equal bytes), and the manifest must
 * describe the bytes that are there.
 */
async function orderedParts(results: IngestRangeResult[]): Promise<IngestRangePart[]> {
  const all = results.flatMap((r, k) => r.parts.map((p, j) => ({ p, k, j })));
  all.sort((a, b) => (a.p.bucket ?? 0) - (b.p.bucket ?? 0) || a.k - b.k || a.j - b.j);
  const out: IngestRangePart[] = [];
  for (const { p } of all) {
    const st = fs.statSync(p.path, { throwIfNoEntry: false });
    if (!st) throw new DatasetError(`ingest: ${p.path}: a part of range results given to the commit is missing; run that range again`);
    out.push({ ...p, bytes: st.size, sha256: await sha256OfFile(p.path) });
  }
  return out;
}

function alreadyCommitted(output: string, parts: IngestRangePart[]): DatasetManifest | null {
  if (!fs.existsSync(path.join(output, MANIFEST_NAME))) return null;
  let m: DatasetManifest;
  try {
    m = readManifest(output);
  } catch {
    return null;
  }
  const same =
    m.files.length === parts.length && m.files.every((f, k) => f.sha256 === parts[k]!.sha256 && f.rows === parts[k]!.rows && f.bucket === parts[k]!.bucket);
  return same ? m : null;
}

/**
 * Move the ranges' parts into `cfg.output` through the staged commit, with
 * the vocabularies of `vocabDir`, the quarantine file and the manifest.
 * Results may come in any order and more than once (one per range index is
 * used). A commit whose dataset is already in place changes nothing.
 */
export async function commitIngest(cfg: IngestConfig, results: IngestRangeResult[], vocabDir: string): Promise<IngestSummary> {
  const t0 = performance.now();
  const ctx = await shardContext(cfg);
  const byIndex = new Map<number, IngestRangeResult>();
  for (const r of results) if (!byIndex.has(r.index)) byIndex.set(r.index, r);
  const ordered = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const parts = await orderedParts(ordered);
  const sum = (k: keyof IngestRangeCounters) => ordered.reduce((s, r) => s + r.counters[k], 0);
  const finalVocab = vocabPaths(cfg.vocab_dir ?? path.join(cfg.output, 'vocab'), ctx.withSessions);
  const merged = vocabPaths(vocabDir, ctx.withSessions);
  const quarantineMode = cfg.mode === 'quarantine';
  const counts = { rows: sum('rows'), rejected: sum('rejected'), blank: sum('blankLines'), skipped: sum('skippedLines'), rowsIn: sum('rowsIn') };
  if (counts.rows + counts.rejected + counts.blank + counts.skipped !== counts.rowsIn)
    throw new Error(
      `ingest: internal accounting error: the ranges read ${counts.rowsIn} records but hold ${counts.rows} stored + ${counts.rejected} rejected + ${counts.blank} blank + ${counts.skipped} skipped`,
    );

  for (const line of recoverInterrupted(cfg.output)) stderrLogger().info(`ingest: ${line}`);
  let manifest = alreadyCommitted(cfg.output, parts);
  let byReason = new Map<string, number>();
  if (manifest) {
    // A retried or duplicated commit: count the rejections again without writing anything.
    if (quarantineMode) {
      const q = new QuarantineLog(path.join(os.tmpdir(), `recpost-recount-${process.pid}`, 'rejected.jsonl'));
      try {
        replayRejects(ordered, q);
        byReason = q.byReason;
      } finally {
        q.abort();
        fs.rmSync(path.dirname(q.file), { recursive: true, force: true });
      }
    }
  } else {
    const ds = new PartsDataset(cfg.output, {
      compression: cfg.compression,
      schemaOf: emptyBatch(ctx.withSessions, Object.keys(cfg.extra_columns)),
      stage: 'ingest',
    });
    let q: QuarantineLog | null = null;
    try {
      const next = new Map<number, number>();
      for (const p of parts) {
        const k = next.get(p.bucket ?? 0) ?? 0;
        next.set(p.bucket ?? 0, k + 1);
        ds.adoptPart(p.path, partName(k, p.bucket), p);
      }
      for (const kind of ['users', 'items', 'sessions'] as const) {
        const src = merged[kind];
        const dst = finalVocab[kind];
        if (!src || !dst) continue;
        const staged = ds.pathFor(dst);
        fs.mkdirSync(path.dirname(staged), { recursive: true });
        writeFileAtomic(staged, fs.readFileSync(src));
        if (ds.contains(dst)) ds.addSideFile(dst, 'vocabulary', { rows: await parquetRowCount(src) });
      }
      if (quarantineMode) {
        q = new QuarantineLog(quarantinePath(ds.stagingDir));
        replayRejects(ordered, q);
        q.close();
        byReason = q.byReason;
        ds.addSideFile(quarantinePath(cfg.output), 'quarantine', { rows: q.count });
      }
      manifest = ds.commit();
    } catch (e) {
      q?.abort();
      ds.abort();
      throw e;
    }
  }
  return {
    files: ctx.files,
    rows: counts.rows,
    rowsIn: counts.rowsIn,
    rejected: counts.rejected,
    filesSetAside: sum('filesSetAside'),
    rejectedBy: quarantineMode ? Object.fromEntries(byReason) : {},
    blankLines: counts.blank,
    skippedFiles: sum('skippedFiles'),
    skippedLines: counts.skipped,
    users: await parquetRowCount(merged.users),
    items: await parquetRowCount(merged.items),
    ...(merged.sessions ? { sessions: await parquetRowCount(merged.sessions) } : {}),
    bytes: ctx.files.reduce((s, f) => s + fs.statSync(f.path).size, 0),
    seconds: (performance.now() - t0) / 1000,
    timestampUnit: ctx.settings.timestampUnit,
    manifest,
    manifestPath: path.join(cfg.output, MANIFEST_NAME),
    vocab: finalVocab,
    ...(quarantineMode ? { quarantine: quarantinePath(cfg.output) } : {}),
  };
}
