/**
 * The output layer of the generative recommender: log π(target | state) over
 * the item catalog with tied item embeddings, logits = h·Eᵀ (SPEC S6).
 *
 * Full softmax: log π(i|h) = h·e_i − log Σ_{j≥1} exp(h·e_j) (index 0 is
 * padding and never has probability). Written as a custom-gradient op so that
 * memory stays bounded: the [M × V] logits are processed in row chunks; the
 * backward pass reuses the forward's softmax when the whole [M × V] fits the
 * `keepElements` budget and recomputes it chunk by chunk otherwise.
 *   ∂/∂h_m = dy_m (e_{t_m} − Σ_j p_mj e_j),  ∂/∂E = Σ_m dy_m (1[t_m] − p_m)ᵀ h_m
 *
 * Sampled softmax with log-Q correction (Bengio & Senécal 2008; Jean et al.
 * 2015; Yi et al. 2019): K negatives shared by the minibatch are drawn from a
 * proposal Q; every logit is corrected by −log Q(i), accidental hits (a
 * negative equal to the row's target) are masked, and
 *   log π̂(t|h) = (h·e_t − log Q_t) − log( exp(h·e_t − log Q_t) + Σ_k exp(h·e_k − log Q_k) ).
 * Its gradient is a biased but consistent estimate of the full softmax's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from './rng.js';
import { softmaxTargetLogProb } from './wasm-kernels.js';

export interface FullSoftmaxOptions {
  /** Logit elements computed at once (rows per chunk = max(1, chunkElements / V)). */
  chunkElements?: number;
  /** Keep the softmax for the backward pass when M·V is at most this (else recompute). */
  keepElements?: number;
}

const DEFAULT_CHUNK = 1 << 24;
const DEFAULT_KEEP = 1 << 26;

const paddingBiasCache = new Map<number, tf.Tensor1D>();

/** [V] constant: 0, except −1e9 at the padding index 0. */
export function paddingBias(numItems: number): tf.Tensor1D {
  let t = paddingBiasCache.get(numItems);
  if (!t || t.isDisposed) {
    const b = new Float32Array(numItems);
    b[0] = -1e9;
    t = tf.keep(tf.tensor1d(b, 'float32'));
    paddingBiasCache.set(numItems, t);
  }
  return t;
}

export function clearPaddingBiasCache(): void {
  for (const t of paddingBiasCache.values()) t.dispose();
  paddingBiasCache.clear();
}

function chunkRows(m: number, v: number, chunkElements: number): number[] {
  const rows = Math.max(1, Math.floor(chunkElements / v));
  const out: number[] = [];
  for (let s = 0; s < m; s += rows) out.push(Math.min(rows, m - s));
  return out;
}

/**
 * log π(targets | h) under the full softmax. h: [M, d], itemEmb: [V, d],
 * targets: int32 [M] (each ≥ 1). Returns [M].
 *
 * The logits are taken against the real items E[1:] only, so padding needs
 * no bias column (its probability is exactly 0, as with the −1e9 bias). The
 * softmax runs as one fused kernel and log π(t|h) is read off it as log p_t
 * (`softmaxTargetLogProb`: no extra pass over [M × V]). The backward
 * scales the small [M, d] operands by −dy instead of the [M × V] softmax:
 *   ∂h (softmax part) = −dy ⊙ (p·E),  ∂E (softmax part) = pᵀ·(−dy ⊙ h).
 */
export function fullSoftmaxLogProb(h: tf.Tensor2D, itemEmb: tf.Tensor2D, targets: tf.Tensor1D, opts: FullSoftmaxOptions = {}): tf.Tensor1D {
  const chunkElements = opts.chunkElements ?? DEFAULT_CHUNK;
  const keepElements = opts.keepElements ?? DEFAULT_KEEP;
  const m = h.shape[0];
  const [v, d] = itemEmb.shape;
  const sizes = chunkRows(m, v - 1, chunkElements);
  const keep = m * (v - 1) <= keepElements;
  // Row ranges as slices (contiguous copies; tf.split is several times slower on WASM).
  const split = <T extends tf.Tensor>(t: T): T[] => {
    if (sizes.length === 1) return [t];
    let start = 0;
    return sizes.map((n) => {
      const begin = [start, ...t.shape.slice(1).map(() => 0)];
      const size = [n, ...t.shape.slice(1)];
      start += n;
      return tf.slice(t, begin, size) as T;
    });
  };

  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [H, E, T, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const items = tf.slice(E, [1, 0], [v - 1, d]) as tf.Tensor2D; // E[1:], [V−1, d]
    const itemsT = tf.transpose(items) as tf.Tensor2D; // [d, V−1]: untransposed products are the fast path
    const hChunks = split(H);
    const tChunks = split(tf.sub(T, tf.scalar(1, 'int32')) as tf.Tensor1D); // column indices in E[1:]
    const values: tf.Tensor[] = [];
    const probs: tf.Tensor[] = [];
    for (let c = 0; c < sizes.length; c++) {
      // Tensors returned from tidy stay tracked by the enclosing (gradient) scope.
      const out = tf.tidy(() => {
        const logits = tf.matMul(hChunks[c]!, itemsT) as tf.Tensor2D;
        const p = tf.softmax(logits) as tf.Tensor2D;
        const logp = softmaxTargetLogProb(logits, p, tChunks[c]!);
        return keep ? [logp, p] : [logp];
      });
      values.push(out[0]!);
      if (keep) probs.push(out[1]!);
    }
    if (sizes.length > 1) tf.dispose([...hChunks, ...tChunks]);
    const value = values.length === 1 ? values[0]! : tf.concat(values, 0);
    if (values.length > 1) tf.dispose(values);
    save([H, E, T, items, itemsT, ...probs]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [Hs, Es, Ts, items1, items1T, ...kept] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D, ...tf.Tensor2D[]];
        const dy2 = tf.expandDims(dy, 1);
        // target term: ∂h += dy·e_t, ∂e_t += dy·h
        const dHtarget = tf.mul(dy2, tf.gather(Es, Ts));
        const dEtarget = tf.unsortedSegmentSum(tf.mul(dy2, Hs), Ts, v);
        // softmax term, chunk by chunk: ∂h −= dy ⊙ (p·E[1:]); ∂E[1:] −= pᵀ·(dy ⊙ h)
        // (pᵀ is materialised: a product whose right operand is the big p packs it on every call).
        const negDy = tf.neg(dy2);
        const hc = keep ? [] : split(Hs);
        const hScaled = split(tf.mul(negDy, Hs) as tf.Tensor2D);
        const dyc = split(negDy);
        const dHparts: tf.Tensor[] = [];
        let dItems: tf.Tensor | undefined;
        for (let c = 0; c < sizes.length; c++) {
          const [part, eGrad] = tf.tidy(() => {
            const p = keep ? kept[c]! : tf.softmax(tf.matMul(hc[c]!, items1T));
            return [tf.mul(tf.matMul(p, items1), dyc[c]!), tf.matMul(tf.transpose(p), hScaled[c]!)];
          });
          dHparts.push(part);
          if (dItems) {
            const next = tf.add(dItems, eGrad);
            tf.dispose([dItems, eGrad]);
            dItems = next;
          } else dItems = eGrad;
        }
        const dHsoft = dHparts.length === 1 ? dHparts[0]! : tf.concat(dHparts, 0);
        const dE = tf.tidy(() => tf.add(dEtarget, tf.concat([tf.zeros([1, d]), dItems!], 0)));
        return [tf.add(dHtarget, dHsoft), dE, tf.zerosLike(Ts)];
      },
    };
  });
  return op(h, itemEmb, targets) as tf.Tensor1D;
}

/** A proposal distribution over items 1..V-1 for sampled softmax. */
export class NegativeSampler {
  /** log Q(i) for every item (−Infinity for padding). */
  readonly logQ: Float32Array;
  private readonly cdf: Float64Array;

  /**
   * Q ∝ (count_i + 1)^alpha over items 1..V-1: alpha = 0 is uniform, 1 the
   * unigram distribution of the training targets, 0.75 the usual compromise.
   */
  constructor(numItems: number, counts: ArrayLike<number> | undefined, alpha: number) {
    const w = new Float64Array(numItems);
    let total = 0;
    for (let i = 1; i < numItems; i++) {
      w[i] = Math.pow((counts?.[i] ?? 0) + 1, alpha);
      total += w[i]!;
    }
    this.logQ = new Float32Array(numItems);
    this.cdf = new Float64Array(numItems);
    let acc = 0;
    this.logQ[0] = -Infinity;
    for (let i = 1; i < numItems; i++) {
      this.logQ[i] = Math.log(w[i]! / total);
      acc += w[i]! / total;
      this.cdf[i] = acc;
    }
    this.cdf[numItems - 1] = 1;
  }

  /** k draws with replacement. */
  sample(k: number, rng: Rng): Int32Array {
    const out = new Int32Array(k);
    const n = this.cdf.length;
    for (let s = 0; s < k; s++) {
      const u = rng.uniform();
      let lo = 1;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      out[s] = lo;
    }
    return out;
  }
}

/**
 * Sampled-softmax estimate of log π(targets | h) with log-Q correction.
 * h: [M, d]; targets int32 [M] (values also given as `targetIds` on the host
 * to build the accidental-hit mask); negatives: [K] item ids.
 */
export function sampledSoftmaxLogProb(
  h: tf.Tensor2D,
  itemEmb: tf.Tensor2D,
  targets: tf.Tensor1D,
  targetIds: Int32Array,
  negatives: Int32Array,
  logQ: Float32Array,
): tf.Tensor1D {
  return tf.tidy(() => {
    const m = targetIds.length;
    const k = negatives.length;
    const lqT = new Float32Array(m);
    for (let i = 0; i < m; i++) lqT[i] = logQ[targetIds[i]!]!;
    const bias = new Float32Array(m * k);
    for (let i = 0; i < m; i++) {
      const t = targetIds[i]!;
      for (let j = 0; j < k; j++) bias[i * k + j] = negatives[j] === t ? -1e9 : -logQ[negatives[j]!]!;
    }
    const pos = tf.sub(tf.sum(tf.mul(h, tf.gather(itemEmb, targets)), 1), tf.tensor1d(lqT)); // [M]
    const neg = tf.add(tf.matMul(h, tf.gather(itemEmb, tf.tensor1d(negatives, 'int32')), false, true), tf.tensor2d(bias, [m, k]));
    const logits = tf.concat([tf.expandDims(pos, 1), neg], 1);
    return tf.sub(pos, tf.logSumExp(logits, 1)) as tf.Tensor1D;
  });
}
