/**
 * Early stopping on a validation metric with patience. Pure: the trainer
 * feeds each validation value in and keeps the state in its checkpoints, so
 * a resumed run knows the best value so far and how many validations have
 * passed without improvement.
 *
 *   improved  ⇔  no best yet, or  value < best − min_delta  (mode min)
 *                                 value > best + min_delta  (mode max)
 *   stop      ⇔  `patience` validations in a row did not improve
 *
 * A value that is not a finite number never improves.
 */

/** Validation metrics a trainer can watch: nll, or a ranking metric of the validation targets. */
export const EARLY_STOPPING_METRICS = ['nll', 'ndcg@10', 'hr@10', 'mrr'] as const;
export type EarlyStoppingMetric = (typeof EARLY_STOPPING_METRICS)[number];

export interface EarlyStoppingRule {
  metric: string;
  patience: number;
  minDelta: number;
  mode: 'min' | 'max';
}

/** What is kept between validations (and in checkpoints, as JSON). */
export interface EarlyStoppingState {
  metric: string;
  mode: 'min' | 'max';
  /** Best value so far (null before the first validation). */
  best: number | null;
  /** Epoch (1-based) and optimiser step of the best value. */
  bestEpoch: number;
  bestStep: number;
  /** Validations in a row since the last improvement. */
  sinceBest: number;
}

/** `mode: auto` resolved: lower is better for nll, higher for ranking metrics. */
export function resolveMode(metric: string, mode: 'auto' | 'min' | 'max'): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return metric === 'nll' ? 'min' : 'max';
}

export function initialEarlyStopping(rule: EarlyStoppingRule): EarlyStoppingState {
  return { metric: rule.metric, mode: rule.mode, best: null, bestEpoch: 0, bestStep: 0, sinceBest: 0 };
}

/** Whether `value` improves on `best` by more than `minDelta` in direction `mode`. */
export function improves(value: number, best: number | null, mode: 'min' | 'max', minDelta: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (best === null) return true;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}

/** The state after one validation value measured at (epoch, step). */
export function observeValidation(
  state: EarlyStoppingState,
  rule: EarlyStoppingRule,
  value: number,
  epoch: number,
  step: number,
): { state: EarlyStoppingState; improved: boolean } {
  if (improves(value, state.best, rule.mode, rule.minDelta))
    return { state: { ...state, best: value, bestEpoch: epoch, bestStep: step, sinceBest: 0 }, improved: true };
  return { state: { ...state, sinceBest: state.sinceBest + 1 }, improved: false };
}

/** Whether training stops: `patience` validations in a row without improvement. */
export function shouldStop(state: EarlyStoppingState, rule: EarlyStoppingRule): boolean {
  return state.best !== null && state.sinceBest >= rule.patience;
}

/**
 * The state a resumed run continues with: the checkpoint's, when it watched
 * the same metric in the same direction; otherwise a fresh one (the saved
 * values mean something else).
 */
export function restoreEarlyStopping(saved: unknown, rule: EarlyStoppingRule): EarlyStoppingState {
  const fresh = initialEarlyStopping(rule);
  if (typeof saved !== 'object' || saved === null) return fresh;
  const s = saved as Partial<EarlyStoppingState>;
  if (s.metric !== rule.metric || s.mode !== rule.mode) return fresh;
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  return {
    ...fresh,
    best: typeof s.best === 'number' && Number.isFinite(s.best) ? s.best : null,
    bestEpoch: num(s.bestEpoch, 0),
    bestStep: num(s.bestStep, 0),
    sinceBest: num(s.sinceBest, 0),
  };
}

/** The validation score a checkpoint records for keep_best (checkpoint.ts). */
export interface CheckpointValidation {
  metric: string;
  value: number;
  mode?: 'min' | 'max';
}

/**
 * Early stopping as the offline trainer uses it: restored from a checkpoint's
 * saved state, fed each epoch's validation scores, and the words of its log lines.
 */
export class EarlyStopper {
  state: EarlyStoppingState;

  constructor(
    readonly rule: EarlyStoppingRule,
    /** The state saved in the checkpoint a run resumes from, if any. */
    saved?: unknown,
  ) {
    this.state = saved === undefined ? initialEarlyStopping(rule) : restoreEarlyStopping(saved, rule);
  }

  /** Whether the run is over already (a resume of a stopped run). */
  get stopped(): boolean {
    return shouldStop(this.state, this.rule);
  }

  /**
   * One epoch's validation scores (none: nothing is watched this epoch).
   * Returns whether the watched metric improved, whether to stop now, and the
   * score its checkpoint records (keep_best then ranks by the watched metric).
   */
  observe(scores: Record<string, number> | undefined, epoch: number, step: number): { improved: boolean; stop: boolean; validation?: CheckpointValidation } {
    const value = scores?.[this.rule.metric];
    if (value === undefined) return { improved: false, stop: false };
    const { state, improved } = observeValidation(this.state, this.rule, value, epoch, step);
    this.state = state;
    const validation = { metric: `valid_${this.rule.metric}`, value, ...(this.rule.mode === 'max' ? { mode: 'max' as const } : {}) };
    return { improved, stop: this.stopped, validation };
  }

  stopMessage(label: string, epoch: number, step: number, bestDir?: string): string {
    const { rule, state } = this;
    return (
      `${label}: early stopping after epoch ${epoch} (step ${step}): valid ${rule.metric} did not improve by more than ${rule.minDelta} for ${rule.patience} validation(s); ` +
      `best ${state.best} at epoch ${state.bestEpoch} (step ${state.bestStep})${bestDir ? `, checkpoint ${bestDir}` : ''}`
    );
  }

  resumedMessage(label: string, step: number): string {
    const s = this.state;
    return `${label}: early stopping had already stopped this run at step ${step}; best valid ${s.metric} ${s.best} at epoch ${s.bestEpoch} (step ${s.bestStep}); not training further`;
  }
}
