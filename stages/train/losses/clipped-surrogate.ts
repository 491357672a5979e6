/**
 * The clipped surrogate of PPO (Schulman et al., 2017, Eq. 7) in the grouped
 * form of GRPO (paper 004 Eq. 4.2; SPEC S5), as a loss to minimise:
 *
 *   L(θ) = −(1/N) Σ_k min(ρ_k A_k, clip(ρ_k, 1 − ε, 1 + ε) A_k),
 *   ρ_k = π_θ(y_k | x) / π̄(y_k | x) = exp(log π_θ(y_k) − log π̄(y_k)),
 *
 * over the N = B·G sampled candidates, with the advantages A_k and the
 * rollout policy π̄ held fixed (no KL term). Also returns the fraction of
 * candidates whose ratio left [1 − ε, 1 + ε] (the `clip_frac` record).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface ClippedSurrogate {
  loss: tf.Scalar;
  /** Share of candidates with |ρ − 1| > ε. */
  clipFraction: tf.Scalar;
}

/** L for log π_θ of the candidates (differentiable), their rollout log π̄ and advantages A (constants), radius ε. */
export function clippedSurrogateLoss(logProb: tf.Tensor1D, rolloutLogProb: tf.Tensor1D, advantage: tf.Tensor1D, clip: number): ClippedSurrogate {
  return tf.tidy(() => {
    const ratio = tf.exp(tf.sub(logProb, rolloutLogProb));
    const surrogate = tf.minimum(tf.mul(ratio, advantage), tf.mul(tf.clipByValue(ratio, 1 - clip, 1 + clip), advantage));
    const clipFraction = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clip), 'float32')) as tf.Scalar;
    return { loss: tf.neg(tf.mean(surrogate)) as tf.Scalar, clipFraction };
  });
}
