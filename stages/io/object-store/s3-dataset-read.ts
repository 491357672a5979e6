/**
 * Reading a dataset on the object store under the dataset contract:
 *
 * - a prefix with `_manifest.json`: exactly the parts it lists, each present
 *   with its listed size (one listing, no request per part); objects it does
 *   not list are ignored (a writer may be uploading the next version);
 * - a Hive partition below such a prefix (`…/split=test`): the parent's parts
 *   below it;
 * - a prefix with recpost parts but no manifest: the writer did not finish;
 * - any other prefix (Spark, DuckDB, …): its *.parquet objects in key order,
 *   with the same one-line "unverified" notice as a foreign directory.
 *
 * Parts are downloaded in order into a scratch directory under the OS
 * temporary directory (removed at the end), their size and SHA-256 checked
 * against the manifest while they stream in, then read one row group at a
 * time by the local Parquet reader and deleted; the next part downloads while
 * one is read. Disk stays at two parts and memory at a row group, whatever
 * the dataset's size.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Batch } from '../../core/batch.js';
import { DatasetError, MANIFEST_NAME, type DatasetManifest } from '../manifest.js';
import { assertNotBeingWritten } from '../manifest-claims.js';
import { readParquetFile, type ParquetReadOptions } from '../parquet.js';
import { ObjectStore } from './s3-objects.js';
import { checkListed, isRecpostPartKey, readS3Manifest } from './s3-manifest.js';
import { parseS3Url, urlOf, type S3Location } from './s3-url.js';

export interface S3Part {
  /** Relative to `loc`. */
  rel: string;
  rows?: number;
  bytes?: number;
  sha256?: string;
}

export interface S3Listing {
  kind: 'recpost' | 'foreign';
  loc: S3Location;
  parts: S3Part[];
  manifest?: DatasetManifest;
  notice?: string;
}

/** List (and check) what `url` holds for a reader. */
export async function listS3Dataset(url: string, store?: ObjectStore): Promise<S3Listing> {
  const loc = parseS3Url(url);
  const s = store ?? (await ObjectStore.open());
  const objects = await s.list(loc);
  const manifest = objects.some((o) => o.rel === MANIFEST_NAME) ? await readS3Manifest(s, loc) : undefined;
  if (manifest) {
    checkListed(manifest, objects, loc);
    return {
      kind: 'recpost',
      loc,
      manifest,
      parts: manifest.files.map((f) => ({ rel: f.path, rows: f.rows, bytes: f.bytes, ...(f.sha256 ? { sha256: f.sha256 } : {}) })),
    };
  }
  const partition = await partitionOfS3Dataset(s, loc);
  if (partition) return partition;
  const leftovers = objects.filter((o) => isRecpostPartKey(o.rel));
  if (leftovers.length > 0)
    throw new DatasetError(
      `${loc.url}: recpost parts (${leftovers
        .slice(0, 2)
        .map((o) => o.rel)
        .join(', ')}) but no ${MANIFEST_NAME}: the writer that made this prefix did not finish; rerun it`,
    );
  const parts = objects
    .filter((o) => o.rel.endsWith('.parquet') && !o.rel.split('/').some((seg) => seg.startsWith('.') || seg.startsWith('_')))
    .map((o) => ({ rel: o.rel, bytes: o.size }));
  if (parts.length === 0) throw new DatasetError(`${loc.url}: no .parquet objects and no ${MANIFEST_NAME}: not a dataset`);
  return {
    kind: 'foreign',
    loc,
    parts,
    notice: `${loc.url}: no ${MANIFEST_NAME} (not written by recpost): reading its ${parts.length} .parquet object(s) in key order, unverified`,
  };
}

/** `…/split=test` below a recpost dataset: the parent manifest's parts below it. */
async function partitionOfS3Dataset(store: ObjectStore, loc: S3Location): Promise<S3Listing | null> {
  const cut = loc.prefix.lastIndexOf('/');
  const base = loc.prefix.slice(cut + 1);
  if (!/^[^/=]+=[^/]+$/.test(base)) return null;
  const parentUrl = cut < 0 ? `s3://${loc.bucket}` : `s3://${loc.bucket}/${loc.prefix.slice(0, cut)}`;
  const parent = parseS3Url(parentUrl);
  const m = await readS3Manifest(store, parent);
  if (!m) return null;
  checkListed(m, await store.list(parent), parent);
  const files = m.files.filter((f) => f.path.startsWith(`${base}/`));
  return {
    kind: 'recpost',
    loc,
    manifest: { ...m, rows: files.reduce((s, f) => s + f.rows, 0), files: files.map((f) => ({ ...f, path: f.path.slice(base.length + 1) })) },
    parts: files.map((f) => ({ rel: f.path.slice(base.length + 1), rows: f.rows, bytes: f.bytes, ...(f.sha256 ? { sha256: f.sha256 } : {}) })),
  };
}

/**
 * Every batch of the dataset at `url`, part after part (downloaded, checked,
 * read, deleted). Batches carry the part's s3:// URL as `meta.file` (and the
 * manifest's SHA-256 of it as `meta.sha256`, its content identity).
 */
export async function* readS3Dataset(
  url: string,
  opts: ParquetReadOptions & { what?: string; listing?: S3Listing; store?: ObjectStore } = {},
): AsyncGenerator<Batch> {
  assertNotBeingWritten(url, opts.what ?? 'a reader');
  const store = opts.store ?? (await ObjectStore.open());
  const listing = opts.listing ?? (await listS3Dataset(url, store));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-s3-read-'));
  const manifestUrl = urlOf(listing.loc, MANIFEST_NAME);
  const stop = new AbortController();
  // The next part downloads while this one is decoded (at most two parts on disk).
  const fetchPart = (i: number): Promise<string> => {
    const part = listing.parts[i]!;
    const file = path.join(scratch, `part-${i}.parquet`);
    const expect = listing.kind === 'recpost' ? { bytes: part.bytes, sha256: part.sha256, manifest: manifestUrl } : undefined;
    const p = store.getToFile(listing.loc, part.rel, file, expect, stop.signal).then(() => file);
    p.catch(() => undefined); // reported when awaited
    return p;
  };
  let next = listing.parts.length > 0 ? fetchPart(0) : undefined;
  try {
    for (const [i, part] of listing.parts.entries()) {
      const file = await next!;
      next = i + 1 < listing.parts.length ? fetchPart(i + 1) : undefined;
      const partUrl = urlOf(listing.loc, part.rel);
      try {
        for await (const b of readParquetFile(file, {
          table: opts.table,
          columns: opts.columns,
          batchSize: opts.batchSize,
          ...(part.rows !== undefined ? { expectRows: part.rows } : {}),
        })) {
          b.meta = { ...b.meta, file: partUrl, ...(part.sha256 !== undefined ? { sha256: part.sha256 } : {}) };
          yield b;
        }
      } catch (e) {
        // The local reader names the scratch copy; the user knows the object.
        if (e instanceof DatasetError) throw new DatasetError(e.message.split(file).join(partUrl));
        throw e;
      } finally {
        fs.rmSync(file, { force: true });
      }
    }
  } finally {
    stop.abort();
    await next?.catch(() => undefined);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
