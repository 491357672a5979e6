/**
 * InfoRM (Miao et al. 2024; paper 004 App. G; SPEC S10): a reward head with a
 * variational information bottleneck. For a context s and item a,
 *
 *   x = [h(s); e(a)]                       h: the frozen policy's state features, e: the head's own item embedding
 *   q(z | s, a) = N(μ(x), diag σ²(x))      μ, log σ² from one ReLU hidden layer
 *   r(s, a) = wᵀz + b,  z = μ + σ ⊙ ε,  ε ~ N(0, I)   (z = μ when scoring)
 *
 * trained on logged rewards with
 *
 *   L = (1/N) Σ (r − y)² + β · (1/N) Σ KL(q(z | s, a) ‖ N(0, I)),
 *   KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ_d (μ_d² + σ_d² − 1 − log σ_d²)      (closed form, klToStandardNormal)
 *
 * β trades reward fit against how much of x the latent keeps (the paper's
 * β = 0.01). In online training (train_online `inform`), the proxy stays the
 * main signal and the bottleneck's KL of each candidate is a penalty, as the
 * paper runs it: r̃ = r̂ − c·KL(q(z | s, a) ‖ N(0, I)), c = 0.01: a candidate
 * far from what the head saw in training needs a latent far from the prior.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ParamStore } from './params.js';

export interface InformDims {
  /** Width of the frozen state features h(s). */
  featureDim: number;
  numItems: number;
  itemDim: number;
  hidden: number;
  latent: number;
}

/** KL(N(μ, diag e^{logVar}) ‖ N(0, I)) of each row of [rows × latent] values (float64 reference of the tensor version). */
export function klToStandardNormal(mu: ArrayLike<number>, logVar: ArrayLike<number>, latent: number): Float64Array {
  if (mu.length !== logVar.length || mu.length % latent !== 0)
    throw new RangeError(`InfoRM KL: ${mu.length} means and ${logVar.length} log-variances for latent ${latent}`);
  const rows = mu.length / latent;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = r * latent; d < (r + 1) * latent; d++) s += mu[d]! * mu[d]! + Math.exp(logVar[d]!) - 1 - logVar[d]!;
    out[r] = 0.5 * s;
  }
  return out;
}

/** The head's parameters (names under inform/). */
export function createInformParams(dims: InformDims, seed: number): ParamStore {
  const p = new ParamStore(true);
  const inWidth = dims.featureDim + dims.itemDim;
  p.init('inform/item_emb', [dims.numItems, dims.itemDim], { kind: 'normal', std: 0.1 }, seed);
  p.init('inform/w1', [inWidth, dims.hidden], { kind: 'glorot' }, seed);
  p.init('inform/b1', [dims.hidden], { kind: 'zeros' }, seed);
  p.init('inform/w_mu', [dims.hidden, dims.latent], { kind: 'glorot' }, seed);
  p.init('inform/b_mu', [dims.latent], { kind: 'zeros' }, seed);
  p.init('inform/w_logvar', [dims.hidden, dims.latent], { kind: 'normal', std: 0.01 }, seed);
  p.init('inform/b_logvar', [dims.latent], { kind: 'constant', value: -2 }, seed);
  p.init('inform/w_out', [dims.latent, 1], { kind: 'glorot' }, seed);
  p.init('inform/b_out', [1], { kind: 'zeros' }, seed);
  return p;
}

/** log σ² is kept in [−10, 10] so exp never overflows and the KL stays finite. */
const LOGVAR_BOUND = 10;

export interface InformOutputs {
  mu: tf.Tensor2D;
  logVar: tf.Tensor2D;
}

/** μ and log σ² of q(z | s, a) for features [n × featureDim] and items [n]. */
export function informEncode(p: ParamStore, features: tf.Tensor2D, items: Int32Array): InformOutputs {
  return tf.tidy(() => {
    const e = tf.gather(p.get('inform/item_emb'), tf.tensor1d(items, 'int32')) as tf.Tensor2D;
    const x = tf.concat([features, e], 1);
    const h = tf.relu(tf.add(tf.matMul(x, p.get('inform/w1') as tf.Tensor2D), p.get('inform/b1')));
    const mu = tf.add(tf.matMul(h, p.get('inform/w_mu') as tf.Tensor2D), p.get('inform/b_mu')) as tf.Tensor2D;
    const logVar = tf.clipByValue(
      tf.add(tf.matMul(h, p.get('inform/w_logvar') as tf.Tensor2D), p.get('inform/b_logvar')),
      -LOGVAR_BOUND,
      LOGVAR_BOUND,
    ) as tf.Tensor2D;
    return { mu, logVar };
  });
}

/** Row-wise KL(q ‖ N(0, I)) as a tensor [n]. */
export function informKl(out: InformOutputs): tf.Tensor1D {
  return tf.tidy(() => tf.mul(0.5, tf.sum(tf.sub(tf.sub(tf.add(tf.square(out.mu), tf.exp(out.logVar)), 1), out.logVar), 1)) as tf.Tensor1D);
}

/** The reward of latent z [n × latent]: wᵀz + b, [n]. */
export function informReward(p: ParamStore, z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.reshape(tf.add(tf.matMul(z, p.get('inform/w_out') as tf.Tensor2D), p.get('inform/b_out')), [-1]) as tf.Tensor1D);
}

/** The training loss of a minibatch: MSE of r(z), z = μ + σ ⊙ ε, plus β·mean KL; ε is drawn with `noiseSeed`. */
export function informLoss(
  p: ParamStore,
  features: tf.Tensor2D,
  items: Int32Array,
  targets: Float32Array,
  beta: number,
  noiseSeed: number,
): { loss: tf.Scalar; mse: tf.Scalar; kl: tf.Scalar } {
  const out = informEncode(p, features, items);
  const eps = tf.randomNormal(out.mu.shape, 0, 1, 'float32', noiseSeed);
  const z = tf.add(out.mu, tf.mul(tf.exp(tf.mul(0.5, out.logVar)), eps)) as tf.Tensor2D;
  const r = informReward(p, z);
  const mse = tf.mean(tf.square(tf.sub(r, tf.tensor1d(targets)))) as tf.Scalar;
  const kl = tf.mean(informKl(out)) as tf.Scalar;
  return { loss: tf.add(mse, tf.mul(beta, kl)) as tf.Scalar, mse, kl };
}

/** Per-candidate KL(q(z | s, a) ‖ N(0, I)) for scoring (no sampling). */
export function informPenalty(p: ParamStore, features: tf.Tensor2D, items: Int32Array): Float32Array {
  const out = informEncode(p, features, items);
  const kl = informKl(out);
  const v = kl.dataSync() as Float32Array;
  tf.dispose([out.mu, out.logVar, kl]);
  return v;
}
