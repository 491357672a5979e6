/**
 * Grouped online shapers (SPEC S5; paper 004 Algorithms 1–4): each turns a
 * group of G sampled candidates per context into shaped rewards r̃ and GRPO
 * advantages (r̃ − mean)/(std + 1e-8), for the clipped surrogate of the trainer.
 *
 * - grpo: r̃ = r̂ (no bonus).
 * - drro_hard: Eq. 4.14, the budget δ̃ on the argmax of r̂ − δ̃·π̃.
 * - drro_soft: Eq. 4.15, the SNIS soft bonus δ̃·G·w_k·π̃_k with temperature τ.
 * - dro: the value-robust correction r̂_k − δ̃·1[k = argmax π̃].
 *
 * Budgets (kl-budget.ts): fixed δ̃ (default 2.5·G) or dynamic δ̃₀ + α·KL̄ over a
 * window of 20 updates, KL from k3 (refLogProb) or exact (exactKl). The state
 * is the KL window: { window: number[] }.
 */
import { ConfigError, validateConfig, type Fields } from '../core/config-schema.js';
import type { GroupShaper, GroupShapingInput, GroupShapingResult } from '../core/objective.js';
import { checkGroups, droCorrection, grpoAdvantages, groupNormalisedLogProbs, hardRegretBonus, softRegretBonus } from './group-shaping.js';
import { resolveBudget, updateKl, type BudgetParams, type BudgetState } from './kl-budget.js';

export interface GroupShaperEntry {
  fields: Fields;
  doc: string;
  summary: string;
}

const budgetFields: Fields = {
  budget: {
    type: 'string',
    enum: ['fixed', 'dynamic'],
    default: 'fixed',
    doc: 'fixed: δ̃ = delta; dynamic: δ̃ = delta0 + alpha·(KL averaged over the last `window` updates).',
  },
  delta: { type: 'number', min: 0, doc: 'Fixed scaled budget δ̃ (default 2.5·G, i.e. 40 for G = 16).' },
  delta0: { type: 'number', min: 0, default: 0, doc: 'Base budget δ̃₀ of the dynamic budget (Eq. 4.17).' },
  delta0_calibration: {
    type: 'string',
    enum: ['none', 'pilot'],
    default: 'none',
    doc: 'pilot: δ̃₀ calibrated on pilot contexts (paper 004 §4.5), δ̃₀ = mean over contexts of Σ_k |r̂_k − r*_k| over G candidates of π₀ (train_online option `pilot`; needs the gold reward); replaces delta0 (dynamic budget) or delta (fixed budget).',
  },
  alpha: { type: 'number', min: 0, default: 10, doc: 'Scaling α of the KL term of the dynamic budget.' },
  window: { type: 'integer', min: 1, default: 20, doc: 'Number of updates the KL estimate is averaged over.' },
  kl_estimator: {
    type: 'string',
    enum: ['k3', 'exact'],
    default: 'k3',
    doc: 'k3: mean(exp(z) − z − 1), z = log π₀ − log π̄ over the sampled candidates (needs refLogProb); exact: KL(π̄‖π₀) over a finite catalog (needs exactKl).',
  },
};

const tauField: Fields = { tau: { type: 'number', exclusiveMin: 0, default: 2, doc: 'Temperature τ of the soft bonus.' } };

/**
 * Paper 004's reported DRRO configuration (Algorithm 4, App. G): soft bonus with
 * the dynamic budget δ̃_t = α·KL̂_t, KL̂ the k3 estimate smoothed over the last
 * 20 updates, α = 10, τ = 2, and no base budget or clipping ("we do not clip the
 * dynamic budget"), so δ̃₀ = 0.
 */
export const DRRO_SOFT_PAPER_PRESET = { budget: 'dynamic', delta0: 0, alpha: 10, window: 20, kl_estimator: 'k3', tau: 2 } as const;

const presetField: Fields = {
  preset: {
    type: 'string',
    enum: ['none', 'paper'],
    default: 'none',
    doc: "paper: the paper's Algorithm 4 setting, budget dynamic with δ̃₀ = 0, α = 10, window 20, k3 KL, τ = 2; options given beside it override it.",
  },
};

export const GROUP_SHAPERS: Record<string, GroupShaperEntry> = {
  grpo: {
    summary: 'GRPO: group-normalised advantages of the proxy reward, no bonus.',
    doc: 'GRPO: r̃ = r̂; advantages (r̃ − mean_g)/(std_g + 1e-8) within each group (population std; a constant group gets 0).',
    fields: { kl_estimator: budgetFields.kl_estimator! },
  },
  drro_hard: {
    summary: 'DRRO hard bonus (Eq. 4.14): +δ̃ on argmax_k (r̂_k − δ̃·π̃_k).',
    doc: 'Hard DRRO (paper 004 Eq. 4.14): π̃ = π̄/Σπ̄ within the group; k* = argmax_k (r̂_k − δ̃·π̃_k) (first on ties); r̃_k = r̂_k + δ̃·1[k = k*]; then GRPO advantages.',
    fields: budgetFields,
  },
  drro_soft: {
    summary: 'DRRO soft bonus (Eq. 4.15): +δ̃·G·w_k·π̃_k with SNIS weights w ∝ exp((r̂ − δ̃π̃)/τ)/π̃.',
    doc:
      'Soft DRRO (paper 004 Eq. 4.15), computed in log space: u_k = exp((r̂_k − δ̃·π̃_k)/τ)/π̃_k, w = u/Σu, r̃_k = r̂_k + δ̃·G·w_k·π̃_k; then GRPO advantages. ' +
      "The default budget is fixed (δ̃ = 2.5·G); the paper's reported run (Algorithm 4: dynamic budget δ̃ = α·KL̂, α = 10, τ = 2) is `preset: paper`.",
    fields: { ...budgetFields, ...tauField, ...presetField },
  },
  dro: {
    summary: 'Value-robust DRO correction: −δ̃ on the most probable sampled candidate.',
    doc: 'DRO baseline: the promptwise objective ⟨π, r̂⟩ − δ‖π‖_∞; its sampled subgradient correction r̃_k = r̂_k − δ̃·1[k = argmax_l π̃_l] (our derivation, SPEC S5); then GRPO advantages.',
    fields: budgetFields,
  },
};

interface ShaperConfig {
  budget?: 'fixed' | 'dynamic';
  delta?: number;
  delta0?: number;
  alpha?: number;
  window?: number;
  kl_estimator: 'k3' | 'exact';
  tau?: number;
  preset?: 'none' | 'paper';
  delta0_calibration?: 'none' | 'pilot';
}

/** Build a grouped shaper by name; its config is validated (messages name the shaper and field). */
export function createGroupShaper(name: string, config: Record<string, unknown> = {}): GroupShaper<BudgetState> {
  const entry = GROUP_SHAPERS[name];
  if (!entry) throw new ConfigError(`unknown group shaper "${name}" (known: ${Object.keys(GROUP_SHAPERS).join(', ')})`, ['name']);
  const withPreset = config.preset === 'paper' ? { ...DRRO_SOFT_PAPER_PRESET, ...config } : config;
  const c = validateConfig<ShaperConfig>(`group shaper "${name}"`, entry.fields, withPreset);
  const budget: BudgetParams = {
    mode: c.budget ?? 'fixed',
    delta: c.delta,
    delta0: c.delta0 ?? 0,
    alpha: c.alpha ?? 10,
    window: c.window ?? 20,
    estimator: c.kl_estimator,
  };
  return {
    name,
    initialState: () => ({ window: [] }),
    shape(input: GroupShapingInput, state: BudgetState): { result: GroupShapingResult; state: BudgetState } {
      const G = input.groupSize;
      const groups = checkGroups(name, G, {
        proxyReward: input.proxyReward,
        rolloutLogProb: input.rolloutLogProb,
        refLogProb: input.refLogProb,
        exactKl: undefined,
      });
      if (input.exactKl && input.exactKl.length !== groups) {
        throw new RangeError(`${name}: exactKl has ${input.exactKl.length} entries, expected one per group (${groups})`);
      }
      const diagnostics: Record<string, number> = { groups };
      let shaped: Float64Array;
      let next: BudgetState;
      if (name === 'grpo') {
        shaped = input.proxyReward.slice();
        next = { window: [...state.window] };
        const kl = updateKl(input, c.kl_estimator);
        if (kl !== undefined) diagnostics.kl = kl;
      } else {
        const b = resolveBudget(name, budget, input, state);
        next = b.state;
        diagnostics.delta = b.delta;
        if (b.kl !== undefined) diagnostics.kl = b.kl;
        if (b.klSmoothed !== undefined) diagnostics.kl_smoothed = b.klSmoothed;
        const logPt = groupNormalisedLogProbs(input.rolloutLogProb, G);
        if (name === 'drro_hard') shaped = hardRegretBonus(input.proxyReward, logPt, G, b.delta).shaped;
        else if (name === 'drro_soft') shaped = softRegretBonus(input.proxyReward, logPt, G, b.delta, c.tau ?? 2);
        else shaped = droCorrection(input.proxyReward, logPt, G, b.delta);
      }
      const { advantage, zeroStdGroups } = grpoAdvantages(shaped, G);
      let bonus = 0;
      for (let i = 0; i < shaped.length; i++) bonus += shaped[i]! - input.proxyReward[i]!;
      if (shaped.length > 0) diagnostics.bonus_mean = bonus / shaped.length;
      diagnostics.zero_std_groups = zeroStdGroups;
      return { result: { shapedReward: shaped, advantage, diagnostics }, state: next };
    },
  };
}
