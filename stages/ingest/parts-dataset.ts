/**
 * A dataset assembled from part files written by someone else — the bucket
 * writer (bucket-writer.ts) or shards on other processes (ingest-shards.ts)
 * — under the same contract as DatasetWriter (stages/io/dataset-writer.ts):
 * one claim on the output, a staging directory beside it, every part and
 * side file listed with rows, bytes and SHA-256, the manifest written last
 * and the directory moved into place whole (manifest-staging.ts). Parts are
 * listed bucket-major (bucket 0's parts first, each bucket's in the order
 * they were added), so a reader that follows the manifest reads bucket by
 * bucket, each in file order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch } from '../core/batch.js';
import { batchToArrow } from '../core/arrow.js';
import { sha256Hex } from '../io/dataset-writer.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  MANIFEST_VERSION,
  manifestText,
  recpostVersion,
  type DatasetManifest,
  type ManifestPart,
  type ManifestSideFile,
  type SideFileRole,
} from '../io/manifest.js';
import { claimWrite } from '../io/manifest-claims.js';
import { StagedDirectory } from '../io/manifest-staging.js';
import type { ParquetCompression } from '../io/parquet.js';

export interface PartsDatasetOptions {
  compression: ParquetCompression;
  /** Schema recorded in the manifest. */
  schemaOf: Batch;
  stage: string;
}

/** The relative name of the `k`-th part of a bucket (B > 1) or of the dataset (no bucket). */
export function partName(k: number, bucket?: number): string {
  const part = `part-${String(k).padStart(5, '0')}.parquet`;
  return bucket === undefined ? part : `bucket=${String(bucket).padStart(5, '0')}/${part}`;
}

export class PartsDataset {
  private readonly staged: StagedDirectory;
  private readonly release: () => void;
  private readonly parts: ManifestPart[] = [];
  private readonly sideFiles: ManifestSideFile[] = [];

  constructor(
    readonly dir: string,
    private readonly opts: PartsDatasetOptions,
  ) {
    this.release = claimWrite(dir, opts.stage);
    try {
      this.staged = new StagedDirectory(dir, opts.stage);
    } catch (e) {
      this.release();
      throw e;
    }
  }

  get stagingDir(): string {
    return this.staged.staging;
  }

  pathFor(p: string): string {
    return this.staged.pathFor(p);
  }

  contains(p: string): boolean {
    return this.staged.contains(p);
  }

  /** Where the part named `rel` is written in the staging directory (its folder created). */
  stagedPart(rel: string): string {
    const file = path.join(this.staged.staging, ...rel.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return file;
  }

  /** List a part written (or being written) at `stagedPart(rel)`; its entry is returned for bytes and hash to be filled in when known. */
  addPart(rel: string, info: { rows: number; bytes: number; sha256: string; bucket?: number }): ManifestPart {
    const entry = { path: rel, rows: info.rows, bytes: info.bytes, sha256: info.sha256, ...(info.bucket !== undefined ? { bucket: info.bucket } : {}) };
    this.parts.push(entry);
    return entry;
  }

  /** Bring a part file written elsewhere in as `rel` (a hard link when possible, else a copy: the source stays, so a retry can redo it). */
  adoptPart(src: string, rel: string, info: { rows: number; bytes: number; sha256: string; bucket?: number }): void {
    const dst = this.stagedPart(rel);
    try {
      fs.linkSync(src, dst);
    } catch {
      fs.copyFileSync(src, dst);
    }
    this.addPart(rel, info);
  }

  /** Record a side file written at `pathFor(p)` (see DatasetWriter.addSideFile). */
  addSideFile(p: string, role: SideFileRole, info: { rows?: number; bytes?: number; sha256?: string } = {}): void {
    if (!this.contains(p)) throw new Error(`${this.opts.stage}: ${p} is not inside the dataset ${this.dir}`);
    const rel = path.relative(this.staged.target, path.resolve(p)).split(path.sep).join('/');
    const staged = this.pathFor(p);
    const bytes = info.bytes ?? fs.statSync(staged).size;
    const sha256 = info.sha256 ?? sha256Hex(fs.readFileSync(staged));
    this.sideFiles.push({ path: rel, role, bytes, sha256, ...(info.rows !== undefined ? { rows: info.rows } : {}) });
  }

  /** Write the manifest (parts bucket-major) and move the dataset into place. */
  commit(): DatasetManifest {
    if (!this.staged.open) throw new Error(`${this.opts.stage}: dataset ${this.dir} is already ${this.staged.committed ? 'committed' : 'aborted'}`);
    try {
      const files = this.parts.map((p, k) => ({ p, k })).sort((a, b) => (a.p.bucket ?? 0) - (b.p.bucket ?? 0) || a.k - b.k);
      this.sideFiles.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const manifest: DatasetManifest = {
        format: MANIFEST_FORMAT,
        version: MANIFEST_VERSION,
        writer: { name: 'recpost', version: recpostVersion(), stage: this.opts.stage },
        table: this.opts.schemaOf.table,
        rows: this.parts.reduce((s, p) => s + p.rows, 0),
        files: files.map((x) => x.p),
        ...(this.sideFiles.length ? { side_files: this.sideFiles } : {}),
        schema: batchToArrow(this.opts.schemaOf).schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable })),
        compression: this.opts.compression,
        createdAt: new Date().toISOString(),
      };
      fs.writeFileSync(path.join(this.staged.staging, MANIFEST_NAME), manifestText(manifest));
      this.staged.commit();
      return manifest;
    } finally {
      if (!this.staged.committed) this.staged.abort();
      this.release();
    }
  }

  abort(): void {
    this.staged.abort();
    this.release();
  }
}
