import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRankingStage } from '../../stages/eval/evaluate-ranking-stage.js';
import { evaluateRewardModelStage } from '../../stages/eval/evaluate-reward-model-stage.js';
import { evaluateJudgeStage } from '../../stages/eval/evaluate-judge-stage.js';
import { evaluateProxyGoldStage } from '../../stages/eval/evaluate-proxy-gold-stage.js';
import { evalStages } from '../../stages/eval/index.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { examplesBatch, fakePolicy, runStage, type ExampleRow, removeTmpDirs } from './helpers.js';

afterAll(removeTmpDirs);

const find = (rs: MetricRecord[], method: string, metric: string, split = 'test') =>
  rs.find((r) => r.method === method && r.metric === metric && r.split === split);

describe('evaluate_ranking', () => {
  it('ranks the popularity baseline by hand, with history excluded', async () => {
    const rows: ExampleRow[] = [
      { user: 1, context: [5], action: 1, split: 'train' },
      { user: 1, context: [], action: 1, split: 'train' },
      { user: 2, context: [], action: 1, split: 'train' },
      { user: 2, context: [], action: 2, split: 'train' },
      { user: 3, context: [], action: 2, split: 'train' },
      { user: 3, context: [], action: 3, split: 'train' },
      // Popularity 1:3, 2:2, 3:1, 4:0, 5:0. Ranks: 1 → 1; 3 with 1 excluded → 2; 4 (tied with 5) → 5.
      { user: 1, context: [], action: 1, split: 'test' },
      { user: 2, context: [1], action: 3, split: 'test' },
      { user: 3, context: [], action: 4, split: 'test' },
      { user: 3, context: [], action: 2, split: 'valid' },
    ];
    // history: context — the ranks below exclude the context column only (the whole-history default is in ranking-history.test.ts).
    const r = await runStage(evaluateRankingStage, { baselines: ['popularity', 'random'], ks: [1, 2], history: 'context' }, [examplesBatch(rows)]);
    expect(find(r.metrics, 'popularity', 'mrr')).toMatchObject({ value: (1 + 0.5 + 0.2) / 3, count: 3, step: 0, run: 'test' });
    expect(find(r.metrics, 'popularity', 'hr@1')!.value).toBeCloseTo(1 / 3, 15);
    expect(find(r.metrics, 'popularity', 'hr@2')!.value).toBeCloseTo(2 / 3, 15);
    expect(find(r.metrics, 'popularity', 'ndcg@2')!.value).toBeCloseTo((1 + 1 / Math.log2(3)) / 3, 15);
    expect(find(r.metrics, 'popularity', 'candidates')!.value).toBeCloseTo(14 / 3, 15);
    expect(find(r.metrics, 'popularity', 'mrr', 'valid')).toMatchObject({ value: 0.5, count: 1 });
    expect(find(r.metrics, 'random', 'mrr')).toMatchObject({ seed: 3, count: 3 });
    expect(r.log.join('\n')).toMatch(/context items other than the target excluded, ties counted against the model/);
  });

  it('says so when there is nothing to evaluate', async () => {
    const r = await runStage(evaluateRankingStage, { baselines: [] }, [examplesBatch([{ user: 1, context: [], action: 1, split: 'train' }])]);
    expect(r.metrics).toEqual([]);
    expect(r.out).toEqual([]);
    const withBaselines = await runStage(evaluateRankingStage, {}, [examplesBatch([{ user: 1, context: [], action: 1, split: 'train' }])]);
    expect(withBaselines.metrics).toEqual([]);
    expect(r.log.join('\n')).toMatch(/no rows of split\(s\) test, valid/);
    expect(r.log.join('\n')).toMatch(/nothing to evaluate/);
  });

  it('validates options with messages naming the field', () => {
    expect(() => validateConfig('stage "evaluate_ranking"', evaluateRankingStage.fields, { splits: ['tset'] })).toThrow(
      /splits\[0\]" must be one of train, valid, test/,
    );
    expect(() => validateConfig('x', evaluateRankingStage.fields, { baselines: ['pop'] })).toThrow(/baselines\[0\]/);
    expect(() =>
      evaluateRankingStage.create({ ...validateConfig<Record<string, unknown>>('x', evaluateRankingStage.fields, {}), ks: [10, 10] } as never, {} as never),
    ).toThrow(/listed twice/);
    expect(evalStages.map((s) => s.name)).toEqual(['evaluate_ranking', 'evaluate_reward_model', 'evaluate_judge', 'evaluate_proxy_gold', 'calibrate_proxy']);
    for (const s of evalStages) for (const [k, f] of Object.entries(s.fields)) expect(f.doc.length, `${s.name}.${k}`).toBeGreaterThan(10);
  });
});

describe('evaluate_reward_model', () => {
  const rows: ExampleRow[] = [
    { user: 1, context: [], action: 1, reward: 4, split: 'train' },
    { user: 1, context: [1], action: 2, reward: 2, split: 'train' },
    { user: 2, context: [], action: 1, reward: 5, split: 'train' },
    { user: 3, context: [], action: 3, reward: 1, split: 'train' },
    { user: 1, context: [1, 2], action: 3, reward: 2, split: 'test' },
    { user: 2, context: [1], action: 2, reward: 4, split: 'test' },
    { user: 9, context: [], action: 1, reward: 5, split: 'test' },
    { user: 3, context: [3], action: 9, reward: 3, split: 'test' },
  ];

  it('reports the hand-computed errors of the baselines and of a reward head', async () => {
    const head = fakePolicy(10, { method: 'rm', step: 7, reward: () => 2.5 });
    const noHead = fakePolicy(10, { method: 'plain', step: 1 });
    const arts = new Map<string, unknown>([
      [
        'checkpoints',
        [
          { dir: '/v/rm', policy: head },
          { dir: '/v/plain', policy: noHead },
        ],
      ],
    ]);
    const r = await runStage(evaluateRewardModelStage, {}, [examplesBatch(rows)], arts);
    const v = (m: string, metric: string) => find(r.metrics, m, metric)!.value;
    expect([v('global_mean', 'reward_mse'), v('global_mean', 'reward_mae')]).toEqual([1.5, 1]);
    expect([v('user_mean', 'reward_mse'), v('user_mean', 'reward_mae')]).toEqual([2.5, 1.5]);
    expect([v('item_mean', 'reward_mse'), v('item_mean', 'reward_mae')]).toEqual([1.3125, 0.875]);
    expect([v('rm', 'reward_mse'), v('rm', 'reward_mae')]).toEqual([2.25, 1.25]);
    expect(find(r.metrics, 'rm', 'reward_mse')).toMatchObject({ step: 7, count: 4 });
    expect(r.metrics.some((x) => x.method === 'plain')).toBe(false);
    const log = r.log.join('\n');
    expect(log).toMatch(/plain@1 has no reward head; skipped/);
    expect(log).toMatch(/1 of 4 evaluation rows have an unseen user and 1 an unseen item \(they get the global mean\)/);
  });

  it('needs train rows for the baselines', async () => {
    await expect(runStage(evaluateRewardModelStage, {}, [examplesBatch(rows.slice(4))])).rejects.toThrow(/no train rows/);
  });
});

/** Scores peaking at item `peak` (1 there, 0 elsewhere); a low temperature makes sampling a point mass. */
const peaked = (peak: number, o: Parameters<typeof fakePolicy>[1] = {}) => fakePolicy(6, { temperature: 0.01, score: (_c, j) => (j === peak ? 1 : 0), ...o });

describe('evaluate_judge', () => {
  const rows: ExampleRow[] = [
    { user: 1, context: [], action: 1, split: 'test' },
    { user: 2, context: [3], action: 2, split: 'test' },
    { user: 4, context: [1, 3], action: 2, split: 'test' },
    { user: 5, context: [], action: 2, split: 'valid' },
  ];
  // Judge r̂(s, a) = 10a + |s|; truth r*(u, a) = u + a/100.
  const world = { trueRewards: (u: Int32Array, a: Int32Array) => Float64Array.from(u, (x, i) => x + a[i]! / 100) };

  it('averages the judge over samples and gives the true value of sampled and top-1 recommendations', async () => {
    const policy = peaked(3, { method: 'bc', step: 4, reward: (c, a) => 10 * a + c.length });
    const r = await runStage(
      evaluateJudgeStage,
      { samples: 4 },
      [examplesBatch(rows)],
      new Map<string, unknown>([
        ['checkpoints', [{ dir: '/v/bc', policy }]],
        ['world', world],
      ]),
    );
    // Every sample is item 3: judge 30 + |s| → mean over contexts (30 + 31 + 32) / 3.
    expect(find(r.metrics, 'bc', 'avg_reward')).toMatchObject({ value: 31, count: 3, step: 4 });
    // True reward of samples: u + 0.03.
    expect(find(r.metrics, 'bc', 'true_reward_sampled')!.value).toBeCloseTo((1 + 2 + 4) / 3 + 0.03, 12);
    // Top-1 with history excluded: item 3, else the lowest remaining id (1, or 2 when 1 and 3 are in the history).
    expect(find(r.metrics, 'bc', 'true_reward_top1')!.value).toBeCloseTo((1.03 + 2.01 + 4.02) / 3, 12);
    expect(find(r.metrics, 'bc', 'ecpm_top1')!.value).toBeCloseTo((5 * (1.03 + 2.01 + 4.02)) / 3, 12);
    expect(find(r.metrics, 'bc', 'avg_reward', 'valid')).toBeUndefined();
  });

  it('limits the contexts and can drop eCPM', async () => {
    const policy = peaked(2, { method: 'drpo', reward: (_c, a) => -a });
    const r2 = await runStage(
      evaluateJudgeStage,
      { max_contexts: 2, ecpm_factor: 0 },
      [examplesBatch(rows)],
      new Map<string, unknown>([['checkpoints', [{ dir: '/v/drpo', policy }]]]),
    );
    expect(find(r2.metrics, 'drpo', 'avg_reward')).toMatchObject({ value: -2, count: 2 });
    expect(r2.metrics.some((x) => x.metric.startsWith('ecpm') || x.metric.startsWith('true_'))).toBe(false);
    expect(r2.log.join('\n')).toMatch(/no simulator world/);
  });

  it('rejects a policy that samples the padding item', async () => {
    const bad = fakePolicy(6, { reward: () => 0 });
    bad.sample = async (c, k) => new Int32Array((c.offsets.length - 1) * k);
    await expect(
      runStage(evaluateJudgeStage, {}, [examplesBatch(rows)], new Map<string, unknown>([['checkpoints', [{ dir: '/v/bad', policy: bad }]]])),
    ).rejects.toThrow(/outside 1..5 \(padding must never be sampled\)/);
  });
});

describe('evaluate_proxy_gold', () => {
  it('recentres by step 0, computes the exact KL and the peak summary', async () => {
    // π_step puts (almost) all mass on item 1, 2, 3 at steps 0, 10, 20; proxy r̂ = 2a (the step-0 head); gold = [0, 1, 5, 2][a].
    const head = (_c: number[], a: number) => 2 * a;
    const series = [peaked(1, { method: 'grpo', step: 0, reward: head }), peaked(2, { method: 'grpo', step: 10 }), peaked(3, { method: 'grpo', step: 20 })];
    const gold = [0, 1, 5, 2];
    const world = { trueRewards: (_u: Int32Array, a: Int32Array) => Float64Array.from(a, (x) => gold[x]!) };
    const rows: ExampleRow[] = [1, 2, 3, 4].map((u) => ({ user: u, context: [u], action: 1, split: 'test' }));
    const refs = series.map((p, i) => ({ dir: `/v/grpo-${i}`, method: 'grpo', step: p.step, epoch: 0, seed: 0, policy: p }));
    const r = await runStage(
      evaluateProxyGoldStage,
      { samples: 3 },
      [examplesBatch(rows)],
      new Map<string, unknown>([
        ['checkpoints', refs],
        ['world', world],
      ]),
    );
    const at = (metric: string, step: number) => r.metrics.find((x) => x.metric === metric && x.step === step && x.seed === 0)!;
    expect([at('proxy_reward', 0).value, at('proxy_reward', 10).value, at('proxy_reward', 20).value]).toEqual([2, 4, 6]);
    expect([at('gold_reward', 0).value, at('gold_reward', 10).value, at('gold_reward', 20).value]).toEqual([1, 5, 2]);
    expect([at('proxy_gain', 10).value, at('gold_gain', 10).value, at('gold_gain', 20).value]).toEqual([2, 4, 1]);
    // KL(π_10 ‖ π_0): π_10 ≈ δ_2, log π_0(2) = −1/T = −100.
    expect(at('kl_to_init', 0).value).toBe(0);
    expect(at('kl_to_init', 10).value).toBeCloseTo(100, 2);
    expect(at('peak_gold', 10)).toMatchObject({ value: 4, count: 1 });
    expect(at('proxy_at_peak', 10).value).toBe(2);
    expect(at('gold_proxy_gap', 10).value).toBe(2);
    expect(at('kl_at_peak', 10).value).toBeCloseTo(100, 2);
    expect(at('proxy_reward', 10).count).toBe(4);
  });

  it('needs a gold reward', async () => {
    const p = peaked(1, { reward: () => 1 });
    await expect(
      runStage(
        evaluateProxyGoldStage,
        {},
        [examplesBatch([{ user: 1, context: [], action: 1, split: 'test' }])],
        new Map<string, unknown>([['checkpoints', [{ dir: '/v/p', policy: p, method: 'x', step: 0, seed: 0 }]]]),
      ),
    ).rejects.toThrow(/gold "world" needs a simulator world/);
  });
});
