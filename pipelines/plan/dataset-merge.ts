/**
 * Commit the datasets that shards wrote as one dataset: the parts of every
 * shard, in shard order (renumbered per partition: part-00000, …), listed in
 * one manifest with their rows, bytes and SHA-256 as the shards' manifests
 * give them. Part files are hard-linked (copied where links are refused)
 * into a staging directory beside the target, which moves into place by the
 * dataset contract's staged commit: the previous dataset stays whole until
 * then, a target holding files recpost did not write is refused, and merging
 * the same shards again gives the same dataset.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError, MANIFEST_NAME, manifestText, readManifest, type DatasetManifest, type ManifestPart } from '../../stages/io/manifest.js';
import { StagedDirectory } from '../../stages/io/manifest-staging.js';
import { isS3Path } from '../../stages/io/object-store/s3-url.js';
import { s3ShardOutput } from '../../stages/io/object-store/s3-shard-area.js';
import { shardOutputDir } from './shard-task.js';

/** Where shard `shard` of step `stepId` writes the dataset `target` of stage `index`'s option: its area below the target on the object store, else in the shard's directory. */
export function shardOutputFor(target: string, stepId: string, shard: number, shardDir: string, index: number, option: string): string {
  return isS3Path(target) ? s3ShardOutput(target, stepId, shard, index, option) : shardOutputDir(shardDir, index, option);
}

/** mergeShardDatasets, or its object-store version (loaded only for an s3:// target). */
export async function mergeShardOutputs(shardOutputs: string[], target: string, what: string): Promise<DatasetManifest> {
  if (!isS3Path(target)) return mergeShardDatasets(shardOutputs, target, what);
  const { mergeS3ShardDatasets } = await import('../../stages/io/object-store/s3-shard-merge.js');
  return mergeS3ShardDatasets(shardOutputs, target, what);
}

/**
 * Check before the shards start that `target` may be written (an s3:// target
 * is listed: a missing bucket, missing credentials or a prefix holding objects
 * recpost did not write fail here with the one-process run's message, rather
 * than in every shard under its shard area's name). Local targets are checked
 * by the merge's staged commit.
 */
export async function checkShardTarget(target: string, what: string): Promise<void> {
  if (!isS3Path(target)) return;
  const [{ ObjectStore }, { inspectS3Target }, { parseS3Url }] = await Promise.all([
    import('../../stages/io/object-store/s3-objects.js'),
    import('../../stages/io/object-store/s3-manifest.js'),
    import('../../stages/io/object-store/s3-url.js'),
  ]);
  await inspectS3Target(await ObjectStore.open(), parseS3Url(target), what);
}

/** checkShardTarget for every dataset the stages of these sharded steps write (their plans' `outputs`), in stage order. */
export async function checkShardTargets(
  steps: { stages: { def: { name: string }; config: Record<string, unknown> }[]; plans: { outputs?: string[] }[] }[],
): Promise<void> {
  for (const step of steps)
    for (const [i, rs] of step.stages.entries())
      for (const opt of step.plans[i]!.outputs ?? []) {
        const target = rs.config[opt];
        if (typeof target === 'string') await checkShardTarget(target, rs.def.name);
      }
}

function linkOrCopy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/** Merge the shard datasets `shardDirs` (in order) into `target`; returns the manifest written. */
export function mergeShardDatasets(shardDirs: string[], target: string, what: string): DatasetManifest {
  const manifests = shardDirs.map((d) => {
    if (!fs.existsSync(path.join(d, MANIFEST_NAME))) throw new DatasetError(`${d}: shard output without ${MANIFEST_NAME}: the shard did not finish; rerun it`);
    return readManifest(d);
  });
  const withSide = manifests.findIndex((m) => (m.side_files ?? []).length > 0);
  if (withSide >= 0) throw new DatasetError(`${shardDirs[withSide]}: shard outputs with side files cannot be merged by listing parts`);
  const model = manifests.find((m) => m.rows > 0) ?? manifests[0];
  const staged = new StagedDirectory(target, what);
  try {
    const next = new Map<string, number>();
    const files: ManifestPart[] = [];
    manifests.forEach((m, s) => {
      for (const f of m.files) {
        const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '';
        const n = next.get(dir) ?? 0;
        next.set(dir, n + 1);
        const rel = `${dir ? `${dir}/` : ''}part-${String(n).padStart(5, '0')}.parquet`;
        linkOrCopy(path.join(shardDirs[s]!, ...f.path.split('/')), path.join(staged.staging, ...rel.split('/')));
        files.push({ ...f, path: rel });
      }
    });
    const manifest: DatasetManifest = {
      ...(model ?? { table: '', compression: 'zstd' }),
      rows: files.reduce((a, f) => a + f.rows, 0),
      files,
      createdAt: new Date().toISOString(),
    } as DatasetManifest;
    delete manifest.side_files;
    fs.writeFileSync(path.join(staged.staging, MANIFEST_NAME), manifestText(manifest));
    staged.commit();
    return manifest;
  } finally {
    staged.abort();
  }
}
