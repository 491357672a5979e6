/** Adding per-row values to an accumulator, one key per split of the rows. */
import { SPLIT_NAMES } from '../../schemas/tables.js';
import type { MetricAccumulator, MetricKey } from './accumulator.js';

export const splitName = (code: number): string => SPLIT_NAMES[code] ?? `split_${code}`;

/** values[i] is an observation of `metric` on the split of row i. */
export function addValuesBySplit(
  acc: MetricAccumulator,
  key: Omit<MetricKey, 'split' | 'metric'>,
  metric: string,
  values: ArrayLike<number>,
  split: ArrayLike<number>,
): void {
  if (values.length !== split.length) throw new Error(`addValuesBySplit: ${values.length} values for ${split.length} rows`);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < values.length; i++) {
    const g = groups.get(split[i]!);
    if (g) g.push(values[i]!);
    else groups.set(split[i]!, [values[i]!]);
  }
  for (const [code, vals] of groups) acc.addValues({ ...key, split: splitName(code), metric }, vals);
}
