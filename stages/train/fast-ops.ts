/**
 * Differentiable building blocks with hand-written gradients, arranged so
 * that every matrix product is an untransposed single-batch product (the
 * WASM backend's fast path; see wasm-kernels.ts) and intermediate memory is
 * what the backward pass needs and no more.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchMatMul, matMulNN } from './wasm-kernels.js';

/**
 * y = act(x·W + b) for x [M, in], W [in, out], b [out].
 * ∂x = g·Wᵀ, ∂W = xᵀ·g, ∂b = Σ_rows g, with g = dy ⊙ 1[y > 0] for ReLU.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, relu = false): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [X, W, Bv, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const y = tf.fused.matMul({ a: X, b: W, bias: Bv, activation: relu ? 'relu' : 'linear' }) as tf.Tensor2D;
    save(relu ? [X, W, y] : [X, W]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [Xs, Ws, Ys] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D?];
        const g = (Ys ? tf.mul(dy, tf.step(Ys)) : dy) as tf.Tensor2D;
        return [matMulNN(g, Ws, false, true), matMulNN(Xs, g, true, false), tf.sum(g, 0)];
      },
    };
  });
  return op(x, w, b) as tf.Tensor2D;
}

/**
 * Scaled dot-product attention with an additive mask, per batch entry:
 *   S = scale·Q·Kᵀ + mask,  P = softmax(S),  O = P·V
 * for q, k, v [N, T, dh] (N = batch × heads), mask [T, T].
 * Backward: dP = dO·Vᵀ, dS = scale·P ⊙ (dP − rowsum(dP ⊙ P)),
 * dQ = dS·K, dKᵀ = Qᵀ·dS, dVᵀ = dOᵀ·P (only small [T, dh] operands are transposed).
 */
export function maskedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, mask: tf.Tensor2D, scale: number): tf.Tensor3D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [Q, K, V, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    const P = tf.tidy(() => tf.softmax(tf.add(tf.mul(batchMatMul(Q, tf.transpose(K, [0, 2, 1])), scale), mask))) as tf.Tensor3D;
    const O = batchMatMul(P, V);
    save([Q, K, V, P]);
    return {
      value: O,
      gradFunc: (dO: tf.Tensor, saved: tf.Tensor[]) => {
        const [Qs, Ks, Vs, Ps] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const dO3 = dO as tf.Tensor3D;
        const dS = tf.tidy(() => {
          const dP = batchMatMul(dO3, tf.transpose(Vs, [0, 2, 1]));
          return tf.mul(tf.mul(Ps, tf.sub(dP, tf.sum(tf.mul(dP, Ps), -1, true))), scale) as tf.Tensor3D;
        });
        const dQ = batchMatMul(dS, Ks);
        const dK = tf.tidy(() => tf.transpose(batchMatMul(tf.transpose(Qs, [0, 2, 1]), dS), [0, 2, 1]));
        const dV = tf.tidy(() => tf.transpose(batchMatMul(tf.transpose(dO3, [0, 2, 1]), Ps), [0, 2, 1]));
        dS.dispose();
        return [dQ, dK, dV];
      },
    };
  });
  return op(q, k, v) as tf.Tensor3D;
}
