/**
 * Differentiable building blocks with hand-written gradients, arranged so
 * that every matrix product is an untransposed single-batch product (the
 * WASM backend's fast path; see wasm-kernels.ts) and intermediate memory is
 * what the backward pass needs and no more.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  batchMatMul,
  causalAttentionBackward,
  causalScoreGrad,
  columnSums,
  fusedLayerNorm,
  fusedLayerNormAvailable,
  fusedLayerNormGrad,
  fusedAttentionBackwardAvailable,
  maskedAttentionForward,
  matMulNN,
  transposeLast,
} from './wasm-kernels.js';

/**
 * Σ over the rows of x [M, n] → [n]; on WASM a direct column sum (the stock
 * reduction transposes first: ≈ 16 ms for [25600, 64] against ≈ 2 ms).
 */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return columnSums(x);
}

/**
 * xᵀ for the weight gradients of the dense layers that read the same input
 * (q, k and v all read the first layer norm's output): transposed once per
 * backward pass instead of once per layer. The transpose belongs to the
 * backward pass's scope and is disposed with it; a disposed entry is made
 * again.
 */
const inputTransposes = new WeakMap<object, tf.Tensor2D>();

/** Keyed by the data (each saved input is a clone sharing its source's data); tensor data never changes. */
function transposedInput(x: tf.Tensor2D): tf.Tensor2D {
  const cached = inputTransposes.get(x.dataId);
  if (cached && !cached.isDisposed) return cached;
  const t = tf.transpose(x);
  inputTransposes.set(x.dataId, t);
  return t;
}

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
        const dW = tf.getBackend() === 'wasm' ? tf.matMul(transposedInput(Xs), g) : matMulNN(Xs, g, true, false);
        return [matMulNN(g, Ws, false, true), dW, sumRows(g)];
      },
    };
  });
  return op(x, w, b) as tf.Tensor2D;
}

/**
 * Scaled dot-product attention with an additive mask, per batch entry:
 *   S = (scale·Q)·Kᵀ + mask,  P = softmax(S),  O = P·V
 * for q, k, v [N, T, dh] (N = batch × heads), mask [T, T].
 * Backward, with D = P ⊙ (dP − rowsum(dP ⊙ P)) (so that dS = D):
 *   dP = dO·Vᵀ,  dQ = scale·(D·K),  dK = Dᵀ·(scale·Q),  dV = Pᵀ·dO.
 * The scale multiplies the small [N, T, dh] operands rather than the
 * [N, T, T] scores, and every product has a [T, dh] right operand: the
 * backend packs a product's right operand on every call, and packing a
 * [T, T] one per batch entry cost more than the product (Qᵀ·D ran at a
 * third of the rate of Dᵀ·Q).
 *
 * `causal`: the mask is −∞ (−1e9) above the diagonal and 0 elsewhere, so P
 * is exactly 0 there; D, Dᵀ and Pᵀ then come from one pass over the lower
 * triangles (causalScoreGrad) instead of four elementwise kernels and two
 * transposes over [N, T, T].
 */
export function maskedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, mask: tf.Tensor2D, scale: number, causal = false): tf.Tensor3D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [Q, K, V, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    const Qs = tf.mul(Q, scale) as tf.Tensor3D;
    let P: tf.Tensor3D, O: tf.Tensor3D;
    const T = Q.shape[1];
    // On WASM one kernel per batch entry, with no [N, T, T] intermediates besides P (wasm-kernels.ts).
    if (fusedAttentionBackwardAvailable(Qs, K, V, mask) && K.shape[1] === T && mask.shape[0] === T && mask.shape[1] === T)
      [O, P] = tf.tidy(() => maskedAttentionForward(Qs, transposeLast(K), V, mask));
    else {
      P = tf.tidy(() => tf.softmax(tf.add(batchMatMul(Qs, transposeLast(K)), mask))) as tf.Tensor3D;
      O = batchMatMul(P, V);
    }
    save([Qs, K, V, P]);
    return {
      value: O,
      gradFunc: (dO: tf.Tensor, saved: tf.Tensor[]) => {
        const [Qss, Ks, Vs, Ps] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const dO3 = dO as tf.Tensor3D;
        if (causal && fusedAttentionBackwardAvailable(Ps, dO3, Qss, Ks, Vs)) {
          // One kernel per batch entry, no [N, T, T] intermediates (wasm-kernels.ts).
          const [dQraw, dKf, dVf] = causalAttentionBackward(Ps, dO3, transposeLast(Vs), Ks, Qss);
          const dQf = tf.mul(dQraw, scale);
          dQraw.dispose();
          return [dQf, dKf, dVf];
        }
        const dP = batchMatMul(dO3, transposeLast(Vs));
        let D: tf.Tensor3D, Dt: tf.Tensor3D, Pt: tf.Tensor3D;
        if (causal) [D, Dt, Pt] = causalScoreGrad(Ps, dP);
        else {
          D = tf.tidy(() => tf.mul(Ps, tf.sub(dP, tf.sum(tf.mul(dP, Ps), -1, true))) as tf.Tensor3D);
          Dt = transposeLast(D);
          Pt = transposeLast(Ps);
        }
        dP.dispose();
        const dQ = tf.tidy(() => tf.mul(batchMatMul(D, Ks), scale));
        const dK = batchMatMul(Dt, Qss);
        const dV = batchMatMul(Pt, dO3);
        tf.dispose([D, Dt, Pt]);
        return [dQ, dK, dV];
      },
    };
  });
  return op(q, k, v) as tf.Tensor3D;
}

/**
 * Layer normalisation over the last axis, y = γ ⊙ x̂ + β, x̂ = (x − μ)/√(σ² + ε),
 * with the usual closed-form gradient
 *   ∂x = (1/√(σ²+ε)) · (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)),  g = dy ⊙ γ,
 *   ∂γ = Σ_rows dy ⊙ x̂,  ∂β = Σ_rows dy,
 * using only row-wise reductions and elementwise kernels; on WASM one fused
 * kernel each way (kernels/layer-norm.ts).
 */
export function layerNormOp(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-6): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [X, G, Bt, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    if (fusedLayerNormAvailable(X, G, Bt)) {
      const [y, xhat, rstd] = fusedLayerNorm(X, G, Bt, eps);
      save([xhat, rstd, G]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xh, rs, gm] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
          return fusedLayerNormGrad(dy as tf.Tensor2D, xh, rs, gm);
        },
      };
    }
    const [xhat, rstd] = tf.tidy(() => {
      const xc = tf.sub(X, tf.mean(X, 1, true));
      const r = tf.rsqrt(tf.add(tf.mean(tf.square(xc), 1, true), eps));
      return [tf.mul(xc, r), r];
    });
    const y = tf.tidy(() => tf.add(tf.mul(xhat!, G), Bt));
    save([xhat!, rstd!, G]);
    return {
      value: y as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, gm] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const dy2 = dy as tf.Tensor2D;
        const dx = tf.tidy(() => {
          const g = tf.mul(dy2, gm);
          return tf.mul(rs, tf.sub(tf.sub(g, tf.mean(g, 1, true)), tf.mul(xh, tf.mean(tf.mul(g, xh), 1, true))));
        });
        const dGamma = tf.tidy(() => sumRows(tf.mul(dy2, xh) as tf.Tensor2D));
        return [dx, dGamma, sumRows(dy2)];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor2D;
}

/**
 * Input embeddings of right-padded ids [B·T]: x = s·E[id]·1[id > 0] + P[t]
 * for position t of each sequence, P [maxLen, d]. Gradients:
 *   ∂E = segment-sum over ids of s·1[id > 0]·dy,  ∂P[t] = Σ_b dy[b, t] (rows ≥ T are 0).
 */
export function embedInputs(itemEmb: tf.Tensor2D, posEmb: tf.Tensor2D, ids: Int32Array, B: number, T: number, scale: number): tf.Tensor2D {
  const [V, d] = itemEmb.shape;
  const maxLen = posEmb.shape[0];
  const maskScale = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) maskScale[i] = ids[i]! > 0 ? scale : 0;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [E, P, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const idT = tf.tensor1d(ids, 'int32');
    const ms = tf.tensor2d(maskScale, [ids.length, 1]);
    const x = tf.tidy(() => {
      const emb = tf.reshape(tf.mul(tf.gather(E, idT), ms), [B, T, d]);
      return tf.reshape(tf.add(emb, tf.slice(P, [0, 0], [T, d])), [B * T, d]);
    });
    save([idT, ms]);
    return {
      value: x as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [idS, msS] = saved as [tf.Tensor1D, tf.Tensor2D];
        const dE = tf.unsortedSegmentSum(tf.mul(dy, msS), idS, V);
        const dP = tf.tidy(() => {
          const perPos = tf.reshape(sumRows(tf.reshape(dy, [B, T * d]) as tf.Tensor2D), [T, d]);
          return T === maxLen ? perPos : tf.concat([perPos, tf.zeros([maxLen - T, d])], 0);
        });
        return [dE, dP];
      },
    };
  });
  return op(itemEmb, posEmb) as tf.Tensor2D;
}
