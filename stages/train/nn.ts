/**
 * Small neural-network pieces on tfjs-core ops (no tfjs-layers): seeded
 * dropout and stop-gradient. (Dense layers, layer normalisation and attention
 * with hand-written gradients are in fast-ops.ts.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from './rng.js';

/**
 * Inverted dropout with a mask drawn in JavaScript from `rng` (reproducible
 * from the run's seed and step on every backend, and cheaper than tfjs's
 * seeded uniform sampler): each 32-bit draw decides two elements by its
 * 16-bit halves, keeping an element with probability q = round(65536·(1 −
 * rate))/65536 and scaling kept ones by 1/q, so E[mask] = 1 exactly.
 * Identity when `rate` is 0 or rng is undefined (evaluation).
 *
 * `skipRows` > 0 treats x [rows, width] as rows skipRows.. of a larger
 * tensor whose mask comes from the same stream: x gets exactly that part of
 * the larger tensor's mask (data-parallel training gives each thread its
 * rows of the full minibatch's masks).
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng | undefined, skipRows = 0): T {
  if (!rng || !(rate > 0)) return x;
  const width = x.shape.length > 1 ? x.size / x.shape[0]! : 1;
  const mask = dropoutMask(x.size, rate, rng, skipRows * width);
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32'))) as T;
}

/** Elements skip..skip+n−1 of the dropout mask the stream `rng` gives (see `dropout`). */
export function dropoutMask(n: number, rate: number, rng: Rng, skip = 0): Float32Array {
  const mask = new Float32Array(n);
  const threshold = Math.max(1, Math.round(65536 * (1 - rate)));
  const scale = 65536 / threshold;
  // An inline sfc32 seeded from `rng` (a method call per draw costs more than the draw).
  let a = rng.nextU32() | 0;
  let b = rng.nextU32() | 0;
  let c = rng.nextU32() | 0;
  let d = 1;
  // Element e is decided by draw ⌊e/2⌋ (low half for even e): pass over the draws of skipped pairs.
  for (let s = skip >>> 1; s > 0; s--) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
  }
  let i = 0;
  if (skip & 1 && n > 0) {
    // x starts on the high half of a draw.
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    if (t >>> 16 < threshold) mask[0] = scale;
    i = 1;
  }
  const pairsEnd = i + ((n - i) & ~1);
  for (; i < pairsEnd; i += 2) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    // Branch-free: (u − threshold) >>> 31 is 1 exactly when u < threshold (a kept element; 20% of unpredictable branches cost more than the draw).
    mask[i] = scale * (((t & 0xffff) - threshold) >>> 31);
    mask[i + 1] = scale * (((t >>> 16) - threshold) >>> 31);
  }
  if (i < n) {
    // An odd element left: the low half of one more draw.
    const t = (((a + b) | 0) + d) | 0;
    if ((t & 0xffff) < threshold) mask[i] = scale;
  }
  return mask;
}

const stopGradientOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}
