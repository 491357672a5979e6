/**
 * Writes a Parquet dataset to `s3://bucket/prefix` under the object-store
 * commit (s3-manifest.ts): the layout, part sizes, manifest and part bytes
 * are DatasetWriter's (it runs with an encoder that uploads each part as
 * soon as it is encoded, from memory, and keeps only the manifest on disk);
 * the manifest object is put last. Then, and only then, the parts of the
 * dataset it replaced are deleted.
 *
 * A run's parts are named `part-NNNNN-<tag>.parquet` with a random tag, so
 * they never collide with the parts of the committed dataset; a failed run
 * deletes what it uploaded (and nothing else) and leaves that dataset as it
 * was. In a shard's area (`deterministic`), names carry no tag: the area is
 * the shard's alone, and a shard delivered twice puts the same bytes under
 * the same keys.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Batch } from '../../core/batch.js';
import { DatasetWriter, encodePartBytes, sha256Hex, type DatasetWriterOptions } from '../dataset-writer.js';
import { MANIFEST_NAME, manifestText, type DatasetManifest } from '../manifest.js';
import { claimWrite } from '../manifest-claims.js';
import { ObjectStore } from './s3-objects.js';
import { inspectS3Target, manifestKeys, taggedName } from './s3-manifest.js';
import { parseS3Url, type S3Location } from './s3-url.js';

/** Cleanups of failed writers still deleting their uploads (a stage's abort cannot wait for them). */
const pendingAborts = new Set<Promise<void>>();

/** Scratch directories of open writers, removed at exit when a writer was abandoned (its pipeline failed before it did). */
const openScratch = new Set<string>();
let exitHooked = false;

function trackScratch(dir: string): void {
  openScratch.add(dir);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const d of openScratch) fs.rmSync(d, { recursive: true, force: true });
  });
}

/** Wait until every failed S3 writer of this process has deleted what it uploaded. */
export async function s3WritesSettled(): Promise<void> {
  while (pendingAborts.size > 0) await Promise.allSettled([...pendingAborts]);
}

export interface S3DatasetWriterOptions extends Omit<DatasetWriterOptions, 'encode'> {
  /** Tag-free part names, for a shard's own area (s3-shard-merge.ts). */
  deterministic?: boolean;
}

export class S3DatasetWriter {
  readonly loc: S3Location;
  private readonly tag: string;
  private readonly scratch: string;
  private readonly local: DatasetWriter;
  private readonly release: () => void;
  private readonly what: string;
  private readonly uploaded: string[] = [];
  private prepared: Promise<{ store: ObjectStore; previous: DatasetManifest | undefined }> | undefined;
  private state: 'open' | 'committed' | 'aborted' = 'open';
  /** A problem after the commit (old parts that could not be deleted): the dataset is whole; the caller may log it. */
  cleanupProblem: string | undefined;

  constructor(url: string, opts: S3DatasetWriterOptions = {}) {
    this.loc = parseS3Url(url);
    this.what = opts.stage ?? 'dataset writer';
    this.tag = opts.deterministic ? '' : randomBytes(4).toString('hex');
    this.release = claimWrite(this.loc.url, this.what);
    this.scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-s3-write-'));
    trackScratch(this.scratch);
    try {
      const { deterministic: _d, ...rest } = opts;
      this.local = new DatasetWriter(path.join(this.scratch, 'dataset'), {
        ...rest,
        encode: (batches, file, o) => this.upload(batches, file, o),
      });
    } catch (e) {
      this.finishLocal();
      throw e;
    }
  }

  /** The store and the dataset being replaced, looked up once, before the first upload. */
  private ready() {
    this.prepared ??= (async () => {
      const store = await ObjectStore.open();
      return { store, previous: await inspectS3Target(store, this.loc, this.what) };
    })();
    return this.prepared;
  }

  private async upload(batches: Batch[], file: string, opts: Parameters<typeof encodePartBytes>[1]) {
    const bytes = encodePartBytes(batches, opts);
    const sha256 = sha256Hex(bytes);
    const rel = taggedName(path.relative(this.local.stagingDir, file).split(path.sep).join('/'), this.tag);
    const { store } = await this.ready();
    this.uploaded.push(rel);
    await store.put(this.loc, rel, bytes);
    return { bytes: bytes.length, sha256 };
  }

  /** Add a batch; waits while the most parts allowed are being encoded and uploaded. */
  async write(batch: Batch): Promise<void> {
    await this.local.writeAsync(batch);
  }

  /** Upload the last parts, put the manifest (the commit), then delete the replaced dataset's parts. Returns the manifest. */
  async close(): Promise<DatasetManifest> {
    if (this.state !== 'open') throw new Error(`${this.what}: dataset ${this.loc.url} is already ${this.state}`);
    try {
      const { store, previous } = await this.ready();
      const m = await this.local.closeAsync();
      const manifest: DatasetManifest = { ...m, files: m.files.map((f) => ({ ...f, path: taggedName(f.path, this.tag) })) };
      await store.put(this.loc, MANIFEST_NAME, manifestText(manifest), 'application/json');
      this.state = 'committed';
      const keep = new Set(manifestKeys(manifest));
      const stale = previous ? manifestKeys(previous).filter((k) => !keep.has(k)) : [];
      try {
        await store.delete(this.loc, stale);
      } catch (e) {
        this.cleanupProblem = `${this.loc.url}: committed, but ${stale.length} part(s) of the dataset it replaced could not be deleted (${(e as Error).message})`;
      }
      return manifest;
    } catch (e) {
      if (this.state === 'open') await this.abortNow();
      throw e;
    } finally {
      this.finishLocal();
    }
  }

  /** Give up: delete what this writer uploaded (nothing else); the committed dataset stays as it was. */
  abort(): Promise<void> {
    const p = this.abortNow().finally(() => pendingAborts.delete(p));
    pendingAborts.add(p);
    return p;
  }

  private async abortNow(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.local.abortAsync();
    try {
      if (this.uploaded.length > 0 && this.prepared) await (await this.prepared).store.delete(this.loc, this.uploaded.splice(0));
    } catch {
      // Best effort: the parts of a failed run are not listed by any manifest, so readers never see them.
    } finally {
      this.finishLocal();
    }
  }

  private finishLocal(): void {
    this.release();
    fs.rmSync(this.scratch, { recursive: true, force: true });
    openScratch.delete(this.scratch);
  }
}
