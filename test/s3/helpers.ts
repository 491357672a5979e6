/** Pipelines and object access shared by the s3:// tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolvePipeline, type ResolvedPipeline } from '../../pipelines/spec.js';
import type { ShardEngine } from '../../pipelines/plan/plan-runner.js';
import { INGEST_ENCODE_KIND, INGEST_SCAN_KIND, runIngestEncodeTask, runIngestScanTask } from '../../pipelines/plan/ingest-plan.js';
import { runShardTask, SHARD_TASK_KIND, type ShardTaskInput } from '../../pipelines/plan/shard-task.js';

/** read_parquet → write_parquet, Hive-partitioned by split, small parts and row groups. */
export function copyPipeline(input: string, outDir: string, output: string, extra: Record<string, unknown> = {}): ResolvedPipeline {
  return resolvePipeline(
    {
      name: 's3-copy',
      out_dir: outDir,
      seed: 1,
      stages: [
        { stage: 'read_parquet', with: { path: input, table: 'examples' } },
        { stage: 'write_parquet', with: { path: output, rows_per_file: 700, row_group_size: 300, ...extra } },
      ],
    },
    's3-copy.yaml',
  );
}

/** An object's bytes as the server stores them on disk (s3rver's file store), read without the S3 API. */
export function storedObject(serverDir: string, bucket: string, key: string): Buffer {
  return fs.readFileSync(path.join(serverDir, bucket, `${key}._S3rver_object`));
}

/** Every key of a bucket below `prefix`, from the server's files, sorted. */
export function storedKeys(serverDir: string, bucket: string, prefix = ''): string[] {
  const root = path.join(serverDir, bucket);
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('._S3rver_object')) out.push(path.relative(root, full).split(path.sep).join('/').slice(0, -'._S3rver_object'.length));
    }
  };
  walk(root);
  return out.filter((k) => k.startsWith(prefix)).sort();
}

/** Manifest entries with the run tag taken out of the part names: comparable with an on-disk dataset's. */
export function untaggedFiles(manifest: { files: { path: string; rows: number; bytes: number; sha256?: string }[] }): string[] {
  return manifest.files.map((f) => `${f.path.replace(/-[0-9a-f]{8}\.parquet$/, '.parquet')}:${f.rows}:${f.bytes}:${f.sha256}`);
}

/**
 * An engine that runs a plan's tasks (ingest ranges, shards) in this process, once each, in order. The hooks see each shard
 * task's input and its flow's label: `before` as it starts (so a shard that fails is seen too), `after` once it has run (its
 * area still on disk).
 */
export function inProcessEngine(
  slots: number,
  hooks: { before?: (input: ShardTaskInput, flowLabel: string) => void; after?: (input: ShardTaskInput, flowLabel: string) => void } = {},
): ShardEngine {
  return {
    kind: 'in-process',
    slots,
    async runFlow(flow) {
      const out: unknown[] = [];
      for (const c of flow.children) {
        if (c.kind === INGEST_SCAN_KIND) out.push(await runIngestScanTask(c.input));
        else if (c.kind === INGEST_ENCODE_KIND) out.push(await runIngestEncodeTask(c.input));
        else if (c.kind === SHARD_TASK_KIND) {
          const input = c.input as ShardTaskInput;
          hooks.before?.(input, flow.label);
          out.push(await runShardTask(input, { progress: () => undefined }));
          hooks.after?.(input, flow.label);
        } else throw new Error(`unexpected task kind ${c.kind}`);
      }
      return out;
    },
  };
}
