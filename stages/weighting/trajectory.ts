/**
 * Trajectory returns R(τ) = Σ_t r_t (paper 000 §5, Eq. 20) from a per-row
 * reward and a per-row trajectory key (session or user id). Rows of one
 * trajectory need not be adjacent within the batch; the common case (rows
 * grouped by key, as split_sequences writes them) costs one pass, and only the
 * runs of equal keys — not rows — go through a hash map.
 */

export interface TrajectoryReturns {
  /** R of each row's trajectory, repeated on every row of it. */
  perRow: Float64Array;
  /** Number of distinct trajectories in the batch. */
  trajectories: number;
}

export function trajectoryReturns(reward: Float64Array, group: Int32Array): TrajectoryReturns {
  const n = reward.length;
  if (group.length !== n) throw new RangeError(`trajectory returns: group has ${group.length} rows, reward has ${n}`);
  const perRow = new Float64Array(n);
  if (n === 0) return { perRow, trajectories: 0 };
  // Runs of equal consecutive keys.
  const runStart: number[] = [];
  const runSum: number[] = [];
  let start = 0;
  let s = reward[0]!;
  for (let i = 1; i < n; i++) {
    if (group[i] !== group[i - 1]) {
      runStart.push(start);
      runSum.push(s);
      start = i;
      s = 0;
    }
    s += reward[i]!;
  }
  runStart.push(start);
  runSum.push(s);
  // Merge runs sharing a key (non-adjacent rows of one trajectory).
  const total = new Map<number, number>();
  for (let k = 0; k < runStart.length; k++) {
    const key = group[runStart[k]!]!;
    total.set(key, (total.get(key) ?? 0) + runSum[k]!);
  }
  for (let k = 0; k < runStart.length; k++) {
    const a = runStart[k]!;
    const b = k + 1 < runStart.length ? runStart[k + 1]! : n;
    const R = total.get(group[a]!)!;
    for (let i = a; i < b; i++) perRow[i] = R;
  }
  return { perRow, trajectories: total.size };
}
