/**
 * The learning rate of each optimiser step: linear warmup, then a constant,
 * cosine or linear decay towards `min_lr`. A pure function of the step
 * index, so a resumed run (which restores Adam's step counter) continues the
 * schedule exactly.
 *
 * For 0-based step t, base rate η, floor η_min, W warmup steps and T steps in all:
 *
 *   t < W:   η · (t + 1) / W                                   (warmup)
 *   else     p = min(1, (t − W) / (T − W))     (p = 1 when T ≤ W)
 *     none:   η
 *     linear: η − (η − η_min) · p
 *     cosine: η_min + (η − η_min) · (1 + cos(π p)) / 2          (Loshchilov & Hutter, 2017, Eq. 5, one cycle)
 *
 * Steps past T stay at η_min. Without a schedule the rate is η at every step
 * (the trainers' behaviour before schedules existed).
 */

export const LR_DECAYS = ['none', 'cosine', 'linear'] as const;
export type LrDecay = (typeof LR_DECAYS)[number];

export interface LrSchedule {
  /** Base learning rate η (the optimiser's `lr`). */
  lr: number;
  /** W: steps of linear warmup from η/W up to η (0 = none). */
  warmupSteps: number;
  decay: LrDecay;
  /** η_min: the rate the decay ends at. */
  minLr: number;
}

/** The learning rate of 0-based optimiser step `step` of a run of `total` steps. */
export function lrAt(step: number, total: number, cfg: LrSchedule): number {
  const { lr, warmupSteps: w, decay, minLr } = cfg;
  if (w > 0 && step < w) return (lr * (step + 1)) / w;
  if (decay === 'none') return lr;
  // A run no longer than its warmup has nothing left to decay over: it is at the end.
  const p = total > w ? Math.min(1, Math.max(0, (step - w) / (total - w))) : 1;
  if (decay === 'linear') return lr - (lr - minLr) * p;
  return minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * p))) / 2;
}

/** Whether the schedule changes the rate at all (a constant schedule leaves every step at η). */
export function isConstantSchedule(cfg: LrSchedule): boolean {
  return cfg.warmupSteps === 0 && cfg.decay === 'none';
}
