/**
 * `recpost run` without --workers uses every core (issue 10), but a pipeline
 * whose plan shards nothing runs in this process: no plan runner, no worker
 * process, no step area, no engine in run.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRunWorkers, runWithEngineOptions } from '../../pipelines/commands/sharded-run.js';
import { compilePlan, shardsWork } from '../../pipelines/plan/compile.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { partFiles, readJson, writeExamples } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-default-workers-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const simulateOnly = (outDir: string) =>
  resolvePipeline({ name: 'sim', out_dir: outDir, seed: 2, stages: [{ stage: 'simulate_ratings', with: { preset: 'small', num_users: 40 } }] }, 'sim.yaml');

const readWrite = (input: string, outDir: string) =>
  resolvePipeline(
    {
      name: 'rw',
      out_dir: outDir,
      seed: 2,
      stages: [
        { stage: 'read_parquet', with: { path: input, table: 'examples' } },
        { stage: 'write_parquet', with: { path: path.join(outDir, 'out'), rows_per_file: 700 } },
      ],
    },
    'rw.yaml',
  );

describe('--workers default', { timeout: 240_000 }, () => {
  it('is the number of cores', () => {
    expect(defaultRunWorkers()).toBe(Math.max(1, os.availableParallelism()));
  });

  it('a split counts as work only after an ingest with user_buckets > 1', () => {
    const p = (buckets: number) =>
      resolvePipeline(
        {
          name: 'x',
          out_dir: path.join(dir, 'x'),
          stages: [
            { stage: 'ingest', with: { path: 'in.csv', output: path.join(dir, 'x', 'i'), user_buckets: buckets } },
            { stage: 'split_sequences', with: {} },
          ],
        },
        'x.yaml',
      );
    const splitOnly = (buckets: number) => {
      const q = p(buckets);
      const steps = compilePlan(q, { ranges: true, buckets: true }).filter((s) => s.stages[0]!.def.name === 'split_sequences');
      return shardsWork(q, steps);
    };
    expect(splitOnly(1)).toBe(false);
    expect(splitOnly(4)).toBe(true);
    expect(shardsWork(simulateOnly(dir), compilePlan(simulateOnly(dir), { ranges: true, buckets: true }))).toBe(false);
  });

  it('a pipeline with nothing to shard runs in this process: no step area, no engine in run.json', async () => {
    const out = path.join(dir, 'sim');
    await runWithEngineOptions(simulateOnly(out), { quiet: true }, { logger: memoryLogger(), quiet: true, outDir: out });
    expect(fs.statSync(path.join(out, 'ratings-sim', 'ratings.dat')).size).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(out, '.recpost'))).toBe(false);
    expect(readJson(path.join(out, 'run.json')).engine).toBeUndefined();
  });

  it('a shardable pipeline runs on the local engine with a worker per core (in this process on one core), same parts as --workers 1', async () => {
    const input = path.join(dir, 'examples');
    writeExamples(input, 4, 1400, 4);
    const one = path.join(dir, 'one');
    await runWithEngineOptions(readWrite(input, one), { workers: 1, quiet: true }, { logger: memoryLogger(), quiet: true, outDir: one });
    const dflt = path.join(dir, 'default');
    await runWithEngineOptions(readWrite(input, dflt), { quiet: true }, { logger: memoryLogger(), quiet: true, outDir: dflt });
    expect(partFiles(path.join(dflt, 'out'))).toEqual(partFiles(path.join(one, 'out')));
    const n = defaultRunWorkers();
    expect(readJson(path.join(dflt, 'run.json')).engine).toEqual(n > 1 ? { kind: 'local', workers: n, shards: n } : undefined);
    expect(readJson(path.join(one, 'run.json')).engine).toBeUndefined();
  });
});
