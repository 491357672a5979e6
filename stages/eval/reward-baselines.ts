/**
 * The naive reward predictors of paper 000 Table 2, against which a trained
 * reward head is judged:
 *
 *   global mean  r̂(u, i) = mean reward of all train rows
 *   user mean    r̂(u, i) = mean train reward of user u   (unseen user → global mean)
 *   item mean    r̂(u, i) = mean train reward of item i   (unseen item → global mean)
 *
 * Fit on train rows only (sums and counts per dense id, so fitting is itself
 * mergeable and streams batch by batch). The fallback for a user or item with
 * no train row is the global train mean, the natural shrinkage limit.
 */
export const REWARD_BASELINES = ['global_mean', 'user_mean', 'item_mean'] as const;
export type RewardBaselineName = (typeof REWARD_BASELINES)[number];

/** Sum and count of rewards per dense id, growing as ids appear. */
export class MeanTable {
  sums = new Float64Array(0);
  counts = new Float64Array(0);

  private grow(maxId: number): void {
    if (maxId < this.sums.length) return;
    const n = Math.max(maxId + 1, this.sums.length * 2, 16);
    const s = new Float64Array(n);
    const c = new Float64Array(n);
    s.set(this.sums);
    c.set(this.counts);
    this.sums = s;
    this.counts = c;
  }

  add(ids: ArrayLike<number>, values: ArrayLike<number>): void {
    let max = -1;
    for (let i = 0; i < ids.length; i++) if (ids[i]! > max) max = ids[i]!;
    this.grow(max);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0) throw new Error(`MeanTable: negative id ${id}`);
      this.sums[id]! += values[i]!;
      this.counts[id]! += 1;
    }
  }

  merge(other: MeanTable): void {
    this.grow(other.sums.length - 1);
    for (let i = 0; i < other.sums.length; i++) {
      this.sums[i]! += other.sums[i]!;
      this.counts[i]! += other.counts[i]!;
    }
  }

  /** Mean for each id, `fallback` where an id has no observation. */
  means(ids: ArrayLike<number>, fallback: number): Float64Array {
    const out = new Float64Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const c = id >= 0 && id < this.counts.length ? this.counts[id]! : 0;
      out[i] = c > 0 ? this.sums[id]! / c : fallback;
    }
    return out;
  }

  /** How many of `ids` have no observation (so fall back). */
  unseen(ids: ArrayLike<number>): number {
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < this.counts.length && this.counts[id]! > 0)) n++;
    }
    return n;
  }
}

/** Global, user and item mean rewards fitted on train rows. */
export class RewardMeanBaselines {
  globalSum = 0;
  globalCount = 0;
  readonly users = new MeanTable();
  readonly items = new MeanTable();

  /** Add train rows (user id, item id, observed reward). */
  fit(users: ArrayLike<number>, items: ArrayLike<number>, rewards: ArrayLike<number>): this {
    if (users.length !== items.length || items.length !== rewards.length) {
      throw new Error(`RewardMeanBaselines.fit: column lengths differ (${users.length}, ${items.length}, ${rewards.length})`);
    }
    for (let i = 0; i < rewards.length; i++) this.globalSum += rewards[i]!;
    this.globalCount += rewards.length;
    this.users.add(users, rewards);
    this.items.add(items, rewards);
    return this;
  }

  get globalMean(): number {
    if (this.globalCount === 0) throw new Error('reward baselines: no train rows to fit the means on');
    return this.globalSum / this.globalCount;
  }

  predict(kind: RewardBaselineName, users: ArrayLike<number>, items: ArrayLike<number>): Float64Array {
    const g = this.globalMean;
    switch (kind) {
      case 'global_mean':
        return new Float64Array(users.length).fill(g);
      case 'user_mean':
        return this.users.means(users, g);
      case 'item_mean':
        return this.items.means(items, g);
    }
  }
}

/** Squared and absolute errors of predictions against targets (MSE / MAE are their means). */
export function predictionErrors(pred: ArrayLike<number>, target: ArrayLike<number>): { squared: Float64Array; absolute: Float64Array } {
  if (pred.length !== target.length) throw new Error(`predictionErrors: ${pred.length} predictions for ${target.length} targets`);
  const squared = new Float64Array(pred.length);
  const absolute = new Float64Array(pred.length);
  for (let i = 0; i < pred.length; i++) {
    const e = pred[i]! - target[i]!;
    squared[i] = e * e;
    absolute[i] = Math.abs(e);
  }
  return { squared, absolute };
}
