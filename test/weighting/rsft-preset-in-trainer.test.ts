/**
 * `objective: { name: rsft_linear, preset: paper }` inside a trainer stage: the
 * stage validates its options first (filling defaults), and the preset must
 * still apply (it was refused as "standardize is fixed to true" when the
 * schema's default false had been filled in).
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../stages/core/config-schema.js';
import { trainSasrecStage } from '../../stages/train/train-sasrec-stage.js';
import { createOfflineObjective } from '../../stages/weighting/registry.js';

const stats = { count: 3, mean: 2, variance: 4, std: 2, min: 1, max: 5, quantiles: [], quantileRankError: 0, histogram: { edges: [], counts: [] } };

describe('rsft_linear preset paper through train_sasrec options', () => {
  it('weights (r − μ)/σ, signed, after the stage filled its defaults', () => {
    const cfg = validateConfig<{ objective: Record<string, unknown> }>('train_sasrec', trainSasrecStage.fields, {
      objective: { name: 'rsft_linear', preset: 'paper' },
    });
    const { name, ...options } = cfg.objective;
    expect(name).toBe('rsft_linear');
    const o = createOfflineObjective('rsft_linear', options, { rewardStats: stats });
    expect(Array.from(o.weigh({ reward: Float64Array.from([1, 2, 5]) }, o.initialState()).result.weight)).toEqual([-0.5, 0, 1.5]);
  });

  it('without the preset the defaults are unchanged: w = r, negatives clipped', () => {
    const cfg = validateConfig<{ objective: Record<string, unknown> }>('train_sasrec', trainSasrecStage.fields, { objective: { name: 'rsft_linear' } });
    const { name: _n, ...options } = cfg.objective;
    const o = createOfflineObjective('rsft_linear', options, {});
    expect(Array.from(o.weigh({ reward: Float64Array.from([-1, 2, 5]) }, o.initialState()).result.weight)).toEqual([0, 2, 5]);
  });
});
