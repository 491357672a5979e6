/** evaluate_reward_model's RMSE (paper 000 Table 2 reports MSE and MAE; RMSE = √MSE is the same error in rating units). */
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRewardModelStage } from '../../stages/eval/evaluate-reward-model-stage.js';
import { withRootMeanSquare } from '../../stages/eval/reward-evaluator.js';
import { metricRecord } from '../../schemas/metric-record.js';
import { examplesBatch, fakePolicy, runStage, removeTmpDirs, type ExampleRow } from './helpers.js';

afterAll(removeTmpDirs);

describe('reward_rmse', () => {
  it('√MSE beside every MSE record (same key and count); the _std companion and other metrics are left alone', () => {
    const key = { run: 'r', method: 'm', seed: 1, step: 2, epoch: 0, split: 'test' };
    const out = withRootMeanSquare([
      metricRecord({ ...key, metric: 'reward_mse', value: 2.25, count: 4 }),
      metricRecord({ ...key, metric: 'reward_mse_std', value: 9, count: 4 }),
      metricRecord({ ...key, metric: 'reward_mae', value: 1.25, count: 4 }),
    ]);
    expect(out.map((r) => [r.metric, r.value, r.count])).toEqual([
      ['reward_mse', 2.25, 4],
      ['reward_rmse', 1.5, 4],
      ['reward_mse_std', 9, 4],
      ['reward_mae', 1.25, 4],
    ]);
  });

  it('evaluate_reward_model: global mean 3 against test ratings (1, 5, 4, 2) → MSE 2.5, RMSE √2.5; a head predicting 3.5 → MSE 2.75, RMSE √2.75', async () => {
    const rows: ExampleRow[] = [
      { user: 1, context: [], action: 1, reward: 2, split: 'train' },
      { user: 2, context: [], action: 2, reward: 4, split: 'train' },
      { user: 1, context: [1], action: 3, reward: 1, split: 'test' },
      { user: 2, context: [2], action: 4, reward: 5, split: 'test' },
      { user: 3, context: [], action: 1, reward: 4, split: 'test' },
      { user: 4, context: [], action: 2, reward: 2, split: 'test' },
    ];
    const head = fakePolicy(10, { method: 'bc', step: 3, reward: () => 3.5 });
    const r = await runStage(
      evaluateRewardModelStage,
      { baselines: ['global_mean'] },
      [examplesBatch(rows)],
      new Map([['checkpoints', [{ dir: '/v/bc', policy: head }]]]),
    );
    const v = (method: string, metric: string) => r.metrics.find((x) => x.method === method && x.metric === metric && x.split === 'test')!;
    // Errors of 3: (2, −2, −1, 1) → MSE (4 + 4 + 1 + 1)/4 = 2.5.
    expect(v('global_mean', 'reward_mse').value).toBe(2.5);
    expect(v('global_mean', 'reward_rmse')).toMatchObject({ value: Math.sqrt(2.5), count: 4 });
    // Errors of 3.5: (2.5, −1.5, −0.5, 1.5) → MSE (6.25 + 2.25 + 0.25 + 2.25)/4 = 2.75.
    expect(v('bc', 'reward_rmse')).toMatchObject({ value: Math.sqrt(2.75), count: 4, step: 3 });
  });
});
