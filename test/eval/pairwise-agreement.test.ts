/**
 * Paper 004 App. G: the proxy's pairwise agreement with the gold reward,
 * (1/N) Σ 1{sign(r̂(y_a) − r̂(y_b)) = sign(r*(y_a) − r*(y_b))}, here over the
 * pairs of distinct sampled items of each context, reported by
 * evaluate_proxy_gold as `proxy_gold_agreement` (one observation per context).
 */
import { describe, expect, it } from 'vitest';
import type { ListColumn } from '../../stages/core/batch.js';
import { pairwiseAgreement } from '../../stages/eval/pairwise-agreement.js';
import { evaluateProxyGold } from '../../stages/eval/proxy-gold-evaluator.js';
import { examplesBatch } from './helpers.js';

describe('pairwise agreement', () => {
  it('counts sign matches over pairs of distinct items, per context of k candidates', () => {
    const items = Int32Array.from([1, 2, 3, /* */ 1, 1, 2, /* */ 1, 2, 4, /* */ 5, 5, 5]);
    const proxy = [1, 2, 3, /* */ 1, 1, 5, /* */ 1, 1, 0, /* */ 1, 2, 3];
    const gold = [3, 2, 1, /* */ 0, 0, 2, /* */ 1, 2, 0, /* */ 1, 2, 3];
    const a = pairwiseAgreement(items, proxy, gold, 3);
    // Reversed order: 0 of 3 pairs agree.
    expect(a[0]).toBe(0);
    // Items (1, 1, 2): the pair of equal items is skipped; both pairs with item 2 agree.
    expect(a[1]).toBe(1);
    // (1,2): proxy tie vs gold 1 < 2 → disagree; (1,4): 1 > 0 both → agree; (2,4): 1 > 0, 2 > 0 → agree.
    expect(a[2]).toBeCloseTo(2 / 3, 15);
    // One distinct item: no pair.
    expect(Number.isNaN(a[3]!)).toBe(true);
  });

  it('evaluate_proxy_gold records proxy_gold_agreement per split, skipping contexts without a pair', async () => {
    const rows = examplesBatch([
      { user: 1, context: [], action: 1, split: 'test' },
      { user: 2, context: [], action: 1, split: 'test' },
      { user: 3, context: [], action: 1, split: 'test' },
    ]);
    const sampled = [1, 2, 3, 1, 2, 4, 5, 5, 5];
    const policy = {
      numItems: 6,
      scoreContexts: async (c: ListColumn<Int32Array>) => new Float32Array((c.offsets.length - 1) * 6),
      sample: async () => Int32Array.from(sampled),
    };
    // Proxy r̂ = item; gold = −item for users 1, item otherwise (a pair (1,2),(1,4),(2,4) of user 2 all agree).
    const acc = await evaluateProxyGold(policy, rows, {
      samples: 3,
      batchRows: 10,
      seed: 1,
      key: { run: 'r', method: 'm', seed: 0, step: 1, epoch: 0 },
      proxy: { predictRewards: async (_c: ListColumn<Int32Array>, a: Int32Array) => Float32Array.from(a) },
      gold: async (_c, users, a) => Float64Array.from(a, (x, i) => (users[i] === 1 ? -x : x)),
    });
    const rec = acc.toRecords({ std: false }).find((r) => r.metric === 'proxy_gold_agreement');
    expect(rec?.value).toBe(0.5);
    expect(rec?.count).toBe(2);
  });
});
