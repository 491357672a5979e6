/**
 * Paper 000 Table 2 in the same run as the ranking table: the split keeps every
 * test target (apply_threshold: false), evaluate_ranking ranks only the
 * targets with reward ≥ min_reward (the r ≥ 4.5 protocol), and
 * evaluate_reward_model, after the examples are read again, measures the
 * reward-model error on all (unfiltered) test ratings.
 */
import _ from 'highland';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { StageDefinition } from '../../stages/core/stage.js';
import { evaluateRankingStage } from '../../stages/eval/evaluate-ranking-stage.js';
import { evaluateRewardModelStage } from '../../stages/eval/evaluate-reward-model-stage.js';
import { runPipeline } from '../../pipelines/runner.js';
import { examplesBatch, removeTmpDirs, tmpDir, type ExampleRow } from './helpers.js';

afterAll(removeTmpDirs);

const rows: ExampleRow[] = [
  { user: 1, context: [], action: 1, reward: 4, split: 'train' },
  { user: 2, context: [], action: 1, reward: 2, split: 'train' },
  { user: 2, context: [], action: 2, reward: 3, split: 'train' },
  // Test: user 1 rates item 1 with 5 (kept by the 4.5 filter), user 2 rates item 3 with 1 (below it).
  { user: 1, context: [], action: 1, reward: 5, split: 'test' },
  { user: 2, context: [], action: 3, reward: 1, split: 'test' },
];

const source = (): StageDefinition<Record<string, never>> => ({
  name: 'test_source',
  role: 'source',
  summary: 'batches',
  fields: {},
  create: () => ({
    source: async function* () {
      yield examplesBatch(rows);
    },
  }),
});

describe('reward-model error on unfiltered test ratings beside the filtered ranking', () => {
  it('ranking counts 1 case (r ≥ 4.5), the reward-model table 2 (every test rating)', async () => {
    const ranking = validateConfig<Record<string, unknown>>('r', evaluateRankingStage.fields, { splits: ['test'], baselines: ['popularity'], min_reward: 4.5 });
    const rewards = validateConfig<Record<string, unknown>>('m', evaluateRewardModelStage.fields, { baselines: ['global_mean'] });
    const log = memoryLogger();
    const res = await runPipeline(
      {
        name: 't',
        outDir: tmpDir('table2'),
        seed: 1,
        stages: [
          { index: 0, id: 'src', def: source(), config: {} },
          { index: 1, id: 'rank', def: evaluateRankingStage, config: ranking },
          { index: 2, id: 'again', def: source(), config: {} },
          { index: 3, id: 'rm', def: evaluateRewardModelStage, config: rewards },
        ],
      },
      { writeFiles: false, logger: log },
    );
    const mrr = res.metrics.find((m) => m.method === 'popularity' && m.metric === 'mrr')!;
    // Popularity 1:2, 2:1: item 1 ranks first.
    expect(mrr).toMatchObject({ value: 1, count: 1 });
    expect(log.lines.join('\n')).toMatch(/1 case\(s\) below min_reward 4.5 left out/);
    // Global mean of the train rewards = 3: errors 2 and −2 → MSE 4, MAE 2 over both test ratings.
    const mse = res.metrics.find((m) => m.method === 'global_mean' && m.metric === 'reward_mse')!;
    expect(mse).toMatchObject({ value: 4, count: 2 });
    expect(res.metrics.find((m) => m.method === 'global_mean' && m.metric === 'reward_mae')!.value).toBe(2);
  });
});
