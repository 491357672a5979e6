import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { fullSoftmaxLogProb, NegativeSampler, sampledSoftmaxLogProb } from '../../stages/train/softmax-output.js';
import { Rng } from '../../stages/train/rng.js';

beforeAll(async () => {
  await initBackend('wasm');
});

function ranks(a: number[]): number[] {
  const idx = a.map((_, i) => i).sort((x, y) => a[x]! - a[y]!);
  const r = new Array<number>(a.length);
  idx.forEach((i, k) => (r[i] = k));
  return r;
}

function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (ra[i]! - rb[i]!) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe('sampled softmax with log-Q correction', () => {
  it('ranks models like the full softmax loss; without the correction the popularity bias distorts the ranking', () => {
    // Items with Zipfian popularity; the proposal Q is the unigram distribution (alpha = 1).
    const V = 400;
    const d = 8;
    const M = 256;
    const K = 48;
    const rng = new Rng(1);
    const counts = Float64Array.from({ length: V }, (_, i) => (i === 0 ? 0 : 2000 / i));
    const sampler = new NegativeSampler(V, counts, 1);
    // Dimension 0 of an item embedding is its log-popularity; the rest is noise.
    const E = new Float32Array(V * d);
    for (let i = 1; i < V; i++) {
      E[i * d] = Math.log(counts[i]! + 1);
      for (let k = 1; k < d; k++) E[i * d + k] = rng.normal();
    }
    // Targets uniform over items: a model that favours popular items pays for it.
    const targets = Int32Array.from({ length: M }, () => 1 + rng.int(V - 1));
    const noise = Float32Array.from({ length: M * d }, () => rng.normal() * 0.3);
    const alphas = [-1.5, -1, -0.5, 0, 0.5, 1];
    const full: number[] = [];
    const corrected: number[] = [];
    const uncorrected: number[] = [];
    const zeroQ = new Float32Array(V);
    for (const alpha of alphas) {
      // h = (α, noise…): logits = α·log-popularity + noise·E[:, 1:]
      const h = Float32Array.from(noise);
      for (let m = 0; m < M; m++) h[m * d] = alpha;
      tf.tidy(() => {
        const H = tf.tensor2d(h, [M, d]);
        const Et = tf.tensor2d(E, [V, d]);
        const T = tf.tensor1d(targets, 'int32');
        full.push(-tf.mean(fullSoftmaxLogProb(H, Et, T)).dataSync()[0]!);
        let c = 0;
        let u = 0;
        const draws = 12;
        for (let s = 0; s < draws; s++) {
          const neg = sampler.sample(K, new Rng(7, s));
          c += -tf.mean(sampledSoftmaxLogProb(H, Et, T, targets, neg, sampler.logQ)).dataSync()[0]!;
          u += -tf.mean(sampledSoftmaxLogProb(H, Et, T, targets, neg, zeroQ)).dataSync()[0]!;
        }
        corrected.push(c / draws);
        uncorrected.push(u / draws);
      });
    }
    const best = (a: number[]) => a.indexOf(Math.min(...a));
    expect(spearman(full, corrected)).toBeGreaterThanOrEqual(0.9);
    expect(best(corrected)).toBe(best(full));
    // Popular items are over-represented among the negatives: uncorrected, the
    // estimate rewards models that push popular items down.
    expect(best(uncorrected)).toBeLessThan(best(full));
    expect(spearman(full, uncorrected)).toBeLessThan(spearman(full, corrected));
  });

  it('masks accidental hits: a negative equal to the target does not count against it', () => {
    const E = tf.tensor2d([0, 0, 1, 0, 0, 1], [3, 2]);
    const h = tf.tensor2d([[2, 0]]);
    const lp = sampledSoftmaxLogProb(
      h,
      E,
      tf.tensor1d([1], 'int32'),
      Int32Array.from([1]),
      Int32Array.from([1, 1, 2]),
      Float32Array.from([-Infinity, Math.log(0.5), Math.log(0.5)]),
    );
    // logits corrected by −log 0.5: target 2 + ln2; the two copies of item 1 are masked; item 2: 0 + ln2
    const expected = 2 + Math.LN2 - Math.log(Math.exp(2 + Math.LN2) + Math.exp(Math.LN2));
    expect(lp.dataSync()[0]).toBeCloseTo(expected, 5);
    tf.dispose([E, h, lp]);
  });
});
