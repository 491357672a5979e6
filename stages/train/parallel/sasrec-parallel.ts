/**
 * The sequence model's data-parallel description: a worker rebuilds the task
 * from (config, options, target counts), and a minibatch splits into row
 * slices whose targets are a contiguous run of the minibatch's (targets are
 * ordered by row), each slice keeping the minibatch's padded length T and
 * its first row's position, so dropout draws the whole minibatch's masks.
 */
import type { SasrecConfig } from '../sasrec.js';
import type { SasrecPrepared, SasrecTaskOptions } from '../sasrec-task.js';
import type { Minibatch, SequenceSet } from '../sequence-data.js';
import type { BatchSlice, DataParallelSpec } from './task-spec.js';

/** The first target index m ≥ from whose flat position is at least `pos` (flat positions increase with m). */
function firstTargetAt(flatIndex: Int32Array, pos: number, from: number): number {
  let m = from;
  while (m < flatIndex.length && flatIndex[m]! < pos) m++;
  return m;
}

/** Rows [start, end) of a prepared minibatch, as copies. */
export function sliceSasrecBatch(b: SasrecPrepared, start: number, end: number): BatchSlice<SasrecPrepared> {
  const { mb } = b;
  const T = mb.T;
  if (!(0 <= start && start <= end && end <= mb.B)) throw new Error(`sliceSasrecBatch: rows [${start}, ${end}) outside a minibatch of ${mb.B}`);
  const targetStart = firstTargetAt(mb.flatIndex, start * T, 0);
  const targetEnd = firstTargetAt(mb.flatIndex, end * T, targetStart);
  const flatIndex = new Int32Array(targetEnd - targetStart);
  for (let i = 0; i < flatIndex.length; i++) flatIndex[i] = mb.flatIndex[targetStart + i]! - start * T;
  const part: Minibatch = {
    B: end - start,
    T,
    inputIds: mb.inputIds.slice(start * T, end * T),
    flatIndex,
    targets: mb.targets.slice(targetStart, targetEnd),
    rewards: mb.rewards.slice(targetStart, targetEnd),
    groups: mb.groups.slice(targetStart, targetEnd),
  };
  return { batch: { mb: part, rewards: part.rewards, groups: part.groups, rowOffset: (b.rowOffset ?? 0) + start }, targetStart, targetEnd };
}

export function sasrecDataParallel(
  config: SasrecConfig,
  options: SasrecTaskOptions,
  data: Pick<SequenceSet, 'targetCounts'>,
): DataParallelSpec<SasrecPrepared> {
  return {
    worker: { kind: 'sasrec', config, options, targetCounts: data.targetCounts },
    rows: (b) => b.mb.B,
    slice: sliceSasrecBatch,
    additiveExtras: ['reward_mse'],
  };
}
