/**
 * PPO's value loss (Schulman et al., 2017, Eq. 9: L^VF = (V_θ(s) − V^target)²)
 * for the one-step recommendation bandit of the paper-000 PPO baseline, where
 * the target of candidate k of context r is its proxy reward r̂_k:
 *
 *   L_V = (1/N) Σ_k (V(s_{r(k)}) − r̂_k)²,   r(k) = ⌊k / G⌋,
 *
 * and the loss PPO minimises, the clipped surrogate plus c_v times it:
 *
 *   L = L_clip + c_v · L_V.
 */
import * as tf from '@tensorflow/tfjs-core';

/** L_V for one value per context [B] and the proxy rewards of its G candidates each [B·G]. */
export function ppoValueLoss(valuePerContext: tf.Tensor1D, proxyReward: tf.Tensor1D, groupSize: number): tf.Scalar {
  return tf.tidy(() => {
    const n = proxyReward.shape[0];
    const contextOf = tf.tensor1d(
      Int32Array.from({ length: n }, (_, i) => Math.floor(i / groupSize)),
      'int32',
    );
    return tf.mean(tf.square(tf.sub(tf.gather(valuePerContext, contextOf), proxyReward))) as tf.Scalar;
  });
}

/** L = L_clip + c_v · L_V. */
export function ppoLoss(clippedSurrogate: tf.Scalar, valueLoss: tf.Scalar, valueCoef: number): tf.Scalar {
  return tf.tidy(() => tf.add(clippedSurrogate, tf.mul(valueLoss, valueCoef)) as tf.Scalar);
}
