import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { runPlanned, type ShardEngine } from '../../pipelines/plan/plan-runner.js';
import { LocalEngine } from '../../pipelines/engine/local-engine.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { killingEngine, partFiles, readAll, readJson, weightingPipeline, writeExamples } from './helpers.js';

let dir: string;
let input: string;
let engine: LocalEngine;
let wholeOut: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-plan-recovery-'));
  input = path.join(dir, 'examples');
  // Batches of 7000 rows = 10 output parts of 700: part files line up with the whole run for any grouping.
  writeExamples(input, 4, 14_000, 9);
  engine = new LocalEngine(2);
  const wholeDir = path.join(dir, 'whole');
  wholeOut = path.join(wholeDir, 'out');
  await runPipeline(weightingPipeline(input, wholeDir, wholeOut), { logger: memoryLogger(), quiet: true });
}, 180_000);
afterAll(async () => {
  await engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

type Flow = Parameters<ShardEngine['runFlow']>[0];

async function expectSameAsWhole(runDir: string): Promise<void> {
  const out = path.join(runDir, 'out');
  expect((await readAll(out)).columns).toEqual((await readAll(wholeOut)).columns);
  expect(partFiles(out)).toEqual(partFiles(wholeOut));
  const s = readJson(path.join(runDir, 'reward_stats.json'));
  const w = readJson(path.join(path.dirname(wholeOut), 'reward_stats.json'));
  expect([s.count, s.mean, s.variance, s.min, s.max]).toEqual([w.count, w.mean, w.variance, w.min, w.max]);
}

// Worker processes start under tsx and import every stage: slow on a loaded machine.
describe('sharded runs survive killed workers and duplicated shards', { timeout: 240_000 }, () => {
  it('a worker killed with SIGKILL mid-shard: its shard runs again on another worker, the output is unchanged', async () => {
    // Kill the first worker seen busy on the first step's shards.
    const { engine: killing, seen } = killingEngine(engine, () => true, 2000, 2);
    const runDir = path.join(dir, 'killed');
    await runPlanned(weightingPipeline(input, runDir, path.join(runDir, 'out')), { engine: killing, shards: 4, logger: memoryLogger(), quiet: true });
    expect(seen.killed).toHaveLength(1);
    expect(seen.retries).toBe(1);
    expect(engine.workerPids()).not.toContain(seen.killed[0]);
    await expectSameAsWhole(runDir);
  });

  it('every shard delivered twice, the copies in reverse order: same files, same output', async () => {
    let ran = 0;
    const twice: ShardEngine = {
      kind: 'local',
      slots: 2,
      async runFlow(flow: Flow, onProgress) {
        const n = flow.children.length;
        const results = (await engine.runFlow(
          { label: flow.label, children: [...flow.children, ...flow.children.slice().reverse()] },
          onProgress,
        )) as unknown[];
        ran += results.length;
        // The engine may hand back either delivery's result: take the second copies'.
        return flow.children.map((_c, i) => results[2 * n - 1 - i]);
      },
    };
    const runDir = path.join(dir, 'twice');
    await runPlanned(weightingPipeline(input, runDir, path.join(runDir, 'out')), { engine: twice, shards: 3, logger: memoryLogger(), quiet: true });
    expect(ran).toBe(2 * (3 + 3));
    await expectSameAsWhole(runDir);
  });
});
