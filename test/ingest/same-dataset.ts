/** Comparing two ingest outputs: the same rows in the same order, the same side files. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { readManifest } from '../../stages/io/manifest.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import type { IngestSummary } from '../../stages/ingest/ingest-run.js';

/** Every row of a dataset, in manifest order, as one batch (null when empty). */
export async function datasetRows(dir: string): Promise<Batch | null> {
  const m = readManifest(dir);
  const batches: Batch[] = [];
  for (const f of m.files) batches.push(...(await readParquetAll(path.join(dir, ...f.path.split('/')))));
  const nonEmpty = batches.filter((b) => b.numRows > 0);
  return nonEmpty.length ? concatBatches(nonEmpty) : null;
}

function plainColumns(b: Batch | null): Record<string, number[]> {
  if (!b) return {};
  return Object.fromEntries(Object.entries(b.columns).map(([k, c]) => [k, Array.from(c as ArrayLike<number | bigint>, Number)]));
}

/**
 * Two ingest outputs hold the same rows in the same order (read back from
 * the Parquet parts), and byte-equal vocabularies and quarantine files.
 * `sameParts`: also the same part files (names and rows; their bytes differ
 * between runs only in the order parquet-wasm writes the footer's key-value
 * metadata, which follows a hash map).
 */
export async function expectSameDataset(a: string, b: string, opts: { sameParts?: boolean } = {}): Promise<void> {
  expect(plainColumns(await datasetRows(b))).toEqual(plainColumns(await datasetRows(a)));
  const ma = readManifest(a);
  const mb = readManifest(b);
  expect(mb.rows).toBe(ma.rows);
  expect(mb.schema).toEqual(ma.schema);
  expect((mb.side_files ?? []).map((f) => [f.path, f.rows, f.sha256])).toEqual((ma.side_files ?? []).map((f) => [f.path, f.rows, f.sha256]));
  for (const f of ma.side_files ?? []) expect(fs.readFileSync(path.join(b, f.path))).toEqual(fs.readFileSync(path.join(a, f.path)));
  if (opts.sameParts) expect(mb.files.map((f) => [f.path, f.rows, f.bucket])).toEqual(ma.files.map((f) => [f.path, f.rows, f.bucket]));
}

const COUNTERS = [
  'rows',
  'rowsIn',
  'rejected',
  'filesSetAside',
  'rejectedBy',
  'blankLines',
  'skippedFiles',
  'skippedLines',
  'users',
  'items',
  'sessions',
] as const;

/** The counters of a summary that must not depend on how the ingest ran. */
export function counters(s: IngestSummary) {
  return Object.fromEntries(COUNTERS.map((k) => [k, s[k]]));
}
