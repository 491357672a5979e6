/**
 * Where the shards of a sharded run (pipelines/plan/) write a dataset whose
 * target is on the object store: `<target>/_shards/<step id>/shard-NNNNN/
 * out-<stage index>-<option>`, inside the target prefix (the workers need no
 * shared disk for it). The step id hashes the pipeline's configuration, so a
 * shard delivered twice writes the same keys, and the merge
 * (s3-shard-merge.ts) copies the parts to the target and deletes the area.
 */
import { SHARDS_AREA } from './s3-manifest.js';
import { parseS3Url } from './s3-url.js';

export function s3ShardOutput(target: string, stepId: string, shard: number, index: number, option: string): string {
  return `${parseS3Url(target).url}/${SHARDS_AREA}/${stepId}/shard-${String(shard).padStart(5, '0')}/out-${index}-${option}`;
}

/** True for a shard's output location made by s3ShardOutput. */
export function isShardArea(url: string): boolean {
  return new RegExp(`/${SHARDS_AREA}/[^/]+/shard-\\d{5,}/out-\\d+-[^/]+$`).test(url);
}
