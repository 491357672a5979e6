/**
 * The score kernel of blocked evaluation for factored scorers (ScoreFactors,
 * stages/core/policy.ts): a block of scores h·E[start:end]ᵀ by the same
 * tf.matMul that scores the whole catalog (sasrec.ts catalogLogits), on the
 * active backend. Each score is one row of h times one item vector, summed in
 * the kernel's order over the dimension, so it does not depend on where the
 * block starts or how many rows it has (the blocked and threaded paths are
 * tested equal to whole-row scoring).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Scores [rows × width] of context vectors h [rows × dim] against item vectors [width × dim]. */
export function blockScores(h: Float32Array, rows: number, dim: number, items: Float32Array, width: number): Float32Array {
  if (h.length !== rows * dim || items.length !== width * dim)
    throw new Error(`blockScores: ${h.length} / ${items.length} values for ${rows} / ${width} rows of ${dim}`);
  if (rows === 0 || width === 0) return new Float32Array(rows * width);
  const t = tf.tidy(() => tf.matMul(tf.tensor2d(h, [rows, dim]), tf.tensor2d(items, [width, dim]), false, true));
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
