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
import { arrowToBatch, batchToArrow, guessTable } from '../../schemas/arrow.js';

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'none';

export interface ParquetWriteOptions {
  compression?: ParquetCompression;
  /** Rows per row group (default 131072). */
  rowGroupSize?: number;
  /** Key-value metadata stored in the file footer. */
  metadata?: Record<string, string>;
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
 * A Parquet file path, or the files of a dataset directory: exactly those its
 * `_manifest.json` names when it has one (so side files such as vocabularies
 * are never read as data), else every *.parquet below it in name order, Hive
 * partitions included, skipping names that start with "." or "_".
 */
export function listParquetFiles(p: string): string[] {
  const st = fs.statSync(p);
  if (st.isFile()) return [p];
  const manifest = path.join(p, '_manifest.json');
  if (fs.existsSync(manifest)) {
    const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { files?: { path: string }[] };
    if (Array.isArray(m.files)) return m.files.map((f) => path.join(p, f.path));
  }
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && e.name.endsWith('.parquet')) out.push(full);
    }
  };
  walk(p);
  return out;
}

export interface ParquetReadOptions {
  columns?: string[];
  /** Logical table name for the batches (guessed from column names if absent). */
  table?: string;
  /** Rows per emitted batch within a row group (default: the whole row group). */
  batchSize?: number;
}

/** Row count of a Parquet file from its footer. */
export async function parquetRowCount(file: string): Promise<number> {
  const pf = await pw.ParquetFile.fromFile(await fs.openAsBlob(file));
  try {
    return pf.metadata().fileMetadata().numRows();
  } finally {
    pf.free();
  }
}

/** Stream a Parquet file's rows as batches, one row group at a time. */
export async function* readParquetFile(file: string, opts: ParquetReadOptions = {}): AsyncGenerator<Batch> {
  const pf = await pw.ParquetFile.fromFile(await fs.openAsBlob(file));
  try {
    const nGroups = pf.metadata().numRowGroups();
    for (let g = 0; g < nGroups; g++) {
      const wt = await pf.read({
        rowGroups: [g],
        ...(opts.columns ? { columns: opts.columns } : {}),
        batchSize: opts.batchSize ?? 1 << 30,
      });
      const table = arrow.tableFromIPC(wt.intoIPCStream());
      for (const rb of table.batches) {
        if (rb.numRows === 0) continue;
        const name = opts.table ?? guessTable(rb.schema.fields.map((f) => f.name));
        const batch = arrowToBatch(rb, name);
        batch.meta = { file, rowGroup: g };
        yield batch;
      }
    }
  } finally {
    pf.free();
  }
}

/** Read every batch of a file or dataset directory into memory (small data, tests). */
export async function readParquetAll(p: string, opts: ParquetReadOptions = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for (const f of listParquetFiles(p)) for await (const b of readParquetFile(f, opts)) out.push(b);
  return out;
}
