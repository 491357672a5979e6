/**
 * Ingest as two flows (issue 10: vocabulary building in two passes whose
 * result equals the sequential run's indices), written against the shard API
 * of stages/ingest/ingest-shards.ts:
 *
 *   1. scan: one task per byte range of the input (planIngestRanges) collects
 *      the range's raw ids in first-seen order (scanRangeIds → a file per
 *      range); the coordinator merges them in range order into the
 *      vocabularies (mergeRangeIds), so indices are those of one sequential pass;
 *   2. encode: one task per range encodes its rows with those vocabularies
 *      into parts (ingestRange); the coordinator commits the dataset
 *      (commitIngest: one manifest, the staged rename), row for row the
 *      single-process dataset.
 *
 * File names are deterministic (range index under the step directory), every
 * task is idempotent (the API's contract), and the committed dataset is what
 * the next step reads: no intermediate copy.
 *
 * With `output: s3://…` the dataset is committed in the step directory and
 * uploaded (manifest last); the summary, and so the dataset artifact and the
 * next step's input, name the dataset on the store.
 *
 * The API module is imported when a flow runs, so a worker that never
 * ingests does not load the parsers.
 */
import * as path from 'node:path';
import type { IngestConfig } from '../../stages/ingest/ingest-config.js';
import type { IngestSummary } from '../../stages/ingest/ingest-run.js';
import type { IngestRange, IngestRangeResult } from '../../stages/ingest/ingest-shards.js';
import { isS3Path, parseS3Url } from '../../stages/io/object-store/s3-url.js';

type IngestShardApi = typeof import('../../stages/ingest/ingest-shards.js');

async function ingestApi(): Promise<IngestShardApi> {
  return import('../../stages/ingest/ingest-shards.js');
}

export const INGEST_SCAN_KIND = 'plan.ingest-scan';
export const INGEST_ENCODE_KIND = 'plan.ingest-encode';

interface ScanInput {
  cfg: IngestConfig;
  range: IngestRange;
  outFile: string;
}

interface EncodeInput {
  cfg: IngestConfig;
  range: IngestRange;
  vocabDir: string;
  partsDir: string;
}

export async function runIngestScanTask(raw: unknown): Promise<{ rows: number }> {
  const i = raw as ScanInput;
  return (await ingestApi()).scanRangeIds(i.cfg, i.range, i.outFile);
}

export async function runIngestEncodeTask(raw: unknown): Promise<IngestRangeResult> {
  const i = raw as EncodeInput;
  return (await ingestApi()).ingestRange(i.cfg, i.range, i.vocabDir, i.partsDir);
}

/** The engine calls the ingest flows need (the plan runner's ShardEngine has this shape). */
interface FlowRunner {
  runFlow(
    flow: { label: string; children: { kind: string; key: string; input: unknown }[] },
    onProgress?: (p: { label: string; done: number; total: number; rows: number; retries: number; running: number }) => void,
  ): Promise<unknown>;
}

const rangeName = (i: number) => String(i).padStart(5, '0');

/** Run ingest of `cfg` as the two flows over at most `count` ranges; returns the committed dataset's summary. */
export async function runIngestFlows(engine: FlowRunner, userCfg: IngestConfig, stepId: string, stepDir: string, count: number): Promise<IngestSummary> {
  const api = await ingestApi();
  // An s3:// output: checked before any range is read, committed on disk in the step directory, then uploaded (stages/ingest/s3-output.ts).
  const s3 = isS3Path(userCfg.output) ? await import('../../stages/ingest/s3-output.js') : undefined;
  const toS3 = s3 ? parseS3Url(userCfg.output).url : undefined;
  if (s3 && toS3) {
    s3.checkS3IngestOptions(userCfg);
    await s3.preflightS3Output(toS3);
  }
  const cfg = toS3 ? { ...userCfg, output: path.join(stepDir, 'dataset') } : userCfg;
  const ranges = await api.planIngestRanges(cfg, count);
  const idFiles = ranges.map((r) => path.join(stepDir, `ids-${rangeName(r.index)}.bin`));
  await engine.runFlow({
    label: `${stepId} scan`,
    children: ranges.map((range, i) => ({
      kind: INGEST_SCAN_KIND,
      key: `${stepId}/scan-${rangeName(range.index)}`,
      input: { cfg, range, outFile: idFiles[i]! },
    })),
  });
  const vocabDir = path.join(stepDir, 'vocab');
  await api.mergeRangeIds(cfg, idFiles, vocabDir);
  const results = (await engine.runFlow({
    label: `${stepId} encode`,
    children: ranges.map((range) => ({
      kind: INGEST_ENCODE_KIND,
      key: `${stepId}/encode-${rangeName(range.index)}`,
      input: { cfg, range, vocabDir, partsDir: path.join(stepDir, `parts-${rangeName(range.index)}`) },
    })),
  })) as IngestRangeResult[];
  const summary = await api.commitIngest(cfg, results, vocabDir);
  return s3 && toS3 ? s3.uploadIngestOutput(cfg.output, toS3, summary) : summary;
}
