/**
 * Issue 12 (issue 9's "Exp-RSFT weights above 1 pass silently with a stale
 * stats_path"): with the global shift c, a reward above c would get a weight
 * above 1, which the README rules out ((0, 1]); it is a ConfigError naming the
 * row, the reward and the shift.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stages/core/config-schema.js';
import { getStage } from '../../stages/registry.js';
import { createOfflineObjective } from '../../stages/weighting/registry.js';
import { createStage, rewardBatch, runInstance, testCtx } from './helpers.js';

const summary = (max: number) => ({
  count: 3,
  mean: 2,
  variance: 1,
  std: 1,
  min: 1,
  max,
  quantiles: [],
  quantileRankError: 0,
  histogram: { edges: [], counts: [] },
});

describe('rewards beyond the statistics', () => {
  it('a stale stats_path (max 4) and a reward of 5 is a ConfigError naming the row, the reward and the shift', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-stale-'));
    const file = path.join(dir, 'reward_stats.json');
    fs.writeFileSync(file, JSON.stringify(summary(4)));
    const stage = createStage(getStage('exp_rsft')!, { stats_path: file, lambda: 1 }, testCtx());
    const run = runInstance(stage, [rewardBatch([1, 4, 5, 2])]);
    await expect(run).rejects.toThrow(ConfigError);
    await expect(runInstance(createStage(getStage('exp_rsft')!, { stats_path: file, lambda: 1 }, testCtx()), [rewardBatch([1, 4, 5, 2])])).rejects.toThrow(
      'exp_rsft: the reward 5 at row 2 is above the shift c = 4 of the statistics, so its weight would exceed 1',
    );
  });

  it('an explicit shift below a reward is the same error; a reward equal to the shift gets weight 1', () => {
    const o = createOfflineObjective('exp_rsft', { shift: 3, lambda: 1 });
    expect(() => o.weigh({ reward: Float64Array.from([3.5]) }, null)).toThrow(/the reward 3.5 at row 0 is above the shift c = 3/);
    expect(Array.from(o.weigh({ reward: Float64Array.from([3, 2]) }, null).result.weight)).toEqual([1, Math.fround(Math.exp(-1))]);
  });

  it('shift_mode: batch never raises it (c is the batch maximum)', () => {
    const o = createOfflineObjective('exp_rsft', { shift_mode: 'batch', lambda: 1 });
    expect(o.weigh({ reward: Float64Array.from([7, 9]) }, null).result.weight[1]).toBe(1);
  });
});
