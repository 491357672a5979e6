/**
 * Readable names of metric ids for titles, axis labels and captions: the one
 * table of display names. Ranking metrics keep their cut-off (ndcg@10 →
 * "NDCG@10"); unknown ids are shown as written.
 */
const NAMES: Record<string, string> = {
  mrr: 'MRR',
  avg_reward: 'Avg reward',
  reward: 'Reward',
  reward_mse: 'Reward MSE',
  reward_mae: 'Reward MAE',
  mse: 'MSE',
  mae: 'MAE',
  loss: 'Loss',
  nll: 'NLL',
  epoch_loss: 'Epoch loss',
  epoch_nll: 'Epoch NLL',
  valid_nll: 'Validation NLL',
  entropy: 'Entropy',
  kl: 'KL',
  kl_ref: 'KL to reference',
  kl_smoothed: 'KL (smoothed)',
  kl_to_init: 'KL to initial policy',
  kl_at_peak: 'KL at peak gold',
  gold_reward: 'Gold reward',
  proxy_reward: 'Proxy reward',
  gold_gain: 'Gold gain',
  proxy_gain: 'Proxy gain',
  peak_gold: 'Peak gold gain',
  proxy_at_peak: 'Proxy gain at peak gold',
  gold_proxy_gap: 'Gold − proxy gap',
  proxy_gold_agreement: 'Proxy–gold agreement',
  true_reward_top1: 'True reward (top-1)',
  true_reward_sampled: 'True reward (sampled)',
  ecpm_top1: 'eCPM (top-1)',
  ecpm_sampled: 'eCPM (sampled)',
  step: 'Step',
  epoch: 'Epoch',
  lambda: 'λ',
  noise: 'Injected noise ratio',
};

const CUTOFF = /^(ndcg|hr|recall|precision)@(\d+)$/;
const CUTOFF_NAMES: Record<string, string> = { ndcg: 'NDCG', hr: 'HR', recall: 'Recall', precision: 'Precision' };

/** The readable name of a metric (or parameter) id. */
export function displayName(id: string): string {
  const named = NAMES[id];
  if (named !== undefined) return named;
  const m = CUTOFF.exec(id);
  if (m) return `${CUTOFF_NAMES[m[1]!]}@${m[2]}`;
  return id;
}
