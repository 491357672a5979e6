/**
 * Upload a dataset committed on disk to `s3://…` under the object-store
 * commit (s3-manifest.ts), for writers that must finish on disk first (ingest:
 * its vocabularies and quarantine file are complete only at the end, and the
 * trainers read the vocabularies from disk):
 *
 * - the target is inspected first (a prefix holding objects recpost did not
 *   write is refused, as every writer refuses it);
 * - every part and side file is put under a run-tagged name
 *   (`bucket=00001/part-00000-<tag>.parquet`, `vocab/items-<tag>.parquet`,
 *   `_quarantine/rejected-<tag>.jsonl`), so nothing of the dataset it
 *   replaces is overwritten, its bytes checked against the local manifest's
 *   SHA-256 on the way;
 * - the manifest is put last (the commit), listing the tagged names with the
 *   same rows, bytes, hashes and buckets; then the replaced dataset's objects
 *   are deleted;
 * - on failure what this upload put is deleted, and the previous dataset
 *   stays whole and readable.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError, MANIFEST_NAME, manifestText, readManifest, type DatasetManifest } from '../manifest.js';
import { forEachLimited, ObjectStore } from './s3-objects.js';
import { inspectS3Target, manifestKeys, taggedName } from './s3-manifest.js';
import { parseS3Url } from './s3-url.js';

/** Uploads in flight at once (each holds one part in memory). */
const UPLOAD_LANES = 3;

/** Upload the dataset committed at `localDir` to `target`; returns the manifest put there. */
export async function uploadDataset(localDir: string, target: string, what: string): Promise<DatasetManifest> {
  const local = readManifest(localDir);
  const store = await ObjectStore.open();
  const to = parseS3Url(target);
  const previous = await inspectS3Target(store, to, what);
  const tag = randomBytes(4).toString('hex');
  const entries = [...local.files, ...(local.side_files ?? [])].map((f) => ({ from: f.path, to: taggedName(f.path, tag), sha256: f.sha256 }));
  const put: string[] = [];
  let committed = false;
  try {
    await forEachLimited(entries, UPLOAD_LANES, async (e) => {
      const bytes = fs.readFileSync(path.join(localDir, ...e.from.split('/')));
      if (e.sha256 !== undefined && createHash('sha256').update(bytes).digest('hex') !== e.sha256)
        throw new DatasetError(`${path.join(localDir, e.from)}: its bytes differ from the SHA-256 in its manifest; the local copy changed before upload`);
      put.push(e.to);
      await store.put(to, e.to, bytes);
    });
    const rename = new Map(entries.map((e) => [e.from, e.to]));
    const manifest: DatasetManifest = {
      ...local,
      files: local.files.map((f) => ({ ...f, path: rename.get(f.path)! })),
      ...(local.side_files ? { side_files: local.side_files.map((f) => ({ ...f, path: rename.get(f.path)! })) } : {}),
    };
    await store.put(to, MANIFEST_NAME, manifestText(manifest), 'application/json');
    committed = true;
    if (previous) {
      // After the commit, best effort: objects left over are listed by no manifest, so no reader sees them.
      const keep = new Set(manifestKeys(manifest));
      await store
        .delete(
          to,
          manifestKeys(previous).filter((k) => !keep.has(k)),
        )
        .catch(() => undefined);
    }
    return manifest;
  } catch (e) {
    if (!committed) await store.delete(to, put).catch(() => undefined);
    throw e;
  }
}
