/**
 * Exact KL divergence of a policy from the initial policy over a finite
 * catalog (paper 004 §5 and App. G report KL(π‖π₀) as the drift axis; with a
 * finite catalog the sum over all items replaces their sampled estimate):
 *
 *   KL(π(·|s) ‖ π₀(·|s)) = Σ_j π_j (log π_j − log π₀_j)
 *
 * Inputs are row-major log-probabilities [rows × numItems] as returned by
 * SamplingPolicy.logProbs. Terms with π_j = 0 contribute 0; a π_j > 0 where
 * π₀_j = 0 makes the divergence +∞. Computed in double precision.
 */
export function exactKl(logP: Float32Array | Float64Array, logQ: Float32Array | Float64Array, numItems: number): Float64Array {
  if (logP.length !== logQ.length) throw new Error(`exactKl: ${logP.length} log-probabilities for π, ${logQ.length} for π₀`);
  if (numItems <= 0 || logP.length % numItems !== 0) throw new Error(`exactKl: ${logP.length} values are not rows × ${numItems} items`);
  const rows = logP.length / numItems;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let kl = 0;
    for (let j = r * numItems, e = j + numItems; j < e; j++) {
      const lp = logP[j]!;
      if (lp === -Infinity) continue;
      const lq = logQ[j]!;
      kl += Math.exp(lp) * (lp - lq);
    }
    // Rounding can leave a tiny negative value for identical policies; KL ≥ 0.
    out[r] = kl < 0 && kl > -1e-6 ? 0 : kl;
  }
  return out;
}
