/**
 * The evaluation-time target filter of paper 000's protocol (r ≥ 4.5): with the
 * split's threshold off (apply_threshold: false) every validation/test target
 * stays in the examples, so the reward-model error (Table 2) can be measured on
 * all test ratings, while the ranking (Tables 3–6) keeps only the targets with
 * reward ≥ min_reward.
 */
import type { Batch } from '../core/batch.js';
import { numericColumn, takeRows } from '../core/batch.js';

/** The rows whose `reward` is ≥ min, and how many were left out. */
export function rowsWithRewardAtLeast(rows: Batch, min: number): { rows: Batch; dropped: number } {
  const r = numericColumn(rows, 'reward');
  const keep: number[] = [];
  for (let i = 0; i < rows.numRows; i++) if (Number(r[i]) >= min) keep.push(i);
  if (keep.length === rows.numRows) return { rows, dropped: 0 };
  return { rows: takeRows(rows, Int32Array.from(keep)), dropped: rows.numRows - keep.length };
}
