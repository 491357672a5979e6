/**
 * Exact promptwise solutions of paper 004 (§3 and Appendix H; SPEC S5): for one
 * prompt with n responses, proxy rewards r̂ and an ℓ1 ambiguity budget δ, the
 * policy is a point π of the simplex Δ_n.
 *
 * Values:
 * - DRRO hard value F_δ(π; r̂) = ⟨π, r̂⟩ − max_i (r̂_i − δπ_i)   (Eq. 3.4); the
 *   worst-case regret is δ − F_δ (Proposition 3.3, Eq. 3.2).
 * - DRRO soft value F_{δ,τ}(π; r̂) = ⟨π, r̂⟩ − τ·log Σ_i exp((r̂_i − δπ_i)/τ)   (Eq. 4.6),
 *   with F_{δ,τ} ≤ F_δ ≤ F_{δ,τ} + τ log n (Proposition 4.2).
 * - DRO value ⟨π, r̂⟩ − δ‖π‖_∞.
 *
 * Optimisers:
 * - drroWaterFilling: Theorem 3.4 (water-filling with leftover mass).
 * - droTopM: Lemma H.1 (uniform on the top m responses).
 *
 * Note on Theorem 3.4's large-δ remark: the paper says every response is active
 * (t* = t₀ and π_i = 1/n + (r̂_i − r̄)/δ) once δ > Σ_i (r̂_i − r̂_n). That is not
 * sufficient: t* = t₀ also needs Σ_i (r̂₁ − r̂_i) ≤ δ. For r̂ = (10, 0, 0), δ = 11
 * the remark's policy has worst-case regret 1.27, while the theorem's own t*
 * (= 0) gives the greedy policy with regret 1 (checked by brute force in the tests).
 * The closed form holds for δ ≥ max(Σ(r̂_i − r̂_n), Σ(r̂₁ − r̂_i)), i.e. for large δ.
 */

/** Indices of r sorted by decreasing reward, ties by index (a stable order satisfying Eq. 3.3). */
function orderDesc(r: ArrayLike<number>): number[] {
  const idx = Array.from({ length: r.length }, (_, i) => i);
  idx.sort((a, b) => r[b]! - r[a]! || a - b);
  return idx;
}

function checkInput(where: string, r: ArrayLike<number>, delta: number): void {
  if (r.length === 0) throw new RangeError(`${where}: needs at least one reward`);
  for (let i = 0; i < r.length; i++) if (!Number.isFinite(r[i]!)) throw new RangeError(`${where}: reward ${i} is ${r[i]}`);
  if (!(delta >= 0) || !Number.isFinite(delta)) throw new RangeError(`${where}: δ must be a finite number ≥ 0, got ${delta}`);
}

function dot(p: ArrayLike<number>, r: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += p[i]! * r[i]!;
  return s;
}

/** F_δ(π; r̂) = ⟨π, r̂⟩ − max_i (r̂_i − δπ_i) (Eq. 3.4). */
export function drroHardValue(policy: ArrayLike<number>, rewards: ArrayLike<number>, delta: number): number {
  let m = -Infinity;
  for (let i = 0; i < rewards.length; i++) m = Math.max(m, rewards[i]! - delta * policy[i]!);
  return dot(policy, rewards) - m;
}

/** Worst-case regret max_{‖Δ‖₁ ≤ δ} Reg(π, r̂ + Δ) = δ − F_δ(π; r̂) (Proposition 3.3). */
export function drroWorstCaseRegret(policy: ArrayLike<number>, rewards: ArrayLike<number>, delta: number): number {
  return delta - drroHardValue(policy, rewards, delta);
}

/** F_{δ,τ}(π; r̂) = ⟨π, r̂⟩ − τ·log Σ exp((r̂_i − δπ_i)/τ) (Eq. 4.6), log-sum-exp computed stably. */
export function drroSoftValue(policy: ArrayLike<number>, rewards: ArrayLike<number>, delta: number, tau: number): number {
  if (!(tau > 0)) throw new RangeError(`drroSoftValue: τ must be > 0, got ${tau}`);
  const n = rewards.length;
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, (rewards[i]! - delta * policy[i]!) / tau);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp((rewards[i]! - delta * policy[i]!) / tau - m);
  return dot(policy, rewards) - tau * (m + Math.log(s));
}

/** DRO value ⟨π, r̂⟩ − δ‖π‖_∞. */
export function droValue(policy: ArrayLike<number>, rewards: ArrayLike<number>, delta: number): number {
  let m = 0;
  for (let i = 0; i < policy.length; i++) m = Math.max(m, Math.abs(policy[i]!));
  return dot(policy, rewards) - delta * m;
}

export interface WaterFillingSolution {
  /** π*, in the order of the input rewards. */
  policy: Float64Array;
  /** t₀: Σ_i (r̂_i − t₀)₊ = δ (Eq. 3.5). */
  t0: number;
  /** t* = inf{t ≥ t₀ : Σ_{r̂_i > t} (r̂₁ − r̂_i) ≤ δ}. */
  tStar: number;
  /** Index (in the input) of the best response, which receives the leftover mass. */
  best: number;
  /** F_δ(π*; r̂). */
  value: number;
  /** Worst-case regret δ − F_δ(π*; r̂), the minimum of problem (3.1). */
  worstCaseRegret: number;
}

/**
 * DRRO's promptwise optimiser (Theorem 3.4): with r̂ sorted decreasingly,
 * π_i = (r̂_i − t*)₊/δ for i ≥ 2 and π₁ = 1 − Σ_{i≥2} π_i. δ = 0 gives the
 * greedy vertex e₁ (the δ → 0 limit). O(n log n).
 */
export function drroWaterFilling(rewards: ArrayLike<number>, delta: number): WaterFillingSolution {
  checkInput('drroWaterFilling', rewards, delta);
  const n = rewards.length;
  const order = orderDesc(rewards);
  const r = order.map((i) => rewards[i]!);
  const policy = new Float64Array(n);
  const best = order[0]!;
  if (delta === 0) {
    policy[best] = 1;
    const value = drroHardValue(policy, rewards, 0);
    return { policy, t0: r[0]!, tStar: r[0]!, best, value, worstCaseRegret: -value };
  }
  // t₀: on [r₍ₖ₊₁₎, r₍ₖ₎) the left side of Eq. 3.5 is S_k − k·t; take the first k whose root lies there.
  let t0 = r[0]! - delta;
  let S = 0;
  for (let k = 1; k <= n; k++) {
    S += r[k - 1]!;
    const t = (S - delta) / k;
    if (k === n || r[k]! <= t) {
      t0 = t;
      break;
    }
  }
  // a = inf{t : Σ_{r̂_i > t}(r̂₁ − r̂_i) ≤ δ} = r₍J₊₁₎ with J the largest j whose D_j = Σ_{i≤j}(r̂₁ − r̂_i) ≤ δ.
  let D = 0;
  let J = 1;
  for (let j = 2; j <= n; j++) {
    D += r[0]! - r[j - 1]!;
    if (D <= delta) J = j;
    else break;
  }
  const a = J < n ? r[J]! : -Infinity;
  const tStar = Math.max(t0, a);
  let rest = 0;
  for (let k = 1; k < n; k++) {
    const p = Math.max(0, r[k]! - tStar) / delta;
    policy[order[k]!] = p;
    rest += p;
  }
  policy[best] = 1 - rest;
  const value = drroHardValue(policy, rewards, delta);
  return { policy, t0, tStar, best, value, worstCaseRegret: delta - value };
}

export interface TopMSolution {
  /** Uniform on the m best responses, in the order of the input rewards. */
  policy: Float64Array;
  m: number;
  /** max_k A_k − δ/k = the DRO value of the policy. */
  value: number;
}

/**
 * The DRO optimiser (Lemma H.1): with r̂ sorted decreasingly and A_k the mean of
 * the top k, the policy is uniform on the top m, m ∈ argmax_k A_k − δ/k
 * (the smallest such m on ties). δ = 0 gives m = 1 (greedy).
 */
export function droTopM(rewards: ArrayLike<number>, delta: number): TopMSolution {
  checkInput('droTopM', rewards, delta);
  const n = rewards.length;
  const order = orderDesc(rewards);
  let S = 0;
  let bestV = -Infinity;
  let m = 1;
  for (let k = 1; k <= n; k++) {
    S += rewards[order[k - 1]!]!;
    const v = S / k - delta / k;
    if (k === 1 || v > bestV + 1e-12 * (1 + Math.abs(bestV))) {
      bestV = v;
      m = k;
    }
  }
  const policy = new Float64Array(n);
  for (let k = 0; k < m; k++) policy[order[k]!] = 1 / m;
  return { policy, m, value: bestV };
}
