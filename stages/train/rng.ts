/**
 * Seeded, stateless-by-construction randomness for training.
 *
 * Every random draw of a run is a pure function of (seed, purpose, counters):
 * the shuffle of epoch e is `streamFor(seed, SHUFFLE, e)`, the dropout masks of
 * optimiser step s are `streamFor(seed, DROPOUT, s, layer)`. A checkpoint
 * therefore needs only the counters (epoch, step, batch position) to resume
 * with exactly the draws the uninterrupted run would have made.
 *
 * The generator is sfc32 (Small Fast Counting, 128-bit state), seeded by
 * hashing the key words with a murmur3-style mixer.
 */
import { mix32, shuffleInPlace } from '../core/seeded-random.js';

/** Purposes, so that streams for different uses never coincide. */
export const RNG_PURPOSE = {
  init: 1,
  shuffle: 2,
  dropout: 3,
  negatives: 4,
  sample: 5,
  contexts: 6,
} as const;

/** Hash a list of integers (any sign, up to 2^53) into a 32-bit value. */
export function hashWords(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    const lo = w >>> 0;
    const hi = Math.floor(w / 4294967296) >>> 0;
    h = mix32(h ^ mix32(lo + 0x7f4a7c15));
    h = mix32(h ^ mix32(hi + 0x165667b1));
  }
  return h;
}

/** A small deterministic generator (sfc32). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(...key: number[]) {
    this.a = hashWords(...key, 1);
    this.b = hashWords(...key, 2);
    this.c = hashWords(...key, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, pairs cached). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    return shuffleInPlace(a, (n) => this.int(n));
  }
}

/** The generator for one purpose and counter tuple of a run. */
export function streamFor(seed: number, purpose: number, ...counters: number[]): Rng {
  return new Rng(seed, purpose, ...counters);
}

/** A random permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return rng.shuffle(p);
}

/**
 * Draw k indices from a categorical distribution given by unnormalised
 * log-weights (row `row` of a [rows × n] array), by inverse CDF on the
 * max-shifted exponentials. Index `skip` (e.g. padding 0) is never drawn.
 */
export function sampleCategorical(
  logits: Float32Array | Float64Array,
  offset: number,
  n: number,
  k: number,
  rng: Rng,
  out: Int32Array,
  outOffset: number,
  skip = -1,
): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (i !== skip && logits[offset + i]! > max) max = logits[offset + i]!;
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    if (i !== skip) acc += Math.exp(logits[offset + i]! - max);
    cdf[i] = acc;
  }
  for (let s = 0; s < k; s++) {
    const u = rng.uniform() * acc;
    // binary search for the first cdf[i] > u
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    // cdf[lo-1] ≤ u < cdf[lo] implies a positive weight at lo, so `skip` is never drawn.
    out[outOffset + s] = lo;
  }
}
