/**
 * Expectile regression (IQL, Kostrikov et al. 2021, Eq. 5; SPEC S10):
 *
 *   L_τ(u) = |τ − 1[u < 0]|·u²,   u = target − prediction,
 *
 * whose minimiser over a constant prediction is the τ-expectile of the
 * targets: the mean at τ = 0.5, approaching the maximum as τ → 1. IQL fits
 * V(s) to Q(s, a) over the logged actions with τ > 0.5, so V sits above the
 * behaviour policy's mean value without querying actions outside the data.
 */
import * as tf from '@tensorflow/tfjs-core';

/** |τ − 1[u < 0]|: τ for u ≥ 0, 1 − τ for u < 0. */
export function expectileWeight(u: number, tau: number): number {
  return u < 0 ? 1 - tau : tau;
}

/** Mean of L_τ(u) over the entries of u (0 for an empty array). */
export function expectileLoss(u: ArrayLike<number>, tau: number): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += expectileWeight(u[i]!, tau) * u[i]! * u[i]!;
  return u.length ? s / u.length : 0;
}

/** dL_τ(u)/du = 2·|τ − 1[u < 0]|·u per entry (the loss is differentiable at 0, where both sides give 0). */
export function expectileGradient(u: ArrayLike<number>, tau: number): Float64Array {
  const g = new Float64Array(u.length);
  for (let i = 0; i < u.length; i++) g[i] = 2 * expectileWeight(u[i]!, tau) * u[i]!;
  return g;
}

/** The τ-expectile of values by bisection on the first-order condition Σ |τ − 1[x < m]|·(x − m) = 0 (tests and checks). */
export function expectileOf(values: ArrayLike<number>, tau: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  for (let it = 0; it < 200 && hi - lo > 1e-12; it++) {
    const m = (lo + hi) / 2;
    let g = 0;
    for (let i = 0; i < values.length; i++) g += expectileWeight(values[i]! - m, tau) * (values[i]! - m);
    if (g > 0) lo = m;
    else hi = m;
  }
  return (lo + hi) / 2;
}

/** mean L_τ(target − prediction) as a differentiable scalar; the target must not depend on the trained variables (e.g. a frozen target Q). */
export function expectileLossTensor(target: tf.Tensor1D, prediction: tf.Tensor1D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const u = tf.sub(target, prediction);
    // |τ − 1[u < 0]| = (1 − τ) + (2τ − 1)·step(u) (step has a zero gradient; u = 0 contributes 0 either way).
    const w = tf.add(1 - tau, tf.mul(2 * tau - 1, tf.step(u)));
    return tf.mean(tf.mul(w, tf.square(u))) as tf.Scalar;
  });
}
