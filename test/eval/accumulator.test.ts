import { describe, expect, it } from 'vitest';
import { sliceBatch } from '../../stages/core/batch.js';
import { batchToMetrics, metricsToBatch } from '../../stages/core/metric-batch.js';
import { MetricAccumulator, type MetricKey } from '../../stages/eval/accumulator.js';
import { evaluateRanking } from '../../stages/eval/ranking-evaluator.js';
import { examplesBatch, fakePolicy, randomExamples } from './helpers.js';

const key = (metric: string, over: Partial<MetricKey> = {}): MetricKey => ({
  run: 'r',
  method: 'm',
  seed: 1,
  step: 2,
  epoch: 0,
  split: 'test',
  metric,
  ...over,
});

describe('MetricAccumulator', () => {
  it('keeps sums, sums of squares and counts; records are means with std', () => {
    const acc = new MetricAccumulator().addValues(key('x'), [1, 2, 3, 6]).add(key('y'), 5);
    expect(acc.get(key('x'))).toEqual({ sum: 12, sumSq: 50, count: 4 });
    const recs = acc.toRecords({ std: true });
    const x = recs.find((r) => r.metric === 'x')!;
    expect(x).toEqual({ run: 'r', method: 'm', seed: 1, step: 2, epoch: 0, split: 'test', metric: 'x', value: 3, count: 4 });
    // population std of 1, 2, 3, 6: variance = 50/4 − 9 = 3.5
    expect(recs.find((r) => r.metric === 'x_std')!.value).toBeCloseTo(Math.sqrt(3.5), 14);
    expect(acc.toRecords().map((r) => r.metric)).toEqual(['x', 'y']);
  });

  it('merging shards equals accumulating the union', () => {
    const values = Array.from({ length: 100 }, (_v, i) => (i * 37) % 11);
    const whole = new MetricAccumulator().addValues(key('v'), values).addValues(key('v', { split: 'valid' }), values.slice(0, 9));
    const a = new MetricAccumulator().addValues(key('v'), values.slice(0, 40)).addValues(key('v', { split: 'valid' }), values.slice(0, 9));
    const b = new MetricAccumulator().addValues(key('v'), values.slice(40));
    expect(a.merge(b).toRecords({ std: true })).toEqual(whole.toRecords({ std: true }));
  });

  it('distinguishes every field of the key', () => {
    const acc = new MetricAccumulator();
    const fields: Partial<MetricKey>[] = [{}, { run: 'r2' }, { method: 'm2' }, { seed: 9 }, { step: 3 }, { epoch: 1 }, { split: 'valid' }, { metric: 'z' }];
    for (const f of fields) acc.add(key('v', f), 1);
    expect(acc.size).toBe(fields.length);
  });

  it('round-trips through JSON, non-finite sums included', () => {
    const acc = new MetricAccumulator().addValues(key('kl'), [0.5, Infinity]).addValues(key('mse'), [0.1, 0.2, 0.3]);
    const back = MetricAccumulator.fromJSON(JSON.parse(JSON.stringify(acc.toJSON())));
    expect(back.get(key('kl'))).toEqual({ sum: Infinity, sumSq: Infinity, count: 2 });
    expect(back.toRecords()).toEqual(acc.toRecords());
    expect(() => MetricAccumulator.fromJSON({ version: 2 })).toThrow(/version/);
    expect(() => MetricAccumulator.fromJSON({ version: 1, entries: [['r', 'm', 1, 2, 0, 'test', 'x', 'lots', 0, 1]] })).toThrow(/entry 0 sum must be a number/);
  });

  it('records survive the metrics batch helpers', () => {
    const acc = new MetricAccumulator().addValues(key('a'), [1, 2]).addValues(key('b', { method: 'other' }), [4]);
    expect(batchToMetrics(metricsToBatch(acc.toRecords()))).toEqual(acc.toRecords());
  });
});

describe('ranking evaluation is mergeable', () => {
  it('two halves of a test set, merged, give the numbers of the whole', async () => {
    const numItems = 60;
    const rows = examplesBatch(randomExamples(500, numItems, 7).map((r) => ({ ...r, split: r.split === 'train' ? 'test' : r.split })));
    const policy = fakePolicy(numItems, { salt: 4 });
    const opts = { ks: [10, 50], excludeHistory: true, batchRows: 64, key: { run: 'r', method: 'fake', seed: 0, step: 0, epoch: 0 } };
    const whole = await evaluateRanking(policy, rows, opts);
    const first = await evaluateRanking(policy, sliceBatch(rows, 0, 230), opts);
    const second = await evaluateRanking(policy, sliceBatch(rows, 230, 500), { ...opts, batchRows: 17 });
    const merged = first.merge(second);
    const a = merged.toRecords({ std: true });
    const b = whole.toRecords({ std: true });
    expect(a.map((r) => [r.split, r.metric, r.count])).toEqual(b.map((r) => [r.split, r.metric, r.count]));
    a.forEach((r, i) => expect(r.value).toBeCloseTo(b[i]!.value, 12));
    expect(new Set(b.map((r) => r.split))).toEqual(new Set(['test', 'valid']));
    expect(b.filter((r) => r.metric === 'mrr').reduce((s, r) => s + r.count, 0)).toBe(500);
  });
});
