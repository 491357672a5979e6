/**
 * Draws from the Gaussian policy restricted to the catalog,
 * π(i|s) ∝ exp(−‖e_i − μ(s)‖²/(2σ²)), i ≥ 1 (gaussian-policy.ts), at the
 * current parameters: the actions CRR's critic baseline averages over and the
 * items the offline-to-online mix collects.
 */
import * as tf from '@tensorflow/tfjs-core';
import { catalogGaussianLogits, gaussianMean, logSigma, type GaussianConfig } from './gaussian-policy.js';
import type { ParamStore } from './params.js';
import { sampleCategorical, type Rng } from './rng.js';

export class CatalogSampler {
  private readonly items: tf.Tensor2D;
  private readonly itemSq: tf.Tensor1D;

  constructor(
    private readonly params: ParamStore,
    private readonly config: GaussianConfig,
    itemEmb: Float32Array,
  ) {
    this.items = tf.keep(tf.tensor2d(itemEmb, [config.numItems, config.dim]));
    this.itemSq = tf.keep(tf.tidy(() => tf.sum(tf.square(this.items), 1) as tf.Tensor1D));
  }

  /** k items per state (states [rows × dim]), row-major [rows × k]. */
  sample(states: Float32Array, k: number, rng: Rng): Int32Array {
    const d = this.config.dim;
    const rows = states.length / d;
    const t = tf.tidy(() =>
      catalogGaussianLogits(
        gaussianMean(this.params, this.config, tf.tensor2d(states, [rows, d])),
        this.items,
        this.itemSq,
        logSigma(this.params, this.config),
      ),
    );
    const logits = t.dataSync() as Float32Array;
    t.dispose();
    const v = this.config.numItems;
    const out = new Int32Array(rows * k);
    for (let r = 0; r < rows; r++) sampleCategorical(logits, r * v, v, k, rng, out, r * k, 0);
    return out;
  }

  dispose(): void {
    this.items.dispose();
    this.itemSq.dispose();
  }
}
