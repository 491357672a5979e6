/**
 * The weighted negative log-likelihood every offline objective minimises
 * (SPEC S3–S4; paper 002 Eq. 1):
 *
 *   L(θ) = −(1/N) Σ_i w_i · log π_θ(a_i | s_i)
 *
 * The objectives differ only in w (BC: 1; Exp-RSFT: exp(r/λ); DRPO: the
 * normalised advantage on the kept subset; …). N counts every example of the
 * minibatch, weighted or not, and is at least 1 so an empty batch gives 0.
 */
import * as tf from '@tensorflow/tfjs-core';

/** L for per-example log π (differentiable) and the objective's weights (constants). */
export function weightedNll(logProb: tf.Tensor1D, weights: Float32Array): tf.Scalar {
  if (logProb.shape[0] !== weights.length) throw new Error(`weightedNll: ${weights.length} weights for ${logProb.shape[0]} log-probabilities`);
  return tf.tidy(() => tf.div(tf.neg(tf.sum(tf.mul(tf.tensor1d(weights, 'float32'), logProb))), Math.max(1, weights.length)) as tf.Scalar);
}
