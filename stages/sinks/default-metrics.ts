/**
 * Which metrics the tables show when none are chosen. A full run also emits
 * data statistics (rows ingested, examples per split, rating shares…) as
 * metric records, with the stage's name as the method; a methods × metrics
 * table of all of them is unreadable. So the default columns are the
 * evaluation and training metrics of SPEC S7 when any are present:
 * ranking (ndcg@K, hr@K, recall@K, precision@K, mrr), reward-model error
 * (reward_mse, reward_mae, mse, mae), judge and simulator rewards
 * (avg_reward, true_reward_*, ecpm_*, reward), proxy vs gold (gold_*, proxy_*,
 * kl_to_init, peak_gold, gold_proxy_gap, kl_at_peak…) and the training loss.
 * Otherwise every metric seen, except the `<metric>_std` companions.
 */
const REPORT_METRIC =
  /^((ndcg|hr|recall|precision)@\d+|mrr|(reward_)?(mse|mae)|avg_reward|reward|true_reward(_\w+)?|ecpm(_\w+)?|(gold|proxy)_(reward|gain)|kl_to_init|peak_gold|proxy_at_peak|gold_proxy_gap|kl_at_peak|loss)$/;

export function isReportMetric(metric: string): boolean {
  return REPORT_METRIC.test(metric);
}

/** The default columns among `seen` (in their order). */
export function defaultMetrics(seen: readonly string[]): string[] {
  const known = seen.filter(isReportMetric);
  return known.length > 0 ? known : seen.filter((m) => !m.endsWith('_std'));
}
