import { describe, expect, it } from 'vitest';
import { checkKs, metricValuesOfRank, rankingMetricNames, rankingMetricSums, targetRanks } from '../../stages/eval/ranking-metrics.js';
import { listColumn } from './helpers.js';

const row = (...s: number[]) => Float32Array.from(s);

describe('targetRanks on hand-computed cases', () => {
  // Catalog 0..5 (0 = padding with a huge score that must be ignored).
  const scores = row(9, 0.5, 0.9, 0.5, 0.1, 0.7);

  it('counts items above and ties against the model, never the padding', () => {
    // Above target 1 (0.5): items 2 (0.9), 5 (0.7); tied: item 3. rank = 1 + 2 + 1.
    expect(Array.from(targetRanks(scores, 6, Int32Array.of(1), undefined))).toEqual([4]);
    // Target 2 is the best: rank 1. Target 4 is the worst of 5 candidates.
    expect(Array.from(targetRanks(scores, 6, Int32Array.of(2), undefined))).toEqual([1]);
    expect(Array.from(targetRanks(scores, 6, Int32Array.of(4), undefined))).toEqual([5]);
  });

  it('excludes history items once each, keeps the target even when it is in the history', () => {
    const candidates = new Int32Array(1);
    // History [2, 2, 4]: item 2 (above) leaves; duplicates count once; item 4 is below anyway.
    expect(Array.from(targetRanks(scores, 6, Int32Array.of(1), listColumn([[2, 2, 4]]), { candidates }))).toEqual([3]);
    expect(candidates[0]).toBe(3);
    // History [1, 5] with target 1: 5 leaves, the target stays: rank = 1 + 1 (item 2) + 1 (tie 3).
    expect(Array.from(targetRanks(scores, 6, Int32Array.of(1), listColumn([[1, 5]]), { candidates }))).toEqual([3]);
    expect(candidates[0]).toBe(4);
    // A tied history item leaves too: history [3] → rank 1 + 2.
    expect(Array.from(targetRanks(scores, 6, Int32Array.of(1), listColumn([[3]])))).toEqual([3]);
    // Padding inside a history is ignored.
    expect(Array.from(targetRanks(scores, 6, Int32Array.of(1), listColumn([[0]])))).toEqual([4]);
  });

  it('keeps history items when exclusion is off', () => {
    expect(Array.from(targetRanks(scores, 6, Int32Array.of(1), listColumn([[2]]), { excludeHistory: false }))).toEqual([4]);
  });

  it('gives a constant scorer the worst rank and a NaN target the worst rank', () => {
    const flat = new Float32Array(6).fill(0.3);
    expect(Array.from(targetRanks(flat, 6, Int32Array.of(3), undefined))).toEqual([5]);
    const nan = row(0, 0.1, NaN, 0.2, 0.3, 0.4);
    expect(Array.from(targetRanks(nan, 6, Int32Array.of(2), listColumn([[4]])))).toEqual([4]);
    // NaN on another item is never above the target.
    expect(Array.from(targetRanks(nan, 6, Int32Array.of(1), undefined))).toEqual([4]);
  });

  it('handles several rows at once', () => {
    const two = new Float32Array([...scores, ...row(0, 0.1, 0.2, 0.3, 0.4, 0.5)]);
    expect(Array.from(targetRanks(two, 6, Int32Array.of(1, 5), listColumn([[2], [4]])))).toEqual([3, 1]);
  });

  it('rejects targets outside the catalog and mismatched shapes', () => {
    expect(() => targetRanks(scores, 6, Int32Array.of(0), undefined)).toThrow(/row 0: target item 0 is outside the catalog 1..5/);
    expect(() => targetRanks(scores, 6, Int32Array.of(6), undefined)).toThrow(/outside the catalog/);
    expect(() => targetRanks(scores, 5, Int32Array.of(1), undefined)).toThrow(/expected 1 rows × 5 items/);
    expect(() => targetRanks(scores, 6, Int32Array.of(1), listColumn([[1], [2]]))).toThrow(/2 contexts for 1 targets/);
  });
});

describe('metric values', () => {
  it('follow the closed forms', () => {
    const names = rankingMetricNames([3, 10]);
    expect(names).toEqual(['ndcg@3', 'ndcg@10', 'hr@3', 'hr@10', 'mrr']);
    const v = Array.from(metricValuesOfRank(4, [3, 10]));
    expect(v[0]).toBe(0);
    expect(v[1]).toBeCloseTo(1 / Math.log2(5), 15);
    expect(v.slice(2)).toEqual([0, 1, 0.25]);
    const first = Array.from(metricValuesOfRank(1, [3, 10]));
    expect(first).toEqual([1, 1, 1, 1, 1]);
  });

  it('validates cut-offs', () => {
    expect(() => checkKs([])).toThrow(/at least one/);
    expect(() => checkKs([0])).toThrow(/positive integer/);
    expect(() => checkKs([10, 10])).toThrow(/twice/);
  });
});

/** Brute force: sort the candidates by score, the target placed after every item tied with it. */
function bruteRank(scores: Float32Array, numItems: number, r: number, target: number, history: number[], exclude: boolean): number {
  const drop = new Set(exclude ? history.filter((j) => j !== target) : []);
  const cands: number[] = [];
  for (let j = 1; j < numItems; j++) if (!drop.has(j)) cands.push(j);
  const s = (j: number) => scores[r * numItems + j]!;
  cands.sort((a, b) => s(b) - s(a) || (a === target ? 1 : b === target ? -1 : a - b));
  return cands.indexOf(target) + 1;
}

describe('targetRanks against a sort-based brute force', () => {
  for (const exclude of [true, false]) {
    it(`agrees on random scores with many ties (excludeHistory=${exclude})`, () => {
      const numItems = 40;
      const rows = 300;
      let seed = 12345;
      const rnd = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 4294967296;
      };
      const scores = new Float32Array(rows * numItems);
      for (let i = 0; i < scores.length; i++) scores[i] = Math.floor(rnd() * 12) / 12; // coarse: many ties
      const histories = Array.from({ length: rows }, () => Array.from({ length: Math.floor(rnd() * 8) }, () => Math.floor(rnd() * numItems)));
      const targets = Int32Array.from({ length: rows }, () => 1 + Math.floor(rnd() * (numItems - 1)));
      // Some targets repeat a history item.
      for (let r = 0; r < rows; r += 7) if (histories[r]!.length) targets[r] = Math.max(1, histories[r]![0]!);
      const ranks = targetRanks(scores, numItems, targets, listColumn(histories), { excludeHistory: exclude });
      const brute = Array.from({ length: rows }, (_v, r) => bruteRank(scores, numItems, r, targets[r]!, histories[r]!, exclude));
      expect(Array.from(ranks)).toEqual(brute);

      // The summed metrics equal the formulas applied to the brute-force ranks.
      const ks = [5, 10];
      const sums = rankingMetricSums(ranks, ks).get(0)!;
      const mean = (f: (rank: number) => number) => brute.reduce((a, rank) => a + f(rank), 0);
      expect(sums['hr@5']!.sum).toBe(mean((rank) => (rank <= 5 ? 1 : 0)));
      expect(sums['ndcg@10']!.sum).toBeCloseTo(
        mean((rank) => (rank <= 10 ? 1 / Math.log2(rank + 1) : 0)),
        12,
      );
      expect(sums.mrr!.sum).toBeCloseTo(
        mean((rank) => 1 / rank),
        12,
      );
      expect(sums.mrr!.sumSq).toBeCloseTo(
        mean((rank) => 1 / (rank * rank)),
        12,
      );
      expect(sums.mrr!.count).toBe(rows);
    });
  }

  it('groups sums by split code and skips negative codes', () => {
    const ranks = Int32Array.of(1, 2, 4, 8);
    const g = rankingMetricSums(ranks, [2], [2, 1, 2, -1]);
    expect([...g.keys()].sort()).toEqual([1, 2]);
    expect(g.get(2)!.mrr).toEqual({ sum: 1 + 0.25, sumSq: 1 + 0.0625, count: 2 });
    expect(g.get(1)!['hr@2']).toEqual({ sum: 1, sumSq: 1, count: 1 });
  });
});
