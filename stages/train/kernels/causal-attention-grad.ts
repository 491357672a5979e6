/**
 * The score gradient of causal softmax attention on typed arrays, for
 * P = softmax(S) [N, T, T] whose entries above the diagonal are exactly 0
 * (a causal mask), and dP = ∂L/∂P:
 *   D_ij = P_ij · (dP_ij − Σ_k dP_ik P_ik)   (= ∂L/∂S_ij, the softmax Jacobian)
 * written as D and Dᵀ together with Pᵀ, the three operands the backward
 * products need (dQ ∝ D·K, dK ∝ Dᵀ·Q, dV = Pᵀ·dO), in one pass that reads
 * only the T(T+1)/2 entries on and below each diagonal. The row sums are
 * accumulated in float64.
 */
export function causalAttentionScoreGrad(p: Float32Array, dp: Float32Array, n: number, t: number, d: Float32Array, dT: Float32Array, pT: Float32Array): void {
  for (let b = 0; b < n; b++) {
    const base = b * t * t;
    for (let i = 0; i < t; i++) {
      const row = base + i * t;
      let r = 0;
      for (let j = 0; j <= i; j++) r += dp[row + j]! * p[row + j]!;
      for (let j = 0; j <= i; j++) {
        const pij = p[row + j]!;
        const v = pij * (dp[row + j]! - r);
        d[row + j] = v;
        dT[base + j * t + i] = v;
        pT[base + j * t + i] = pij;
      }
      d.fill(0, row + i + 1, row + t);
      // Row i of the transposes: columns 0..i−1 lie below the diagonal of the originals' columns, i.e. above theirs: zero.
      dT.fill(0, row, row + i);
      pT.fill(0, row, row + i);
    }
  }
}
