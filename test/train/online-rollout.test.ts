import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { contextRows, subBatch } from '../../stages/train/online-context-batches.js';
import type { OnlineModel } from '../../stages/train/online-model.js';
import { logProbsOf, rollout } from '../../stages/train/online-rollout.js';
import { ParamStore } from '../../stages/train/params.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** A model whose π(·|s) is the same for every context: the parameter `logp` itself ([V], padding first). */
function fixedModel(V: number): OnlineModel<{ rows: number }> {
  return {
    stored: { kind: 'fixed', config: {} },
    numItems: V,
    featureDim: 1,
    createParams: () => new ParamStore(true),
    policyNames: (p) => p.names(),
    prepare: (b) => ({ rows: b.users.length }),
    catalogLogProbs: (p, prep) => tf.tidy(() => tf.tile(tf.expandDims(p.get('logp'), 0), [prep.rows, 1]) as tf.Tensor2D),
    stateFeatures: (_p, prep) => tf.zeros([prep.rows, 1]) as tf.Tensor2D,
    dispose() {},
  };
}

function store(probs: number[]): ParamStore {
  const p = new ParamStore(false);
  p.init('logp', [probs.length], { kind: 'zeros' }, 0);
  tf.tidy(() => p.get('logp').assign(tf.tensor1d(probs.map((x) => (x > 0 ? Math.log(x) : -1e9)))));
  return p;
}

describe('online rollout', () => {
  it('exact KL(π̄‖π₀) and entropy of π̄ over the catalog, by hand; candidates never padding, logged with their log-probabilities', () => {
    const pBar = [0, 0.5, 0.25, 0.25];
    const p0 = [0, 1 / 3, 1 / 3, 1 / 3];
    const policy = store(pBar);
    const reference = store(p0);
    const batch = { offsets: Int32Array.from([0, 1, 2]), values: Int32Array.from([1, 2]), users: Int32Array.from([7, 8]) };
    const model = fixedModel(4);
    const r = rollout(model, policy, reference, batch, model.prepare(batch), 6, 11, 0);
    const kl = 0.5 * Math.log(1.5) + 2 * 0.25 * Math.log(0.75);
    const entropy = -(0.5 * Math.log(0.5) + 2 * 0.25 * Math.log(0.25));
    for (let row = 0; row < 2; row++) {
      expect(r.exactKl[row]).toBeCloseTo(kl, 5);
      expect(r.entropy[row]).toBeCloseTo(entropy, 5);
    }
    expect(r.items).toHaveLength(12);
    r.items.forEach((it, i) => {
      expect(it >= 1 && it <= 3).toBe(true);
      expect(r.rolloutLogProb[i]).toBeCloseTo(Math.log(pBar[it]!), 5);
      expect(r.refLogProb[i]).toBeCloseTo(Math.log(1 / 3), 5);
    });
    // the draws are keyed by (seed, update): the same again, another update differs
    expect(Array.from(rollout(model, policy, reference, batch, model.prepare(batch), 6, 11, 0).items)).toEqual(Array.from(r.items));
    const other = Array.from({ length: 5 }, (_, u) => Array.from(rollout(model, policy, reference, batch, model.prepare(batch), 6, 11, u + 1).items).join());
    expect(other.some((s) => s !== Array.from(r.items).join())).toBe(true);
    policy.dispose();
    reference.dispose();
  });

  it('logProbsOf picks log π(items[i] | s_⌊i/k⌋) from the catalog matrix', () => {
    const lp = tf.tensor2d([
      [0, -1, -2],
      [0, -3, -4],
    ]);
    expect(Array.from(logProbsOf(lp, Int32Array.from([2, 1, 1, 2]), 2).dataSync())).toEqual([-2, -1, -3, -4]);
    lp.dispose();
  });

  it('contexts of an update: slices of per-pass permutations, every context once per pass', () => {
    const cache = new Map<number, Int32Array>();
    const pass = [0, 1, 2].flatMap((u) => Array.from(contextRows(9, 3, u, 5, cache)));
    expect([...pass].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const all = { rows: 3, offsets: Int32Array.from([0, 2, 2, 5]), values: Int32Array.from([1, 2, 3, 4, 5]), users: Int32Array.from([10, 11, 12]) };
    const b = subBatch(all, Int32Array.from([2, 0]));
    expect(Array.from(b.offsets)).toEqual([0, 3, 5]);
    expect(Array.from(b.values)).toEqual([3, 4, 5, 1, 2]);
    expect(Array.from(b.users)).toEqual([12, 10]);
  });
});
