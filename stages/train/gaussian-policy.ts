/**
 * The Gaussian embedding policy of paper 002 (§2.1, App. J; SPEC S6) for the
 * RecSim setting, where items are vectors e_i ∈ R^d.
 *
 * - State s: the mean embedding of the context items (zeros for an empty
 *   context), the "dense latent state" of App. J.1.
 * - μ(s): an MLP (default 2 × 128, ReLU) from the state to R^d.
 * - log π(a|s) = −‖a − μ(s)‖²/(2σ²) − d·log σ  (the constant −(d/2)·log 2π is
 *   dropped), σ fixed or learned (one log σ for all dimensions, clipped to
 *   [log_sigma_min, log_sigma_max]).
 * - Acting on a finite catalog: greedy decoding picks the item with the
 *   highest inner product ⟨e_i, μ(s)⟩ (nearest-neighbour retrieval, App.
 *   H.1). Sampling and the catalog log-probabilities use the Gaussian
 *   restricted to the catalog and renormalised:
 *     π(i|s) ∝ exp(−‖e_i − μ(s)‖²/(2σ²)),  i ≥ 1,
 *   which is what online training (ratios, KL) and evaluation by sampling use.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ListColumn } from '../core/batch.js';
import type { RankingScorer, SamplingPolicy } from '../core/policy.js';
import { linear } from './fast-ops.js';
import { ParamStore } from './params.js';
import { Rng, RNG_PURPOSE, sampleCategorical } from './rng.js';

export interface GaussianConfig {
  /** Catalog size including padding 0. */
  numItems: number;
  /** Embedding dimension d (state and action). */
  dim: number;
  hidden: number[];
  sigma: 'fixed' | 'learned';
  /** σ when fixed; the initial σ when learned. */
  sigmaInit: number;
  logSigmaMin: number;
  logSigmaMax: number;
}

export const ITEM_EMBEDDINGS_NAME = 'const/item_embeddings';

export function createGaussianParams(c: GaussianConfig, seed: number): ParamStore {
  const p = new ParamStore(true);
  const sizes = [c.dim, ...c.hidden, c.dim];
  for (let l = 0; l + 1 < sizes.length; l++) {
    p.init(`mlp/w${l}`, [sizes[l]!, sizes[l + 1]!], { kind: 'glorot' }, seed);
    p.init(`mlp/b${l}`, [sizes[l + 1]!], { kind: 'zeros' }, seed);
  }
  if (c.sigma === 'learned') p.init('log_sigma', [1], { kind: 'constant', value: Math.log(c.sigmaInit) }, seed);
  return p;
}

/** Mean embedding of each context's items ([rows × dim]; zeros for an empty context). */
export function meanEmbeddings(offsets: Int32Array, values: Int32Array, itemEmb: Float32Array, dim: number): Float32Array {
  const rows = offsets.length - 1;
  const out = new Float32Array(rows * dim);
  const acc = new Float64Array(dim);
  const n = itemEmb.length / dim;
  for (let r = 0; r < rows; r++) {
    const s = offsets[r]!;
    const e = offsets[r + 1]!;
    if (e === s) continue;
    acc.fill(0);
    for (let j = s; j < e; j++) {
      const it = values[j]!;
      if (it < 0 || it >= n) throw new Error(`item id ${it} is outside the catalog (0..${n - 1})`);
      for (let k = 0; k < dim; k++) acc[k] = acc[k]! + itemEmb[it * dim + k]!;
    }
    for (let k = 0; k < dim; k++) out[r * dim + k] = acc[k]! / (e - s);
  }
  return out;
}

/** μ(s) for states x [rows, dim]. */
export function gaussianMean(p: ParamStore, c: GaussianConfig, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    let h = x;
    const layers = c.hidden.length + 1;
    for (let l = 0; l < layers; l++) h = linear(h, p.get(`mlp/w${l}`) as tf.Tensor2D, p.get(`mlp/b${l}`) as tf.Tensor1D, l + 1 < layers);
    return h;
  });
}

/** log σ as a scalar tensor (clipped when learned). */
export function logSigma(p: ParamStore, c: GaussianConfig): tf.Scalar {
  if (c.sigma === 'fixed') return tf.scalar(Math.log(c.sigmaInit));
  return tf.tidy(() => tf.reshape(tf.clipByValue(p.get('log_sigma'), c.logSigmaMin, c.logSigmaMax), []) as tf.Scalar);
}

/** log π(a|s) = −‖a − μ‖²/(2σ²) − d·log σ for aligned rows a, μ [N, d]. */
export function gaussianLogProb(a: tf.Tensor2D, mu: tf.Tensor2D, logSig: tf.Scalar): tf.Tensor1D {
  return tf.tidy(() => {
    const d = a.shape[1];
    const sq = tf.sum(tf.square(tf.sub(a, mu)), 1);
    return tf.sub(tf.mul(sq, tf.mul(-0.5, tf.exp(tf.mul(-2, logSig)))), tf.mul(logSig, d)) as tf.Tensor1D;
  });
}

/** Catalog logits −‖e_i − μ‖²/(2σ²) [rows, V], padding column −1e9 (a differentiable function of μ and σ). */
export function catalogGaussianLogits(mu: tf.Tensor2D, itemEmb: tf.Tensor2D, itemSqNorm: tf.Tensor1D, logSig: tf.Scalar): tf.Tensor2D {
  return tf.tidy(() => {
    const v = itemEmb.shape[0];
    const dots = tf.matMul(mu, tf.transpose(itemEmb)); // [rows, V]
    const muSq = tf.sum(tf.square(mu), 1, true); // [rows, 1]
    const dist = tf.add(tf.sub(muSq, tf.mul(dots, 2)), itemSqNorm); // ‖μ‖² − 2⟨μ, e⟩ + ‖e‖²
    const pad = new Float32Array(v);
    pad[0] = -1e9;
    return tf.add(tf.mul(dist, tf.mul(-0.5, tf.exp(tf.mul(-2, logSig)))), tf.tensor1d(pad)) as tf.Tensor2D;
  });
}

/** Greedy decoding: argmax_i ⟨e_i, μ_r⟩ over items i ≥ 1, for μ [rows × dim]. */
export function nearestItems(mu: Float32Array, itemEmb: Float32Array, dim: number): Int32Array {
  const rows = mu.length / dim;
  const n = itemEmb.length / dim;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = -Infinity;
    let arg = 1;
    for (let i = 1; i < n; i++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += itemEmb[i * dim + k]! * mu[r * dim + k]!;
      if (s > best) {
        best = s;
        arg = i;
      }
    }
    out[r] = arg;
  }
  return out;
}

export class GaussianPolicy implements RankingScorer, SamplingPolicy {
  readonly numItems: number;
  private readonly items: tf.Tensor2D;
  private readonly itemSq: tf.Tensor1D;

  constructor(
    readonly params: ParamStore,
    readonly config: GaussianConfig,
    readonly itemEmbeddings: Float32Array,
  ) {
    this.numItems = config.numItems;
    if (itemEmbeddings.length !== config.numItems * config.dim)
      throw new Error(`GaussianPolicy: ${itemEmbeddings.length} embedding values for ${config.numItems} items × ${config.dim}`);
    this.items = tf.keep(tf.tensor2d(itemEmbeddings, [config.numItems, config.dim]));
    this.itemSq = tf.keep(tf.tidy(() => tf.sum(tf.square(this.items), 1) as tf.Tensor1D));
  }

  get itemTensor(): tf.Tensor2D {
    return this.items;
  }

  get itemSqNorm(): tf.Tensor1D {
    return this.itemSq;
  }

  states(contexts: ListColumn<Int32Array>): Float32Array {
    return meanEmbeddings(contexts.offsets, contexts.values, this.itemEmbeddings, this.config.dim);
  }

  /** μ(s) for each context, [rows × dim]. */
  meansSync(contexts: ListColumn<Int32Array>): Float32Array {
    const rows = contexts.offsets.length - 1;
    const t = tf.tidy(() => gaussianMean(this.params, this.config, tf.tensor2d(this.states(contexts), [rows, this.config.dim])));
    const out = t.dataSync() as Float32Array;
    t.dispose();
    return out;
  }

  /** Greedy actions (highest ⟨e_i, μ(s)⟩). */
  decode(contexts: ListColumn<Int32Array>): Int32Array {
    return nearestItems(this.meansSync(contexts), this.itemEmbeddings, this.config.dim);
  }

  sigma(): number {
    const t = logSigma(this.params, this.config);
    const v = Math.exp(t.dataSync()[0]!);
    t.dispose();
    return v;
  }

  /** Ranking scores ⟨e_i, μ(s)⟩ [rows × numItems]; padding −∞. */
  async scoreContexts(contexts: ListColumn<Int32Array>): Promise<Float32Array> {
    const rows = contexts.offsets.length - 1;
    const t = tf.tidy(() =>
      tf.matMul(gaussianMean(this.params, this.config, tf.tensor2d(this.states(contexts), [rows, this.config.dim])), tf.transpose(this.items)),
    );
    const out = t.dataSync() as Float32Array;
    t.dispose();
    for (let r = 0; r < rows; r++) out[r * this.numItems] = -Infinity;
    return out;
  }

  /** Catalog log-probabilities of the restricted Gaussian [rows × numItems]; padding −∞. */
  logProbsSync(contexts: ListColumn<Int32Array>): Float32Array {
    const rows = contexts.offsets.length - 1;
    const t = tf.tidy(() => {
      const mu = gaussianMean(this.params, this.config, tf.tensor2d(this.states(contexts), [rows, this.config.dim]));
      return tf.logSoftmax(catalogGaussianLogits(mu, this.items, this.itemSq, logSigma(this.params, this.config)));
    });
    const out = t.dataSync() as Float32Array;
    t.dispose();
    for (let r = 0; r < rows; r++) out[r * this.numItems] = -Infinity;
    return out;
  }

  async logProbs(contexts: ListColumn<Int32Array>): Promise<Float32Array> {
    return this.logProbsSync(contexts);
  }

  async sample(contexts: ListColumn<Int32Array>, k: number, seed: number): Promise<Int32Array> {
    const lp = this.logProbsSync(contexts);
    const rows = lp.length / this.numItems;
    const out = new Int32Array(rows * k);
    const rng = new Rng(seed, RNG_PURPOSE.sample);
    for (let r = 0; r < rows; r++) sampleCategorical(lp, r * this.numItems, this.numItems, k, rng, out, r * k, 0);
    return out;
  }

  dispose(): void {
    this.params.dispose();
    this.items.dispose();
    this.itemSq.dispose();
  }
}
