/**
 * Writes a stream of batches as a Parquet dataset directory:
 *
 *   <dir>/part-00000.parquet, part-00001.parquet, …            (unpartitioned)
 *   <dir>/split=train/part-00000.parquet, split=test/…          (Hive-partitioned)
 *   <dir>/_manifest.json   every file with rows, bytes, SHA-256; the schema
 *
 * The one layout and the one manifest writer of every recpost dataset
 * (write_parquet, split_sequences, ingest, simulators, spills). Each part holds
 * at most `rowsPerFile` rows (exactly that many except the last of each
 * partition) in row groups of `rowGroupSize` rows, so a reader's memory is
 * bounded by a part. Partition values are written as names (split codes map
 * to train/valid/test).
 *
 * Everything is written into a staging directory beside `dir` and moved into
 * place by `commit` (manifest-staging.ts): until then the previous dataset at
 * `dir` is untouched, and a failed or killed writer never leaves a mixture.
 * Part files are hashed as they are encoded (the bytes in memory, no second
 * read). Encoding is synchronous by default; an asynchronous `encode` hook
 * (ingest encodes on a worker thread) keeps at most `maxInFlight` parts
 * encoding at once — use `writeAsync` / `closeAsync` with it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch, NumericColumn } from '../core/batch.js';
import { concatBatches, sliceBatch, takeRows } from '../core/batch.js';
import { SPLIT_NAMES } from '../../schemas/tables.js';
import { batchToArrow } from '../core/arrow.js';
import { encodeParquet, type ParquetWriteOptions } from './parquet.js';
import {
  DatasetError,
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  MANIFEST_VERSION,
  manifestText,
  recpostVersion,
  type DatasetManifest,
  type ManifestSideFile,
  type SchemaField,
  type SideFileRole,
} from './manifest.js';
import { claimWrite } from './manifest-claims.js';
import { StagedDirectory } from './manifest-staging.js';

export type { DatasetManifest } from './manifest.js';

/** What encoding one part produced. */
export interface PartWritten {
  bytes: number;
  /** Hex SHA-256 of the bytes written. */
  sha256: string;
}

/** Encode `batches` as one Parquet file at `file` (a fresh path in the staging directory). */
export type PartEncoder = (batches: Batch[], file: string, opts: ParquetWriteOptions) => PartWritten | Promise<PartWritten>;

export interface DatasetWriterOptions extends ParquetWriteOptions {
  rowsPerFile?: number;
  /** Column to Hive-partition by (integer codes; `split` maps to names). */
  partitionBy?: string;
  /** Part encoder (default: encode on this thread). */
  encode?: PartEncoder;
  /** Most parts encoding at once with an asynchronous encoder (default 2). */
  maxInFlight?: number;
  /** Table name recorded when no batch arrives. */
  table?: string;
  /** A batch (zero rows is fine) giving the schema recorded when no batch arrives. */
  schemaOf?: Batch;
  /** Who writes (stage name), recorded in the manifest and named in errors. */
  stage?: string;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bytes of one part file (what every encoder writes, wherever it writes them). */
export function encodePartBytes(batches: Batch[], opts: ParquetWriteOptions): Uint8Array {
  return encodeParquet(batches.length === 1 ? batches : [concatBatches(batches)], opts);
}

/** The default encoder: encode here, write, hash the bytes written. */
export function encodePartInline(batches: Batch[], file: string, opts: ParquetWriteOptions): PartWritten {
  const bytes = encodePartBytes(batches, opts);
  fs.writeFileSync(file, bytes);
  return { bytes: bytes.length, sha256: sha256Hex(bytes) };
}

function schemaFields(batch: Batch): SchemaField[] {
  return batchToArrow(batch).schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
}

const abandonedWriters = new FinalizationRegistry<() => void>((release) => release());

export class DatasetWriter {
  private pending = new Map<string, { batches: Batch[]; rows: number; next: number }>();
  private readonly manifest: DatasetManifest;
  private readonly sideFiles: ManifestSideFile[] = [];
  private readonly rowsPerFile: number;
  private readonly encode: PartEncoder;
  private readonly inFlight: Promise<void>[] = [];
  private readonly staged: StagedDirectory;
  private readonly release: () => void;
  private readonly what: string;
  private schema: SchemaField[] | undefined;

  constructor(
    readonly dir: string,
    private readonly opts: DatasetWriterOptions = {},
  ) {
    this.what = opts.stage ?? 'dataset writer';
    this.rowsPerFile = opts.rowsPerFile ?? 1 << 20;
    this.encode = opts.encode ?? encodePartInline;
    this.release = claimWrite(dir, this.what);
    try {
      this.staged = new StagedDirectory(dir, this.what);
    } catch (e) {
      this.release();
      throw e;
    }
    // A writer abandoned without commit or abort (its pipeline failed downstream and never resumed it)
    // gives its claim back when it is collected; its staging directory goes at exit or with the next writer.
    abandonedWriters.register(this, this.release, this);
    this.manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      writer: { name: 'recpost', version: recpostVersion(), ...(opts.stage ? { stage: opts.stage } : {}) },
      table: '',
      rows: 0,
      files: [],
      side_files: this.sideFiles,
      schema: [],
      ...(opts.partitionBy ? { partitionBy: opts.partitionBy } : {}),
      compression: opts.compression ?? 'zstd',
      createdAt: new Date().toISOString(),
    };
  }

  /** The directory being written now (moved to `dir` by commit). */
  get stagingDir(): string {
    return this.staged.staging;
  }

  /** Where a file destined for `p` inside the dataset is written now (paths outside it are returned unchanged). */
  pathFor(p: string): string {
    return this.staged.pathFor(p);
  }

  /** True when `p` lies inside the dataset directory. */
  contains(p: string): boolean {
    return this.staged.contains(p);
  }

  private partitionName(code: number): string {
    if (this.opts.partitionBy === 'split') return SPLIT_NAMES[code] ?? String(code);
    return String(code);
  }

  /** Add a batch (synchronous encoders; with an asynchronous one, use writeAsync for back-pressure). */
  write(batch: Batch): void {
    if (batch.numRows === 0) return;
    this.manifest.table ||= batch.table;
    this.schema ??= schemaFields(batch);
    const key = this.opts.partitionBy;
    if (!key) return this.add('', batch);
    const col = batch.columns[key] as NumericColumn | undefined;
    if (!col || !ArrayBuffer.isView(col)) throw new DatasetError(`${this.what}: partition column "${key}" missing or not numeric`);
    const groups = new Map<number, number[]>();
    for (let i = 0; i < batch.numRows; i++) {
      const v = Number(col[i]);
      let g = groups.get(v);
      if (!g) groups.set(v, (g = []));
      g.push(i);
    }
    if (groups.size === 1) return this.add(`${key}=${this.partitionName([...groups.keys()][0]!)}`, batch);
    for (const [v, rows] of groups) this.add(`${key}=${this.partitionName(v)}`, takeRows(batch, Int32Array.from(rows)));
  }

  /** Add a batch, waiting while `maxInFlight` parts are being encoded. */
  async writeAsync(batch: Batch): Promise<void> {
    this.write(batch);
    const max = this.opts.maxInFlight ?? 2;
    while (this.inFlight.length > max) await this.inFlight.shift();
  }

  private add(part: string, batch: Batch): void {
    let p = this.pending.get(part);
    if (!p) this.pending.set(part, (p = { batches: [], rows: 0, next: 0 }));
    let start = 0;
    while (start < batch.numRows) {
      const take = Math.min(batch.numRows - start, this.rowsPerFile - p.rows);
      p.batches.push(start === 0 && take === batch.numRows ? batch : sliceBatch(batch, start, start + take));
      p.rows += take;
      start += take;
      if (p.rows >= this.rowsPerFile) this.flush(part);
    }
  }

  private flush(part: string): void {
    const p = this.pending.get(part);
    if (!p || p.rows === 0) return;
    const batches = p.batches;
    const rows = p.rows;
    p.batches = [];
    p.rows = 0;
    const rel = `${part ? `${part}/` : ''}part-${String(p.next++).padStart(5, '0')}.parquet`;
    const file = path.join(this.staged.staging, ...rel.split('/'));
    if (part) fs.mkdirSync(path.dirname(file), { recursive: true });
    const entry = { path: rel, rows, bytes: 0, sha256: '', ...(part ? { partition: part } : {}) };
    this.manifest.files.push(entry);
    this.manifest.rows += rows;
    const opts: ParquetWriteOptions = {
      ...(this.opts.compression ? { compression: this.opts.compression } : {}),
      ...(this.opts.rowGroupSize ? { rowGroupSize: this.opts.rowGroupSize } : {}),
      ...(this.opts.metadata ? { metadata: this.opts.metadata } : {}),
    };
    const done = this.encode(batches, file, opts);
    if (done instanceof Promise) {
      const settled = done.then((w) => {
        entry.bytes = w.bytes;
        entry.sha256 = w.sha256;
      });
      // A failure is reported when the part is awaited (writeAsync or finish), not as an unhandled rejection.
      settled.catch(() => undefined);
      this.inFlight.push(settled);
    } else {
      entry.bytes = done.bytes;
      entry.sha256 = done.sha256;
    }
  }

  /** Write the last part of every partition and wait for every part. */
  async finish(): Promise<void> {
    for (const part of this.pending.keys()) this.flush(part);
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  /**
   * Record a file written into the dataset (at `this.pathFor(p)`): vocabularies,
   * the Arrow IPC file, the quarantine file. Size and hash are read from the
   * file unless given.
   */
  addSideFile(p: string, role: SideFileRole, info: { rows?: number; bytes?: number; sha256?: string } = {}): void {
    if (!this.contains(p)) throw new Error(`${this.what}: ${p} is not inside the dataset ${this.dir}`);
    const rel = path.relative(this.staged.target, path.resolve(p)).split(path.sep).join('/');
    const staged = this.pathFor(p);
    const bytes = info.bytes ?? fs.statSync(staged).size;
    const sha256 = info.sha256 ?? sha256Hex(fs.readFileSync(staged));
    this.sideFiles.push({ path: rel, role, bytes, sha256, ...(info.rows !== undefined ? { rows: info.rows } : {}) });
  }

  /** Write the manifest into the staging directory and move the dataset into place. Returns the manifest. */
  commit(): DatasetManifest {
    if (!this.staged.open) throw new Error(`${this.what}: dataset ${this.dir} is already ${this.staged.committed ? 'committed' : 'aborted'}`);
    if (this.inFlight.length > 0) throw new Error(`${this.what}: commit with parts still encoding (await finish() first)`);
    try {
      this.manifest.table ||= this.opts.table ?? this.opts.schemaOf?.table ?? '';
      this.manifest.schema = this.schema ?? (this.opts.schemaOf ? schemaFields(this.opts.schemaOf) : []);
      this.sideFiles.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      if (this.sideFiles.length === 0) delete this.manifest.side_files;
      fs.writeFileSync(path.join(this.staged.staging, MANIFEST_NAME), manifestText(this.manifest));
      this.staged.commit();
      return this.manifest;
    } finally {
      if (!this.staged.committed) this.staged.abort();
      this.release();
      abandonedWriters.unregister(this);
    }
  }

  /** Flush every partition, write the manifest and move the dataset into place (synchronous encoders). Returns the manifest. */
  close(): DatasetManifest {
    try {
      for (const part of this.pending.keys()) this.flush(part);
    } catch (e) {
      this.abort();
      throw e;
    }
    return this.commit();
  }

  /** `close` for any encoder. */
  async closeAsync(): Promise<DatasetManifest> {
    try {
      await this.finish();
    } catch (e) {
      await this.abortAsync();
      throw e;
    }
    return this.commit();
  }

  /** Give up: remove the staging directory; the previous dataset at `dir` stays as it was. */
  abort(): void {
    this.staged.abort();
    this.release();
    abandonedWriters.unregister(this);
  }

  /** `abort` after waiting for parts being encoded (their files land in the staging directory). */
  async abortAsync(): Promise<void> {
    await Promise.allSettled(this.inFlight.splice(0));
    this.abort();
  }
}
