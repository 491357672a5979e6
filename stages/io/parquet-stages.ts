/** Generic Parquet source and sink stages (any table). */
import { datasetArtifact } from '../core/artifacts.js';
import { defineStage } from '../core/stage.js';
import { Progress } from '../core/progress.js';
import { datasetRowCount, readDataset } from './parquet.js';
import { listDataset } from './manifest-read.js';
import { DatasetWriter } from './dataset-writer.js';
import { isS3Path, parseS3Url } from './object-store/s3-url.js';
import { s3ReadSource, s3WriteSink } from './object-store/s3-stages.js';

export const readParquetStage = defineStage({
  name: 'read_parquet',
  role: 'source',
  summary: 'Read a Parquet file or dataset directory as a stream of batches, one row group at a time.',
  fields: {
    path: {
      type: 'string',
      required: true,
      doc: 'Parquet file, or a directory read recursively (Hive partitions included) in name order, or a dataset at s3://bucket/prefix (AWS_ENDPOINT_URL for S3-compatible stores).',
    },
    table: { type: 'string', doc: 'Logical table of the rows (interactions, examples, weighted_examples, metrics); guessed from the columns if absent.' },
    columns: { type: 'array', items: { type: 'string', doc: 'column' }, doc: 'Read only these columns.' },
  },
  // Sharded: each shard reads its share of the dataset's parts (in part order), on disk or on the object store.
  shard: { by: 'parts', input: 'path' },
  check: (cfg) => s3PathProblems(cfg.path),
  create(cfg, ctx) {
    if (isS3Path(cfg.path)) {
      parseS3Url(cfg.path);
      return s3ReadSource(cfg, ctx);
    }
    return {
      async *source() {
        const listing = listDataset(cfg.path);
        if (listing.notice) ctx.log.warn(`read_parquet: ${listing.notice}`);
        const total = await datasetRowCount(listing);
        const progress = new Progress('read_parquet', ctx.progress, total);
        let done = 0;
        for await (const b of readDataset(cfg.path, { table: cfg.table, columns: cfg.columns, what: 'read_parquet', listing })) {
          done += b.numRows;
          progress.advance(b.numRows, done);
          yield b;
        }
        progress.finish();
      },
    };
  },
});

export const writeParquetStage = defineStage({
  name: 'write_parquet',
  role: 'sink',
  summary: 'Write the stream as a Parquet dataset directory (part files + _manifest.json) and pass the batches on.',
  fields: {
    path: { type: 'string', required: true, doc: 'Output directory, or s3://bucket/prefix (parts uploaded as they are written, the manifest last).' },
    partition_by: { type: 'string', doc: 'Integer column to Hive-partition by (e.g. split → split=train/…).' },
    rows_per_file: { type: 'integer', min: 1, default: 1 << 20, doc: 'Maximum rows per part file.' },
    row_group_size: { type: 'integer', min: 1, default: 131072, doc: 'Rows per Parquet row group.' },
    compression: { type: 'string', enum: ['zstd', 'snappy', 'gzip', 'lz4', 'none'], default: 'zstd', doc: 'Page compression codec.' },
  },
  // Sharded: each shard writes its own dataset; the merge lists their parts in shard order in one manifest.
  shard: { by: 'parts', outputs: ['path'] },
  check: (cfg) => s3PathProblems(cfg.path),
  create(cfg, ctx) {
    if (isS3Path(cfg.path)) return s3WriteSink(cfg, ctx);
    const writer = new DatasetWriter(cfg.path, {
      rowsPerFile: cfg.rows_per_file,
      rowGroupSize: cfg.row_group_size,
      compression: cfg.compression,
      partitionBy: cfg.partition_by,
      stage: 'write_parquet',
    });
    return {
      process(b) {
        writer.write(b);
        return b;
      },
      abort() {
        writer.abort();
      },
      finish() {
        const m = writer.close();
        ctx.artifacts.set(datasetArtifact(cfg.path), m);
        ctx.log.info(`write_parquet: ${m.rows} rows in ${m.files.length} file(s) → ${cfg.path}`);
      },
    };
  },
});

/** A malformed s3:// path, for `recpost validate` (create throws the same ConfigError). */
function s3PathProblems(p: string): string[] {
  if (!isS3Path(p)) return [];
  try {
    parseS3Url(p);
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}
