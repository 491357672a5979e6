/**
 * Parquet reading and writing through parquet-wasm (Rust arrow-rs compiled to
 * WebAssembly), exchanging Arrow IPC with apache-arrow. Chosen over
 * parquetjs-lite by benchmark (see README "Parquet engine"): it writes and
 * reads columnar pages directly instead of shredding row objects.
 *
 * Files are written to `<name>.tmp-<pid>` and renamed when complete, so a
 * crash never leaves a file that looks whole. Reading goes one row group at a
 * time from a Blob handle, so memory is bounded by the row group, not the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import type { Batch } from '../core/batch.js';
import { arrowToBatch, batchToArrow, guessTable } from '../core/arrow.js';
import { DatasetError } from './manifest.js';
import { assertNotBeingWritten } from './manifest-claims.js';
import { listDataset, sha256OfFile, type DatasetListing } from './manifest-read.js';

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'none';

export interface ParquetWriteOptions {
  compression?: ParquetCompression;
  /** Rows per row group (default 131072). */
  rowGroupSize?: number;
  /** Key-value metadata stored in the file footer. */
  metadata?: Record<string, string>;
  /** Dictionary-encode columns (default true); off saves about two thirds of the encoding time of numeric columns, for ~2% more bytes. */
  dictionary?: boolean;
  /** Min/max statistics per page (default), per column chunk only, or none. */
  statistics?: ParquetStatistics;
}

export type ParquetStatistics = 'page' | 'chunk' | 'none';

/** parquet-wasm's EnabledStatistics value. */
export function statisticsOf(s: ParquetStatistics): pw.EnabledStatistics {
  return s === 'page' ? pw.EnabledStatistics.Page : s === 'chunk' ? pw.EnabledStatistics.Chunk : pw.EnabledStatistics.None;
}

function compressionOf(c: ParquetCompression): pw.Compression {
  switch (c) {
    case 'zstd':
      return pw.Compression.ZSTD;
    case 'snappy':
      return pw.Compression.SNAPPY;
    case 'gzip':
      return pw.Compression.GZIP;
    case 'lz4':
      return pw.Compression.LZ4_RAW;
    case 'none':
      return pw.Compression.UNCOMPRESSED;
  }
}

export function writerProperties(opts: ParquetWriteOptions = {}): pw.WriterProperties {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(compressionOf(opts.compression ?? 'zstd'))
    .setMaxRowGroupSize(opts.rowGroupSize ?? 131072)
    .setCreatedBy('recpost');
  if (opts.dictionary === false) b = b.setDictionaryEnabled(false);
  if (opts.statistics !== undefined) b = b.setStatisticsEnabled(statisticsOf(opts.statistics));
  if (opts.metadata) b = b.setKeyValueMetadata(new Map(Object.entries(opts.metadata)));
  return b.build();
}

/** Encode an Arrow table (or batches) as Parquet bytes. */
export function encodeParquet(data: arrow.Table | Batch[], opts: ParquetWriteOptions = {}): Uint8Array {
  const table = data instanceof arrow.Table ? data : new arrow.Table(data.map(batchToArrow));
  const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  return pw.writeParquet(wasmTable, writerProperties(opts));
}

/** Write bytes to `file` atomically (temporary name, then rename). */
export function writeFileAtomic(file: string, bytes: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}

export function writeParquetFile(file: string, data: arrow.Table | Batch[], opts: ParquetWriteOptions = {}): number {
  const bytes = encodeParquet(data, opts);
  writeFileAtomic(file, bytes);
  return bytes.length;
}

/**
 * A Parquet file path, or the part files of a dataset directory under the
 * dataset contract (manifest-read.ts): exactly those its `_manifest.json`
 * lists, checked (inside the directory, present, of the listed size); for a
 * directory written by another tool, its *.parquet files in name order (the
 * notice saying so goes to `onNotice`). An unfinished recpost directory is
 * an error. A complete empty dataset gives no files.
 */
export function listParquetFiles(p: string, onNotice?: (line: string) => void): string[] {
  const listing = listDataset(p);
  if (listing.notice) onNotice?.(listing.notice);
  return listing.parts.map((f) => f.file);
}

export interface ParquetReadOptions {
  columns?: string[];
  /** Rows the file must hold (from a manifest): checked against its footer before anything is read. */
  expectRows?: number;
  /** Logical table name for the batches (guessed from column names if absent). */
  table?: string;
  /** Rows per emitted batch within a row group (default: the whole row group). */
  batchSize?: number;
}

/** Open a Parquet file; a file parquet-wasm cannot open is a DatasetError naming it. */
async function openParquet(file: string): Promise<pw.ParquetFile> {
  try {
    return await pw.ParquetFile.fromFile(await fs.openAsBlob(file));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new DatasetError(`${file}: not a readable Parquet file (${why.split('\n')[0]})`);
  }
}

/** Row count of a Parquet file from its footer. */
export async function parquetRowCount(file: string): Promise<number> {
  const pf = await openParquet(file);
  try {
    return pf.metadata().fileMetadata().numRows();
  } finally {
    freeQuietly(pf);
  }
}

/** Stream a Parquet file's rows as batches, one row group at a time. */
export async function* readParquetFile(file: string, opts: ParquetReadOptions = {}): AsyncGenerator<Batch> {
  const pf = await openParquet(file);
  try {
    if (opts.expectRows !== undefined) {
      const rows = pf.metadata().fileMetadata().numRows();
      if (rows !== opts.expectRows)
        throw new DatasetError(
          `${file}: holds ${rows} rows, but the dataset's manifest lists ${opts.expectRows}; the dataset was changed after it was written; rerun the writer`,
        );
    }
    const nGroups = pf.metadata().numRowGroups();
    for (let g = 0; g < nGroups; g++) {
      let table: arrow.Table;
      try {
        const wt = await pf.read({
          rowGroups: [g],
          ...(opts.columns ? { columns: opts.columns } : {}),
          batchSize: opts.batchSize ?? 1 << 30,
        });
        table = arrow.tableFromIPC(wt.intoIPCStream());
      } catch (e) {
        // Corrupt pages surface as a WASM trap or a decoder error: name the file and row group.
        const why = e instanceof Error ? e.message : String(e);
        throw new DatasetError(`${file}: row group ${g} cannot be read: ${why.split('\n')[0]}`);
      }
      for (const rb of table.batches) {
        if (rb.numRows === 0) continue;
        const name = opts.table ?? guessTable(rb.schema.fields.map((f) => f.name));
        const batch = arrowToBatch(rb, name);
        batch.meta = { file, rowGroup: g };
        yield batch;
      }
    }
  } finally {
    freeQuietly(pf);
  }
}

/** Rows of a listing: the manifest's count for a recpost dataset, else the sum of the files' footers. */
export async function datasetRowCount(listing: { manifest?: { rows: number }; parts: { file: string }[] }): Promise<number> {
  if (listing.manifest) return listing.manifest.rows;
  let total = 0;
  for (const f of listing.parts) total += await parquetRowCount(f.file);
  return total;
}

/**
 * Every batch of a file or dataset directory, part after part, each part's
 * row count checked against the manifest. A directory that a writer of this
 * process is writing is refused (input equal to output).
 */
export async function* readDataset(
  p: string,
  opts: ParquetReadOptions & { onNotice?: (line: string) => void; what?: string; listing?: DatasetListing } = {},
): AsyncGenerator<Batch> {
  assertNotBeingWritten(p, opts.what ?? 'a reader');
  const listing = opts.listing ?? listDataset(p);
  if (listing.notice && !opts.listing) opts.onNotice?.(listing.notice);
  for (const part of listing.parts) {
    // A byte changed inside a page keeps the size and the footer's row count but can trap the
    // WASM decoder outside any catchable promise; the manifest's hash names the file first
    // (one streamed SHA-256 pass over bytes the decoder reads anyway).
    if (part.sha256 !== undefined && (await sha256OfFile(part.file)) !== part.sha256)
      throw new DatasetError(
        `${part.file}: its bytes differ from the SHA-256 in the dataset's manifest; the dataset was changed or damaged after it was written; rerun the writer`,
      );
    yield* readParquetFile(part.file, {
      table: opts.table,
      columns: opts.columns,
      batchSize: opts.batchSize,
      ...(part.rows !== undefined ? { expectRows: part.rows } : {}),
    });
  }
}

/** Read every batch of a file or dataset directory into memory (small data, tests). */
export async function readParquetAll(p: string, opts: ParquetReadOptions = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of readDataset(p, opts)) out.push(b);
  return out;
}

/**
 * Free a Parquet file handle; after a WASM trap (a corrupt page) the module's
 * memory is poisoned and free() traps again ("unreachable"), which would
 * replace the error that names the file.
 */
function freeQuietly(pf: { free(): void }): void {
  try {
    pf.free();
  } catch {
    // the original error (naming the file) is the one to report
  }
}
