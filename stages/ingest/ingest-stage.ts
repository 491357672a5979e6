/**
 * The `ingest` source stage: logs in CSV, TSV, MovieLens `::`, JSON Lines or
 * Parquet → interaction batches with dense int32 ids, written as a Parquet
 * dataset (and optionally an Arrow IPC file) and emitted downstream, so a
 * pipeline continues with split, statistics, … on the same stream.
 *
 * Artifacts published (ctx.artifacts):
 * - `vocab`: { users, items, sessions? }: paths of the vocabulary files;
 * - `dataset`: { dir, manifest, manifestPath, table: 'interactions', timestampUnit }:
 *   the Parquet dataset just written and its manifest;
 * - `ingest`: the IngestSummary (counts, rejections, timing).
 */
import { defineStage } from '../core/stage.js';
import { ingestFields, type IngestConfig } from './ingest-config.js';
import { publishIngestArtifacts, runIngest } from './ingest-run.js';
import { isS3Path, parseS3Url } from '../io/object-store/s3-url.js';
import { checkS3IngestOptions, preflightS3Output, s3IngestLocalDir, uploadIngestOutput } from './s3-output.js';

export const ingestStage = defineStage<IngestConfig>({
  name: 'ingest',
  role: 'source',
  shard: { by: 'ranges' },
  output: 'interactions',
  summary: 'Read interaction logs (CSV, TSV, MovieLens ::, JSONL, Parquet), map ids to dense int32, write a Parquet dataset and emit the batches.',
  doc: [
    'Each row becomes (user_id, item_id, timestamp, reward[, session_id][, extra columns]). Raw user, item and session ids are',
    'replaced by dense int32 indices (0 = padding, first seen → 1, 2, …) whose mapping is written to <vocab_dir>/users.parquet,',
    'items.parquet (and sessions.parquet) as (raw_id utf8, index int32). The timestamp is stored as int64 in timestamp_unit',
    "(s or ms since the epoch, UTC; recorded in each part file's metadata as recpost.timestamp_unit).",
    'Bad rows (wrong field count, non-numeric or non-finite reward, unparsable timestamp, empty id, invalid JSON, a header',
    'without a mapped column) stop a strict ingest with file:line, field and value, or go to <output>/_quarantine/rejected.jsonl',
    'in quarantine mode. Nothing is dropped or coerced silently: "4.5abc" is an error, blank lines are counted.',
    'Publishes ctx.artifacts: vocab → {users, items[, sessions]} paths; dataset → {dir, manifest, manifestPath, table, timestampUnit};',
    'ingest → the run summary (rows, rejections, users, items, seconds). Emits metric records rows, rejected, rejected_fraction,',
    'skipped_files, users, items, rows_per_second (method "ingest", split "ingest").',
  ].join('\n'),
  fields: ingestFields,
  create(cfg, ctx) {
    // An s3:// output: the ingest runs into a local copy, uploaded at the end (s3-output.ts); later stages read the copy.
    const toS3 = isS3Path(cfg.output) ? parseS3Url(cfg.output).url : undefined;
    if (toS3) checkS3IngestOptions(cfg);
    const runCfg = toS3 ? { ...cfg, output: s3IngestLocalDir(ctx.outDir, toS3) } : cfg;
    return {
      async *source() {
        if (toS3) await preflightS3Output(toS3);
        const run = runIngest(runCfg, { log: ctx.log, progress: ctx.progress, seed: ctx.seed, emitMetric: (r) => ctx.emitMetric(r) });
        for (;;) {
          const step = await run.next();
          if (step.done) {
            if (toS3) {
              const up = await uploadIngestOutput(runCfg.output, toS3, step.value);
              ctx.log.info(`ingest: ${up.manifest.files.length} part(s) and ${up.manifest.side_files?.length ?? 0} side file(s) uploaded → ${toS3}`);
            }
            publishIngestArtifacts(ctx.artifacts, runCfg, step.value);
            return;
          }
          yield step.value;
        }
      },
    };
  },
});
