/**
 * Walker's alias method (Vose's construction): O(n) set-up, O(1) draws from a
 * fixed discrete distribution. The logging policies draw millions of items
 * from Zipfian popularity charts; a binary search per draw would cost log n.
 */
import type { Rng } from './rng.js';

export class AliasTable {
  /** Probability of keeping column i (else take alias[i]). */
  private readonly keep: Float64Array;
  private readonly alias: Int32Array;
  readonly size: number;

  /** `weights` need not be normalised; they must be finite, ≥ 0, and not all 0. */
  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new Error('AliasTable: no weights');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`AliasTable: weight ${i} is ${w}; weights must be finite and ≥ 0`);
      total += w;
    }
    if (!(total > 0)) throw new Error('AliasTable: weights sum to 0');
    this.size = n;
    this.keep = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i]! * n) / total;
      if (scaled[i]! < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns]!;
      const l = large[--nl]!;
      this.keep[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      if (scaled[l]! < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    // Leftovers are 1 up to rounding.
    while (nl > 0) {
      const l = large[--nl]!;
      this.keep[l] = 1;
      this.alias[l] = l;
    }
    while (ns > 0) {
      const s = small[--ns]!;
      this.keep[s] = 1;
      this.alias[s] = s;
    }
  }

  /** One index in [0, size) drawn with probability weights[i] / Σ weights. */
  sample(rng: Rng): number {
    const u = rng.next() * this.size;
    const i = Math.floor(u);
    return u - i < this.keep[i]! ? i : this.alias[i]!;
  }

  /** The probability the table assigns to index i (for tests and diagnostics). */
  probability(i: number): number {
    let p = this.keep[i]!;
    for (let j = 0; j < this.size; j++) if (j !== i && this.alias[j] === i) p += 1 - this.keep[j]!;
    return p / this.size;
  }
}
