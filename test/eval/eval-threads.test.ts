import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkRanks } from '../../stages/eval/chunk-ranks.js';
import { EvalThreadPool } from '../../stages/eval/eval-threads.js';
import { EvalThreads } from '../../stages/eval/eval-threads-option.js';
import { PopularityScorer } from '../../stages/eval/baselines.js';
import { targetRanks } from '../../stages/eval/ranking-metrics.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { initBackend } from '../../stages/train/backend.js';
import type { SasrecPolicy } from '../../stages/train/sasrec-policy.js';
import { sasrecRows, tiedPolicy } from './sasrec-fixture.js';

describe('evaluation on several threads', () => {
  let policy: SasrecPolicy;
  const pools: EvalThreadPool[] = [];
  beforeAll(async () => {
    await initBackend('wasm');
    policy = tiedPolicy();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    policy.dispose();
  });

  it('gives exactly the ranks of one thread and of whole-catalog scoring, for 2 and 3 threads, ties included', async () => {
    const { ctx, targets } = sasrecRows(8, 90, policy.numItems);
    const full = await policy.scoreContexts(ctx);
    const want = targetRanks(full, policy.numItems, targets, ctx);
    const one = await chunkRanks(policy, ctx, targets, ctx, { excludeHistory: true, maxScoreFloats: 90 * 11 });
    expect(Array.from(one.ranks)).toEqual(Array.from(want));
    for (const t of [2, 3]) {
      const pool = await EvalThreadPool.start(t);
      pools.push(pool);
      expect(pool.threads).toBe(t);
      for (const maxScoreFloats of [90 * 11, 1 << 20]) {
        const got = await chunkRanks(policy, ctx, targets, ctx, { excludeHistory: true, maxScoreFloats, pool });
        expect(Array.from(got.ranks)).toEqual(Array.from(want));
        expect(Array.from(got.candidates)).toEqual(Array.from(one.candidates));
      }
      // Another scorer's item vectors replace the first's in the workers.
      const other = tiedPolicy({ ...policy.config, numItems: 150 });
      const o = sasrecRows(9, 40, 150, false);
      const wantOther = targetRanks(await other.scoreContexts(o.ctx), 150, o.targets, o.ctx);
      expect(Array.from((await chunkRanks(other, o.ctx, o.targets, o.ctx, { excludeHistory: true, maxScoreFloats: 1000, pool })).ranks)).toEqual(
        Array.from(wantOther),
      );
      other.dispose();
    }
  }, 120_000);

  it('rejects the chunk with a message naming the worker that died, and closes', async () => {
    const pool = await EvalThreadPool.start(2);
    pools.push(pool);
    const { ctx, targets } = sasrecRows(10, 20, policy.numItems);
    await chunkRanks(policy, ctx, targets, ctx, { excludeHistory: true, maxScoreFloats: 1000, pool });
    await pool.workerThreads()[0]!.terminate();
    await expect(chunkRanks(policy, ctx, targets, ctx, { excludeHistory: true, maxScoreFloats: 1000, pool })).rejects.toThrow(
      'evaluation worker 1 exited (code 1) during evaluation',
    );
    await pool.close();
  }, 60_000);

  it('starts threads only for a factored scorer with enough work, and says so once', async () => {
    const log = memoryLogger();
    const threads = new EvalThreads(2, log, 1000);
    expect(await threads.poolFor(new PopularityScorer([0, 1, 2]), 10_000)).toBeUndefined();
    expect(await threads.poolFor(policy, 4)).toBeUndefined(); // 4 × 202 scores < 1000
    const pool = await threads.poolFor(policy, 5);
    expect(pool?.threads).toBe(2);
    expect(await threads.poolFor(policy, 50)).toBe(pool);
    await threads.close();
    expect(log.lines.filter((l) => l.includes('threads share the catalog'))).toEqual(['evaluate_ranking: 2 threads share the catalog']);
    expect(await new EvalThreads(1, log, 0).poolFor(policy, 100)).toBeUndefined();
  }, 60_000);
});
