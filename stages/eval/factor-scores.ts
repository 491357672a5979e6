/**
 * The score kernel of blocked evaluation for factored scorers (ScoreFactors,
 * stages/core/policy.ts): a block of scores h·E[start:end]ᵀ equal, bit for
 * bit, to what tf.matMul(h, E, false, true) gives for those columns (the
 * product sasrec.ts catalogLogits scores the whole catalog with).
 *
 * On WASM (tfjs 4.22) a product with a transpose flag runs a generic blocked
 * loop (≈ 2 GFLOP/s measured): for each 48-wide block of the shared
 * dimension it sums the products in float32 and adds the block's sum to the
 * output. The same numbers come out of XNNPACK's untransposed product (≈ 35
 * GFLOP/s, one float32 accumulator per output, in order) run once per
 * 48-wide block on the pre-transposed items, the block results added in
 * order: that is what this kernel does (tested bit-equal to the stock product
 * in test/eval/blocked-topk.test.ts). Other backends use the stock product.
 * Each score depends only on its row of h and its item vector, never on the
 * block's position or size.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The shared-dimension block of tfjs-wasm's generic (transposed) batch matmul loop. */
const WASM_K_BLOCK = 48;

/** Scores [rows × width] of context vectors h [rows × dim] against item vectors [width × dim]. */
export function blockScores(h: Float32Array, rows: number, dim: number, items: Float32Array, width: number): Float32Array {
  if (h.length !== rows * dim || items.length !== width * dim)
    throw new Error(`blockScores: ${h.length} / ${items.length} values for ${rows} / ${width} rows of ${dim}`);
  if (rows === 0 || width === 0) return new Float32Array(rows * width);
  const t = tf.tidy(() => {
    const H = tf.tensor2d(h, [rows, dim]);
    const E = tf.tensor2d(items, [width, dim]);
    if (tf.getBackend() !== 'wasm') return tf.matMul(H, E, false, true);
    const ET = tf.transpose(E) as tf.Tensor2D;
    let acc: tf.Tensor2D | undefined;
    for (let k0 = 0; k0 < dim; k0 += WASM_K_BLOCK) {
      const kw = Math.min(WASM_K_BLOCK, dim - k0);
      const part = tf.matMul(kw === dim ? H : tf.slice(H, [0, k0], [rows, kw]), kw === dim ? ET : tf.slice(ET, [k0, 0], [kw, width])) as tf.Tensor2D;
      acc = acc ? (tf.add(acc, part) as tf.Tensor2D) : part;
    }
    return acc!;
  });
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return out;
}

/** Rows of a row-major matrix gathered into a new one: out[i] = m[index[i]]. */
function gatherRows(m: Float32Array, dim: number, index: ArrayLike<number>, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * dim);
  for (let i = from; i < to; i++) out.set(m.subarray(index[i]! * dim, index[i]! * dim + dim), (i - from) * dim);
  return out;
}

/** Rows per group when scoring targets: a group costs group² scores. */
const TARGET_GROUP = 256;

/**
 * Each row's score of its own target, ⟨h_r, e_{t_r}⟩, by the same kernel:
 * groups of rows × their targets' vectors, of which the diagonal is kept.
 */
export function targetScores(h: Float32Array, dim: number, itemVectors: Float32Array, targets: Int32Array): Float32Array {
  const rows = targets.length;
  const out = new Float32Array(rows);
  for (let g = 0; g < rows; g += TARGET_GROUP) {
    const e = Math.min(rows, g + TARGET_GROUP);
    const n = e - g;
    const s = blockScores(h.subarray(g * dim, e * dim), n, dim, gatherRows(itemVectors, dim, targets, g, e), n);
    for (let i = 0; i < n; i++) out[g + i] = s[i * n + i]!;
  }
  return out;
}
