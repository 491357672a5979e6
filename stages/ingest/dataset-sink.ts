/**
 * Where the ingest's batches are written as a Parquet dataset. Two ways to
 * the same directory layout (stages/io/dataset-writer.ts: part files of at
 * most rows_per_file rows, then _manifest.json):
 *
 * - inline: the core DatasetWriter, encoding on the main thread;
 * - worker: part files are encoded and written on a worker thread
 *   (parquet-worker.ts) while the main thread keeps parsing; at most two
 *   parts are in flight, so memory stays bounded.
 */
import * as path from 'node:path';
import type { Batch } from '../core/batch.js';
import { DatasetWriter, type DatasetManifest } from '../io/dataset-writer.js';
import { writeFileAtomic, type ParquetCompression } from '../io/parquet.js';
import { ParquetEncodeWorker } from './parquet-worker.js';

export interface DatasetSinkOptions {
  rowsPerFile: number;
  rowGroupSize: number;
  compression: ParquetCompression;
  /** Footer key-value metadata of every part file. */
  metadata: Record<string, string>;
}

export interface DatasetSink {
  write(batch: Batch): Promise<void>;
  close(): Promise<DatasetManifest>;
  /** Stop without a manifest (files already written are the caller's to remove). */
  abort(): Promise<void>;
}

export function inlineDatasetSink(dir: string, opts: DatasetSinkOptions): DatasetSink {
  const w = new DatasetWriter(dir, opts);
  // DatasetWriter cuts a part once it holds ≥ rowsPerFile rows; batches are
  // split at part boundaries so that every part has exactly rowsPerFile rows.
  let inPart = 0;
  return {
    async write(b) {
      let start = 0;
      while (start < b.numRows) {
        const take = Math.min(b.numRows - start, opts.rowsPerFile - inPart);
        w.write(start === 0 && take === b.numRows ? b : sliceRows(b, start, start + take));
        start += take;
        inPart = (inPart + take) % opts.rowsPerFile;
      }
    },
    async close() {
      return w.close();
    },
    async abort() {},
  };
}

/** The same layout as DatasetWriter, with encoding on a worker thread. */
export class WorkerDatasetSink implements DatasetSink {
  private pending: Batch[] = [];
  private pendingRows = 0;
  private next = 0;
  private readonly inFlight: Promise<void>[] = [];
  private readonly manifest: DatasetManifest;
  private readonly worker = new ParquetEncodeWorker();

  constructor(
    readonly dir: string,
    private readonly opts: DatasetSinkOptions,
  ) {
    this.manifest = { table: 'interactions', rows: 0, files: [], compression: opts.compression, createdAt: new Date().toISOString() };
  }

  async write(batch: Batch): Promise<void> {
    if (batch.numRows === 0) return;
    this.pending.push(batch);
    this.pendingRows += batch.numRows;
    while (this.pendingRows >= this.opts.rowsPerFile) await this.cut(this.opts.rowsPerFile);
  }

  /** Send the first `rows` pending rows as one part file. */
  private async cut(rows: number): Promise<void> {
    const take: Batch[] = [];
    let n = 0;
    while (n < rows) {
      const b = this.pending[0]!;
      if (n + b.numRows <= rows) {
        take.push(b);
        this.pending.shift();
        n += b.numRows;
      } else {
        const k = rows - n;
        take.push(sliceRows(b, 0, k));
        this.pending[0] = sliceRows(b, k, b.numRows);
        n += k;
      }
    }
    this.pendingRows -= n;
    const rel = `part-${String(this.next++).padStart(5, '0')}.parquet`;
    const entry = { path: rel, rows: n, bytes: 0 };
    this.manifest.files.push(entry);
    this.manifest.rows += n;
    // Keep at most two parts in flight: one encoding, one queued.
    if (this.inFlight.length >= 2) await this.inFlight.shift();
    const done = this.worker
      .encode(take, path.join(this.dir, rel), {
        compression: this.opts.compression,
        rowGroupSize: this.opts.rowGroupSize,
        metadata: this.opts.metadata,
      })
      .then((bytes) => {
        entry.bytes = bytes;
      });
    // A failure is reported when the part is awaited (next cut or close), not as an unhandled rejection.
    done.catch(() => undefined);
    this.inFlight.push(done);
  }

  async close(): Promise<DatasetManifest> {
    try {
      if (this.pendingRows > 0) await this.cut(this.pendingRows);
      await Promise.all(this.inFlight.splice(0));
    } finally {
      await this.worker.terminate();
    }
    writeFileAtomic(path.join(this.dir, '_manifest.json'), JSON.stringify(this.manifest, null, 2));
    return this.manifest;
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight.splice(0));
    await this.worker.terminate();
  }
}

function sliceRows(b: Batch, start: number, end: number): Batch {
  const columns: Batch['columns'] = {};
  for (const [k, c] of Object.entries(b.columns)) columns[k] = (c as Int32Array).subarray(start, end);
  return { table: b.table, numRows: end - start, columns };
}
