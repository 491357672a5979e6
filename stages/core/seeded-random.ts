/**
 * Building blocks the project's seeded generators and hashes share. The
 * generators themselves stay separate on purpose: the simulators draw from
 * xoshiro128** (stages/simulators/rng.ts) and training from sfc32
 * (stages/train/rng.ts), and each stream is part of a contract (simulated
 * logs reproduce from a seed; a resumed training run makes exactly the draws
 * of an uninterrupted one), so neither may change.
 */

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
