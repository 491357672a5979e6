/**
 * Proxy quality as paper 004 measures it (App. G, "proxy–gold agreement"):
 * the fraction of response pairs that the proxy and the gold reward order the
 * same way,
 *
 *   (1/N) Σ_pairs 1{ sign(r̂(y_a) − r̂(y_b)) = sign(r*(y_a) − r*(y_b)) },
 *
 * so a tie counts as agreement only when both rewards tie. Here the pairs are
 * the pairs of distinct sampled items of one context (two samples of the same
 * item are no comparison); each context with at least one pair gives one
 * observation, its fraction (contexts weigh equally, as the paper's one pair
 * per prompt does). The paper's regimes are 73.6%, 85.7% and 95.2%.
 */

/** Agreement of each context of k consecutive candidates; NaN for a context with fewer than two distinct items. */
export function pairwiseAgreement(items: Int32Array, proxy: ArrayLike<number>, gold: ArrayLike<number>, k: number): Float64Array {
  if (proxy.length !== items.length || gold.length !== items.length) {
    throw new RangeError(`pairwise agreement: ${items.length} items, ${proxy.length} proxy and ${gold.length} gold rewards`);
  }
  const contexts = Math.floor(items.length / k);
  const out = new Float64Array(contexts);
  for (let c = 0; c < contexts; c++) {
    let pairs = 0;
    let agree = 0;
    for (let a = c * k; a < (c + 1) * k; a++) {
      for (let b = a + 1; b < (c + 1) * k; b++) {
        if (items[a] === items[b]) continue;
        pairs++;
        if (Math.sign(proxy[a]! - proxy[b]!) === Math.sign(gold[a]! - gold[b]!)) agree++;
      }
    }
    out[c] = pairs > 0 ? agree / pairs : NaN;
  }
  return out;
}
