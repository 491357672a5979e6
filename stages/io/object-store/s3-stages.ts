/**
 * read_parquet and write_parquet on `s3://` paths: the same options, the same
 * batches and part bytes as on disk (see s3-dataset-read.ts and
 * s3-dataset-writer.ts for the contract).
 */
import { datasetArtifact } from '../../core/artifacts.js';
import { Progress } from '../../core/progress.js';
import type { StageContext } from '../../core/stage.js';
import type { Batch } from '../../core/batch.js';
import type { ParquetCompression } from '../parquet.js';
import { S3DatasetWriter } from './s3-dataset-writer.js';
import { isShardArea } from './s3-shard-area.js';

export function s3ReadSource(cfg: { path: string; table?: string; columns?: string[] }, ctx: StageContext) {
  return {
    async *source(): AsyncGenerator<Batch> {
      const { listS3Dataset, readS3Dataset } = await import('./s3-dataset-read.js');
      const { ObjectStore } = await import('./s3-objects.js');
      const store = await ObjectStore.open();
      const listing = await listS3Dataset(cfg.path, store);
      if (listing.notice) ctx.log.warn(`read_parquet: ${listing.notice}`);
      const progress = new Progress('read_parquet', ctx.progress, listing.manifest?.rows);
      let done = 0;
      for await (const b of readS3Dataset(cfg.path, { table: cfg.table, columns: cfg.columns, what: 'read_parquet', listing, store })) {
        done += b.numRows;
        progress.advance(b.numRows, done);
        yield b;
      }
      progress.finish();
    },
  };
}

export interface WriteParquetOptions {
  path: string;
  partition_by?: string;
  rows_per_file: number;
  row_group_size: number;
  compression: ParquetCompression;
}

export function s3WriteSink(cfg: WriteParquetOptions, ctx: StageContext) {
  const writer = new S3DatasetWriter(cfg.path, {
    rowsPerFile: cfg.rows_per_file,
    rowGroupSize: cfg.row_group_size,
    compression: cfg.compression,
    partitionBy: cfg.partition_by,
    stage: 'write_parquet',
    deterministic: isShardArea(cfg.path),
  });
  return {
    async process(b: Batch) {
      await writer.write(b);
      return b;
    },
    abort() {
      void writer.abort();
    },
    async finish() {
      const m = await writer.close();
      if (writer.cleanupProblem) ctx.log.warn(`write_parquet: ${writer.cleanupProblem}`);
      ctx.artifacts.set(datasetArtifact(cfg.path), m);
      ctx.log.info(`write_parquet: ${m.rows} rows in ${m.files.length} file(s) → ${cfg.path}`);
    },
  };
}
