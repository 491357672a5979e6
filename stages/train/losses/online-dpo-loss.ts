/**
 * The DPO loss (Rafailov et al., 2023, Eq. 7) in the online form of the
 * paper-000 baseline: two candidates per context drawn from the current
 * policy, the one the proxy scores higher is y_w, the other y_l, and the
 * frozen initial policy is π_ref:
 *
 *   L(θ) = −(1/P) Σ_p log σ(β [(log π_θ(y_w) − log π_ref(y_w)) − (log π_θ(y_l) − log π_ref(y_l))])
 *        = (1/P) Σ_p softplus(−β [(log π_θ(y_w) − log π_θ(y_l)) − (log π_ref(y_w) − log π_ref(y_l))])
 *
 * over the P pairs with a preference (ties are skipped by the caller).
 * log σ(z) = −softplus(−z) is used because tf.logSigmoid's gradient loses its
 * input on the WASM backend.
 */
import * as tf from '@tensorflow/tfjs-core';

/** L for log π_θ of the preferred and rejected candidates (differentiable), the reference margin log π_ref(y_w) − log π_ref(y_l), and β. */
export function onlineDpoLoss(chosenLogProb: tf.Tensor1D, rejectedLogProb: tf.Tensor1D, referenceMargin: tf.Tensor1D, beta: number): tf.Scalar {
  return tf.tidy(() => {
    const margin = tf.sub(tf.sub(chosenLogProb, rejectedLogProb), referenceMargin);
    return tf.mean(tf.softplus(tf.neg(tf.mul(margin, beta)))) as tf.Scalar;
  });
}

/** log π_ref(y_w) − log π_ref(y_l) per pair (a constant of the inner steps). */
export function referenceMargin(chosenRefLogProb: tf.Tensor1D, rejectedRefLogProb: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.sub(chosenRefLogProb, rejectedRefLogProb) as tf.Tensor1D);
}
