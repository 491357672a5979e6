/**
 * "Dist." of paper 002 (§5, Table 1 discussion: APG's "massive semantic
 * deviation (Dist. > 3.8)"): how far the Gaussian embedding policy's action
 * vector μ(s) has drifted from the item manifold. The paper gives no formula;
 * we take the Euclidean distance between μ(s) and the item it decodes to
 * (nearest-neighbour retrieval by inner product, App. H.1), averaged over
 * contexts:
 *
 *   dist(s) = ‖μ(s) − e_â‖₂,  â = argmax_{i ≥ 1} ⟨e_i, μ(s)⟩.
 *
 * A policy that stays on the data keeps μ(s) near real items; repulsive
 * updates push ‖μ‖ up and the distance with it.
 */
import { nearestItems } from '../train/gaussian-policy.js';

/** A policy that exposes its action vectors (the Gaussian embedding policy). */
export interface ActionVectorPolicy {
  itemEmbeddings: Float32Array;
  meansSync(contexts: { offsets: Int32Array; values: Int32Array }): Float32Array;
}

export function hasActionVectors(p: object): p is ActionVectorPolicy {
  return 'itemEmbeddings' in p && (p as ActionVectorPolicy).itemEmbeddings instanceof Float32Array && typeof (p as ActionVectorPolicy).meansSync === 'function';
}

/** dist(s) for each row of μ [rows × dim] against the catalog embeddings [items × dim] (row 0 = padding, never decoded). */
export function decodedDistances(mu: Float32Array, itemEmb: Float32Array, dim: number): Float64Array {
  const top = nearestItems(mu, itemEmb, dim);
  const rows = top.length;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const d = mu[r * dim + k]! - itemEmb[top[r]! * dim + k]!;
      s += d * d;
    }
    out[r] = Math.sqrt(s);
  }
  return out;
}
