import { describe, expect, it } from 'vitest';
import { metricRecord } from '../../schemas/metric-record.js';
import { defaultLowerIsBetter, isTowardZeroMetric } from '../../stages/sinks/aggregate.js';
import { compareMethods } from '../../stages/sinks/comparison.js';
import { MetricTable } from '../../stages/sinks/metric-table.js';

describe('gold–proxy gap direction', () => {
  it('bolds the gap closest to zero, not the most negative one (paper 004: smaller |gap| is better)', () => {
    const t = new MetricTable();
    t.addRecords([
      metricRecord({ method: 'grpo', split: 'test', metric: 'gold_proxy_gap', value: -0.9 }),
      metricRecord({ method: 'drro', split: 'test', metric: 'gold_proxy_gap', value: 0.2 }),
      metricRecord({ method: 'dro', split: 'test', metric: 'gold_proxy_gap', value: -0.4 }),
    ]);
    const c = compareMethods(t, { split: 'test', metrics: ['gold_proxy_gap'], select: 'last', lowerIsBetter: defaultLowerIsBetter });
    const best = c.methods.filter((_, i) => c.cells[i]![0]!.best);
    expect(best).toEqual(['drro']);
    expect(isTowardZeroMetric('gold_proxy_gap')).toBe(true);
    expect(defaultLowerIsBetter('gold_proxy_gap')).toBe(false);
    expect(defaultLowerIsBetter('reward_mse')).toBe(true);
  });
});
