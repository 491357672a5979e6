import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { unsortedSegmentSumValues } from '../../stages/train/training-kernels.js';
import { batchMatMul, transpose2d } from '../../stages/train/wasm-kernels.js';
import { embedInputs, layerNormOp, linear, maskedAttention, sumRows } from '../../stages/train/fast-ops.js';
import { fullSoftmaxLogProb } from '../../stages/train/softmax-output.js';
import { Rng } from '../../stages/train/rng.js';
import { on } from './on-backend.js';
import { dropout } from '../../stages/train/nn.js';

function randn(shape: number[], seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal());
}

function expectClose(a: Float32Array, b: Float32Array, tol: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  expect(worst, what).toBeLessThan(tol);
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('WASM training kernels', () => {
  it('the gradient of gather (an embedding table) on WASM matches the CPU backend, duplicates summed', async () => {
    const E = randn([12, 5], 1);
    const W = randn([9, 5], 2);
    const ids = Int32Array.from([3, 0, 3, 11, 7, 3, 7, 1, 0]);
    const grad = () => {
      const g = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, tf.tensor1d(ids, 'int32')), tf.tensor2d(W, [9, 5]))));
      return [g(tf.tensor2d(E, [12, 5]))];
    };
    const [cpu] = await on('cpu', grad);
    const [wasm] = await on('wasm', grad);
    expectClose(wasm!, cpu!, 1e-6, 'gather gradient');
    // Closed form: row i of the gradient is the sum of W's rows whose id is i.
    const expected = new Float32Array(60);
    unsortedSegmentSumValues(W, ids, 12, expected);
    expectClose(wasm!, expected, 1e-6, 'segment sum');
    expect(Array.from(wasm!.subarray(2 * 5, 3 * 5))).toEqual([0, 0, 0, 0, 0]);
  });

  it('an embedding table trains on WASM (SGD lowers a regression loss)', async () => {
    await tf.setBackend('wasm');
    const E = tf.variable(tf.tensor2d(randn([20, 4], 3), [20, 4]));
    const ids = tf.tensor1d(
      Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 20),
      'int32',
    );
    const target = tf.tensor2d(randn([64, 4], 4), [64, 4]);
    const opt = tf.train.sgd(0.5);
    const losses: number[] = [];
    for (let s = 0; s < 30; s++) {
      const l = opt.minimize(() => tf.mean(tf.square(tf.sub(tf.gather(E, ids), target))) as tf.Scalar, true, [E])!;
      losses.push(l.dataSync()[0]!);
      l.dispose();
    }
    tf.dispose([E, ids, target]);
    opt.dispose();
    expect(losses[29]!).toBeLessThan(losses[0]! * 0.8);
  });

  it('batched products, 2-D transposes, row gathers and column sums on WASM match the CPU backend', async () => {
    const a = randn([6, 7, 5], 5);
    const b = randn([6, 5, 3], 6);
    const x = randn([37, 19], 7);
    const ids = Int32Array.from([36, 0, 5, 5, 17]);
    const f = () => [
      batchMatMul(tf.tensor3d(a, [6, 7, 5]), tf.tensor3d(b, [6, 5, 3])),
      tf.transpose(tf.tensor2d(x, [37, 19])),
      tf.gather(tf.tensor2d(x, [37, 19]), tf.tensor1d(ids, 'int32')),
      sumRows(tf.tensor2d(x, [37, 19])),
    ];
    const cpu = await on('cpu', f);
    const wasm = await on('wasm', f);
    for (let i = 0; i < cpu.length; i++) expectClose(wasm[i]!, cpu[i]!, 1e-5, `output ${i}`);
    const t = new Float32Array(37 * 19);
    transpose2d(x, 37, 19, t);
    expect(t[5 * 37 + 2]).toBe(x[2 * 19 + 5]);
  });
});

describe('seeded dropout', () => {
  it('keeps a fraction ≈ 1 − rate, scales to mean 1, and repeats exactly for the same stream', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1000, 101]);
    const a = tf.tidy(() => dropout(x, 0.3, new Rng(5, 3)).dataSync() as Float32Array);
    const b = tf.tidy(() => dropout(x, 0.3, new Rng(5, 3)).dataSync() as Float32Array);
    const c = tf.tidy(() => dropout(x, 0.3, new Rng(5, 4)).dataSync() as Float32Array);
    x.dispose();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    const kept = a.filter((v) => v > 0).length / a.length;
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    // 101,000 Bernoulli(0.7) draws: sd of the fraction ≈ 0.0014
    expect(Math.abs(kept - 0.7)).toBeLessThan(0.007);
    expect(Math.abs(mean - 1)).toBeLessThan(0.01);
    expect(new Set(a).size).toBe(2);
  });
});

describe('hand-written gradients agree with autodiff of the plain ops', () => {
  const M = 10;
  const d = 6;
  const cases: { name: string; custom: () => tf.Tensor[]; plain: () => tf.Tensor[] }[] = [];
  const X = randn([M, d], 10);
  const W = randn([d, 4], 11);
  const bv = randn([4], 12);
  const up4 = randn([M, 4], 13);
  const lin = (relu: boolean) => (xT: tf.Tensor2D, wT: tf.Tensor2D, bT: tf.Tensor1D) => (relu ? linear(xT, wT, bT, true) : linear(xT, wT, bT));
  for (const relu of [false, true]) {
    const grads = (f: (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor) => () => {
      const g = tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(f(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), tf.tensor2d(up4, [M, 4]))),
      );
      return g([tf.tensor2d(X, [M, d]), tf.tensor2d(W, [d, 4]), tf.tensor1d(bv)]);
    };
    cases.push({
      name: `linear relu=${relu}`,
      custom: grads(lin(relu)),
      plain: grads((x, w, b) => {
        const y = tf.add(tf.matMul(x, w), b);
        return relu ? tf.relu(y) : y;
      }),
    });
  }
  {
    const g = randn([d], 14);
    const be = randn([d], 15);
    const up = randn([M, d], 16);
    const grads = (f: (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor) => () =>
      tf.grads((x: tf.Tensor, gg: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(f(x as tf.Tensor2D, gg as tf.Tensor1D, b as tf.Tensor1D), tf.tensor2d(up, [M, d]))),
      )([tf.tensor2d(X, [M, d]), tf.tensor1d(g), tf.tensor1d(be)]);
    cases.push({
      name: 'layer norm',
      custom: grads((x, gg, b) => layerNormOp(x, gg, b)),
      plain: grads((x, gg, b) => {
        const mean = tf.mean(x, 1, true);
        const xc = tf.sub(x, mean);
        return tf.add(tf.mul(tf.div(xc, tf.sqrt(tf.add(tf.mean(tf.square(xc), 1, true), 1e-6))), gg), b);
      }),
    });
  }
  {
    const B = 2,
      T = 4,
      V = 7,
      L = 5;
    const ids = Int32Array.from([3, 1, 6, 0, 2, 2, 0, 0]);
    const E = randn([V, d], 17);
    const P = randn([L, d], 18);
    const up = randn([B * T, d], 19);
    const grads = (f: (e: tf.Tensor2D, p: tf.Tensor2D) => tf.Tensor) => () =>
      tf.grads((e: tf.Tensor, p: tf.Tensor) => tf.sum(tf.mul(f(e as tf.Tensor2D, p as tf.Tensor2D), tf.tensor2d(up, [B * T, d]))))([
        tf.tensor2d(E, [V, d]),
        tf.tensor2d(P, [L, d]),
      ]);
    cases.push({
      name: 'input embeddings',
      custom: grads((e, p) => embedInputs(e, p, ids, B, T, 2.5)),
      plain: grads((e, p) => {
        const mask = tf.tensor2d(
          Float32Array.from(ids, (i) => (i > 0 ? 2.5 : 0)),
          [B * T, 1],
        );
        const emb = tf.mul(tf.gather(e, tf.tensor1d(ids, 'int32')), mask);
        return tf.reshape(tf.add(tf.reshape(emb, [B, T, d]), tf.slice(p, [0, 0], [T, d])), [B * T, d]);
      }),
    });
  }
  {
    const N = 3,
      T = 5,
      dh = 4;
    const q = randn([N, T, dh], 20),
      k = randn([N, T, dh], 21),
      v = randn([N, T, dh], 22),
      up = randn([N, T, dh], 23);
    const maskArr = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskArr[i * T + j] = -1e9;
    const grads = (f: (q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D) => tf.Tensor) => () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(f(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D), tf.tensor3d(up, [N, T, dh]))),
      )([tf.tensor3d(q, [N, T, dh]), tf.tensor3d(k, [N, T, dh]), tf.tensor3d(v, [N, T, dh])]);
    cases.push({
      name: 'causal attention',
      custom: grads((a, b, c) => maskedAttention(a, b, c, tf.tensor2d(maskArr, [T, T]), 0.5)),
      plain: grads((a, b, c) => tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(a, b, false, true), 0.5), tf.tensor2d(maskArr, [T, T]))), c)),
    });
  }
  {
    const V = 9;
    const H = randn([M, d], 24),
      E = randn([V, d], 25),
      up = randn([M], 26);
    const targets = Int32Array.from({ length: M }, (_, i) => 1 + ((i * 5) % (V - 1)));
    const both = (f: (h: tf.Tensor2D, e: tf.Tensor2D) => tf.Tensor) => () => {
      const value = f(tf.tensor2d(H, [M, d]), tf.tensor2d(E, [V, d]));
      const g = tf.grads((h: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(f(h as tf.Tensor2D, e as tf.Tensor2D), tf.tensor1d(up))))([
        tf.tensor2d(H, [M, d]),
        tf.tensor2d(E, [V, d]),
      ]);
      return [value, ...g];
    };
    const plain = both((h, e) => {
      const logits = tf.add(tf.matMul(h, e, false, true), tf.tensor1d(Float32Array.from({ length: V }, (_, i) => (i === 0 ? -1e9 : 0))));
      const lsm = tf.logSoftmax(logits);
      return tf.sum(tf.mul(lsm, tf.oneHot(tf.tensor1d(targets, 'int32'), V)), 1);
    });
    for (const [chunk, keep] of [
      [1000, 1 << 20],
      [27, 1 << 20],
      [27, 0],
    ] as const) {
      cases.push({
        name: `full softmax log π (chunk ${chunk}, keep ${keep > 0})`,
        custom: both((h, e) => fullSoftmaxLogProb(h, e, tf.tensor1d(targets, 'int32'), { chunkElements: chunk, keepElements: keep })),
        plain,
      });
    }
  }
  for (const c of cases) {
    it(`${c.name}: values and gradients on CPU and WASM`, async () => {
      const ref = await on('cpu', c.plain);
      for (const backend of ['cpu', 'wasm'] as const) {
        const got = await on(backend, c.custom);
        expect(got.length).toBe(ref.length);
        for (let i = 0; i < ref.length; i++) expectClose(got[i]!, ref[i]!, 2e-5, `${backend} output ${i}`);
      }
      await tf.setBackend('wasm');
    });
  }
});
