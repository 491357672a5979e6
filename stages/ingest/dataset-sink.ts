/**
 * Where the ingest's batches are written: the core DatasetWriter (one layout,
 * one manifest writer, staged commit: stages/io/dataset-writer.ts), with its
 * parts encoded either on the main thread or on a worker thread
 * (parquet-worker.ts) while the main thread keeps parsing. With the worker,
 * at most two parts are in flight, so memory stays bounded.
 *
 * The ingest adds its side files (vocabularies, quarantine file, an Arrow IPC
 * file inside the output) into `writer.pathFor(…)` before `commit`, so the
 * manifest lists them and they appear together with the parts.
 */
import type { Batch } from '../core/batch.js';
import { DatasetWriter, encodePartInline } from '../io/dataset-writer.js';
import type { ParquetCompression, ParquetWriteOptions } from '../io/parquet.js';
import { ParquetEncodeWorker } from './parquet-worker.js';

export interface DatasetSinkOptions {
  rowsPerFile: number;
  rowGroupSize: number;
  compression: ParquetCompression;
  /** Footer key-value metadata of every part file. */
  metadata: Record<string, string>;
  /** Schema recorded in the manifest when no row is written. */
  schemaOf: Batch;
}

/**
 * How ingest parts are encoded: every ingest column is a number (int32 ids,
 * int64 timestamps, float32/float64 values), for which parquet-wasm's
 * dictionary pages cost two thirds of the encoding time and save ~2% of the
 * size, and min/max statistics (per page or per column chunk) another third
 * of what is left; no recpost reader uses them. Measured on 1M rows of the
 * ingest benchmark's data, snappy, CPU: default 300 ms, no dictionary 110 ms,
 * no dictionary and no statistics 65–75 ms.
 */
export const INGEST_ENCODING: ParquetWriteOptions = { dictionary: false, statistics: 'none' };

export class IngestDataset {
  readonly writer: DatasetWriter;
  private readonly worker: ParquetEncodeWorker | null;

  constructor(dir: string, opts: DatasetSinkOptions, inWorker: boolean) {
    const worker = inWorker ? new ParquetEncodeWorker() : null;
    try {
      this.writer = new DatasetWriter(dir, {
        rowsPerFile: opts.rowsPerFile,
        rowGroupSize: opts.rowGroupSize,
        compression: opts.compression,
        metadata: opts.metadata,
        table: 'interactions',
        schemaOf: opts.schemaOf,
        stage: 'ingest',
        ...(worker
          ? { encode: (batches, file, o) => worker.encodeHashed(batches, file, { ...o, ...INGEST_ENCODING }), maxInFlight: 2 }
          : { encode: (batches, file, o) => encodePartInline(batches, file, { ...o, ...INGEST_ENCODING }) }),
      });
    } catch (e) {
      void worker?.terminate();
      throw e;
    }
    this.worker = worker;
  }

  write(batch: Batch): Promise<void> {
    return this.writer.writeAsync(batch);
  }

  /** Every part written (the worker is stopped); side files and commit follow. */
  async finishParts(): Promise<void> {
    try {
      await this.writer.finish();
    } finally {
      await this.worker?.terminate();
    }
  }

  /** Stop and remove the staging directory; the previous dataset stays as it was. */
  async abort(): Promise<void> {
    await this.writer.abortAsync();
    await this.worker?.terminate();
  }
}
