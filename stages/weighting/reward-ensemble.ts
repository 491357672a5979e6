/**
 * Reward-model ensembles as the online proxy (Coste et al. 2024; Eisenstein
 * et al. 2024; paper 004 Table 1 and App. G), for K members R_1 … R_K scored
 * on the same candidates:
 *
 *   Ensemble-Mean:  R_μ(x, y)   = (1/K) Σ_j R_j(x, y)
 *   Ensemble-UWO:   R_UWO(x, y) = R_μ(x, y) − λ·D(x, y)
 *
 * where the disagreement D is the members' population variance
 * Var_j R_j = (1/K) Σ_j (R_j − R_μ)² (the paper's App. G, λ = 1), or their
 * standard deviation √Var_j R_j (SPEC S10's "mean minus λ·std"). The policy
 * sees only the combined reward. Members are combined as given (the paper
 * z-scores members of different backbones first; ours share one scale).
 */
import { NonFiniteInputError } from './numeric.js';

export type EnsembleCombine = 'mean' | 'uwo';
export type EnsembleDisagreement = 'var' | 'std';

export interface EnsembleOptions {
  combine: EnsembleCombine;
  /** λ of UWO. */
  lambda: number;
  disagreement: EnsembleDisagreement;
}

/** The combined reward of each candidate, and the mean disagreement (as a diagnostic). */
export function combineEnsemble(members: readonly ArrayLike<number>[], opts: EnsembleOptions): { reward: Float64Array; disagreement: number } {
  const K = members.length;
  if (K === 0) throw new RangeError('reward ensemble: no members');
  const n = members[0]!.length;
  members.forEach((m, j) => {
    if (m.length !== n) throw new RangeError(`reward ensemble: member ${j} scored ${m.length} candidates, member 0 scored ${n}`);
  });
  const reward = new Float64Array(n);
  let dSum = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < K; j++) {
      const v = members[j]![i]!;
      if (!Number.isFinite(v)) throw new NonFiniteInputError('reward ensemble', `member ${j}`, i, v);
      s += v;
    }
    const mean = s / K;
    let ss = 0;
    for (let j = 0; j < K; j++) {
      const d = members[j]![i]! - mean;
      ss += d * d;
    }
    const variance = ss / K;
    const d = opts.disagreement === 'var' ? variance : Math.sqrt(variance);
    dSum += d;
    reward[i] = opts.combine === 'mean' ? mean : mean - opts.lambda * d;
  }
  return { reward, disagreement: n ? dSum / n : 0 };
}
