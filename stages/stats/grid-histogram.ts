/**
 * A histogram on a fixed grid anchored at 0, so that shards merge exactly.
 *
 * How bins are chosen: bin i covers [i·w, (i+1)·w) for every integer i, with
 * width w = baseWidth·2^scale. Counts are kept densely for the bins between
 * the lowest and highest occupied one. When that span would exceed `maxBins`,
 * the width doubles (scale + 1) and neighbouring bins pair up: bin i at width
 * 2w is the union of bins 2i and 2i + 1 at width w, and the bin of a value is
 * computed as ⌊x·(1/baseWidth)·2^−scale⌋, where scaling by a power of two is
 * exact in floating point, so ⌊x/2w⌋ = ⌊⌊x/w⌋/2⌋ holds bit for bit. Hence the
 * final scale is the smallest one whose span fits in `maxBins`, whatever the
 * order of the data, and two histograms with the same baseWidth and maxBins
 * merge (coarsen both to the larger scale, add bin by bin, coarsen again if
 * the union is wider) into exactly the histogram of the union. Nothing falls
 * below or above the range: the grid is infinite, only its occupied window is
 * stored.
 */

export interface GridHistogramOptions {
  /** Finest bin width (default 2^−10); the width actually used is baseWidth·2^scale. */
  baseWidth?: number;
  /** Most bins kept (≥ 2; default 64). */
  maxBins?: number;
}

export interface GridHistogramState {
  baseWidth: number;
  maxBins: number;
  scale: number;
  /** Grid index of counts[0] at the current width. */
  start: number;
  counts: number[];
}

export const DEFAULT_HISTOGRAM_BASE_WIDTH = 1 / 1024;
export const DEFAULT_HISTOGRAM_BINS = 64;

/** Re-bin dense counts from `fromScale` to `toScale` ≥ fromScale; returns the new start and counts. */
function coarsen(start: number, counts: Float64Array, by: number): { start: number; counts: Float64Array } {
  if (by === 0 || counts.length === 0) return { start, counts };
  const f = 2 ** by;
  const ns = Math.floor(start / f);
  const ne = Math.floor((start + counts.length - 1) / f);
  const out = new Float64Array(ne - ns + 1);
  for (let i = 0; i < counts.length; i++) out[Math.floor((start + i) / f) - ns]! += counts[i]!;
  return { start: ns, counts: out };
}

export class GridHistogram {
  readonly baseWidth: number;
  readonly maxBins: number;
  scale = 0;
  start = 0;
  counts: Float64Array = new Float64Array(0);
  private readonly invBase: number;
  private inv: number;

  constructor(opts: GridHistogramOptions = {}) {
    this.baseWidth = opts.baseWidth ?? DEFAULT_HISTOGRAM_BASE_WIDTH;
    this.maxBins = opts.maxBins ?? DEFAULT_HISTOGRAM_BINS;
    if (!(this.baseWidth > 0) || !Number.isFinite(this.baseWidth))
      throw new RangeError(`histogram base width must be a positive number, got ${this.baseWidth}`);
    if (!Number.isInteger(this.maxBins) || this.maxBins < 2) throw new RangeError(`histogram maxBins must be an integer ≥ 2, got ${this.maxBins}`);
    this.invBase = 1 / this.baseWidth;
    this.inv = this.invBase;
  }

  /** Current bin width. */
  get width(): number {
    return this.baseWidth * 2 ** this.scale;
  }

  get total(): number {
    let s = 0;
    for (let i = 0; i < this.counts.length; i++) s += this.counts[i]!;
    return s;
  }

  private setScale(scale: number): void {
    this.scale = scale;
    this.inv = this.invBase * 2 ** -scale;
  }

  /** Add every value of a column (finite values only). */
  add(values: Float32Array | Float64Array): this {
    let inv = this.inv;
    let start = this.start;
    let counts = this.counts;
    let len = counts.length;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      const b = Math.floor(x * inv) - start;
      if (b >= 0 && b < len) counts[b]!++;
      else {
        this.addOutside(x);
        inv = this.inv;
        start = this.start;
        counts = this.counts;
        len = counts.length;
      }
    }
    return this;
  }

  /** Widen the window (coarsening when it would exceed maxBins) to include x, then count it. */
  private addOutside(x: number): void {
    const b = Math.floor(x * this.inv);
    let lo = this.counts.length ? Math.min(this.start, b) : b;
    let hi = this.counts.length ? Math.max(this.start + this.counts.length - 1, b) : b;
    let by = 0;
    while (hi - lo + 1 > this.maxBins) {
      lo = Math.floor(lo / 2);
      hi = Math.floor(hi / 2);
      by++;
    }
    const c = coarsen(this.start, this.counts, by);
    this.setScale(this.scale + by);
    const out = new Float64Array(hi - lo + 1);
    if (c.counts.length) out.set(c.counts, c.start - lo);
    this.start = lo;
    this.counts = out;
    out[Math.floor(x * this.inv) - lo]!++;
  }

  /** Fold another histogram (same baseWidth and maxBins) into this one; `other` is unchanged. */
  merge(other: GridHistogram): this {
    if (other.baseWidth !== this.baseWidth || other.maxBins !== this.maxBins) {
      throw new RangeError(
        `cannot merge histograms on different grids (base width ${this.baseWidth} vs ${other.baseWidth}, max bins ${this.maxBins} vs ${other.maxBins})`,
      );
    }
    if (other.counts.length === 0) return this;
    if (this.counts.length === 0) {
      this.setScale(other.scale);
      this.start = other.start;
      this.counts = other.counts.slice();
      return this;
    }
    let scale = Math.max(this.scale, other.scale);
    let a = coarsen(this.start, this.counts, scale - this.scale);
    let b = coarsen(other.start, other.counts, scale - other.scale);
    let lo = Math.min(a.start, b.start);
    let hi = Math.max(a.start + a.counts.length, b.start + b.counts.length) - 1;
    let by = 0;
    while (hi - lo + 1 > this.maxBins) {
      lo = Math.floor(lo / 2);
      hi = Math.floor(hi / 2);
      by++;
    }
    a = coarsen(a.start, a.counts, by);
    b = coarsen(b.start, b.counts, by);
    scale += by;
    const out = new Float64Array(hi - lo + 1);
    for (let i = 0; i < a.counts.length; i++) out[a.start - lo + i]! += a.counts[i]!;
    for (let i = 0; i < b.counts.length; i++) out[b.start - lo + i]! += b.counts[i]!;
    this.setScale(scale);
    this.start = lo;
    this.counts = out;
    return this;
  }

  /** Bin edges (length bins + 1) and counts, for reports. */
  bins(): { edges: number[]; counts: number[] } {
    if (this.counts.length === 0) return { edges: [], counts: [] };
    const w = this.width;
    const edges: number[] = [];
    for (let i = 0; i <= this.counts.length; i++) edges.push((this.start + i) * w);
    return { edges, counts: Array.from(this.counts) };
  }

  toJSON(): GridHistogramState {
    return { baseWidth: this.baseWidth, maxBins: this.maxBins, scale: this.scale, start: this.start, counts: Array.from(this.counts) };
  }

  static fromJSON(s: GridHistogramState): GridHistogram {
    const h = new GridHistogram({ baseWidth: s.baseWidth, maxBins: s.maxBins });
    if (!Array.isArray(s.counts) || s.counts.length > s.maxBins) throw new Error(`histogram state: counts must be an array of at most ${s.maxBins} bins`);
    h.setScale(s.scale);
    h.start = s.start;
    h.counts = Float64Array.from(s.counts);
    return h;
  }
}
