/**
 * The persisted summary of reward statistics (SPEC S2), as written to
 * `reward_stats.json` beside a dataset and published to later stages under
 * the artifact key `reward_stats`. Weighting stages read `max` (the global
 * shift of Exp-RSFT), `mean`/`std` (standardisation) and `quantiles`.
 */
export interface RewardStatsSummary {
  count: number;
  mean: number;
  /** Population variance (divide by count). */
  variance: number;
  std: number;
  min: number;
  max: number;
  /** Quantiles from the mergeable sketch, with its stated rank error. */
  quantiles: { q: number; value: number }[];
  /** Normalised rank error bound of the sketch (e.g. 0.01 = ±1% of count). */
  quantileRankError: number;
  histogram: { edges: number[]; counts: number[] };
}
