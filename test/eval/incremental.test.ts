import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquetAll } from '../../stages/io/parquet.js';
import { evaluateRankingStage } from '../../stages/eval/evaluate-ranking-stage.js';
import { EvaluationState } from '../../stages/eval/eval-state.js';
import { MetricAccumulator } from '../../stages/eval/accumulator.js';
import { type MetricRecord } from '../../schemas/metric-record.js';
import { batchToMetrics } from '../../stages/core/metric-batch.js';
import { fakePolicy, randomExamples, runStage, tmpDir, writeExamples, removeTmpDirs } from './helpers.js';

afterAll(removeTmpDirs);

const NUM_ITEMS = 80;

async function fixture() {
  const dir = tmpDir('incr');
  const a = writeExamples(path.join(dir, 'data', 'part-a.parquet'), randomExamples(300, NUM_ITEMS, 11));
  const b = writeExamples(path.join(dir, 'data', 'part-b.parquet'), randomExamples(200, NUM_ITEMS, 22));
  return { dir, A: await readParquetAll(a), B: await readParquetAll(b) };
}

const ckpt = (name: string, policy: ReturnType<typeof fakePolicy>, step: number) => ({
  dir: `/virtual/${name}`,
  method: name,
  step,
  epoch: 1,
  seed: 0,
  policy,
});
const artifacts = (...c: ReturnType<typeof ckpt>[]) => new Map<string, unknown>([['checkpoints', c]]);

function expectSameRecords(got: MetricRecord[], want: MetricRecord[]) {
  expect(got.map((r) => [r.method, r.split, r.metric, r.count])).toEqual(want.map((r) => [r.method, r.split, r.metric, r.count]));
  got.forEach((r, i) => expect(r.value).toBeCloseTo(want[i]!.value, 12));
}

describe('incremental evaluation with a state file', () => {
  it('evaluating A, then adding B, equals evaluating A ∪ B at once; a rerun skips every done pair', async () => {
    const { dir, A, B } = await fixture();
    const state = path.join(dir, 'state.json');
    const p1 = fakePolicy(NUM_ITEMS, { salt: 1 });
    // history: context: A and B share users with overlapping timestamps, so under the full history (the default) B would change A's exclusions.
    const opts = { state, baselines: [], batch_rows: 50, history: 'context' };

    const first = await runStage(evaluateRankingStage, opts, A, artifacts(ckpt('bc', p1, 10)));
    const afterA = p1.calls.score;
    expect(afterA).toBeGreaterThan(0);
    expect(first.out).toHaveLength(1);
    expect(first.out[0]!.table).toBe('metrics');

    const second = await runStage(evaluateRankingStage, opts, [...A, ...B], artifacts(ckpt('bc', p1, 10)));
    const bOnly = p1.calls.score - afterA;
    expect(bOnly).toBeGreaterThan(0);
    const whole = await runStage(
      evaluateRankingStage,
      { ...opts, state: path.join(dir, 'whole.json') },
      [...A, ...B],
      artifacts(ckpt('bc', fakePolicy(NUM_ITEMS, { salt: 1 }), 10)),
    );
    expectSameRecords(second.metrics, whole.metrics);
    // The records go out both as a metrics batch and through ctx.emitMetric.
    expect(batchToMetrics(second.out[0]!)).toEqual(second.metrics);
    const cases = (rs: MetricRecord[]) => rs.filter((r) => r.metric === 'mrr').reduce((s, r) => s + r.count, 0);
    const evalRows = [...A, ...B].reduce((s, b) => s + Array.from(b.columns.split as Int8Array).filter((c) => c > 0).length, 0);
    expect(cases(second.metrics)).toBe(evalRows);

    const before = p1.calls.score;
    const third = await runStage(evaluateRankingStage, opts, [...A, ...B], artifacts(ckpt('bc', p1, 10)));
    expect(p1.calls.score).toBe(before);
    expectSameRecords(third.metrics, whole.metrics);
    expect(third.log.join('\n')).toMatch(/0 checkpoint×partition pair\(s\) evaluated, 2 already done/);

    // A new checkpoint is added without touching the old one.
    const p2 = fakePolicy(NUM_ITEMS, { salt: 2 });
    const fourth = await runStage(evaluateRankingStage, opts, [...A, ...B], artifacts(ckpt('bc', p1, 10), ckpt('exp_rsft', p2, 10)));
    expect(p1.calls.score).toBe(before);
    expect(p2.calls.score).toBeGreaterThan(0);
    expect(new Set(fourth.metrics.map((r) => r.method))).toEqual(new Set(['bc', 'exp_rsft']));
    const saved = JSON.parse(fs.readFileSync(state, 'utf8'));
    expect(saved.done).toHaveLength(4);
    expect(saved.kind).toBe('evaluate_ranking');
  });

  it('a stopped evaluation resumes after the last committed pair', async () => {
    const { dir, A, B } = await fixture();
    const state = path.join(dir, 'state.json');
    const opts = { state, baselines: [], batch_rows: 64 };
    const good = fakePolicy(NUM_ITEMS, { salt: 5 });
    // Fails on its first scoring call after partition A is done.
    const flaky = fakePolicy(NUM_ITEMS, { salt: 5 });
    const callsForA = await (async () => {
      const probe = fakePolicy(NUM_ITEMS, { salt: 5 });
      await runStage(evaluateRankingStage, { ...opts, state: path.join(dir, 'probe.json') }, A, artifacts(ckpt('bc', probe, 1)));
      return probe.calls.score;
    })();
    const score = flaky.scoreContexts.bind(flaky);
    flaky.scoreContexts = async (c) => {
      if (flaky.calls.score >= callsForA) throw new Error('killed');
      return score(c);
    };
    await expect(runStage(evaluateRankingStage, opts, [...A, ...B], artifacts(ckpt('bc', flaky, 1)))).rejects.toThrow(/killed/);
    const partial = EvaluationState.open(state, 'evaluate_ranking', { ks: [10, 50], splits: ['test', 'valid'], exclude_history: true });
    expect(partial.donePairs()).toHaveLength(1);
    expect(partial.donePairs()[0]!.partitionPath).toContain('part-a.parquet');

    const resumed = await runStage(evaluateRankingStage, opts, [...A, ...B], artifacts(ckpt('bc', good, 1)));
    const fresh = fakePolicy(NUM_ITEMS, { salt: 5 });
    const whole = await runStage(evaluateRankingStage, { ...opts, state: undefined }, [...A, ...B], artifacts(ckpt('bc', fresh, 1)));
    expectSameRecords(resumed.metrics, whole.metrics);
    // The resumed run scored only partition B.
    expect(good.calls.score).toBe(fresh.calls.score - callsForA);
    expect(resumed.log.join('\n')).toMatch(/1 checkpoint×partition pair\(s\) evaluated, 1 already done/);
  });

  it('refuses a state file made with other options or by another stage', async () => {
    const { dir, A } = await fixture();
    const state = path.join(dir, 'state.json');
    await runStage(evaluateRankingStage, { state, baselines: [] }, A, artifacts(ckpt('bc', fakePolicy(NUM_ITEMS), 1)));
    await expect(runStage(evaluateRankingStage, { state, baselines: [], ks: [5] }, A, artifacts())).rejects.toThrow(
      /made with other options \(ks: file has \[10,50\], now \[5\]\)/,
    );
    expect(() => EvaluationState.open(state, 'evaluate_judge', {})).toThrow(/written by "evaluate_ranking"/);
    fs.writeFileSync(state, '{ nope');
    expect(() => EvaluationState.open(state, 'evaluate_ranking', {})).toThrow(/not valid JSON/);
  });

  it('commits pairs atomically and only once', () => {
    const s = EvaluationState.memory('k');
    const acc = new MetricAccumulator().add({ run: 'r', method: 'm', seed: 0, step: 0, epoch: 0, split: 'test', metric: 'x' }, 1);
    s.commit('t', 'p', 3, acc);
    expect(s.isDone('t', 'p')).toBe(true);
    expect(() => s.commit('t', 'p', 3, acc)).toThrow(/already done/);
  });
});
