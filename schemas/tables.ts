/**
 * Arrow schemas of the tables that flow through pipelines (SPEC S1).
 *
 * - interactions: one row per logged interaction, ids already dense (0 = padding).
 * - examples: one row per prediction target: the user's previous ≤ L items
 *   (oldest first) and their rewards, the target action and its reward.
 * - weighted_examples: examples plus the objective's weight and diagnostics.
 * - metrics: metric records (schemas/metric-record.ts).
 *
 * `split` is stored as int8: 0 = train, 1 = valid, 2 = test (SPLIT_CODES);
 * example datasets are also written Hive-partitioned by split name.
 */
import * as arrow from 'apache-arrow';

const listOf = (t: arrow.DataType) => new arrow.List(new arrow.Field('item', t, false));

export const SPLIT_CODES = { train: 0, valid: 1, test: 2 } as const;
export const SPLIT_NAMES = ['train', 'valid', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export const interactionsSchema = new arrow.Schema([
  new arrow.Field('user_id', new arrow.Int32(), false),
  new arrow.Field('item_id', new arrow.Int32(), false),
  new arrow.Field('timestamp', new arrow.Int64(), false),
  new arrow.Field('reward', new arrow.Float32(), false),
  new arrow.Field('session_id', new arrow.Int32(), true),
]);

export const examplesSchema = new arrow.Schema([
  new arrow.Field('user_id', new arrow.Int32(), false),
  new arrow.Field('context', listOf(new arrow.Int32()), false),
  new arrow.Field('context_rewards', listOf(new arrow.Float32()), false),
  new arrow.Field('action', new arrow.Int32(), false),
  new arrow.Field('reward', new arrow.Float32(), false),
  new arrow.Field('timestamp', new arrow.Int64(), false),
  new arrow.Field('return', new arrow.Float32(), true),
  new arrow.Field('split', new arrow.Int8(), false),
]);

export const weightedExamplesSchema = new arrow.Schema([
  ...examplesSchema.fields,
  new arrow.Field('weight', new arrow.Float32(), false),
  new arrow.Field('advantage', new arrow.Float32(), true),
  new arrow.Field('kept', new arrow.Bool(), true),
]);

export const metricsSchema = new arrow.Schema([
  new arrow.Field('run', new arrow.Utf8(), false),
  new arrow.Field('method', new arrow.Utf8(), false),
  new arrow.Field('seed', new arrow.Int32(), false),
  new arrow.Field('step', new arrow.Int32(), false),
  new arrow.Field('epoch', new arrow.Int32(), false),
  new arrow.Field('split', new arrow.Utf8(), false),
  new arrow.Field('metric', new arrow.Utf8(), false),
  new arrow.Field('value', new arrow.Float64(), false),
  new arrow.Field('count', new arrow.Float64(), false),
]);

export const TABLE_SCHEMAS: Record<string, arrow.Schema> = {
  interactions: interactionsSchema,
  examples: examplesSchema,
  weighted_examples: weightedExamplesSchema,
  metrics: metricsSchema,
};
