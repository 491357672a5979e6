import { describe, expect, it } from 'vitest';
import { GridHistogram } from '../../stages/stats/grid-histogram.js';
import { rng } from './helpers.js';

function column(n: number, seed: number, lo: number, hi: number): Float64Array {
  const u = rng(seed);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * u());
}

/** Brute force: count every value in [edge_i, edge_{i+1}) of the reported bins. */
function bruteCounts(x: ArrayLike<number>, edges: number[]): number[] {
  const out = new Array(edges.length - 1).fill(0);
  for (let i = 0; i < x.length; i++) {
    let b = 0;
    while (b < out.length && !(x[i]! >= edges[b]! && x[i]! < edges[b + 1]!)) b++;
    if (b === out.length) throw new Error(`value ${x[i]} outside the histogram`);
    out[b]++;
  }
  return out;
}

describe('GridHistogram', () => {
  it('puts every value in its [i·w, (i+1)·w) bin, with the smallest power-of-two width that fits maxBins', () => {
    const x = column(5000, 1, -3.7, 12.2);
    const h = new GridHistogram({ baseWidth: 1 / 64, maxBins: 32 }).add(x);
    const { edges, counts } = h.bins();
    expect(counts.length).toBeLessThanOrEqual(32);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(counts).toEqual(bruteCounts(x, edges));
    // width = base·2^scale, and half the width would need more than maxBins bins.
    expect(h.width).toBe((1 / 64) * 2 ** h.scale);
    const half = h.width / 2;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of x) {
      lo = Math.min(lo, Math.floor(v / half));
      hi = Math.max(hi, Math.floor(v / half));
    }
    expect(hi - lo + 1).toBeGreaterThan(32);
    // Edges are multiples of the width (grid anchored at 0).
    for (const e of edges) expect(Number.isInteger(e / h.width)).toBe(true);
  });

  it('places values on bin edges (integer ratings) in the bin they open', () => {
    const x = Float32Array.from([1, 2, 2, 3, 5, 5, 5, 4]);
    const h = new GridHistogram({ baseWidth: 0.125, maxBins: 64 }).add(x);
    const { edges, counts } = h.bins();
    expect(edges[0]).toBe(1);
    expect(edges[edges.length - 1]).toBe(5.125);
    expect(counts[0]).toBe(1); // [1, 1.125)
    expect(counts[8]).toBe(2); // [2, 2.125)
    expect(counts[counts.length - 1]).toBe(3); // [5, 5.125)
  });

  it('merges shards exactly into the histogram of the union, in any order', () => {
    const a = column(3000, 2, 0, 1);
    const b = column(2000, 3, -40, -39); // far away: forces coarsening on merge
    const c = column(1000, 4, 0.5, 0.6);
    const whole = new GridHistogram({ baseWidth: 1 / 1024, maxBins: 64 });
    for (const part of [a, b, c]) whole.add(part);
    const shards = [a, b, c].map((p) => new GridHistogram({ baseWidth: 1 / 1024, maxBins: 64 }).add(p));
    const m1 = new GridHistogram({ baseWidth: 1 / 1024, maxBins: 64 }).merge(shards[0]!).merge(shards[1]!).merge(shards[2]!);
    const m2 = new GridHistogram({ baseWidth: 1 / 1024, maxBins: 64 }).merge(shards[2]!).merge(shards[0]!).merge(shards[1]!);
    expect(m1.toJSON()).toEqual(whole.toJSON());
    expect(m2.toJSON()).toEqual(whole.toJSON());
    const all = Float64Array.from([...a, ...b, ...c]);
    const { edges, counts } = m1.bins();
    expect(counts).toEqual(bruteCounts(all, edges));
    // Order of the values does not matter either.
    const reversed = new GridHistogram({ baseWidth: 1 / 1024, maxBins: 64 }).add(all.slice().reverse());
    expect(reversed.toJSON()).toEqual(whole.toJSON());
  });

  it('round-trips through JSON and refuses to merge different grids', () => {
    const h = new GridHistogram({ baseWidth: 0.5, maxBins: 8 }).add(column(100, 5, 0, 3));
    const r = GridHistogram.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
    expect(r.bins()).toEqual(h.bins());
    r.add(Float64Array.of(100));
    h.add(Float64Array.of(100));
    expect(r.toJSON()).toEqual(h.toJSON());
    expect(() => h.merge(new GridHistogram({ baseWidth: 0.25, maxBins: 8 }))).toThrow(/different grids/);
    expect(() => new GridHistogram({ maxBins: 1 })).toThrow(/maxBins/);
    expect(new GridHistogram().bins()).toEqual({ edges: [], counts: [] });
  });
});
