/**
 * The validation loss of the Gaussian embedding policy: the mean −log π(e_a | s)
 * (paper 002 Eq. 1, unweighted) over the validation examples, the number
 * train_gaussian records as split valid, metric nll, and early stopping watches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianLogProb, gaussianMean, logSigma, type GaussianConfig } from './gaussian-policy.js';
import type { GaussianData } from './gaussian-task.js';
import type { ParamStore } from './params.js';

/** Examples evaluated at once. */
const ROWS_PER_CHUNK = 4096;

/** Mean −log π of `data`'s actions given its states (NaN without examples). */
export function gaussianMeanNll(params: ParamStore, config: GaussianConfig, data: GaussianData, itemEmb: Float32Array): number {
  const d = config.dim;
  let sum = 0;
  for (let s = 0; s < data.numRows; s += ROWS_PER_CHUNK) {
    const e = Math.min(data.numRows, s + ROWS_PER_CHUNK);
    const actionEmb = new Float32Array((e - s) * d);
    for (let r = s; r < e; r++) actionEmb.set(itemEmb.subarray(data.actions[r]! * d, data.actions[r]! * d + d), (r - s) * d);
    const t = tf.tidy(() => {
      const mu = gaussianMean(params, config, tf.tensor2d(data.states.subarray(s * d, e * d), [e - s, d]));
      return tf.sum(gaussianLogProb(tf.tensor2d(actionEmb, [e - s, d]), mu, logSigma(params, config)));
    });
    sum -= t.dataSync()[0]!;
    t.dispose();
  }
  return data.numRows ? sum / data.numRows : NaN;
}
