/**
 * The identity of a resolved pipeline, as run.json records it (`pipeline`:
 * name, out_dir, seed, stages with their validated options): a SHA-256 of its
 * canonical JSON (keys sorted). A replicate whose run.json says `succeeded`
 * with the same hash is complete, and a rerun of the sweep skips it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_RECORD_FILE, type RunRecord } from '../run-record.js';
import type { ResolvedPipeline } from '../spec.js';

/** JSON text with object keys sorted at every level (undefined members dropped, as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  const plain = JSON.parse(JSON.stringify(value ?? null)) as unknown;
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(sort(plain));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What run.json's `pipeline` holds for `p` run into `outDir` (run-record.ts startRunRecord). */
export function recordedPipeline(p: ResolvedPipeline, outDir: string): RunRecord['pipeline'] {
  return { name: p.name, out_dir: outDir, seed: p.seed, stages: p.stages.map((s) => ({ id: s.id, stage: s.def.name, with: s.config })) };
}

export function pipelineHash(p: ResolvedPipeline, outDir: string): string {
  return sha256(canonicalJson(recordedPipeline(p, outDir)));
}

/** The record in `<dir>/run.json` when it ended successfully with a pipeline of this hash; else undefined. */
export function completedRun(dir: string, hash: string): RunRecord | undefined {
  let record: RunRecord;
  try {
    record = JSON.parse(fs.readFileSync(path.join(dir, RUN_RECORD_FILE), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
  if (record.format !== 'recpost-run' || record.status !== 'succeeded' || record.pipeline === undefined) return undefined;
  return sha256(canonicalJson(record.pipeline)) === hash ? record : undefined;
}
