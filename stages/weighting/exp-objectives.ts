/**
 * The objectives of paper 000 (SPEC S3), each a weight on −(1/N)·Σ w·log π(a|s):
 *
 * - `bc`: behaviour cloning, w = 1.
 * - `rsft_linear`: linear reward-weighted SFT, w = r (or (r − μ)/σ).
 * - `exp_rsft`: w = exp((r − c)/λ), c = the global max reward (Eq. 10 with the
 *   baseline invariance of Observation 3.1).
 * - `exp_rsft_trajectory`: w_τ = exp((R(τ) − c)/λ) on every step of trajectory τ (Eq. 20).
 */
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ObjectiveGlobals, ObjectiveResult } from '../core/objective.js';
import { expRsftWeights, type ExpRsftParams, type ShiftMode } from './exp-weights.js';
import { requireStats } from './global-stats.js';
import { checkedSum } from './numeric.js';
import { statelessObjective, validateObjectiveConfig, type OfflineObjectiveEntry, type WeightingBatch } from './objective-types.js';
import { trajectoryReturns } from './trajectory.js';
import { summariseWeights } from './weight-summary.js';

// ---------------------------------------------------------------- bc

export const bcEntry: OfflineObjectiveEntry = {
  summary: 'Behaviour cloning: every example has weight 1.',
  doc: 'BC (paper 000 baseline): loss −(1/N)·Σ log π(a|s), i.e. w = 1 for every row. No statistics needed.',
  fields: {},
  factory(config) {
    validateObjectiveConfig('bc', {}, config);
    return statelessObjective('bc', (b) => {
      const n = b.reward.length;
      checkedSum(b.reward, 'bc');
      const weight = new Float32Array(n).fill(1);
      return { weight, diagnostics: summariseWeights(weight) };
    });
  },
};

// ---------------------------------------------------------------- rsft_linear

interface RsftLinearConfig {
  preset: 'none' | 'paper';
  /** Undefined is false; no schema default, so a trainer stage's validated options (defaults filled) still let the preset set them. */
  standardize?: boolean;
  allow_negative?: boolean;
}

/** What `preset: paper` fixes: paper 000's linear RSFT baseline weights by the standardised, signed reward. */
const RSFT_PAPER_PRESET = { standardize: true, allow_negative: true } as const;

const rsftLinearFields: Fields = {
  preset: {
    type: 'string',
    enum: ['none', 'paper'],
    default: 'none',
    doc: 'paper: linear RSFT as paper 000 runs it, w = (r − μ)/σ with negative weights kept (standardize and allow_negative true).',
  },
  standardize: {
    type: 'boolean',
    doc: 'Weight by (r − μ)/σ with the global mean and std from reward_stats instead of r (default false; true under preset paper).',
  },
  allow_negative: {
    type: 'boolean',
    doc: 'Keep negative weights (they push probability away from the action); when false (default; true under preset paper), negative weights are set to 0 and counted as n_clipped.',
  },
};

export const rsftLinearEntry: OfflineObjectiveEntry = {
  summary: 'Linear reward-weighted SFT: w = r, or (r − μ)/σ; negative weights only when asked.',
  doc:
    'Linear RSFT (paper 000 baseline): w = r, or w = (r − μ)/σ with the global μ, σ when `standardize` is true. ' +
    'Negative weights are clipped to 0 unless `allow_negative` (SPEC S3). A global σ of 0 (all rewards equal) is treated as 1, so every standardised weight is 0. ' +
    "`preset: paper` is the paper's baseline in one line: standardised and signed.",
  fields: rsftLinearFields,
  factory(config, globals) {
    const c = validateObjectiveConfig<RsftLinearConfig>('rsft_linear', rsftLinearFields, config);
    if (c.preset === 'paper') {
      for (const [k, v] of Object.entries(RSFT_PAPER_PRESET)) {
        if (config[k] !== undefined && config[k] !== v) {
          throw new ConfigError(`objective "rsft_linear": field "${k}" is fixed to ${v} by preset "paper"; drop it or the preset`, [k]);
        }
      }
      Object.assign(c, RSFT_PAPER_PRESET);
    }
    let mu = 0;
    let inv = 1;
    if (c.standardize) {
      const s = requireStats(globals, 'rsft_linear', 'standardize: true', 'set standardize: false');
      mu = s.mean;
      inv = s.std > 0 ? 1 / s.std : 1;
    }
    return statelessObjective('rsft_linear', (b) => {
      const r = b.reward;
      checkedSum(r, 'rsft_linear');
      const n = r.length;
      const weight = new Float32Array(n);
      let clipped = 0;
      if (c.allow_negative) for (let i = 0; i < n; i++) weight[i] = (r[i]! - mu) * inv;
      else {
        for (let i = 0; i < n; i++) {
          const v = (r[i]! - mu) * inv;
          if (v < 0) clipped++;
          weight[i] = v > 0 ? v : 0;
        }
      }
      return { weight, diagnostics: { ...summariseWeights(weight), n_clipped: clipped } };
    });
  },
};

// ---------------------------------------------------------------- exp_rsft

interface ExpRsftConfig {
  lambda: number;
  shift_mode: ShiftMode;
  shift?: number;
  standardize: boolean;
  scale?: number;
}

function expFields(standardizeDefault: boolean, what: string): Fields {
  return {
    lambda: {
      type: 'number',
      exclusiveMin: 0,
      default: 1,
      doc: `Temperature λ of w = exp((${what} − c)/λ); smaller is greedier (the paper's sweep peaks near 0.5–1.0 on 1–5 ratings).`,
    },
    shift_mode: {
      type: 'string',
      enum: ['global', 'batch'],
      default: 'global',
      doc: `global: c = the global maximum of ${what} (weights in (0, 1], the paper's objective); batch: c = each batch's own maximum (a different objective: it reweights batches against each other).`,
    },
    shift: {
      type: 'number',
      doc: `Global shift c to use instead of the statistics' max (shift_mode global only). Must be ≥ every ${what} to keep weights ≤ 1.`,
    },
    standardize: {
      type: 'boolean',
      default: standardizeDefault,
      doc: `Standardise ${what} by the global std σ before weighting (equivalent to λ → λσ); in batch mode by the batch std.`,
    },
    scale: { type: 'number', exclusiveMin: 0, doc: "σ to standardise with instead of the statistics' std (shift_mode global, standardize true)." },
  };
}

function resolveExpParams(name: string, c: ExpRsftConfig, globals: ObjectiveGlobals, what: string): ExpRsftParams {
  if (c.shift_mode === 'batch') {
    const bad = [c.shift !== undefined ? 'shift' : '', c.scale !== undefined ? 'scale' : ''].filter(Boolean);
    if (bad.length) {
      throw new ConfigError(`objective "${name}": field "${bad[0]}" applies to shift_mode global only (shift_mode is batch)`, bad);
    }
    return { lambda: c.lambda, shiftMode: 'batch', standardize: c.standardize };
  }
  let shift = c.shift;
  let scale = c.scale;
  if (shift === undefined || (c.standardize && scale === undefined)) {
    const need = shift === undefined ? `the global shift (max ${what})` : `standardize (global std of ${what})`;
    const alt = shift === undefined ? '`shift` (and `scale` when standardising), or shift_mode: batch' : '`scale`, or standardize: false';
    const s = requireStats(globals, name, need, `pass ${alt}`);
    shift ??= s.max;
    if (c.standardize) scale ??= s.std;
  }
  return { lambda: c.lambda, shiftMode: 'global', standardize: c.standardize, shift, scale };
}

function expResult(x: Float64Array, p: ExpRsftParams, name: string, extra: Record<string, number> = {}): ObjectiveResult {
  const r = expRsftWeights(x, p, name);
  const diagnostics = { ...summariseWeights(r.weight), ...extra };
  if (x.length > 0) Object.assign(diagnostics, { shift: r.shift, temperature: r.temperature, above_shift: r.aboveShift });
  return { weight: r.weight, diagnostics };
}

const expRsftFields = expFields(false, 'r');

export const expRsftEntry: OfflineObjectiveEntry = {
  summary: 'Exp-RSFT: w = exp((r − c)/λ) with c the global max reward (weights in (0, 1]).',
  doc:
    'Exponential reward-weighted SFT (paper 000, Eq. 10; SPEC S3): loss −(1/N)·Σ exp((r − c)/λ)·log π(a|s). ' +
    'c = the global maximum reward from reward_stats, a constant that leaves the optimal policy unchanged (Observation 3.1) and keeps weights in (0, 1]. ' +
    'With `standardize`, rewards are (r − μ)/σ, i.e. λ → λσ; σ = 0 (all rewards equal) is treated as 1. ' +
    "`shift_mode: batch` uses each batch's max (and std) instead — a different objective, offered by name only. " +
    "Weights below float32's smallest value become 0; a reward above c (a weight above 1) is a ConfigError naming the row: the statistics do not describe the data.",
  fields: expRsftFields,
  factory(config, globals) {
    const c = validateObjectiveConfig<ExpRsftConfig>('exp_rsft', expRsftFields, config);
    const p = resolveExpParams('exp_rsft', c, globals, 'reward');
    return statelessObjective('exp_rsft', (b) => expResult(b.reward, p, 'exp_rsft'));
  },
};

// ---------------------------------------------------------------- exp_rsft_trajectory

const trajectoryFields = expFields(true, 'R(τ)');

export const expRsftTrajectoryEntry: OfflineObjectiveEntry = {
  summary: 'Trajectory-level Exp-RSFT: w_τ = exp((R(τ) − c)/λ) on every step of a session or user trajectory.',
  doc:
    'Trajectory-level Exp-RSFT (paper 000 §5, Eq. 20): loss −(1/|D|)·Σ_τ exp(R(τ)/λ)·Σ_t log π(a_t|s_t), so every row of trajectory τ gets the weight w_τ. ' +
    "R(τ) is the batch's `return` column when present (split_sequences writes the sum of the user's — or session's — train rewards), " +
    'otherwise the sum of `reward` over the rows sharing the trajectory key (the stage keeps trajectories whole across batch boundaries). ' +
    'Standardised by default (R̃ = (R − μ)/σ, as the paper recommends for returns; λ → λσ). The shift c and σ must describe returns, not per-step rewards: ' +
    'pass `stats_path` to statistics computed with reward_stats `column: return`, or `shift`/`scale`, or use shift_mode: batch. ' +
    "Inside train_sasrec and train_gaussian, R(τ) is the sum of the user's training-target rewards over the whole input (computed once, not per minibatch), " +
    'and c and σ are the max and std of R over users unless `stats_path` is given (trajectory-table.ts).',
  fields: trajectoryFields,
  inputs: { group: true, trajectoryReturn: true },
  factory(config, globals) {
    const c = validateObjectiveConfig<ExpRsftConfig>('exp_rsft_trajectory', trajectoryFields, config);
    const p = resolveExpParams('exp_rsft_trajectory', c, globals, 'return');
    return statelessObjective('exp_rsft_trajectory', (b: WeightingBatch) => {
      let R = b.trajectoryReturn;
      let trajectories: number | undefined;
      if (!R) {
        if (!b.group) {
          throw new Error(
            'exp_rsft_trajectory: the batch has neither a trajectory return nor a group (trajectory key) column; pass `group` (session or user id)',
          );
        }
        checkedSum(b.reward, 'exp_rsft_trajectory');
        const t = trajectoryReturns(b.reward, b.group);
        R = t.perRow;
        trajectories = t.trajectories;
      }
      return expResult(R, p, 'exp_rsft_trajectory', trajectories !== undefined ? { trajectories } : {});
    });
  },
};
