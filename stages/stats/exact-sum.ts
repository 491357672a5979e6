/**
 * Exact, order-independent sums of float64 values, for reward moments that
 * merge bit for bit across shards (SPEC S2: shard statistics equal the whole
 * run's whatever the grouping of the batches).
 *
 * A float64 x is ±m·2^(s−1074) with an integer m < 2^53 and s ≥ 0 (the bits
 * of its encoding). The accumulator keeps integer-valued float64 limbs L_j
 * of weight 2^(32j−1074) (a "small superaccumulator", after Neal 2015): m·2^(s mod 32)
 * is split into three 32-bit pieces added to limbs ⌊s/32⌋ … ⌊s/32⌋+2. Every
 * piece is below 2^32 and limbs are normalised (carries moved up) every 2^19
 * additions, so no limb ever leaves the integers float64 holds exactly
 * (2^53): the sum is exact, and the same values give the same limbs whatever
 * the order or grouping of the additions.
 *
 * ExactMomentSums combines per-batch moments with it (a few additions per
 * batch, so the per-value cost stays Welford's). Products are split exactly
 * when |mean| ≤ 2^500 (beyond, M2 reads +∞) and no product underflows
 * (|values| above ~2^−500). Results are rounded once, to nearest, from BigInt
 * (subnormal results may round twice).
 */

const LIMBS = 72;
const TWO32 = 4294967296;
const NORMALISE_EVERY = 1 << 19;
const SPLITTER = 134217729; // 2^27 + 1
const SQUARE_LIMIT = 2 ** 500;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/** Exact running sum of float64 values. */
export class ExactSum {
  readonly limbs = new Float64Array(LIMBS);
  private pending = 0;

  /** Add a finite value exactly. */
  add(x: number): void {
    if (x === 0) return;
    f64[0] = x;
    const hi = u32[HI]!;
    const lo = u32[LO]!;
    const bexp = (hi >>> 20) & 0x7ff;
    let mh = hi & 0xfffff;
    let s = 0;
    if (bexp !== 0) {
      mh |= 0x100000;
      s = bexp - 1;
    }
    const j = s >>> 5;
    const r = s & 31;
    const sign = hi >>> 31 ? -1 : 1;
    const L = this.limbs;
    if (r === 0) {
      L[j]! += sign * lo;
      L[j + 1]! += sign * mh;
    } else {
      L[j]! += sign * ((lo << r) >>> 0);
      L[j + 1]! += sign * (((lo >>> (32 - r)) | (mh << r)) >>> 0);
      L[j + 2]! += sign * (mh >>> (32 - r));
    }
    if (++this.pending >= NORMALISE_EVERY) this.normalise();
  }

  /** Move carries up so that every limb but the top lies in [0, 2^32). */
  normalise(): void {
    const L = this.limbs;
    for (let j = 0; j < LIMBS - 1; j++) {
      const carry = Math.floor(L[j]! / TWO32);
      if (carry !== 0) {
        L[j]! -= carry * TWO32;
        L[j + 1]! += carry;
      }
    }
    this.pending = 0;
  }

  /** Add another sum (exact). */
  merge(o: ExactSum): void {
    this.normalise();
    o.normalise();
    for (let j = 0; j < LIMBS; j++) this.limbs[j]! += o.limbs[j]!;
    this.normalise();
  }

  /** The sum as an integer multiple of 2^−1074. */
  toBigInt(): bigint {
    this.normalise();
    let v = 0n;
    for (let j = LIMBS - 1; j >= 0; j--) v = (v << 32n) + BigInt(this.limbs[j]!);
    return v;
  }

  /** The limbs, normalised (JSON state). */
  toJSON(): number[] {
    this.normalise();
    let n = LIMBS;
    while (n > 0 && this.limbs[n - 1] === 0) n--;
    return Array.from(this.limbs.subarray(0, n));
  }

  static fromJSON(limbs: readonly number[]): ExactSum {
    const s = new ExactSum();
    if (limbs.length > LIMBS || limbs.some((v) => !Number.isSafeInteger(v))) throw new Error('exact sum state: expected at most 72 integer limbs');
    s.limbs.set(limbs);
    return s;
  }
}

/** x·y = hi + lo exactly (Dekker's product with Veltkamp halves; no overflow or underflow assumed). */
export function twoProduct(x: number, y: number): [number, number] {
  const p = x * y;
  const tx = SPLITTER * x;
  const xh = tx - (tx - x);
  const xl = x - xh;
  const ty = SPLITTER * y;
  const yh = ty - (ty - y);
  const yl = y - yh;
  return [p, xl * yl - (p - xh * yh - xl * yh - xh * yl)];
}

/**
 * Batch moments combined exactly: for batches b with (n_b, mean_b, M2_b),
 *   S = Σ n_b·mean_b,   Q = Σ (M2_b + n_b·mean_b²),
 * kept as exact sums (the products split exactly by twoProduct), so that
 *   mean = S/n,   M2 = Q − S²/n = Σ M2_b + Σ n_b·(mean_b − mean)²
 * (Chan et al.'s combination, written as sums) are the same bit for bit in
 * whatever order or grouping the batches are combined. Each batch's own
 * moments are Welford's (moments.ts), so a batch is rounded as before, once.
 */
export class ExactMomentSums {
  sum = new ExactSum();
  squares = new ExactSum();
  /** A batch mean above 2^500 in magnitude: its square does not fit a float64 (M2 reads +∞). */
  squaresOverflowed = false;

  /** Fold one batch's moments (count, mean, m2). */
  addBatch(m: { count: number; mean: number; m2: number }): void {
    const n = m.count;
    if (n === 0) return;
    const [s1, s2] = twoProduct(n, m.mean);
    this.sum.add(s1);
    this.sum.add(s2);
    this.squares.add(m.m2);
    if (Math.abs(m.mean) > SQUARE_LIMIT || !Number.isFinite(m.m2)) {
      this.squaresOverflowed = true;
      return;
    }
    const [q1, q2] = twoProduct(m.mean, m.mean);
    for (const q of [q1, q2]) {
      const [a, b] = twoProduct(n, q);
      this.squares.add(a);
      this.squares.add(b);
    }
  }

  merge(o: ExactMomentSums): void {
    this.sum.merge(o.sum);
    this.squares.merge(o.squares);
    this.squaresOverflowed ||= o.squaresOverflowed;
  }

  /** Mean S/n, correctly rounded (0 when n = 0). */
  mean(n: number): number {
    return n > 0 ? ratioToDouble(this.sum.toBigInt(), BigInt(n), -1074) : 0;
  }

  /** M2 = (n·Q − S²)/n, correctly rounded (+∞ after an overflowed square), never below 0. */
  m2(n: number): number {
    if (n === 0) return 0;
    if (this.squaresOverflowed) return Infinity;
    const s = this.sum.toBigInt();
    const num = ((BigInt(n) * this.squares.toBigInt()) << 1074n) - s * s;
    return num <= 0n ? 0 : ratioToDouble(num, BigInt(n), -2148);
  }
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** num/den · 2^exp2 rounded to the nearest float64 (den > 0). */
export function ratioToDouble(num: bigint, den: bigint, exp2: number): number {
  if (num === 0n) return 0;
  const neg = num < 0n;
  const a = neg ? -num : num;
  const shift = Math.max(0, 66 - (bitLength(a) - bitLength(den)));
  const scaled = a << BigInt(shift);
  let q = scaled / den;
  const inexact = scaled % den !== 0n;
  let e = exp2 - shift;
  const qb = bitLength(q);
  if (qb > 64) {
    const drop = qb - 64;
    const low = q & ((1n << BigInt(drop)) - 1n);
    q >>= BigInt(drop);
    e += drop;
    if (low !== 0n || inexact) q |= 1n;
  } else if (inexact) q |= 1n;
  // q has at least 64 significant bits and a sticky last bit: Number() rounds it once, to nearest.
  let v = Number(q);
  while (e > 900) {
    v *= 2 ** 900;
    e -= 900;
  }
  while (e < -900) {
    v *= 2 ** -900;
    e += 900;
  }
  v *= 2 ** e;
  return neg ? -v : v;
}
