/**
 * Issue 12, defect 4: the global reward statistics (μ, σ and the max that
 * Exp-RSFT shifts by) are computed on train rows by default, so the validation
 * and test targets (all five-star after the r ≥ 4.5 filter) do not leak into
 * them; `rows: all` keeps the old behaviour.
 */
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { rewardStatsStage } from '../../stages/stats/reward-stats-stage.js';
import { runStages, tmpDir } from './helpers.js';

const batch = (reward: number[], split?: number[]): Batch => ({
  table: 'examples',
  numRows: reward.length,
  columns: { reward: Float32Array.from(reward), ...(split ? { split: Int8Array.from(split) } : {}) },
});

// Train rewards 1, 3, 2 (mean 2, population std √(2/3), max 3); valid 5, test 5.
const input = [batch([1, 3, 5], [0, 0, 1]), batch([2, 5], [0, 2])];

async function summary(withOpts: Record<string, unknown>, batches = input): Promise<{ s: RewardStatsSummary; batchCounts: number[] }> {
  const r = await runStages(batches, [{ def: rewardStatsStage, with: withOpts }], tmpDir('stats-train'));
  const batchCounts = r.metrics.filter((m) => m.split === 'batch' && m.metric === 'reward_count').map((m) => m.value);
  return { s: r.artifacts.get('reward_stats') as RewardStatsSummary, batchCounts };
}

describe('reward_stats: train rows by default', () => {
  it('default: count 3, mean 2, std √(2/3), max 3 from the train rows only', async () => {
    const { s, batchCounts } = await summary({});
    expect(s.count).toBe(3);
    expect(s.mean).toBeCloseTo(2, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(s.min).toBe(1);
    expect(s.max).toBe(3);
    expect(batchCounts).toEqual([2, 1]);
  });

  it('rows: all includes the valid and test rows (mean 16/5, max 5)', async () => {
    const { s } = await summary({ rows: 'all' });
    expect(s.count).toBe(5);
    expect(s.mean).toBeCloseTo(16 / 5, 12);
    expect(s.max).toBe(5);
  });

  it('batches without a split column (an interaction log) are all used', async () => {
    const { s } = await summary({}, [batch([1, 2, 6])]);
    expect(s.count).toBe(3);
    expect(s.max).toBe(6);
  });
});
