/**
 * Hard-filtering objectives of paper 002 (SPEC S4): fixed-κ top-κ, DRPO,
 * DRPO-Exp and Adaptive BC, as registry entries around top-kappa.ts and drpo.ts.
 */
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { OfflineObjective } from '../core/objective.js';
import { drpoStep, type DrpoParams, type DrpoState, type DrpoVariant } from './drpo.js';
import { statelessObjective, validateObjectiveConfig, type OfflineObjectiveEntry } from './objective-types.js';
import { topKappaWeights, type ThresholdMethod } from './top-kappa.js';

// ---------------------------------------------------------------- topk

interface TopkConfig {
  kappa: number;
  threshold: ThresholdMethod;
}

const topkFields: Fields = {
  kappa: { type: 'number', exclusiveMin: 0, max: 1, default: 0.5, doc: 'Fraction κ of each batch kept: rows with r ≥ the (1 − κ)-quantile ν.' },
  threshold: {
    type: 'string',
    enum: ['quantile', 'cvar_dual'],
    default: 'quantile',
    doc: 'How ν is computed: quantile (selection, O(N)) or cvar_dual (minimises ν + κ⁻¹·mean((r − ν)₊) by sorting, O(N log N)); they agree.',
  },
};

export const topkEntry: OfflineObjectiveEntry = {
  summary: 'Fixed-κ hard filtering: w = (r − ν)₊/κ with ν the batch (1 − κ)-quantile.',
  doc:
    'Fixed-κ top-κ (paper 002, Theorem 4.1, Eq. 12–13): ν = the ⌈κN⌉-th largest batch reward, which also minimises the CVaR dual ν + κ⁻¹·mean((r − ν)₊). ' +
    'Loss −κ⁻¹·mean((r − ν)₊·log π), i.e. w = (r − ν)₊/κ; kept = 1 where r ≥ ν; advantage = r − ν. ' +
    'Rows below ν get weight 0 and a phantom weight (r − ν)/κ (what they would contribute, never applied). ' +
    'All-equal rewards: ν equals them, every row is kept with weight 0.',
  fields: topkFields,
  factory(config) {
    const c = validateObjectiveConfig<TopkConfig>('topk', topkFields, config);
    return statelessObjective('topk', (b) => topKappaWeights(b.reward, c.kappa, c.threshold));
  },
};

// ---------------------------------------------------------------- drpo family

interface DrpoConfig {
  rho: number;
  p0: number;
  p_min: number;
  p_max: number;
  rate_up: number;
  rate_down: number;
  mean_over: 'kept' | 'batch';
  beta?: number;
  w_max?: number;
}

function drpoFields(meanOverDefault: 'kept' | 'batch', exp: boolean): Fields {
  const f: Fields = {
    rho: { type: 'number', exclusiveMin: 0, default: 0.5, doc: 'Target ratio ρ: P expands when σ_subset < ρ·σ_batch, else shrinks.' },
    p0: { type: 'number', exclusiveMin: 0, max: 1, default: 0.5, doc: 'Initial kept fraction P₀.' },
    p_min: { type: 'number', exclusiveMin: 0, max: 1, default: 0.05, doc: 'Lower bound of P.' },
    p_max: { type: 'number', exclusiveMin: 0, max: 1, default: 1, doc: 'Upper bound of P.' },
    rate_up: { type: 'number', min: 1, default: 1.02, doc: 'Multiplicative rate when P expands.' },
    rate_down: { type: 'number', exclusiveMin: 0, max: 1, default: 0.98, doc: 'Multiplicative rate when P shrinks.' },
    mean_over: {
      type: 'string',
      enum: ['kept', 'batch'],
      default: meanOverDefault,
      doc: 'kept: weights × N/|B_top| so that −(1/N)·Σ w·log π is the mean over the kept rows (Algorithm 1); batch: unscaled.',
    },
  };
  if (exp) {
    f.beta = { type: 'number', exclusiveMin: 0, default: 0.05, doc: 'Temperature β of w = exp((r − mean(r over B_top))/β).' };
    f.w_max = { type: 'number', exclusiveMin: 0, max: 3e38, default: 20, doc: 'Clip of the exponential weight (the AWR clip); raise it to weaken the clip.' };
  }
  return f;
}

function drpoObjective(variant: DrpoVariant, fields: Fields, config: Record<string, unknown>): OfflineObjective<DrpoState> {
  const c = validateObjectiveConfig<DrpoConfig>(variant, fields, config);
  if (c.p_min > c.p_max) {
    throw new ConfigError(`objective "${variant}": field "p_min" (${c.p_min}) must be ≤ p_max (${c.p_max})`, ['p_min']);
  }
  const p: DrpoParams = {
    variant,
    rho: c.rho,
    pMin: c.p_min,
    pMax: c.p_max,
    rateUp: c.rate_up,
    rateDown: c.rate_down,
    meanOver: c.mean_over,
    beta: c.beta ?? 0.05,
    wMax: c.w_max ?? 20,
  };
  const p0 = Math.min(c.p_max, Math.max(c.p_min, c.p0));
  return {
    name: variant,
    initialState: () => ({ P: p0 }),
    weigh: (batch, state) => drpoStep(batch.reward, state, p),
  };
}

const DRPO_COMMON_DOC =
  'Variance-guided filter (paper 002, Algorithm 1): K = floor(N·P) top rewards form B_top; P ← min(1, 1.02·P) if std(B_top) < ρ·std(batch), else max(0.05, 0.98·P); P is state carried across batches (checkpointed). ' +
  'Ties at the K-th reward are taken in row order; K ≥ 1; empty batches leave P unchanged. Rejected rows get weight 0 and a phantom weight (what they would contribute).';

const drpoEntryFields = drpoFields('kept', false);
export const drpoEntry: OfflineObjectiveEntry = {
  summary: 'DRPO: adaptive top-P filter, normalised advantage (r − ν)/std on the kept rows.',
  doc: `${DRPO_COMMON_DOC} DRPO: ν = min(r over B_top), Ã = (r − ν)/(std(A) + 1e-8), loss −(1/|B_top|)·Σ Ã·log π. If std(A) = 0 (all kept rewards equal, or K = 1) every Ã is 0: the batch's weights are 0.`,
  fields: drpoEntryFields,
  factory: (config) => drpoObjective('drpo', drpoEntryFields, config),
};

const drpoExpFields = drpoFields('kept', true);
export const drpoExpEntry: OfflineObjectiveEntry = {
  summary: 'DRPO-Exp: the DRPO filter, then w = min(exp((r − mean over B_top)/β), w_max) on the kept rows.',
  doc: `${DRPO_COMMON_DOC} DRPO-Exp: w = min(exp((r − mean(r over B_top))/β), w_max) on B_top, β = 0.05; the clip (AWR's, default 20) keeps weights finite for any reward scale.`,
  fields: drpoExpFields,
  factory: (config) => drpoObjective('drpo_exp', drpoExpFields, config),
};

const adaptiveBcFields = drpoFields('kept', false);
export const adaptiveBcEntry: OfflineObjectiveEntry = {
  summary: "Adaptive BC: the mean NLL of the DRPO filter's kept rows (w = N/|B_top| on them, 0 elsewhere).",
  doc: `${DRPO_COMMON_DOC} Adaptive BC: loss −(1/|B_top|)·Σ_{B_top} log π, i.e. w = N/|B_top| on B_top and 0 elsewhere, averaged over the kept set as DRPO and paper 002 do (mean_over: batch gives the old w = 1, a loss scaled by P).`,
  fields: adaptiveBcFields,
  factory: (config) => drpoObjective('adaptive_bc', adaptiveBcFields, config),
};
