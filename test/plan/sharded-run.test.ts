import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { runPlanned } from '../../pipelines/plan/plan-runner.js';
import { compilePlan } from '../../pipelines/plan/compile.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { LocalEngine } from '../../pipelines/engine/local-engine.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { partFiles, readAll, readJson, weightingPipeline, writeExamples } from './helpers.js';

let dir: string;
let input: string;
let engine: LocalEngine;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-plan-'));
  input = path.join(dir, 'examples');
  // 6 parts of 1400 rows in row groups (batches) of 700: every shard holds whole 700-row output parts, so part files line up with the whole run's.
  writeExamples(input, 6, 1400);
  engine = new LocalEngine(2);
});
afterAll(async () => {
  await engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Worker processes start under tsx and import every stage: slow on a loaded machine.
describe('sharded run on the local engine', { timeout: 240_000 }, () => {
  it('compiles read → stats into one sharded step, and weighting → write into another', () => {
    const steps = compilePlan(weightingPipeline(input, path.join(dir, 'x'), path.join(dir, 'x', 'out')));
    expect(steps.map((s) => [s.kind, s.stages.map((r) => r.def.name), s.outputNeeded])).toEqual([
      ['sharded', ['read_parquet', 'reward_stats'], true],
      ['sharded', ['exp_rsft', 'write_parquet'], false],
    ]);
    expect(steps[0]!.id).toMatch(/^0-read_parquet-[0-9a-f]{12}$/);
  });

  it('gives the single-process outputs: Parquet parts byte for byte, moments exactly, quantiles within the sketch error, metric records', async () => {
    const wholeDir = path.join(dir, 'whole');
    const whole = await runPipeline(weightingPipeline(input, wholeDir, path.join(wholeDir, 'out')), { logger: memoryLogger(), quiet: true });
    const shardDir = path.join(dir, 'sharded');
    const sharded = await runPlanned(weightingPipeline(input, shardDir, path.join(shardDir, 'out')), {
      engine,
      shards: 4,
      logger: memoryLogger(),
      quiet: true,
    });
    const a = await readAll(path.join(wholeDir, 'out'));
    const b = await readAll(path.join(shardDir, 'out'));
    expect(b.numRows).toBe(8400);
    expect(b.columns).toEqual(a.columns);
    expect(partFiles(path.join(shardDir, 'out'))).toEqual(partFiles(path.join(wholeDir, 'out')));

    const sa = readJson(path.join(wholeDir, 'reward_stats.json'));
    const sb = readJson(path.join(shardDir, 'reward_stats.json'));
    for (const k of ['count', 'mean', 'variance', 'std', 'min', 'max', 'histogram']) expect([k, sb[k]]).toEqual([k, sa[k]]);
    const eps = sa.quantileRankError as number;
    expect(eps).toBeGreaterThanOrEqual(0);
    const values = Float64Array.from(a.columns.reward as Float32Array).sort();
    for (const { q, value } of sb.quantiles as { q: number; value: number }[]) {
      // The rank of the reported value lies within q ± ε of the true ranks.
      const lo = values.findIndex((v) => v >= value) / values.length;
      let above = values.length;
      while (above > 0 && values[above - 1]! > value) above--;
      const hi = above / values.length;
      expect(q).toBeGreaterThanOrEqual(lo - eps - 1 / values.length);
      expect(q).toBeLessThanOrEqual(hi + eps + 1 / values.length);
    }
    const strip = (ms: typeof whole.metrics) => ms.map((m) => JSON.stringify(m));
    expect(strip(sharded.metrics)).toEqual(strip(whole.metrics));
    expect(sharded.stages.map((s) => [s.id, s.rowsIn, s.rowsOut])).toEqual(whole.stages.map((s) => [s.id, s.rowsIn, s.rowsOut]));
    // The run's own step areas are gone; nothing else was touched.
    expect(fs.existsSync(path.join(shardDir, '.recpost', 'steps'))).toBe(true);
    expect(fs.readdirSync(path.join(shardDir, '.recpost', 'steps'))).toEqual([]);
  });

  it('refuses a writer whose output is the input of its step, before any shard runs (as one process does)', async () => {
    const runDir = path.join(dir, 'same');
    const p = resolvePipeline({
      name: 'same',
      out_dir: runDir,
      stages: [
        { stage: 'read_parquet', with: { path: input, table: 'examples' } },
        { stage: 'write_parquet', with: { path: input } },
      ],
    });
    await expect(runPlanned(p, { engine, logger: memoryLogger(), quiet: true })).rejects.toThrow(
      `write_parquet: output ${input} is the input ${input} of this step; choose another output`,
    );
    expect(fs.existsSync(path.join(input, '_manifest.json'))).toBe(true);
  });
});
