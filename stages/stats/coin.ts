/**
 * The sketch's source of random bits: mulberry32, a 32-bit-state generator
 * whose whole state is one integer, so a sketch saved as JSON resumes with the
 * same future coin flips (deterministic under a seed, across save/restore).
 */
export class Coin {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A fair bit, 0 or 1. */
  flip(): number {
    return this.nextUint32() >>> 31;
  }
}
