/**
 * Issue 12, defect 3: "Avg Reward" is judged by one fixed reward model — by
 * default the last BC checkpoint's reward head (else the first published
 * checkpoint with one) — not by each checkpoint's own head, and the comparison
 * table's caption names the judge.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import _ from 'highland';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactMap } from '../../stages/core/artifacts.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { StageDefinition } from '../../stages/core/stage.js';
import { evaluateJudgeStage } from '../../stages/eval/evaluate-judge-stage.js';
import { chooseDefaultJudge } from '../../stages/eval/judge-choice.js';
import { comparisonTableStage } from '../../stages/sinks/comparison-table-stage.js';
import { runPipeline } from '../../pipelines/runner.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { examplesBatch, fakePolicy, removeTmpDirs, runStage, tmpDir, type ExampleRow } from './helpers.js';

afterAll(removeTmpDirs);

const rows: ExampleRow[] = [
  { user: 1, context: [], action: 1, split: 'test' },
  { user: 2, context: [3], action: 2, split: 'test' },
];
// Every policy samples item 3 (peaked); each has its own reward head.
const peaked = (o: Parameters<typeof fakePolicy>[1]) => fakePolicy(6, { temperature: 0.01, score: (_c, j) => (j === 3 ? 1 : 0), ...o });
const checkpoints = () => [
  { dir: '/v/bc/step-2', method: 'bc', step: 2, policy: peaked({ method: 'bc', step: 2, reward: (_c, a) => 10 * a }) },
  { dir: '/v/bc/step-4', method: 'bc', step: 4, policy: peaked({ method: 'bc', step: 4, reward: (_c, a) => 100 * a }) },
  { dir: '/v/exp/step-6', method: 'exp_rsft', step: 6, policy: peaked({ method: 'exp_rsft', step: 6, reward: (_c, a) => -a }) },
];
const avg = (rs: MetricRecord[], method: string, step: number) => rs.find((r) => r.method === method && r.step === step && r.metric === 'avg_reward')?.value;

describe('the default judge', () => {
  it('is the last BC checkpoint with a reward head, else the first published one with a head', () => {
    const c = (dir: string, method: string | undefined, step: number, head: boolean) => ({ dir, method, step, hasRewardHead: head });
    expect(chooseDefaultJudge([c('a', 'bc', 2, true), c('b', 'bc', 4, true), c('x', 'drpo', 9, true)])?.dir).toBe('b');
    expect(chooseDefaultJudge([c('a', 'bc', 2, true), c('b', 'bc', 4, false), c('x', 'drpo', 9, true)])?.dir).toBe('a');
    expect(chooseDefaultJudge([c('g', 'grpo', 8, false), c('x', 'drpo', 9, true), c('y', 'awr', 1, true)])?.dir).toBe('x');
    expect(chooseDefaultJudge([c('g', 'grpo', 8, false)])).toBeUndefined();
  });

  it("scores every checkpoint's samples with BC@4's head (100·3 = 300), not each one's own", async () => {
    const r = await runStage(evaluateJudgeStage, {}, [examplesBatch(rows)], new Map<string, unknown>([['checkpoints', checkpoints()]]));
    expect(avg(r.metrics, 'bc', 2)).toBe(300);
    expect(avg(r.metrics, 'bc', 4)).toBe(300);
    expect(avg(r.metrics, 'exp_rsft', 6)).toBe(300);
    expect(r.log.join('\n')).toMatch(/avg_reward judged by the reward head of bc@4 \(\/v\/bc\/step-4\)/);
  });

  it("judge: own keeps the old behaviour (each checkpoint's own head)", async () => {
    const r = await runStage(evaluateJudgeStage, { judge: 'own' }, [examplesBatch(rows)], new Map<string, unknown>([['checkpoints', checkpoints()]]));
    expect(avg(r.metrics, 'bc', 2)).toBe(30);
    expect(avg(r.metrics, 'exp_rsft', 6)).toBe(-3);
  });

  it("the comparison table's caption names the judge", async () => {
    const source: StageDefinition<Record<string, never>> = {
      name: 'test_source',
      role: 'source',
      summary: 'batches',
      fields: {},
      create: () => ({
        source: async function* () {
          yield examplesBatch(rows);
        },
      }),
    };
    const dir = tmpDir('judge-caption');
    const file = path.join(dir, 'comparison.md');
    const judge = validateConfig<Record<string, unknown>>('judge', evaluateJudgeStage.fields, {});
    const table = validateConfig<Record<string, unknown>>('table', comparisonTableStage.fields, {
      metrics: ['avg_reward'],
      split: 'test',
      select: 'last',
      path: file,
    });
    await runPipeline(
      {
        name: 't',
        outDir: dir,
        seed: 3,
        stages: [
          { index: 0, id: 'source', def: source, config: {} },
          { index: 1, id: 'judge', def: evaluateJudgeStage, config: judge },
          { index: 2, id: 'table', def: comparisonTableStage, config: table },
        ],
      },
      { writeFiles: false, logger: memoryLogger(), artifacts: artifactMap([['checkpoints', checkpoints()]]) },
    );
    expect(fs.readFileSync(file, 'utf8')).toContain('avg_reward judged by the reward head of bc@4 (/v/bc/step-4)');
  });
});
