/**
 * A small, fast, seeded pseudo-random generator for the simulators.
 *
 * xoshiro128** (Blackman & Vigna) on four 32-bit words, seeded through a
 * splitmix32-style mixer. Everything is 32-bit integer arithmetic (Math.imul,
 * >>> 0), so a seed gives the same stream on every platform and Node version.
 *
 * Independent streams are derived from a base seed and integer keys
 * (`Rng.derive(seed, STREAM_ITEMS, userId)`), so a user's log does not depend
 * on how users are grouped into batches or in which order they are generated.
 */
import { mix32 as murmurMix32, shuffleInPlace } from '../core/seeded-random.js';

/** One round of a splitmix32-style finaliser (add the golden-ratio increment, then murmur3's finaliser): a well-mixed 32-bit value. */
function mix32(x: number): number {
  return murmurMix32((x + 0x9e3779b9) | 0);
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second Box–Muller deviate, kept for the next call. */
  private spare = 0;
  private hasSpare = false;

  /** A generator for `seed` (any finite integer, negative and > 2^32 included). */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    const s = Math.trunc(seed);
    const lo = s >>> 0;
    const hi = Math.floor(s / TWO_POW_32) >>> 0;
    let h = mix32(lo ^ mix32(hi));
    this.s0 = h = mix32(h);
    this.s1 = h = mix32(h);
    this.s2 = h = mix32(h);
    this.s3 = h = mix32(h);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * An independent stream for (seed, ...keys): the keys are folded into the
   * seed through the mixer, so nearby keys give unrelated streams.
   */
  static derive(seed: number, ...keys: number[]): Rng {
    const s = Math.trunc(seed);
    let h = mix32((s >>> 0) ^ mix32(Math.floor(s / TWO_POW_32) >>> 0));
    for (const k of keys) h = mix32(h ^ mix32((k >>> 0) ^ Math.imul(Math.floor(k / TWO_POW_32) >>> 0, 0x27d4eb2d)));
    return new Rng(h);
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal deviate (Box–Muller, both deviates used). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.next(); // (0, 1]
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Exponential deviate with mean 1. */
  exponential(): number {
    return -Math.log(1 - this.next());
  }

  /** Standard Gumbel deviate −log(−log U); logits + Gumbel, top k = k draws without replacement (Plackett–Luce). */
  gumbel(): number {
    const u = this.next() + 5.551115123125783e-17; // in (0, 1): never 0 or 1
    return -Math.log(-Math.log(u));
  }

  /** Shuffle `a` in place (Fisher–Yates). */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    return shuffleInPlace(a, (n) => this.int(n));
  }

  /** Fill an array with i.i.d. N(0, sd²) deviates. */
  fillNormal(out: Float32Array | Float64Array, sd = 1, mean = 0): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = mean + sd * this.normal();
    return out;
  }
}
