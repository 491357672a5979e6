/**
 * A whole pipeline on the cluster engine: a redis-server started here, two
 * `recpost worker` processes, and the read → statistics → Exp-RSFT → write
 * pipeline of the plan tests submitted through `openEngine({ redis })`. The
 * outputs must be the single-process run's, as on the local engine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnRedisWorker, type WorkerProcess } from '../../bench/redis-harness.js';
import { openEngine } from '../../pipelines/engine/open-engine.js';
import { runPlanned } from '../../pipelines/plan/plan-runner.js';
import { runPipeline } from '../../pipelines/runner.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { skipRedisTests, startRedisServer, type LocalRedisServer } from '../helpers/redis-server.js';
import { partFiles, readJson, weightingPipeline, writeExamples } from './helpers.js';

const skip = skipRedisTests();
let dir: string;
let input: string;
let server: LocalRedisServer;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-redis-plan-'));
  input = path.join(dir, 'examples');
  writeExamples(input, 6, 1400);
  server = await startRedisServer();
  workers.push(...(await Promise.all([spawnRedisWorker(server.url), spawnRedisWorker(server.url)])));
}, 120_000);

afterAll(async () => {
  if (skip) return;
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip)('a pipeline on recpost workers through Redis', { timeout: 240_000 }, () => {
  it('gives the single-process outputs: Parquet parts byte for byte, statistics, metric records', async () => {
    const wholeDir = path.join(dir, 'whole');
    const whole = await runPipeline(weightingPipeline(input, wholeDir, path.join(wholeDir, 'out')), { logger: memoryLogger(), quiet: true });
    const clusterDir = path.join(dir, 'cluster');
    const engine = await openEngine({ redis: server.url });
    let sharded;
    try {
      expect(engine.kind).toBe('redis');
      sharded = await runPlanned(weightingPipeline(input, clusterDir, path.join(clusterDir, 'out')), {
        engine,
        shards: 4,
        logger: memoryLogger(),
        quiet: true,
      });
    } finally {
      await engine.close();
    }
    expect(partFiles(path.join(clusterDir, 'out'))).toEqual(partFiles(path.join(wholeDir, 'out')));
    const sa = readJson(path.join(wholeDir, 'reward_stats.json'));
    const sb = readJson(path.join(clusterDir, 'reward_stats.json'));
    for (const k of ['count', 'mean', 'variance', 'std', 'min', 'max', 'histogram']) expect([k, sb[k]]).toEqual([k, sa[k]]);
    expect(sharded.metrics.map((m) => JSON.stringify(m))).toEqual(whole.metrics.map((m) => JSON.stringify(m)));
    // The shards ran on the workers (each logs one line per job).
    expect(workers.map((w) => w.log()).join('')).toMatch(/done \S+ \(plan\.shard\)/);
  });
});
