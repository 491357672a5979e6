import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { mergeStatic, runStaticShard } from '../../pipelines/plan/static-shards.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { partFiles, readAll, readJson, weightingPipeline, writeExamples } from './helpers.js';

let dir: string;
let input: string;
let wholeDir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-plan-static-'));
  input = path.join(dir, 'examples');
  writeExamples(input, 5, 1400, 4);
  wholeDir = path.join(dir, 'whole');
  await runPipeline(weightingPipeline(input, wholeDir, path.join(wholeDir, 'out')), { logger: memoryLogger(), quiet: true });
}, 180_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Worker processes start under tsx and import every stage: slow on a loaded machine.
describe('static sharding: --shard-index I --shard-count N, then merge', { timeout: 240_000 }, () => {
  it('N = 3, shards run out of order (one twice), merged round by round: equals the single-process run', async () => {
    const runDir = path.join(dir, 'static');
    const p = () => weightingPipeline(input, runDir, path.join(runDir, 'out'));
    const quiet = { logger: memoryLogger(), quiet: true };
    // Round 1: read + statistics. Merging before every shard is done names the missing ones.
    const first = await runStaticShard(p(), { ...quiet, shardIndex: 2, shardCount: 3 });
    expect(first.step).toMatch(/^0-read_parquet-/);
    await expect(mergeStatic(p(), { ...quiet, shardCount: 3 })).rejects.toThrow(
      new RegExp(
        `^step ${first.step}: shard\\(s\\) 0, 1 of 3 not done \\(no _done\\.json under .*\\); run them with --shard-index I --shard-count 3, then merge again$`,
      ),
    );
    await runStaticShard(p(), { ...quiet, shardIndex: 0, shardCount: 3 });
    await runStaticShard(p(), { ...quiet, shardIndex: 1, shardCount: 3 });
    await runStaticShard(p(), { ...quiet, shardIndex: 0, shardCount: 3 });
    const m1 = await mergeStatic(p(), { ...quiet, shardCount: 3 });
    expect(m1.advanced).toEqual([first.step]);
    expect(m1.next).toMatch(/^2-exp_rsft-/);
    // A different shard count for the same run is refused.
    await expect(runStaticShard(p(), { ...quiet, shardIndex: 0, shardCount: 4 })).rejects.toBeInstanceOf(ConfigError);
    // Round 2: weighting + write, with the merged statistics.
    for (const i of [1, 2, 0]) expect((await runStaticShard(p(), { ...quiet, shardIndex: i, shardCount: 3 })).step).toBe(m1.next);
    const m2 = await mergeStatic(p(), { ...quiet, shardCount: 3 });
    expect(m2.advanced).toEqual([m1.next]);
    expect(m2.next).toBeUndefined();
    await expect(runStaticShard(p(), { ...quiet, shardIndex: 0, shardCount: 3 })).rejects.toThrow(/every step of this pipeline is done and merged/);

    const out = path.join(runDir, 'out');
    const wholeOut = path.join(wholeDir, 'out');
    expect((await readAll(out)).columns).toEqual((await readAll(wholeOut)).columns);
    expect(partFiles(out)).toEqual(partFiles(wholeOut));
    const s = readJson(path.join(runDir, 'reward_stats.json'));
    const w = readJson(path.join(wholeDir, 'reward_stats.json'));
    expect([s.count, s.mean, s.variance, s.std, s.min, s.max, s.histogram]).toEqual([w.count, w.mean, w.variance, w.std, w.min, w.max, w.histogram]);
    const metrics = (d: string) => fs.readFileSync(path.join(d, 'metrics.jsonl'), 'utf8');
    expect(metrics(runDir)).toBe(metrics(wholeDir));
  });
});
