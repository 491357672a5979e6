import { describe, expect, it } from 'vitest';
import type { ListColumn } from '../../stages/core/batch.js';
import type { RankingScorer } from '../../stages/core/policy.js';
import { BlockedRanking, exclusionLists, itemBlocks, scoreBlockFloats } from '../../stages/eval/blocked-topk.js';
import { chunkRanks } from '../../stages/eval/chunk-ranks.js';
import { blockScores, targetScores } from '../../stages/eval/factor-scores.js';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateRanking } from '../../stages/eval/ranking-evaluator.js';
import { targetRanks } from '../../stages/eval/ranking-metrics.js';
import { topKPerRow } from '../../stages/export/top-k.js';
import { initBackend } from '../../stages/train/backend.js';
import { SASREC_CONFIG as CONFIG, sasrecRows, tiedPolicy } from './sasrec-fixture.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import { listColumn } from './helpers.js';

/** Random rows: scores on a coarse grid (many ties), some NaN; histories with padding, repeats, the target and out-of-range ids. */
function workload(seed: number, rows: number, numItems: number) {
  const rnd = mulberry32(seed);
  const scores = new Float32Array(rows * numItems);
  for (let i = 0; i < scores.length; i++) scores[i] = rnd() < 0.02 ? NaN : Math.floor(rnd() * 6) / 4;
  const targets = Int32Array.from({ length: rows }, () => 1 + Math.floor(rnd() * (numItems - 1)));
  const hist: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const len = Math.floor(rnd() * 9);
    const h = Array.from({ length: len }, () => Math.floor(rnd() * (numItems + 2)) - 1);
    if (rnd() < 0.3) h.push(targets[r]!);
    if (rnd() < 0.3 && h.length) h.push(h[0]!);
    hist.push(h);
  }
  // Some NaN target scores.
  for (let r = 0; r < rows; r += 7) scores[r * numItems + targets[r]!] = NaN;
  return { scores, targets, contexts: listColumn(hist) };
}

/** Columns [start, end) of row-major scores. */
function columns(scores: Float32Array, rows: number, numItems: number, start: number, end: number): Float32Array {
  const out = new Float32Array(rows * (end - start));
  for (let r = 0; r < rows; r++) out.set(scores.subarray(r * numItems + start, r * numItems + end), r * (end - start));
  return out;
}

function shuffled<T>(a: T[], rnd: () => number): T[] {
  const b = [...a];
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [b[i], b[j]] = [b[j]!, b[i]!];
  }
  return b;
}

function blockedScan(
  scores: Float32Array,
  numItems: number,
  targets: Int32Array,
  contexts: ListColumn<Int32Array> | undefined,
  k: number,
  width: number,
  seed: number,
) {
  const rows = targets.length;
  const st = Float32Array.from(targets, (t, r) => scores[r * numItems + t]!);
  const state = new BlockedRanking(numItems, targets, st, exclusionLists(contexts, rows, numItems), k);
  // Blocks in a shuffled order, the padding column included in the first block.
  for (const [s, e] of shuffled(itemBlocks(0, numItems, width), mulberry32(seed))) state.addBlock(columns(scores, rows, numItems, s, e), s, e);
  return state;
}

describe('blocked ranking equals full-row targetRanks and topKPerRow (brute force)', () => {
  for (const [seed, rows, numItems, width, k] of [
    [1, 40, 37, 5, 4],
    [2, 25, 101, 13, 10],
    [3, 30, 12, 1, 20],
    [4, 10, 64, 64, 3],
  ] as const) {
    it(`seed ${seed}: ${rows} rows × ${numItems} items in blocks of ${width}, top-${k}`, () => {
      const { scores, targets, contexts } = workload(seed, rows, numItems);
      for (const exclude of [true, false]) {
        const candidates = new Int32Array(rows);
        const expected = targetRanks(scores, numItems, targets, contexts, { excludeHistory: exclude, candidates });
        const got = blockedScan(scores, numItems, targets, exclude ? contexts : undefined, k, width, seed).result();
        expect(Array.from(got.ranks)).toEqual(Array.from(expected));
        expect(Array.from(got.candidates)).toEqual(Array.from(candidates));
        const top = topKPerRow(scores, numItems, contexts, k, exclude);
        for (let r = 0; r < rows; r++) {
          const want = Array.from(top.items.subarray(top.offsets[r]!, top.offsets[r + 1]!));
          const have = Array.from(got.topItems.subarray(r * k, r * k + k)).filter((j) => j >= 0);
          expect(have).toEqual(want);
          expect(Array.from(got.topScores.subarray(r * k, r * k + want.length))).toEqual(Array.from(top.scores.subarray(top.offsets[r]!, top.offsets[r + 1]!)));
        }
      }
    });
  }

  it('merges the states of disjoint item ranges into the whole-catalog state', () => {
    const numItems = 50;
    const { scores, targets, contexts } = workload(9, 20, numItems);
    const st = Float32Array.from(targets, (t, r) => scores[r * numItems + t]!);
    const ex = exclusionLists(contexts, 20, numItems);
    const whole = new BlockedRanking(numItems, targets, st, ex, 6);
    whole.addBlock(scores, 0, numItems);
    const a = new BlockedRanking(numItems, targets, st, ex, 6);
    const b = new BlockedRanking(numItems, targets, st, ex, 6);
    a.addBlock(columns(scores, 20, numItems, 0, 31), 0, 31);
    b.addBlock(columns(scores, 20, numItems, 31, numItems), 31, numItems);
    b.merge(a);
    expect(b.result()).toEqual(whole.result());
  });

  it('refuses a block of the wrong shape or outside the catalog', () => {
    const s = new BlockedRanking(10, Int32Array.of(3), Float32Array.of(0.5), exclusionLists(undefined, 1, 10));
    expect(() => s.addBlock(new Float32Array(4), 0, 5)).toThrow('blocked ranking: 4 scores for 1 rows × 5 items');
    expect(() => s.addBlock(new Float32Array(12), 0, 12)).toThrow('blocked ranking: block [0, 12) is outside the catalog 0..9');
  });

  it('states the bound in floats: 64 MB holds 16,777,216 scores (512 contexts × 32,768 items)', () => {
    expect(scoreBlockFloats(64)).toBe(16_777_216);
    expect(scoreBlockFloats(64) / 512).toBe(32_768);
  });
});

/** A scorer with fixed scores per context id (the context's first item), counting the largest call. */
class TableScorer implements RankingScorer {
  largest = 0;
  constructor(
    readonly numItems: number,
    private readonly table: Float32Array,
  ) {}
  async scoreContexts(contexts: ListColumn<Int32Array>): Promise<Float32Array> {
    const rows = contexts.offsets.length - 1;
    const out = new Float32Array(rows * this.numItems);
    for (let r = 0; r < rows; r++) {
      const id = contexts.values[contexts.offsets[r]!]!;
      out.set(this.table.subarray(id * this.numItems, (id + 1) * this.numItems), r * this.numItems);
    }
    this.largest = Math.max(this.largest, out.length);
    return out;
  }
}

describe('chunkRanks under a score bound', () => {
  it('scores fewer contexts per call for a scorer without factors, with the same ranks', async () => {
    const numItems = 40;
    const rows = 30;
    const { scores } = workload(5, rows, numItems);
    const rnd = mulberry32(6);
    // Context r starts with id r (the table row), then history items.
    const ctx = listColumn(Array.from({ length: rows }, (_, r) => [r, ...Array.from({ length: 4 }, () => 1 + Math.floor(rnd() * (numItems - 1)))]));
    const targets = Int32Array.from({ length: rows }, () => 1 + Math.floor(rnd() * (numItems - 1)));
    const full = new TableScorer(numItems, scores);
    const want = await chunkRanks(full, ctx, targets, ctx, { excludeHistory: true, maxScoreFloats: rows * numItems });
    const bounded = new TableScorer(numItems, scores);
    const got = await chunkRanks(bounded, ctx, targets, ctx, { excludeHistory: true, maxScoreFloats: 3 * numItems + 5 });
    expect(bounded.largest).toBe(3 * numItems);
    expect(Array.from(got.ranks)).toEqual(Array.from(want.ranks));
    expect(Array.from(got.candidates)).toEqual(Array.from(want.candidates));
    expect(Array.from(want.ranks)).toEqual(Array.from(targetRanks(scores.subarray(0, rows * numItems), numItems, targets, ctx)));
  });
});

describe('the block kernel', () => {
  it('gives the stock transposed product bit for bit on wasm and cpu, for dimensions below, at and across the 48-wide block', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await initBackend(backend);
      const rnd = mulberry32(17);
      for (const [rows, width, dim] of [
        [3, 50, 16],
        [40, 300, 48],
        [64, 500, 64],
        [9, 257, 100],
      ] as const) {
        const h = Float32Array.from({ length: rows * dim }, () => rnd() * 2 - 1);
        const items = Float32Array.from({ length: width * dim }, () => rnd() * 2 - 1);
        const stock = tf.tidy(() => tf.matMul(tf.tensor2d(h, [rows, dim]), tf.tensor2d(items, [width, dim]), false, true).dataSync());
        expect(blockScores(h, rows, dim, items, width)).toEqual(stock);
        // A block of the items gives the same columns; each target score equals its column.
        const cols = blockScores(h, rows, dim, items.subarray(7 * dim, 19 * dim), 12);
        for (let r = 0; r < rows; r++) for (let j = 0; j < 12; j++) expect(cols[r * 12 + j]).toBe(stock[r * width + 7 + j]);
        const targets = Int32Array.from({ length: rows }, () => Math.floor(rnd() * width));
        expect(Array.from(targetScores(h, dim, items, targets))).toEqual(Array.from(targets, (t, r) => stock[r * width + t]));
      }
    }
  });
});

describe('SASRec in item blocks gives the ranks of whole-catalog scoring', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`on ${backend}: blocks of 7 items, ties included`, async () => {
      await initBackend(backend);
      const policy = tiedPolicy();
      const { ctx, targets } = sasrecRows(4, 70, CONFIG.numItems);
      const full = await policy.scoreContexts(ctx);
      // Ties really occur: item 3 and its copies score alike in every row.
      expect(full[5]).toBe(full[3]);
      for (const exclude of [true, false]) {
        const candidates = new Int32Array(targets.length);
        const want = targetRanks(full, CONFIG.numItems, targets, ctx, { excludeHistory: exclude, candidates });
        const got = await chunkRanks(policy, ctx, targets, ctx, { excludeHistory: exclude, maxScoreFloats: 70 * 7 });
        expect(Array.from(got.ranks)).toEqual(Array.from(want));
        expect(Array.from(got.candidates)).toEqual(Array.from(candidates));
      }
      // End to end through evaluateRanking: the same metric sums as with the bound large enough for whole rows.
      const batch = { table: 'examples', numRows: 70, columns: { context: ctx, action: targets, split: new Int32Array(70).fill(2) } };
      const key = { run: 'r', method: 'm', seed: 0, step: 0, epoch: 0 };
      const a = await evaluateRanking(policy, batch, { ks: [1, 5], excludeHistory: true, batchRows: 32, key });
      const b = await evaluateRanking(policy, batch, { ks: [1, 5], excludeHistory: true, batchRows: 32, key, maxScoreFloats: 100 });
      expect(b.toRecords()).toEqual(a.toRecords());
      policy.dispose();
    });
  }
});
