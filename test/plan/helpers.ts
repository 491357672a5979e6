/** Data and pipelines shared by the plan tests: a multi-part examples dataset and a read → stats → weight → write pipeline. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetWriter } from '../../stages/io/dataset-writer.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { resolvePipeline, type ResolvedPipeline } from '../../pipelines/spec.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import type { LocalEngine } from '../../pipelines/engine/local-engine.js';
import type { ShardEngine } from '../../pipelines/plan/plan-runner.js';

/** `parts` parts of `rowsPerPart` example rows with irregular float32 rewards (so summation order shows in the last bits). */
export function writeExamples(dir: string, parts: number, rowsPerPart: number, seed = 7): void {
  const rand = mulberry32(seed);
  const w = new DatasetWriter(dir, { rowsPerFile: rowsPerPart, rowGroupSize: Math.ceil(rowsPerPart / 2), stage: 'test' });
  const n = parts * rowsPerPart;
  const b: Batch = {
    table: 'examples',
    numRows: n,
    columns: {
      user_id: Int32Array.from({ length: n }, (_v, i) => 1 + (i % 97)),
      item_id: Int32Array.from({ length: n }, () => 1 + Math.floor(rand() * 500)),
      reward: Float32Array.from({ length: n }, () => 1 + 4 * rand() + rand() * 1e-3),
      split: Int8Array.from({ length: n }, (_v, i) => (i % 10 === 9 ? 2 : 0)),
    },
  };
  w.write(b);
  w.close();
}

export function weightingPipeline(input: string, outDir: string, output: string): ResolvedPipeline {
  return resolvePipeline(
    {
      name: 'plan-test',
      out_dir: outDir,
      seed: 3,
      stages: [
        { stage: 'read_parquet', with: { path: input, table: 'examples' } },
        { stage: 'reward_stats', with: { barrier: true, rows: 'all' } },
        { stage: 'exp_rsft', with: { lambda: 0.5 } },
        { stage: 'write_parquet', with: { path: output, rows_per_file: 700, row_group_size: 300 } },
      ],
    },
    'plan-test.yaml',
  );
}

export async function readAll(dir: string): Promise<Batch> {
  return concatBatches(await readParquetAll(dir));
}

export function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export function partFiles(dir: string): string[] {
  const m = readJson(path.join(dir, '_manifest.json')) as { files: { path: string; sha256: string; rows: number }[] };
  return m.files.map((f) => `${f.path}:${f.rows}:${f.sha256}`);
}

/**
 * `engine`, but the first flow whose label `when` accepts has one busy worker
 * killed with SIGKILL (polled `tries` times, `pauseMs` apart); `killed` holds
 * the pids killed and `retries` the most retries the flows reported.
 */
export function killingEngine(engine: LocalEngine, when: (label: string) => boolean, tries: number, pauseMs: number) {
  const seen = { killed: [] as number[], retries: 0 };
  const killing: ShardEngine = {
    kind: 'local',
    slots: 2,
    async runFlow(flow, onProgress) {
      const run = engine.runFlow(flow, (p) => {
        seen.retries = Math.max(seen.retries, p.retries);
        onProgress?.(p);
      });
      if (when(flow.label) && seen.killed.length === 0) {
        for (let i = 0; i < tries && seen.killed.length === 0; i++) {
          const busy = engine.busyWorkerPids();
          if (busy.length > 0) {
            process.kill(busy[0]!, 'SIGKILL');
            seen.killed.push(busy[0]!);
          } else await new Promise((r) => setTimeout(r, pauseMs));
        }
      }
      return run;
    },
  };
  return { engine: killing, seen };
}

/**
 * `engine`, but every evaluation-per-checkpoint flow (label ending in " checkpoints") has each shard delivered twice, the copies
 * running at once (at-least-once delivery); the second copies' results are handed back.
 */
export function checkpointShardsTwice(engine: ShardEngine): ShardEngine {
  return {
    kind: 'local',
    slots: 2,
    async runFlow(flow, onProgress) {
      if (!flow.label.endsWith(' checkpoints')) return engine.runFlow(flow, onProgress);
      const n = flow.children.length;
      const results = (await engine.runFlow({ label: flow.label, children: [...flow.children, ...flow.children] }, onProgress)) as unknown[];
      return results.slice(n);
    },
  };
}
