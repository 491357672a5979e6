/**
 * Building blocks the project's seeded generators and hashes share. The
 * generators themselves stay separate on purpose: the simulators draw from
 * xoshiro128** (stages/simulators/rng.ts) and training from sfc32
 * (stages/train/rng.ts), and each stream is part of a contract (simulated
 * logs reproduce from a seed; a resumed training run makes exactly the draws
 * of an uninterrupted one), so neither may change.
 */

const MULBERRY32_INCREMENT = 0x6d2b79f5;

/** Advance a mulberry32 state (one unsigned 32-bit integer: its whole state). */
export function mulberry32Next(state: number): number {
  return (state + MULBERRY32_INCREMENT) >>> 0;
}

/** mulberry32's output, an unsigned 32-bit value, for an advanced state. */
export function mulberry32Output(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/**
 * mulberry32 as a closure: uniform numbers in [0, 1) from a 32-bit seed. Small
 * and fast; for generated test and benchmark data (and, through its state
 * functions, the quantile sketch's coin), not for the simulators or training.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = mulberry32Next(a);
    return mulberry32Output(a) / 4294967296;
  };
}

/** The murmur3 32-bit finaliser: a well-mixed unsigned 32-bit value of any 32-bit input. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Shuffle `a` in place (Fisher–Yates, from the end) with `int(n)`, a uniform integer in [0, n). */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(a: T, int: (n: number) => number): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
