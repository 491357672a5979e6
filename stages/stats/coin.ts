/**
 * The sketch's source of random bits: mulberry32, a 32-bit-state generator
 * whose whole state is one integer, so a sketch saved as JSON resumes with the
 * same future coin flips (deterministic under a seed, across save/restore).
 */
import { mulberry32Next, mulberry32Output } from '../core/seeded-random.js';

export class Coin {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    this.state = mulberry32Next(this.state);
    return mulberry32Output(this.state);
  }

  /** A fair bit, 0 or 1. */
  flip(): number {
    return this.nextUint32() >>> 31;
  }
}
