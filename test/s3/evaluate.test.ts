/**
 * Evaluation per checkpoint of examples read from s3:// (issue 10 item 3):
 * read_parquet shards by parts on the store, and the checkpoint shards read
 * the dataset's parts from the store too; the metric records equal those of
 * one process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { runPlanned } from '../../pipelines/plan/plan-runner.js';
import type { ShardTaskInput } from '../../pipelines/plan/shard-task.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { inProcessEngine } from './helpers.js';
import { startLocalS3, type LocalS3 } from './s3-server.js';

let s3: LocalS3;
let dir: string;
let checkpoints: string[];

beforeAll(async () => {
  s3 = await startLocalS3(['data']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-s3-eval-'));
  const csv = path.join(dir, 'ratings.csv');
  let s = 23;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['user,item,rating,timestamp'];
  for (let i = 0; i < 2500; i++) lines.push(`${Math.floor(r() * 80)},${1 + Math.floor(r() * 40)},${1 + Math.floor(r() * 5)},${i}`);
  fs.writeFileSync(csv, `${lines.join('\n')}\n`);
  const train = path.join(dir, 'train');
  // Examples to the store (partitioned by split, small parts), and two checkpoints trained on them.
  await runPipeline(
    resolvePipeline(
      {
        name: 's3-eval-train',
        out_dir: train,
        seed: 5,
        stages: [
          { stage: 'ingest', with: { path: csv, output: path.join(train, 'interactions'), threads: 1 } },
          { stage: 'split_sequences', with: { max_len: 5, threshold: 3, batch_size: 300 } },
          { stage: 'write_parquet', with: { path: 's3://data/examples', partition_by: 'split', rows_per_file: 400, row_group_size: 200 } },
          {
            stage: 'train_sasrec',
            with: { method: 'bc', objective: { name: 'bc' }, epochs: 2, batch_size: 256, max_len: 5, d: 8, blocks: 1, heads: 1, backend: 'wasm' },
          },
        ],
      },
      's3-eval-train.yaml',
    ),
    { logger: memoryLogger(), quiet: true },
  );
  const root = path.join(train, 'checkpoints', 'bc');
  checkpoints = fs
    .readdirSync(root)
    .filter((d) => d.startsWith('step-'))
    .sort()
    .map((d) => path.join(root, d));
}, 120_000);
afterAll(async () => {
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function evalPipeline(outDir: string) {
  return resolvePipeline(
    {
      name: 's3-eval',
      out_dir: outDir,
      seed: 5,
      stages: [
        { stage: 'read_parquet', with: { path: 's3://data/examples', table: 'examples' } },
        { stage: 'evaluate_ranking', with: { checkpoints, ks: [5, 10], batch_rows: 64 } },
      ],
    },
    's3-eval.yaml',
  );
}

const metricLines = (ms: { metric: string }[]) => ms.filter((m) => !/_per_s(econd)?$/.test(m.metric)).map((m) => JSON.stringify(m));

describe('evaluation per checkpoint of a dataset on s3://', { timeout: 120_000 }, () => {
  it('the checkpoint shards read the parts from the store; the records equal one process', async () => {
    expect(checkpoints).toHaveLength(2);
    const one = await runPipeline(evalPipeline(path.join(dir, 'one')), { logger: memoryLogger(), quiet: true });
    const seen: { label: string; input: ShardTaskInput }[] = [];
    const engine = inProcessEngine(2, { before: (input, label) => seen.push({ label, input }) });
    const two = await runPlanned(evalPipeline(path.join(dir, 'two')), { engine, logger: memoryLogger(), quiet: true });
    const perCheckpoint = seen.filter((s) => s.label.endsWith(' checkpoints'));
    expect(perCheckpoint).toHaveLength(2);
    for (const s of perCheckpoint) {
      expect(s.input.input!.dataset).toBe('s3://data/examples');
      expect(s.input.input!.parts.length).toBeGreaterThan(2);
      expect(s.input.input!.parts.every((p) => p.file.startsWith('s3://data/examples/split=') && p.sha256 !== undefined)).toBe(true);
    }
    expect(metricLines(two.metrics).length).toBeGreaterThan(20);
    expect(metricLines(two.metrics)).toEqual(metricLines(one.metrics));
  });

  it('shards per checkpoint × group of parts: each shard commits its pairs, keyed by the parts’ SHA-256 as on disk', async () => {
    const one = await runPipeline(evalPipeline(path.join(dir, 'one4')), { logger: memoryLogger(), quiet: true });
    const seen: ShardTaskInput[] = [];
    // Each checkpoint shard's committed partitions, read from its state file as it ends (the step directory is removed with the run).
    const committed: string[][] = [];
    const engine = inProcessEngine(2, {
      after: (input, label) => {
        if (!label.endsWith(' checkpoints')) return;
        seen.push(input);
        const state = JSON.parse(fs.readFileSync(input.stages[0]!.config.state as string, 'utf8')) as { done: { partition: string }[] };
        committed.push(state.done.map((d) => d.partition));
      },
    });
    const four = await runPlanned(evalPipeline(path.join(dir, 'four')), { engine, shards: 4, logger: memoryLogger(), quiet: true });
    // 2 checkpoints × 2 groups of the test split's parts.
    expect(seen).toHaveLength(4);
    const shas = new Set(seen[0]!.input!.parts.map((p) => `sha256:${p.sha256}`));
    for (const parts of committed) {
      expect(parts.length).toBeGreaterThan(0);
      for (const id of parts) expect(shas.has(id)).toBe(true);
    }
    // The two groups of one checkpoint split its partitions between them.
    expect(new Set([...committed[0]!, ...committed[1]!]).size).toBe(committed[0]!.length + committed[1]!.length);
    expect(metricLines(four.metrics)).toEqual(metricLines(one.metrics));
  });
});
