/**
 * Registry entries of the advantage-weighted baselines of paper 002 (SPEC S4):
 * AWR, AsymRe, APG and CRR, with a shared choice of baseline b in A = r − b.
 */
import type { FieldSpec, Fields } from '../core/config-schema.js';
import type { ObjectiveGlobals, ObjectiveResult } from '../core/objective.js';
import { apgWeights, asymreWeights, crrBinaryWeights, expAdvantageWeights, type Baseline } from './advantage-weights.js';
import { requireStats } from './global-stats.js';
import { checkedSum } from './numeric.js';
import { statelessObjective, validateObjectiveConfig, type OfflineObjectiveEntry, type WeightingBatch } from './objective-types.js';

export type BaselineMode = 'batch_mean' | 'global_mean' | 'column' | 'zero';

const baselineField: FieldSpec = {
  type: 'string',
  enum: ['batch_mean', 'global_mean', 'column', 'zero'],
  default: 'batch_mean',
  doc: 'Baseline b of A = r − b: the batch mean reward, the global mean (reward_stats), a per-row value column (stage option baseline_column, e.g. a learned V(s)), or 0.',
};

const betaField = (d: number): FieldSpec => ({ type: 'number', exclusiveMin: 0, default: d, doc: 'Temperature β of exp(A/β).' });
const wMaxField: FieldSpec = { type: 'number', exclusiveMin: 0, max: 3e38, default: 20, doc: 'Clip w_max of the exponential weight.' };

/** Resolve b for one batch (throws with the objective's name when an input is missing). */
function baselineResolver(name: string, mode: BaselineMode, globals: ObjectiveGlobals): (b: WeightingBatch, sum: number) => Baseline {
  switch (mode) {
    case 'zero':
      return () => 0;
    case 'batch_mean':
      return (b, sum) => (b.reward.length > 0 ? sum / b.reward.length : 0);
    case 'global_mean': {
      const m = requireStats(globals, name, 'baseline: global_mean', 'use baseline: batch_mean').mean;
      return () => m;
    }
    case 'column':
      return (b) => {
        if (!b.baseline) throw new Error(`${name}: baseline: column needs a per-row baseline column (stage option baseline_column, e.g. a learned value V(s))`);
        if (b.baseline.length !== b.reward.length) throw new Error(`${name}: the baseline column has ${b.baseline.length} rows, reward has ${b.reward.length}`);
        checkedSum(b.baseline, name, 'baseline');
        return b.baseline;
      };
  }
}

function advantageEntry<C extends { baseline: BaselineMode }>(
  name: string,
  summary: string,
  doc: string,
  fields: Fields,
  weigh: (r: Float64Array, b: Baseline, c: C) => ObjectiveResult,
): OfflineObjectiveEntry {
  const all: Fields = { baseline: baselineField, ...fields };
  return {
    summary,
    doc: `${doc} Advantage A = r − b (baseline option); the advantage column holds A. An empty batch gives empty columns; all-equal rewards give A = 0 under the batch mean.`,
    fields: all,
    inputs: { baseline: (c) => c.baseline === 'column' },
    factory(config, globals) {
      const c = validateObjectiveConfig<C>(name, all, config);
      const resolve = baselineResolver(name, c.baseline, globals);
      return statelessObjective(name, (b) => {
        const sum = checkedSum(b.reward, name);
        const base = resolve(b, sum);
        const res = weigh(b.reward, base, c);
        if (typeof base === 'number' && b.reward.length > 0) res.diagnostics.baseline = base;
        return res;
      });
    },
  };
}

export const awrEntry = advantageEntry<{ baseline: BaselineMode; beta: number; w_max: number }>(
  'awr',
  'AWR: w = min(exp((r − b)/β), w_max).',
  'Advantage-weighted regression (Peng et al. 2019; paper 002 baseline): w = min(exp(A/β), w_max); β tuned in {0.05, 0.1, 1.0} in paper 002.',
  { beta: betaField(1), w_max: wMaxField },
  (r, b, c) => expAdvantageWeights(r, b, c.beta, c.w_max),
);

export const asymreEntry = advantageEntry<{ baseline: BaselineMode; neg_factor: number }>(
  'asymre',
  'AsymRe: w = A for A ≥ 0, neg_factor·A for A < 0.',
  'AsymRe (paper 002 baseline): asymmetric re-weighting w = A if A ≥ 0 else neg_factor·A (0.1), so negative advantages are down-weighted but still repel.',
  { neg_factor: { type: 'number', min: 0, default: 0.1, doc: 'Factor w⁻ applied to negative advantages.' } },
  (r, b, c) => asymreWeights(r, b, c.neg_factor),
);

export const apgEntry = advantageEntry<{ baseline: BaselineMode }>(
  'apg',
  'APG: w = A = r − b (negative weights: the unstable baseline).',
  'Advantage policy gradient without importance correction (paper 002 baseline): w = A, negative for below-baseline rows; the repulsive force that diverges in heavy noise.',
  {},
  (r, b) => apgWeights(r, b),
);

export const crrEntry = advantageEntry<{ baseline: BaselineMode; variant: 'binary' | 'exp'; beta: number; w_max: number }>(
  'crr',
  'CRR: w = 1[A > 0] (binary) or min(exp(A/β), w_max) (exp).',
  'Critic-regularised regression (Wang et al. 2020; paper 002 baseline) with A = r − b standing in for Q − V: binary w = 1[A > 0], exponential w = min(exp(A/β), w_max); β tuned in {0.5, 1, 5} in paper 002.',
  {
    variant: { type: 'string', enum: ['binary', 'exp'], default: 'exp', doc: 'binary: w = 1[A > 0]; exp: w = min(exp(A/β), w_max).' },
    beta: betaField(1),
    w_max: wMaxField,
  },
  (r, b, c) => (c.variant === 'binary' ? crrBinaryWeights(r, b) : expAdvantageWeights(r, b, c.beta, c.w_max)),
);
