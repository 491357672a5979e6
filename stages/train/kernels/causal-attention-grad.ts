/**
 * The score gradient of causal softmax attention on typed arrays, for
 * P = softmax(S) [N, T, T] whose entries above the diagonal are exactly 0
 * (a causal mask), and dP = ∂L/∂P:
 *   D_ij = P_ij · (dP_ij − Σ_k dP_ik P_ik)   (= ∂L/∂S_ij, the softmax Jacobian)
 * written as D and Dᵀ together with Pᵀ, the three operands the backward
 * products need (dQ ∝ D·K, dK ∝ Dᵀ·Q, dV = Pᵀ·dO), reading only the
 * T(T+1)/2 entries on and below each diagonal. The row sums are accumulated
 * in float64, in four interleaved partial sums (one running sum is a chain
 * of dependent adds).
 *
 * D is written row by row; Dᵀ and Pᵀ are then copied from D and P in
 * square tiles on and below the diagonal, four source rows at a time (so
 * each inner step writes four consecutive elements of each transpose), and
 * the transposes' zero parts below their diagonal tiles are filled per row:
 * ≈ 2× faster than writing the transposes element by element down columns.
 */
const TILE = 16;

export function causalAttentionScoreGrad(p: Float32Array, dp: Float32Array, n: number, t: number, d: Float32Array, dT: Float32Array, pT: Float32Array): void {
  for (let b = 0; b < n; b++) {
    const base = b * t * t;
    scoreGradRows(p, dp, base, t, d);
    transposeLowerTiles(d, p, base, t, dT, pT);
  }
}

/** D, Dᵀ and Pᵀ of one [T, T] entry (arrays of T² elements each, see `causalAttentionScoreGrad`). */
export function causalScoreGradEntry(p: Float32Array, dp: Float32Array, t: number, d: Float32Array, dT: Float32Array, pT: Float32Array): void {
  scoreGradRows(p, dp, 0, t, d);
  transposeLowerTiles(d, p, 0, t, dT, pT);
}

/** Rows of D for one [T, T] block at `base` (zeros above the diagonal). */
function scoreGradRows(p: Float32Array, dp: Float32Array, base: number, t: number, d: Float32Array): void {
  for (let i = 0; i < t; i++) {
    const row = base + i * t;
    let r0 = 0;
    let r1 = 0;
    let r2 = 0;
    let r3 = 0;
    let j = 0;
    for (; j + 3 <= i; j += 4) {
      r0 += dp[row + j]! * p[row + j]!;
      r1 += dp[row + j + 1]! * p[row + j + 1]!;
      r2 += dp[row + j + 2]! * p[row + j + 2]!;
      r3 += dp[row + j + 3]! * p[row + j + 3]!;
    }
    for (; j <= i; j++) r0 += dp[row + j]! * p[row + j]!;
    const r = r0 + r1 + (r2 + r3);
    for (j = 0; j <= i; j++) d[row + j] = p[row + j]! * (dp[row + j]! - r);
    d.fill(0, row + i + 1, row + t);
  }
}

/**
 * dT[j, i] = d[i, j] and pT[j, i] = p[i, j] for one [T, T] block, both
 * sources zero above their diagonals: the tiles on and below the diagonal
 * are copied, and in the transposes everything left of row j's diagonal
 * tile (zero there) is filled.
 */
function transposeLowerTiles(d: Float32Array, p: Float32Array, base: number, t: number, dT: Float32Array, pT: Float32Array): void {
  for (let j = 0; j < t; j++) {
    const start = base + j * t;
    const tileStart = j - (j % TILE);
    dT.fill(0, start, start + tileStart);
    pT.fill(0, start, start + tileStart);
  }
  for (let i0 = 0; i0 < t; i0 += TILE) {
    const i1 = Math.min(t, i0 + TILE);
    for (let j0 = 0; j0 <= i0; j0 += TILE) {
      const j1 = Math.min(t, j0 + TILE);
      let i = i0;
      for (; i + 3 < i1; i += 4) {
        const s0 = base + i * t;
        const s1 = s0 + t;
        const s2 = s1 + t;
        const s3 = s2 + t;
        for (let j = j0; j < j1; j++) {
          const w = base + j * t + i;
          dT[w] = d[s0 + j]!;
          dT[w + 1] = d[s1 + j]!;
          dT[w + 2] = d[s2 + j]!;
          dT[w + 3] = d[s3 + j]!;
          pT[w] = p[s0 + j]!;
          pT[w + 1] = p[s1 + j]!;
          pT[w + 2] = p[s2 + j]!;
          pT[w + 3] = p[s3 + j]!;
        }
      }
      for (; i < i1; i++) {
        const s = base + i * t;
        for (let j = j0; j < j1; j++) {
          const w = base + j * t + i;
          dT[w] = d[s + j]!;
          pT[w] = p[s + j]!;
        }
      }
    }
  }
}
