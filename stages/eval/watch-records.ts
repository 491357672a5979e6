/**
 * The metric records `evaluate --watch` appends for one (checkpoint, dataset)
 * unit: the checkpoint's pairs on the dataset's part files, taken from the
 * evaluation state and merged in part order — the order in which a one-shot
 * `evaluate` of that checkpoint on that dataset commits them, so the sums,
 * and so the records, are the same.
 */
import type { MetricRecord } from '../../schemas/metric-record.js';
import { MetricAccumulator } from './accumulator.js';
import type { DonePair } from './eval-state.js';

export type StoredPair = DonePair & { metrics: MetricAccumulator };

/** `${target}\0${partition}`: one pair's key. */
export const pairKey = (target: string, partition: string): string => `${target}\u0000${partition}`;

/**
 * Records of `target` on the partitions `partitionIds` (in that order), with
 * `run` as their run label; empty when none of those pairs is done.
 */
export function unitRecords(pairs: readonly StoredPair[], target: string, partitionIds: readonly string[], run: string, std = false): MetricRecord[] {
  const byKey = new Map(pairs.map((p) => [pairKey(p.target, p.partition), p]));
  const acc = new MetricAccumulator();
  for (const id of partitionIds) {
    const pair = byKey.get(pairKey(target, id));
    if (!pair) continue;
    // Relabel before merging: pairs evaluated under another --run still merge into one record per key.
    for (const e of pair.metrics.list()) acc.addSums({ ...e.key, run }, e);
  }
  return acc.toRecords({ std });
}
