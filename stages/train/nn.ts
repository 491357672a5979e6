/**
 * Small neural-network pieces on tfjs-core ops (no tfjs-layers): dense
 * layers, layer normalisation, seeded dropout, stop-gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from './rng.js';

/** x·W + b with an optional fused ReLU (one kernel on WASM and native). */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D, activation?: 'relu'): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: w, bias: b, activation: activation ?? 'linear' }) as tf.Tensor2D;
}

/** Layer normalisation over the last axis: γ·(x − mean)/√(var + ε) + β. */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-6): tf.Tensor2D {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor2D;
  });
}

/**
 * Inverted dropout with a mask drawn in JavaScript from `rng` (reproducible
 * from the run's seed and step on every backend, and cheaper than tfjs's
 * seeded uniform sampler). Identity when `rate` is 0 or rng is undefined
 * (evaluation).
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng | undefined): T {
  if (!rng || !(rate > 0)) return x;
  const n = x.size;
  const mask = new Float32Array(n);
  const keep = 1 - rate;
  const scale = 1 / keep;
  for (let i = 0; i < n; i++) mask[i] = rng.uniform() < keep ? scale : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32'))) as T;
}

/** Identity forward, zero gradient: features a head reads without training the trunk. */
const stopGradientOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}
