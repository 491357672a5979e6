/**
 * The scaled ambiguity budget δ̃ of the regret bonuses (paper 004 §4.5, Eq. 4.17; SPEC S5).
 *
 * - fixed: δ̃ = `delta`, default 2.5·G (δ = 40 for G = 16 in the paper's runs).
 * - dynamic: δ̃ = δ̃₀ + α·KL̄, where KL̄ is the mean of the last `window` (20)
 *   per-update KL estimates, the current update included. An update's estimate
 *   is the mean over its groups of either
 *     k3:    mean_k(exp(z_k) − z_k − 1), z_k = log π₀(y_k|x) − log π̄(y_k|x)   (Schulman's k3), or
 *     exact: KL(π̄‖π₀) over the whole catalog, supplied per group (the better
 *            estimator where the catalog is finite).
 *   One δ̃ is used for every group of the update (the paper smooths one KL
 *   statistic over updates). δ̃₀ defaults to 0, the paper's reported runs
 *   (δ_t = α·KL̂_t); Eq. 4.17 allows a pilot-calibrated δ̃₀ ≥ 0.
 *
 * The window is the explicit, JSON-serialisable state.
 */
export interface BudgetState {
  /** Per-update KL estimates, oldest first, at most `window` long. */
  window: number[];
}

export interface BudgetParams {
  mode: 'fixed' | 'dynamic';
  /** Fixed δ̃; undefined → 2.5·G. */
  delta?: number;
  delta0: number;
  alpha: number;
  window: number;
  estimator: 'k3' | 'exact';
}

/** exp(z) is capped at exp(700) so an extreme log-ratio gives a huge but finite KL. */
const Z_CAP = 700;

/** Schulman's k3 estimate of KL(π̄‖π₀): mean of exp(z) − z − 1 over all candidates. */
export function k3Kl(refLogProb: Float64Array, rolloutLogProb: Float64Array): number {
  const n = refLogProb.length;
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const z = refLogProb[i]! - rolloutLogProb[i]!;
    if (z > -1e-2 && z < 1e-2) {
      // Taylor series z²/2 + z³/6 + …: exp(z) − z − 1 would cancel to 0 for tiny z.
      s += z * z * (0.5 + z * (1 / 6 + z * (1 / 24 + z * (1 / 120 + z / 720))));
    } else s += z < Z_CAP ? Math.expm1(z) - z : Math.exp(Z_CAP) - z;
  }
  return s / n;
}

export function meanOf(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return x.length ? s / x.length : 0;
}

export interface BudgetInput {
  groupSize: number;
  rolloutLogProb: Float64Array;
  refLogProb?: Float64Array;
  exactKl?: Float64Array;
}

export interface ResolvedBudget {
  delta: number;
  /** This update's KL estimate, when one could be formed. */
  kl?: number;
  /** The window mean (dynamic budget). */
  klSmoothed?: number;
  state: BudgetState;
}

/** This update's KL estimate with the chosen estimator, or undefined when its input is absent. */
export function updateKl(input: BudgetInput, estimator: 'k3' | 'exact'): number | undefined {
  if (estimator === 'exact') return input.exactKl ? meanOf(input.exactKl) : undefined;
  return input.refLogProb ? k3Kl(input.refLogProb, input.rolloutLogProb) : undefined;
}

/** δ̃ for this update and the next state (the input state is not modified). */
export function resolveBudget(where: string, p: BudgetParams, input: BudgetInput, state: BudgetState): ResolvedBudget {
  const kl = updateKl(input, p.estimator);
  if (p.mode === 'fixed') {
    return { delta: p.delta ?? 2.5 * input.groupSize, ...(kl !== undefined ? { kl } : {}), state: { window: [...state.window] } };
  }
  if (kl === undefined) {
    throw new Error(
      p.estimator === 'exact'
        ? `${where}: the dynamic budget with the exact estimator needs exactKl (KL(π̄‖π₀) per group over the catalog)`
        : `${where}: the dynamic budget with the k3 estimator needs refLogProb (log π₀ of each candidate under the reference policy)`,
    );
  }
  // Rounding may leave an exact KL a hair below 0; anything else is bad input.
  if (!Number.isFinite(kl) || kl < -1e-9) throw new RangeError(`${where}: the KL estimate is ${kl}; it must be a finite number ≥ 0`);
  const window = [...state.window, Math.max(0, kl)].slice(-p.window);
  const klSmoothed = window.reduce((a, b) => a + b, 0) / window.length;
  return { delta: p.delta0 + p.alpha * klSmoothed, kl, klSmoothed, state: { window } };
}
