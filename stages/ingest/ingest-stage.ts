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
    return {
      async *source() {
        const run = runIngest(cfg, { log: ctx.log, progress: ctx.progress, seed: ctx.seed, emitMetric: (r) => ctx.emitMetric(r) });
        for (;;) {
          const step = await run.next();
          if (step.done) {
            publishIngestArtifacts(ctx.artifacts, cfg, step.value);
            return;
          }
          yield step.value;
        }
      },
    };
  },
});
