/**
 * `ingest` with `output: s3://bucket/prefix`. The ingest finishes on disk
 * (its vocabularies and quarantine file are complete only at the end, and
 * the trainers read the vocabularies from disk): it writes the dataset as
 * usual into a local copy under the run directory,
 * `<out_dir>/.recpost/s3-ingest/<hash of the URL>/`, then uploads it
 * (s3-dataset-upload.ts: run-tagged names, manifest last, the replaced
 * dataset deleted after the commit). A bad target (missing bucket, objects
 * recpost did not write) fails before any input is read; a failed ingest
 * uploads nothing and a failed upload deletes what it put, so the previous
 * dataset stays. The local copy is kept: the run's vocabulary paths point
 * there.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ConfigError } from '../core/config-schema.js';
import { isS3Path } from '../io/object-store/s3-url.js';
import type { IngestConfig } from './ingest-config.js';
import type { IngestSummary } from './ingest-run.js';

/** Where an ingest to `url` keeps its local copy in the run directory `outDir`. */
export function s3IngestLocalDir(outDir: string, url: string): string {
  return path.join(outDir, '.recpost', 's3-ingest', createHash('sha256').update(url).digest('hex').slice(0, 12));
}

/** Options an s3:// output cannot go with (one ConfigError naming the option). */
export function checkS3IngestOptions(cfg: IngestConfig): void {
  const isS3 = (p: string | undefined) => p !== undefined && isS3Path(p);
  if (isS3(cfg.vocab_dir))
    throw new ConfigError(`ingest: vocab_dir ${cfg.vocab_dir}: vocabularies are read and written on disk; give a local directory`, ['vocab_dir']);
  if (isS3(cfg.arrow_ipc)) throw new ConfigError(`ingest: arrow_ipc ${cfg.arrow_ipc}: the Arrow IPC file is written on disk; give a local path`, ['arrow_ipc']);
  if (cfg.vocab !== 'new' && cfg.vocab_dir === undefined)
    throw new ConfigError(
      `ingest: vocab: ${cfg.vocab} with output ${cfg.output}: the vocabularies to extend are read from disk; set vocab_dir to a local directory holding them`,
      ['vocab'],
    );
}

/** Check that `url` may be written (before the ingest reads anything): the one-process writer's message for a bad target. */
export async function preflightS3Output(url: string): Promise<void> {
  const [{ ObjectStore }, { inspectS3Target }, { parseS3Url }] = await Promise.all([
    import('../io/object-store/s3-objects.js'),
    import('../io/object-store/s3-manifest.js'),
    import('../io/object-store/s3-url.js'),
  ]);
  await inspectS3Target(await ObjectStore.open(), parseS3Url(url), 'ingest');
}

/** Upload the ingest's local copy to `url`; the summary then names the dataset on the store (its manifest, the manifest's and the quarantine file's URLs). */
export async function uploadIngestOutput(localDir: string, url: string, s: IngestSummary): Promise<IngestSummary> {
  const { uploadDataset } = await import('../io/object-store/s3-dataset-upload.js');
  const manifest = await uploadDataset(localDir, url, 'ingest');
  const base = url.replace(/\/+$/, '');
  const quarantine = manifest.side_files?.find((f) => f.role === 'quarantine');
  return { ...s, manifest, manifestPath: `${base}/_manifest.json`, ...(s.quarantine && quarantine ? { quarantine: `${base}/${quarantine.path}` } : {}) };
}
