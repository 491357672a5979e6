/**
 * Commit the datasets that shards wrote into their areas on the object store
 * (s3-shard-area.ts) as one dataset at the target, as dataset-merge.ts does
 * on disk: the parts of every shard in shard order, renumbered per partition
 * (part-00000, …, with this merge's tag), listed in one manifest with the
 * rows, bytes and SHA-256 the shards' manifests give. Parts are copied on the
 * store (no bytes pass through this process); the manifest is put last (the
 * commit); then the replaced dataset's parts and the shard areas are deleted.
 * Merging the same shards again gives the same rows and bytes.
 */
import { randomBytes } from 'node:crypto';
import { DatasetError, MANIFEST_NAME, manifestText, type DatasetManifest, type ManifestPart } from '../manifest.js';
import { forEachLimited, ObjectStore } from './s3-objects.js';
import { inspectS3Target, manifestKeys, readS3Manifest, taggedName } from './s3-manifest.js';
import { parseS3Url, type S3Location } from './s3-url.js';

/** Copies in flight at once (server-side copies: the store does the work). */
const COPY_LANES = 8;

export async function mergeS3ShardDatasets(shardUrls: string[], target: string, what: string): Promise<DatasetManifest> {
  const store = await ObjectStore.open();
  const to = parseS3Url(target);
  const shards = shardUrls.map((u) => parseS3Url(u));
  const manifests: DatasetManifest[] = [];
  for (const loc of shards) {
    const m = await readS3Manifest(store, loc);
    if (!m) throw new DatasetError(`${loc.url}: shard output without ${MANIFEST_NAME}: the shard did not finish; rerun it`);
    if ((m.side_files ?? []).length > 0) throw new DatasetError(`${loc.url}: shard outputs with side files cannot be merged by listing parts`);
    manifests.push(m);
  }
  let previous: DatasetManifest | undefined;
  try {
    previous = await inspectS3Target(store, to, what);
  } catch (e) {
    // A target that may not be written (objects recpost did not write): take this run's shard areas back out of it.
    if (e instanceof DatasetError) await deleteShardAreas(store, shards, manifests).catch(() => undefined);
    throw e;
  }
  const tag = randomBytes(4).toString('hex');
  const next = new Map<string, number>();
  const copies: { shard: number; from: string; part: ManifestPart }[] = [];
  manifests.forEach((m, s) => {
    for (const f of m.files) {
      const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '';
      const n = next.get(dir) ?? 0;
      next.set(dir, n + 1);
      const rel = taggedName(`${dir ? `${dir}/` : ''}part-${String(n).padStart(5, '0')}.parquet`, tag);
      copies.push({ shard: s, from: f.path, part: { ...f, path: rel } });
    }
  });
  const copied: string[] = [];
  let committed = false;
  try {
    await forEachLimited(copies, COPY_LANES, async (c) => {
      copied.push(c.part.path);
      await store.copy(shards[c.shard]!, c.from, to, c.part.path);
    });
    const model = manifests.find((m) => m.rows > 0) ?? manifests[0];
    const manifest = {
      ...(model ?? { table: '', compression: 'zstd' }),
      rows: copies.reduce((a, c) => a + c.part.rows, 0),
      files: copies.map((c) => c.part),
      createdAt: new Date().toISOString(),
    } as DatasetManifest;
    delete manifest.side_files;
    await store.put(to, MANIFEST_NAME, manifestText(manifest), 'application/json');
    committed = true;
    // After the commit, cleaning up is best effort: what is left is listed by no manifest, so no reader sees it.
    try {
      const keep = new Set(manifestKeys(manifest));
      if (previous)
        await store.delete(
          to,
          manifestKeys(previous).filter((k) => !keep.has(k)),
        );
      await deleteShardAreas(store, shards, manifests);
    } catch {
      // the dataset is committed and whole
    }
    return manifest;
  } catch (e) {
    if (!committed) await store.delete(to, copied).catch(() => undefined);
    throw e;
  }
}

/** Delete what the shards of this run wrote in their areas: their parts, then their manifests. */
async function deleteShardAreas(store: ObjectStore, shards: S3Location[], manifests: DatasetManifest[]): Promise<void> {
  for (const [s, loc] of shards.entries()) await store.delete(loc, [...manifestKeys(manifests[s]!), MANIFEST_NAME]);
}
