/**
 * The ingest's dataset when rows are hash-partitioned by user
 * (`user_buckets` > 1): each batch is split by bucket (user-buckets.ts) and
 * each bucket fills its own parts of at most `rows_per_file` rows, named
 * bucket=NNNNN/part-NNNNN.parquet and listed with their bucket in the
 * manifest, bucket-major (parts-dataset.ts). Parts are encoded on the
 * Parquet worker thread like the unpartitioned dataset's (dataset-sink.ts),
 * at most two at once. Memory: up to one unfinished part per bucket.
 */
import type { Batch } from '../core/batch.js';
import { sliceBatch } from '../core/batch.js';
import { encodePartInline } from '../io/dataset-writer.js';
import type { ParquetWriteOptions } from '../io/parquet.js';
import { INGEST_ENCODING, type DatasetSinkOptions } from './dataset-sink.js';
import { ParquetEncodeWorker } from './parquet-worker.js';
import { partName, PartsDataset } from './parts-dataset.js';
import type { UserBuckets } from './user-buckets.js';

export class BucketedIngestDataset {
  readonly writer: PartsDataset;
  private readonly worker: ParquetEncodeWorker | null;
  private readonly pending = new Map<number, { batches: Batch[]; rows: number; next: number }>();
  private readonly inFlight: Promise<void>[] = [];
  private readonly encodeOpts: ParquetWriteOptions;

  constructor(
    dir: string,
    private readonly opts: DatasetSinkOptions,
    inWorker: boolean,
    private readonly buckets: UserBuckets,
  ) {
    this.writer = new PartsDataset(dir, { compression: opts.compression, schemaOf: opts.schemaOf, stage: 'ingest' });
    this.worker = inWorker ? new ParquetEncodeWorker() : null;
    this.encodeOpts = { compression: opts.compression, rowGroupSize: opts.rowGroupSize, metadata: opts.metadata, ...INGEST_ENCODING };
  }

  async write(batch: Batch): Promise<void> {
    if (batch.numRows === 0) return;
    for (const { bucket, batch: rows } of this.buckets.split(batch)) this.add(bucket, rows);
    while (this.inFlight.length > 2) await this.inFlight.shift();
  }

  private add(bucket: number, batch: Batch): void {
    let p = this.pending.get(bucket);
    if (!p) this.pending.set(bucket, (p = { batches: [], rows: 0, next: 0 }));
    let start = 0;
    while (start < batch.numRows) {
      const take = Math.min(batch.numRows - start, this.opts.rowsPerFile - p.rows);
      p.batches.push(start === 0 && take === batch.numRows ? batch : sliceBatch(batch, start, start + take));
      p.rows += take;
      start += take;
      if (p.rows >= this.opts.rowsPerFile) this.flush(bucket);
    }
  }

  private flush(bucket: number): void {
    const p = this.pending.get(bucket);
    if (!p || p.rows === 0) return;
    const rel = partName(p.next++, bucket);
    const entry = this.writer.addPart(rel, { rows: p.rows, bytes: 0, sha256: '', bucket });
    const file = this.writer.stagedPart(rel);
    const batches = p.batches;
    p.batches = [];
    p.rows = 0;
    const done = this.worker ? this.worker.encodeHashed(batches, file, this.encodeOpts) : Promise.resolve(encodePartInline(batches, file, this.encodeOpts));
    const settled = done.then((w) => {
      entry.bytes = w.bytes;
      entry.sha256 = w.sha256;
    });
    settled.catch(() => undefined);
    this.inFlight.push(settled);
  }

  /** Every bucket's last part written (the worker is stopped); side files and commit follow. */
  async finishParts(): Promise<void> {
    try {
      for (const b of [...this.pending.keys()].sort((x, y) => x - y)) this.flush(b);
      while (this.inFlight.length > 0) await this.inFlight.shift();
    } finally {
      await this.worker?.terminate();
    }
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight.splice(0));
    this.writer.abort();
    await this.worker?.terminate();
  }
}
