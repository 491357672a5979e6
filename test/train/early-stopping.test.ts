import { describe, expect, it } from 'vitest';
import {
  initialEarlyStopping,
  observeValidation,
  resolveMode,
  restoreEarlyStopping,
  shouldStop,
  type EarlyStoppingRule,
} from '../../stages/train/early-stopping.js';

/** Feed values at epochs 1, 2, …; the epoch after which training stops (undefined: never). */
function stopEpoch(rule: EarlyStoppingRule, values: number[]): { stop?: number; bestEpoch: number; best: number | null } {
  let s = initialEarlyStopping(rule);
  for (let i = 0; i < values.length; i++) {
    s = observeValidation(s, rule, values[i]!, i + 1, (i + 1) * 10).state;
    if (shouldStop(s, rule)) return { stop: i + 1, bestEpoch: s.bestEpoch, best: s.best };
  }
  return { bestEpoch: s.bestEpoch, best: s.best };
}

const minRule = (over: Partial<EarlyStoppingRule> = {}): EarlyStoppingRule => ({ metric: 'nll', patience: 2, minDelta: 0, mode: 'min', ...over });

describe('early stopping', () => {
  it('stops after `patience` validations in a row without a lower value', () => {
    expect(stopEpoch(minRule(), [3, 2, 2.5, 2.4, 1])).toEqual({ stop: 4, bestEpoch: 2, best: 2 });
    // An improvement resets the count.
    expect(stopEpoch(minRule(), [3, 3.1, 2.9, 3.0, 2.8, 2.85, 2.9])).toEqual({ stop: 7, bestEpoch: 5, best: 2.8 });
    expect(stopEpoch(minRule({ patience: 3 }), [3, 2, 2.5, 2.4])).toEqual({ bestEpoch: 2, best: 2 });
  });

  it('counts an improvement only when it beats the best by more than min_delta', () => {
    // 2.95 and 2.91 are within 0.1 of 3: no improvement.
    expect(stopEpoch(minRule({ minDelta: 0.1 }), [3, 2.95, 2.91])).toEqual({ stop: 3, bestEpoch: 1, best: 3 });
    expect(stopEpoch(minRule({ minDelta: 0.1 }), [3, 2.89, 2.85, 2.8])).toEqual({ stop: 4, bestEpoch: 2, best: 2.89 });
  });

  it('mode max watches for higher values; auto is min for nll and max for ranking metrics', () => {
    expect(stopEpoch(minRule({ metric: 'ndcg@10', mode: 'max' }), [0.1, 0.3, 0.2, 0.25])).toEqual({ stop: 4, bestEpoch: 2, best: 0.3 });
    expect(resolveMode('nll', 'auto')).toBe('min');
    expect(resolveMode('ndcg@10', 'auto')).toBe('max');
    expect(resolveMode('mrr', 'auto')).toBe('max');
    expect(resolveMode('nll', 'max')).toBe('max');
  });

  it('a non-finite value never improves', () => {
    expect(stopEpoch(minRule(), [NaN, NaN])).toEqual({ bestEpoch: 0, best: null });
    expect(stopEpoch(minRule(), [2, NaN, Infinity])).toEqual({ stop: 3, bestEpoch: 1, best: 2 });
  });

  it('restores a saved state for the same metric and mode, and starts afresh otherwise', () => {
    const rule = minRule();
    let s = initialEarlyStopping(rule);
    for (const [i, v] of [3, 2, 2.5].entries()) s = observeValidation(s, rule, v, i + 1, i + 1).state;
    const saved = JSON.parse(JSON.stringify(s)) as unknown;
    expect(restoreEarlyStopping(saved, rule)).toEqual({ metric: 'nll', mode: 'min', best: 2, bestEpoch: 2, bestStep: 2, sinceBest: 1 });
    // One more bad validation after the resume stops it, as it would have without the resume.
    const after = observeValidation(restoreEarlyStopping(saved, rule), rule, 2.4, 4, 4).state;
    expect(shouldStop(after, rule)).toBe(true);
    expect(restoreEarlyStopping(saved, minRule({ metric: 'ndcg@10', mode: 'max' }))).toEqual(initialEarlyStopping(minRule({ metric: 'ndcg@10', mode: 'max' })));
    expect(restoreEarlyStopping(undefined, rule)).toEqual(initialEarlyStopping(rule));
    // A larger patience on resume lets a stopped run go on.
    expect(shouldStop(after, minRule({ patience: 3 }))).toBe(false);
  });
});
