/**
 * Reward-model error on evaluation rows (paper 000 Table 2): the squared and
 * absolute errors of a predictor against each row's observed reward,
 * accumulated per split as `reward_mse` and `reward_mae` (means of the errors),
 * and `reward_rmse` = √MSE derived from each finished MSE record.
 */
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import type { Batch, ListColumn } from '../core/batch.js';
import { float64Column, sliceBatch } from '../core/batch.js';
import { MetricAccumulator, type MetricKey } from './accumulator.js';
import { contextsOf, int32Of } from './eval-rows.js';
import { addValuesBySplit } from './by-split.js';
import { predictionErrors } from './reward-baselines.js';

export const MSE_METRIC = 'reward_mse';
export const MAE_METRIC = 'reward_mae';
export const RMSE_METRIC = 'reward_rmse';

/** Predicted reward of each row from (context, item, user). */
export type RewardPredictFn = (contexts: ListColumn<Int32Array>, items: Int32Array, users: Int32Array) => Promise<ArrayLike<number>>;

/** Errors of `predict` on `rows` (columns context, action, user_id, reward, split). */
export async function evaluateRewardErrors(
  predict: RewardPredictFn,
  rows: Batch,
  key: Omit<MetricKey, 'split' | 'metric'>,
  batchRows: number,
): Promise<MetricAccumulator> {
  const acc = new MetricAccumulator();
  for (let start = 0; start < rows.numRows; start += batchRows) {
    const chunk = sliceBatch(rows, start, Math.min(rows.numRows, start + batchRows));
    const target = float64Column(chunk, 'reward');
    const pred = await predict(contextsOf(chunk), int32Of(chunk, 'action'), int32Of(chunk, 'user_id'));
    const { squared, absolute } = predictionErrors(pred, target);
    const split = int32Of(chunk, 'split');
    addValuesBySplit(acc, key, MSE_METRIC, squared, split);
    addValuesBySplit(acc, key, MAE_METRIC, absolute, split);
  }
  return acc;
}

/** The records with a `reward_rmse` record (√MSE, same key and count) after each `reward_mse` one. */
export function withRootMeanSquare(records: readonly MetricRecord[]): MetricRecord[] {
  return records.flatMap((r) => (r.metric === MSE_METRIC ? [r, metricRecord({ ...r, metric: RMSE_METRIC, value: Math.sqrt(r.value) })] : [r]));
}
