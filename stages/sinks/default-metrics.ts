/**
 * Which metrics the tables show when none are chosen. A full run also emits
 * data statistics (rows ingested, examples per split, rating shares…) and
 * training bookkeeping (examples_per_s, lr, step and example counts, gradient
 * norms, weight statistics) as metric records; a methods × metrics table of
 * all of them is unreadable and mostly not about the methods. So the default
 * columns are, in this order:
 *
 * 1. evaluation metrics of SPEC S7, in the order seen: ranking (ndcg@K, hr@K,
 *    recall@K, precision@K, mrr), reward-model error (reward_mse, reward_mae,
 *    mse, mae), judge and simulator rewards (avg_reward, true_reward_*,
 *    ecpm_*, reward), proxy vs gold (gold_*, proxy_*, kl_to_init, peak_gold,
 *    gold_proxy_gap, kl_at_peak…);
 * 2. then the training objectives: loss, nll and their epoch/valid forms,
 *    KL to the reference, entropy.
 *
 * When there are neither, every other metric seen except bookkeeping (see
 * BOOKKEEPING) and the `<metric>_std` companions; a split with only
 * bookkeeping has no default columns (the caller says so).
 */
const EVALUATION_METRIC =
  /^((ndcg|hr|recall|precision)@\d+|mrr|(reward_)?(mse|mae)|avg_reward|reward|true_reward(_\w+)?|ecpm(_\w+)?|(gold|proxy)_(reward|gain)|kl_to_init|peak_gold|proxy_at_peak|gold_proxy_gap|kl_at_peak|proxy_gold_agreement)$/;

const TRAINING_METRIC = /^((epoch_|valid_)?(loss|nll)|kl|kl_ref|kl_smoothed|entropy)$/;

/** Counts, rates, schedules and weight/gradient diagnostics: about the run, not the methods' quality. */
const BOOKKEEPING =
  /^(.*_per_s|lr|learning_rate|steps?|epochs?|examples|rows|candidates|users|items|interactions|n|count|.*_count|kept|expanded|groups|batches|dropped_.*|excluded_.*|short_users|grad_norm|.*_grad_norm|w_(mean|max|min)|ess|seconds|elapsed(_\w+)?|.*_ms|.*_std)$/;

export function isBookkeepingMetric(metric: string): boolean {
  return BOOKKEEPING.test(metric);
}

export function isEvaluationMetric(metric: string): boolean {
  return EVALUATION_METRIC.test(metric);
}

export function isTrainingMetric(metric: string): boolean {
  return TRAINING_METRIC.test(metric);
}

/** Whether a metric is shown by default (evaluation or training objective). */
export function isReportMetric(metric: string): boolean {
  return isEvaluationMetric(metric) || isTrainingMetric(metric);
}

/** The default columns among `seen`: evaluation metrics first, then training objectives (each group in the order seen); else every non-bookkeeping metric. */
export function defaultMetrics(seen: readonly string[]): string[] {
  const known = [...seen.filter(isEvaluationMetric), ...seen.filter(isTrainingMetric)];
  return known.length > 0 ? known : seen.filter((m) => !isBookkeepingMetric(m));
}
