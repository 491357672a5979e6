import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { registerTrainingKernels } from '../../stages/train/training-kernels.js';
import {
  batchMatMul,
  causalAttentionBackward,
  causalScoreGrad,
  maskedAttentionForward,
  softmaxTargetLogProbValues,
  transpose2d,
  transposeLast,
} from '../../stages/train/wasm-kernels.js';
import { causalAttentionScoreGrad } from '../../stages/train/kernels/causal-attention-grad.js';
import { linear, maskedAttention } from '../../stages/train/fast-ops.js';
import { fullSoftmaxLogProb } from '../../stages/train/softmax-output.js';
import { Rng } from '../../stages/train/rng.js';
import { on } from './on-backend.js';

function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => scale * r.normal());
}

function worstRelative(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return worst;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('causal attention score gradient', () => {
  it.each([6, 37])('D, Dᵀ and Pᵀ equal the softmax Jacobian formula computed entry by entry, zeros above the diagonals (T = %i)', (t) => {
    const n = 2;
    // A causal softmax P (rows sum to 1 over j ≤ i) and an arbitrary dP (also non-zero above the diagonal: it must be ignored).
    const p = new Float32Array(n * t * t);
    const logits = randn(n * t * t, 31);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < t; i++) {
        let s = 0;
        for (let j = 0; j <= i; j++) s += Math.exp(logits[b * t * t + i * t + j]!);
        for (let j = 0; j <= i; j++) p[b * t * t + i * t + j] = Math.exp(logits[b * t * t + i * t + j]!) / s;
      }
    const dp = randn(n * t * t, 32);
    const d = new Float32Array(n * t * t).fill(Number.NaN);
    const dT = new Float32Array(n * t * t).fill(Number.NaN);
    const pT = new Float32Array(n * t * t).fill(Number.NaN);
    causalAttentionScoreGrad(p, dp, n, t, d, dT, pT);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < t; i++) {
        let r = 0;
        for (let k = 0; k < t; k++) r += dp[b * t * t + i * t + k]! * p[b * t * t + i * t + k]!;
        for (let j = 0; j < t; j++) {
          const at = b * t * t + i * t + j;
          const tr = b * t * t + j * t + i;
          const expected = j <= i ? p[at]! * (dp[at]! - r) : 0;
          expect(d[at]).toBeCloseTo(expected, 6);
          expect(dT[tr]).toBe(d[at]);
          expect(pT[tr]).toBe(p[at]);
        }
      }
  });

  it('causal attention (the fused backward on WASM) matches plain autodiff on the CPU backend', async () => {
    const N = 4,
      T = 9,
      dh = 3;
    const q = randn(N * T * dh, 33),
      k = randn(N * T * dh, 34),
      v = randn(N * T * dh, 35),
      up = randn(N * T * dh, 36);
    const maskArr = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskArr[i * T + j] = -1e9;
    const run = (f: (a: tf.Tensor3D, b: tf.Tensor3D, c: tf.Tensor3D) => tf.Tensor) => () => {
      const inputs = [tf.tensor3d(q, [N, T, dh]), tf.tensor3d(k, [N, T, dh]), tf.tensor3d(v, [N, T, dh])];
      const value = f(inputs[0]!, inputs[1]!, inputs[2]!);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(f(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D), tf.tensor3d(up, [N, T, dh]))),
      )(inputs);
      return [value, ...grads];
    };
    const ref = await on(
      'cpu',
      run((a, b, c) => tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(a, b, false, true), 0.7), tf.tensor2d(maskArr, [T, T]))), c)),
    );
    for (const backend of ['wasm', 'cpu'] as const) {
      const got = await on(
        backend,
        run((a, b, c) => maskedAttention(a, b, c, tf.tensor2d(maskArr, [T, T]), 0.7, true)),
      );
      for (let i = 0; i < ref.length; i++) expect(worstRelative(got[i]!, ref[i]!), `${backend} output ${i}`).toBeLessThan(2e-5);
    }
    await tf.setBackend('wasm');
  });
});

describe('fused causal attention backward (WASM)', () => {
  it("gives exactly the separate kernels' D·K, Dᵀ·Qs and Pᵀ·dO (T spans several tiles, not a multiple of 4)", async () => {
    await tf.setBackend('wasm');
    registerTrainingKernels('wasm');
    const N = 3,
      T = 37,
      dh = 5;
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    const [fused, separate] = tf.tidy(() => {
      const P = tf.softmax(tf.add(tf.tensor3d(randn(N * T * T, 41), [N, T, T]), tf.tensor2d(mask, [T, T]))) as tf.Tensor3D;
      const [dO, V, K, Q] = [42, 43, 44, 45].map((seed) => tf.tensor3d(randn(N * T * dh, seed), [N, T, dh]));
      const [D, Dt, Pt] = causalScoreGrad(P, batchMatMul(dO!, transposeLast(V!)));
      const sep = [batchMatMul(D, K!), batchMatMul(Dt, Q!), batchMatMul(Pt, dO!)];
      return [causalAttentionBackward(P, dO!, transposeLast(V!), K!, Q!), sep];
    });
    expect(fused.map((t) => t.shape)).toEqual([
      [N, T, dh],
      [N, T, dh],
      [N, T, dh],
    ]);
    for (let i = 0; i < 3; i++) expect(Array.from(fused[i]!.dataSync()), `output ${i}`).toEqual(Array.from(separate[i]!.dataSync()));
    // Not all zero: the comparison means something.
    expect(fused[1]!.dataSync().some((x) => Math.abs(x) > 1e-3)).toBe(true);
    tf.dispose([...fused, ...separate]);
  });
});

describe('fused masked attention forward (WASM)', () => {
  it.each(['causal', 'arbitrary'])("gives exactly the separate kernels' softmax(Qs·Kᵀ + mask) and P·V (%s mask)", async (kind) => {
    await tf.setBackend('wasm');
    registerTrainingKernels('wasm');
    const N = 3,
      T = 37,
      dh = 5,
      dv = 4;
    const mask = kind === 'causal' ? new Float32Array(T * T) : randn(T * T, 60, 3);
    if (kind === 'causal') for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    const [fused, separate] = tf.tidy(() => {
      const Q = tf.tensor3d(randn(N * T * dh, 61), [N, T, dh]);
      const K = tf.tensor3d(randn(N * T * dh, 62), [N, T, dh]);
      const V = tf.tensor3d(randn(N * T * dv, 63), [N, T, dv]);
      const M = tf.tensor2d(mask, [T, T]);
      const P = tf.softmax(tf.add(batchMatMul(Q, transposeLast(K)), M)) as tf.Tensor3D;
      return [maskedAttentionForward(Q, transposeLast(K), V, M), [batchMatMul(P, V), P]];
    });
    expect(fused.map((t) => t.shape)).toEqual([
      [N, T, dv],
      [N, T, T],
    ]);
    for (let i = 0; i < 2; i++) expect(Array.from(fused[i]!.dataSync()), `output ${i}`).toEqual(Array.from(separate[i]!.dataSync()));
    tf.dispose([...fused, ...separate]);
  });
});

describe('log π read off the softmax', () => {
  it('is log p_t, and l_t − log Σ exp(l) where p_t is too small for float32', () => {
    // Row 0: ordinary; row 1: the target's logit 200 below the others (p_t underflows to 0 in float32).
    const logits = Float32Array.from([0.5, 1.5, -0.25, 100, 100.5, -100]);
    const p = new Float32Array(6);
    for (let r = 0; r < 2; r++) {
      const row = logits.subarray(r * 3, r * 3 + 3);
      const m = Math.max(...row);
      const s = row.reduce((acc, x) => acc + Math.exp(x - m), 0);
      for (let j = 0; j < 3; j++) p[r * 3 + j] = Math.exp(row[j]! - m) / s;
    }
    expect(p[5]).toBe(0);
    const out = new Float32Array(2);
    softmaxTargetLogProbValues(logits, p, Int32Array.from([1, 2]), 2, 3, out);
    const lse0 = Math.log(Math.exp(0.5) + Math.exp(1.5) + Math.exp(-0.25));
    expect(out[0]).toBeCloseTo(1.5 - lse0, 6);
    const lse1 = 100.5 + Math.log(1 + Math.exp(-0.5) + Math.exp(-200.5));
    expect(out[1]).toBeCloseTo(-100 - lse1, 3);
    expect(() => softmaxTargetLogProbValues(logits, p, Int32Array.from([1, 3]), 2, 3, out)).toThrow(
      'RecpostSoftmaxTargetLogProb: the target 3 is not in [0, 2]',
    );
  });

  it('the full-softmax log π stays finite and exact when a target is far less likely than float32 can hold', async () => {
    await tf.setBackend('wasm');
    registerTrainingKernels('wasm');
    // Items 1 and 2 along ±x; a state far along +x makes item 2's logit 2·60·2 = 240 below item 1's.
    const E = tf.tensor2d([0, 0, 2, 0, -2, 0], [3, 2]);
    const h = tf.tensor2d([60, 0, 0.1, 0.2], [2, 2]);
    const got = fullSoftmaxLogProb(h, E, tf.tensor1d([2, 1], 'int32')).dataSync();
    expect(got[0]).toBeCloseTo(-240 - Math.log(1 + Math.exp(-240)), 3);
    const l1 = 0.2,
      l2 = -0.2;
    expect(got[1]).toBeCloseTo(l1 - Math.log(Math.exp(l1) + Math.exp(l2)), 6);
  });
});

describe('WASM Identity', () => {
  it('a clone shares the data of its source, and outlives it', async () => {
    await tf.setBackend('wasm');
    registerTrainingKernels('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
  });
});

describe('blocked 2-D transpose', () => {
  it('moves every element of narrow and wide matrices whose sides are not multiples of the block or of 4', () => {
    for (const [rows, cols] of [
      [45, 300],
      [7, 3],
      [130, 33],
    ] as const) {
      const src = Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5);
      const dst = new Float32Array(rows * cols).fill(Number.NaN);
      transpose2d(src, rows, cols, dst);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) expect(dst[j * rows + i]).toBe(i * cols + j + 0.5);
    }
  });
});

describe('WASM slices', () => {
  it('contiguous row ranges (the copy fast path) and other slices equal the CPU backend, float32 and int32', async () => {
    const x = Float32Array.from({ length: 7 * 4 * 3 }, (_, i) => i * 0.5 - 3);
    const cases: Array<[number[], number[]]> = [
      [
        [2, 0, 0],
        [3, 4, 3],
      ],
      [
        [6, 0, 0],
        [1, -1, -1],
      ],
      [
        [3, 1, 0],
        [1, 2, 3],
      ],
      [
        [0, 1, 1],
        [7, 2, 2],
      ],
      [
        [4, 0, 0],
        [0, 4, 3],
      ],
    ];
    const run = () =>
      cases.flatMap(([begin, size]) => [
        tf.slice(tf.tensor3d(x, [7, 4, 3]), begin, size),
        tf.cast(
          tf.slice(
            tf.tensor3d(
              Int32Array.from(x, (v) => Math.round(4 * v)),
              [7, 4, 3],
              'int32',
            ),
            begin,
            size,
          ),
          'float32',
        ),
      ]);
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(wasm.map((a) => Array.from(a))).toEqual(cpu.map((a) => Array.from(a)));
    // Rows 2..4 whole: elements 24..59 of x.
    expect(Array.from(wasm[0]!)).toEqual(Array.from(x.subarray(24, 60)));
  });
});

describe('dense layers sharing an input', () => {
  it('three layers on one input: the same gradients as the CPU backend, the input transposed once in the backward pass on WASM', async () => {
    const M = 50,
      n = 6;
    const x = randn(M * n, 51);
    const ws = [52, 53, 54].map((s) => randn(n * n, s));
    const up = randn(M * n, 55);
    const run = () => {
      const X = tf.tensor2d(x, [M, n]);
      const W = ws.map((w) => tf.tensor2d(w, [n, n]));
      const b = tf.zeros([n]) as tf.Tensor1D;
      const f = (xx: tf.Tensor, w0: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.add(
              tf.add(linear(xx as tf.Tensor2D, w0 as tf.Tensor2D, b), linear(xx as tf.Tensor2D, w1 as tf.Tensor2D, b, true)),
              linear(xx as tf.Tensor2D, w2 as tf.Tensor2D, b),
            ),
            tf.tensor2d(up, [M, n]),
          ),
        );
      return tf.grads(f)([X, ...W]);
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    for (let i = 0; i < 4; i++) expect(worstRelative(wasm[i]!, cpu[i]!), `gradient ${i}`).toBeLessThan(1e-5);
    await tf.setBackend('wasm');
    const prof = await tf.profile(() => {
      tf.dispose(run());
    });
    const inputTransposes = prof.kernels.filter((k) => k.name === 'Transpose' && String(k.inputShapes[0]) === String([M, n]));
    expect(inputTransposes).toHaveLength(1);
  });
});
