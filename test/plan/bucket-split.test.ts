/**
 * split_sequences per user bucket (issue 10): over an ingest with
 * user_buckets = 4, one process and 2 local workers (one shard per bucket)
 * give the same examples row for row, the same weighted output, the same
 * split counts and metric records; the examples come out bucket-major. With
 * user_buckets = 1 the split runs whole, in user-index order, as before. A
 * split shard killed with SIGKILL runs again and changes nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { runPlanned, type ShardEngine } from '../../pipelines/plan/plan-runner.js';
import { compilePlan } from '../../pipelines/plan/compile.js';
import { resolvePipeline, type ResolvedPipeline } from '../../pipelines/spec.js';
import { LocalEngine } from '../../pipelines/engine/local-engine.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ARTIFACT } from '../../stages/core/artifacts.js';
import { userBucket } from '../../stages/ingest/user-buckets.js';
import { loadVocabulary } from '../../stages/ingest/vocab-files.js';
import { checkpointShardsTwice, killingEngine, partFiles, readAll } from './helpers.js';

const B = 4;
let dir: string;
let csv: string;
let engine: LocalEngine;

/** Users with text and numeric raw ids (they hash to every bucket), irregular rewards and tied timestamps. */
function ratingsCsv(rows: number): string {
  let s = 11;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out = ['user,item,rating,timestamp'];
  for (let i = 0; i < rows; i++) {
    const user = r() < 0.5 ? `u-${Math.floor(r() * 60)}` : String(Math.floor(r() * 90));
    out.push(`${user},${1 + Math.floor(r() * 40)},${1 + Math.floor(r() * 5)},${Math.floor(i / 3)}`);
  }
  return `${out.join('\n')}\n`;
}

function pipeline(outDir: string, buckets: number): ResolvedPipeline {
  return resolvePipeline(
    {
      name: 'bucket-split',
      out_dir: outDir,
      seed: 5,
      stages: [
        { stage: 'ingest', with: { path: csv, output: path.join(outDir, 'interactions'), rows_per_file: 300, user_buckets: buckets, threads: 1 } },
        { stage: 'split_sequences', with: { max_len: 5, threshold: 3, batch_size: 97, output: path.join(outDir, 'examples') } },
        { stage: 'reward_stats', with: { barrier: true } },
        { stage: 'exp_rsft', with: { lambda: 0.5 } },
        { stage: 'write_parquet', with: { path: path.join(outDir, 'weighted'), rows_per_file: 400 } },
      ],
    },
    'bucket-split.yaml',
  );
}

/** The same log, then training (3 epochs: 3 checkpoints) and full-catalog evaluation of every checkpoint and the baselines. */
function evalPipeline(outDir: string, evaluator: 'evaluate_ranking' | 'evaluate_reward_model' = 'evaluate_ranking'): ResolvedPipeline {
  return resolvePipeline(
    {
      name: 'bucket-eval',
      out_dir: outDir,
      seed: 5,
      stages: [
        { stage: 'ingest', with: { path: csv, output: path.join(outDir, 'interactions'), rows_per_file: 300, user_buckets: B, threads: 1 } },
        { stage: 'split_sequences', with: { max_len: 5, threshold: 3, batch_size: 500 } },
        {
          stage: 'train_sasrec',
          with: { method: 'bc', objective: { name: 'bc' }, epochs: 3, batch_size: 256, max_len: 5, d: 8, blocks: 1, heads: 1, backend: 'wasm' },
        },
        evaluator === 'evaluate_ranking'
          ? { stage: evaluator, with: { ks: [5, 10], batch_rows: 64 } }
          : { stage: evaluator, with: { splits: ['test', 'valid'] } },
      ],
    },
    'bucket-eval.yaml',
  );
}
// Every record but the timings (ingest rows/s, training examples/s) is compared.
const metricLines = (ms: { metric: string }[]) => ms.filter((m) => !/_per_s(econd)?$/.test(m.metric)).map((m) => JSON.stringify(m));

let whole: Awaited<ReturnType<typeof runPipeline>>;
const wholeDir = () => path.join(dir, 'whole');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-bucket-split-'));
  csv = path.join(dir, 'ratings.csv');
  fs.writeFileSync(csv, ratingsCsv(4000));
  engine = new LocalEngine(2);
  whole = await runPipeline(pipeline(wholeDir(), B), { logger: memoryLogger(), quiet: true });
}, 120_000);
afterAll(async () => {
  await engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function expectSameAsWhole(runDir: string): Promise<void> {
  for (const split of ['train', 'valid', 'test'])
    expect((await readAll(path.join(runDir, 'examples', `split=${split}`))).columns).toEqual(
      (await readAll(path.join(wholeDir(), 'examples', `split=${split}`))).columns,
    );
  expect((await readAll(path.join(runDir, 'weighted'))).columns).toEqual((await readAll(path.join(wholeDir(), 'weighted'))).columns);
}

describe('split_sequences per user bucket', { timeout: 240_000 }, () => {
  it('one process emits the examples bucket-major: every bucket is one run of rows, users in index order within it', async () => {
    const users = await loadVocabulary(path.join(wholeDir(), 'interactions', 'vocab', 'users.parquet'), 'users');
    const ex = await readAll(path.join(wholeDir(), 'examples', 'split=train'));
    const u = ex.columns.user_id as Int32Array;
    const buckets = Array.from(u, (x) => userBucket(users.rawId(x), B));
    const seen = new Set<number>();
    for (let i = 0; i < u.length; i++) {
      if (i > 0 && buckets[i] !== buckets[i - 1]) {
        expect(seen.has(buckets[i]!)).toBe(false);
        expect(buckets[i]!).toBeGreaterThan(buckets[i - 1]!);
      }
      if (i > 0 && buckets[i] === buckets[i - 1]) expect(u[i]!).toBeGreaterThanOrEqual(u[i - 1]!);
      seen.add(buckets[i]!);
    }
    expect(seen.size).toBe(B);
  });

  it('compiles the split into a step that the statistics join (its shards fold them), ended by the combine', () => {
    const steps = compilePlan(pipeline(path.join(dir, 'x'), B), { ranges: true, buckets: true });
    expect(steps.map((s) => [s.kind, s.stages.map((r) => r.def.name)])).toEqual([
      ['sharded', ['ingest']],
      ['sharded', ['split_sequences', 'reward_stats']],
      ['sharded', ['exp_rsft', 'write_parquet']],
    ]);
  });

  it('2 workers, one shard per bucket: the same examples row for row, weighted output, split counts and metric records', async () => {
    const runDir = path.join(dir, 'two');
    const flows: string[] = [];
    const counting: ShardEngine = {
      kind: 'local',
      slots: 2,
      runFlow(flow, onProgress) {
        flows.push(`${flow.label.split('-')[1]}:${flow.children.length}`);
        return engine.runFlow(flow, onProgress);
      },
    };
    const sharded = await runPlanned(pipeline(runDir, B), { engine: counting, logger: memoryLogger(), quiet: true });
    expect(flows.filter((f) => f.startsWith('split_sequences'))).toEqual([`split_sequences:${B}`]);
    await expectSameAsWhole(runDir);
    expect(sharded.artifacts.get(ARTIFACT.splitCounts)).toEqual(whole.artifacts.get(ARTIFACT.splitCounts));
    expect(metricLines(sharded.metrics)).toEqual(metricLines(whole.metrics));
    expect(sharded.stages.map((s) => [s.id, s.rowsIn, s.rowsOut])).toEqual(whole.stages.map((s) => [s.id, s.rowsIn, s.rowsOut]));
  });

  it('a split shard killed with SIGKILL runs again on another worker; the output is unchanged', async () => {
    const { engine: killing, seen } = killingEngine(engine, (label) => label.includes('split_sequences'), 5000, 1);
    const runDir = path.join(dir, 'killed');
    const r = await runPlanned(pipeline(runDir, B), { engine: killing, logger: memoryLogger(), quiet: true });
    expect(seen.killed).toHaveLength(1);
    expect(seen.retries).toBe(1);
    await expectSameAsWhole(runDir);
    expect(metricLines(r.metrics)).toEqual(metricLines(whole.metrics));
  });

  it('evaluation per checkpoint on 2 workers: the metric records of one process, exactly', async () => {
    const one = path.join(dir, 'eval-one');
    const a = await runPipeline(evalPipeline(one), { logger: memoryLogger(), quiet: true });
    const runDir = path.join(dir, 'eval-two');
    const flows: string[] = [];
    const counting: ShardEngine = {
      kind: 'local',
      slots: 2,
      runFlow(flow, onProgress) {
        flows.push(`${flow.label.split(' ').slice(1).join(' ')}:${flow.children.length}`);
        return engine.runFlow(flow, onProgress);
      },
    };
    const b = await runPlanned(evalPipeline(runDir), { engine: counting, logger: memoryLogger(), quiet: true });
    expect(flows).toContain('checkpoints:3');
    const evalRecords = (ms: { method: string; metric: string }[]) =>
      metricLines(ms.filter((m) => ['bc', 'popularity', 'random'].includes(m.method) && /@|mrr|candidates/.test(m.metric)));
    expect(evalRecords(a.metrics).length).toBeGreaterThan(20);
    expect(evalRecords(b.metrics)).toEqual(evalRecords(a.metrics));
    expect(metricLines(b.metrics)).toEqual(metricLines(a.metrics));

    // Every checkpoint shard delivered twice (at-least-once delivery), the copies running at once: the records are the same.
    const twiceDir = path.join(dir, 'eval-twice');
    const twice = checkpointShardsTwice(engine);
    const c = await runPlanned(evalPipeline(twiceDir), { engine: twice, logger: memoryLogger(), quiet: true });
    expect(metricLines(c.metrics)).toEqual(metricLines(a.metrics));
  });

  it('evaluate_reward_model per checkpoint on 2 workers: the metric records of one process, exactly', async () => {
    const a = await runPipeline(evalPipeline(path.join(dir, 'rm-one'), 'evaluate_reward_model'), { logger: memoryLogger(), quiet: true });
    const flows: string[] = [];
    const counting: ShardEngine = {
      kind: 'local',
      slots: 2,
      runFlow(flow, onProgress) {
        flows.push(`${flow.label.split(' ').slice(1).join(' ')}:${flow.children.length}`);
        return engine.runFlow(flow, onProgress);
      },
    };
    const b = await runPlanned(evalPipeline(path.join(dir, 'rm-two'), 'evaluate_reward_model'), { engine: counting, logger: memoryLogger(), quiet: true });
    expect(flows).toContain('checkpoints:3');
    expect(a.metrics.filter((m) => m.metric === 'reward_rmse').length).toBeGreaterThan(3);
    expect(metricLines(b.metrics)).toEqual(metricLines(a.metrics));
  });

  it('user_buckets 1: the split runs whole in user-index order, its parts byte for byte those of one process', async () => {
    const one = path.join(dir, 'b1-whole');
    await runPipeline(pipeline(one, 1), { logger: memoryLogger(), quiet: true });
    const u = (await readAll(path.join(one, 'examples', 'split=train'))).columns.user_id as Int32Array;
    for (let i = 1; i < u.length; i++) expect(u[i]!).toBeGreaterThanOrEqual(u[i - 1]!);
    const runDir = path.join(dir, 'b1-two');
    const flows: string[] = [];
    const counting: ShardEngine = {
      kind: 'local',
      slots: 2,
      runFlow(flow, onProgress) {
        flows.push(flow.label);
        return engine.runFlow(flow, onProgress);
      },
    };
    await runPlanned(pipeline(runDir, 1), { engine: counting, logger: memoryLogger(), quiet: true });
    expect(flows.some((f) => f.includes('split_sequences'))).toBe(false);
    // The statistics that joined the split's step still run sharded, as a step of their own.
    expect(flows.filter((f) => f.includes('reward_stats'))).toHaveLength(1);
    expect(partFiles(path.join(runDir, 'examples'))).toEqual(partFiles(path.join(one, 'examples')));
  });
});
