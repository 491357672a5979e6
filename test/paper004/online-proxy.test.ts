/** The online proxy's wiring: ensemble members from reward heads or a controlled-proxy file, then BSPO. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { onlineProxy } from '../../stages/train/online-proxy.js';
import type { OnlineModel } from '../../stages/train/online-model.js';
import { ParamStore } from '../../stages/train/params.js';
import { ControlledProxy } from '../../stages/simulators/controlled-proxy.js';

/** A reward head r̂(s, i) = w·i (one scalar parameter reward/w1): enough to tell members apart. */
function headModel(): OnlineModel<null> {
  return {
    stored: { kind: 'toy', config: {} } as unknown as OnlineModel['stored'],
    numItems: 6,
    featureDim: 1,
    createParams: () => new ParamStore(false),
    policyNames: () => [],
    prepare: () => null,
    catalogLogProbs: () => tf.zeros([1, 6]) as tf.Tensor2D,
    stateFeatures: () => tf.zeros([1, 1]) as tf.Tensor2D,
    predictRewards: (p, _prep, items) => {
      const w = p.get('reward/w1').dataSync()[0]!;
      return Float32Array.from(items, (i) => w * i);
    },
    dispose() {},
  };
}

const head = (w: number) => {
  const p = new ParamStore(false);
  p.add('reward/w1', [1], Float32Array.of(w));
  return p;
};

const batch = { offsets: Int32Array.of(0, 1, 2), values: Int32Array.of(1, 2), users: Int32Array.of(10, 20) };
const items = Int32Array.of(1, 2, 3, 4);
const noBspo = { threshold: 0, value: -15 };

describe('online proxy', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reward heads of three members: Ensemble-Mean and UWO of w·i with w = 1, 2, 6', () => {
    const model = headModel();
    const base = { kind: 'reward_head' as const, seed: 1, proxyNoise: 0, memberHeads: [head(2), head(6)], bspo: noBspo };
    const mean = onlineProxy(model, head(1), undefined, { ...base, ensemble: { combine: 'mean', lambda: 1, disagreement: 'var', members: 0 } });
    // mean of (1, 2, 6)·i = 3i; Var(1, 2, 6) = (4 + 1 + 9)/3 = 14/3, so Var of the scores is 14/3·i².
    expect([...mean(batch, items, 2, 0)]).toEqual([3, 6, 9, 12]);
    const uwo = onlineProxy(model, head(1), undefined, { ...base, ensemble: { combine: 'uwo', lambda: 0.5, disagreement: 'var', members: 0 } });
    const got = uwo(batch, items, 2, 0);
    items.forEach((i, k) => expect(got[k]).toBeCloseTo(3 * i - 0.5 * (14 / 3) * i * i, 9));
    // Without an ensemble the proxy is member 0, the init checkpoint's head.
    const single = onlineProxy(model, head(1), undefined, { ...base, ensemble: { combine: 'none', lambda: 1, disagreement: 'var', members: 0 } });
    expect([...single(batch, items, 2, 0)]).toEqual([1, 2, 3, 4]);
  });

  it('a controlled proxy scores r* + σ·b_j(item) per member, and BSPO replaces candidates outside π₀’s support', () => {
    const spec = { sigma: 0.3, seed: 4, members: 3, correlation: 0.5 };
    const oracle = { trueRewards: (users: Int32Array, its: Int32Array) => Float64Array.from(its, (i, k) => users[k]! + i / 10) };
    const gold = Float64Array.of(10.1, 10.2, 20.3, 20.4);
    const cp = new ControlledProxy(spec);
    const controlled = { format: 'recpost-controlled-proxy' as const, version: 1 as const, ...spec } as Parameters<typeof onlineProxy>[3]['controlled'];
    const fn = onlineProxy(headModel(), head(1), oracle, {
      kind: 'controlled',
      seed: 1,
      proxyNoise: 0,
      controlled,
      memberHeads: [],
      ensemble: { combine: 'mean', lambda: 1, disagreement: 'var', members: 2 },
      bspo: { threshold: 0.1, value: -15 },
    });
    const logPi0 = Float64Array.of(Math.log(0.5), Math.log(0.05), Math.log(0.2), Math.log(0.1));
    const got = fn(batch, items, 2, 0, logPi0);
    const m0 = cp.score(0, gold, items);
    const m1 = cp.score(1, gold, items);
    // Candidate 1 has π₀ = 0.05 < 0.1: the pessimistic −15. π₀ = 0.1 exactly is inside the support.
    expect(got[1]).toBe(-15);
    for (const k of [0, 2, 3]) expect(got[k]).toBeCloseTo((m0[k]! + m1[k]!) / 2, 12);
    expect(m0[0]).not.toBeCloseTo(m1[0]!, 6);
  });
});
