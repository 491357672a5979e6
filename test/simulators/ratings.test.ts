import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { expectedRoundedRating, ratingProbabilities, roundClipRating } from '../../stages/simulators/expected-rating.js';
import { generateRatingsWorld, simulateUserRatings, type UserRatings } from '../../stages/simulators/ratings-generate.js';
import { ratingsWorldParams, resolveRatingsOptions, type RatingsOptions } from '../../stages/simulators/ratings-options.js';
import { RatingsWorld } from '../../stages/simulators/ratings-world.js';
import { MovieLensWriter } from '../../stages/simulators/movielens-writer.js';
import { DenseRatingsTruth, denseExpectedRatings, readDenseToRaw } from '../../stages/simulators/dense-truth.js';
import { Rng } from '../../stages/simulators/rng.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-ratings-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SMALL: Partial<RatingsOptions> = { num_users: 60, num_items: 150, ratings_per_user_min: 10, ratings_per_user_max: 60 };

function world(over: Partial<RatingsOptions> = {}, seed = 1, preset = 'small'): RatingsWorld {
  return generateRatingsWorld(ratingsWorldParams(resolveRatingsOptions(preset, { ...SMALL, ...over }), seed));
}

function logs(w: RatingsWorld): UserRatings[] {
  return Array.from({ length: w.numUsers }, (_, j) => simulateUserRatings(w, j + 1));
}

describe('expected rating E[clip(round(x + ε), 1, 5)]', () => {
  it('agrees with a Monte Carlo estimate within 4 standard errors', () => {
    const rng = new Rng(21);
    const n = 40_000;
    for (const [x, sigma] of <[number, number][]>[
      [3.2, 0.8],
      [4.5, 0.3],
      [0.2, 1.1],
      [6.3, 1.5],
      [2.5, 0.05],
    ]) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const r = roundClipRating(x + sigma * rng.normal());
        s += r;
        s2 += r * r;
      }
      const mean = s / n;
      const se = Math.sqrt((s2 / n - mean * mean) / n);
      expect(Math.abs(expectedRoundedRating(x, sigma) - mean), `x=${x} σ=${sigma}`).toBeLessThanOrEqual(4 * se + 1e-9);
    }
  });

  it('is exact at σ → 0 and consistent with the bin probabilities', () => {
    for (const x of [-1, 0.9, 1.49, 1.51, 2.2, 3.7, 4.49, 4.51, 7]) {
      expect(expectedRoundedRating(x, 0)).toBe(Math.min(5, Math.max(1, Math.round(x))));
      expect(expectedRoundedRating(x, 1e-9)).toBeCloseTo(Math.min(5, Math.max(1, Math.round(x))), 12);
      for (const sigma of [0.3, 1, 2.5]) {
        const p = ratingProbabilities(x, sigma);
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
        expect(p.every((v) => v >= 0)).toBe(true);
        expect(p.reduce((a, v, i) => a + (i + 1) * v, 0)).toBeCloseTo(expectedRoundedRating(x, sigma), 13);
      }
    }
    // Far outside the scale the clip wins; at the centre of the scale symmetry gives 3.
    expect(expectedRoundedRating(-20, 1)).toBe(1);
    expect(expectedRoundedRating(30, 1)).toBe(5);
    expect(expectedRoundedRating(3, 0.9)).toBeCloseTo(3, 14);
    // Monotone in x.
    let prev = 0;
    for (let x = -2; x <= 8; x += 0.05) {
      const e = expectedRoundedRating(x, 0.7);
      expect(e).toBeGreaterThan(prev);
      prev = e;
    }
  });
});

describe('simulated ratings log', () => {
  it('gives integer ratings in 1..5, distinct items per user, counts in range, timestamps strictly increasing', () => {
    const w = world();
    for (const l of logs(w)) {
      expect(l.items.length).toBeGreaterThanOrEqual(10);
      expect(l.items.length).toBeLessThanOrEqual(60);
      expect(new Set(l.items).size).toBe(l.items.length);
      for (let j = 0; j < l.items.length; j++) {
        expect(Number.isInteger(l.ratings[j]) && l.ratings[j]! >= 1 && l.ratings[j]! <= 5).toBe(true);
        expect(l.items[j]! >= 1 && l.items[j]! <= w.numItems).toBe(true);
        expect(Number.isInteger(l.timestamps[j])).toBe(true);
        if (j > 0) expect(l.timestamps[j]!).toBeGreaterThan(l.timestamps[j - 1]!);
      }
    }
  });

  it('draws ratings whose mean is the world’s expected rating (within 4 standard errors)', () => {
    const w = world({ num_users: 300 });
    let diff = 0;
    let n = 0;
    let varSum = 0;
    for (const l of logs(w)) {
      for (let j = 0; j < l.items.length; j++) {
        const p = w.ratingDistribution(l.user, l.items[j]!);
        const e = w.expectedRating(l.user, l.items[j]!);
        diff += l.ratings[j]! - e;
        varSum += p.reduce((a, v, i) => a + (i + 1 - e) ** 2 * v, 0);
        n++;
      }
    }
    expect(n).toBeGreaterThan(5000);
    expect(Math.abs(diff)).toBeLessThanOrEqual(4 * Math.sqrt(varSum));
  });

  it('mixes popularity and taste in who rates what', () => {
    const w = world({ num_users: 300 });
    const perItem = new Float64Array(w.numItems + 1);
    let loggedExpected = 0;
    let n = 0;
    for (const l of logs(w)) {
      for (const i of l.items) {
        perItem[i]! += 1;
        loggedExpected += w.expectedRating(l.user, i);
        n++;
      }
    }
    // Popular items (top decile of the chart) are rated far more often than the bottom decile.
    let top = 0;
    let bottom = 0;
    for (let i = 1; i <= w.numItems; i++) {
      if (w.itemPopularityRank[i]! <= 15) top += perItem[i]!;
      if (w.itemPopularityRank[i]! > 135) bottom += perItem[i]!;
    }
    expect(top).toBeGreaterThan(3 * bottom);
    // Taste: rated items have a higher expected rating than random pairs.
    const rng = new Rng(4);
    let random = 0;
    for (let k = 0; k < 5000; k++) random += w.expectedRating(1 + rng.int(w.numUsers), 1 + rng.int(w.numItems));
    expect(loggedExpected / n).toBeGreaterThan(random / 5000 + 0.2);
    // With β = 0 the choice ignores taste: the gap disappears (up to the popularity bias of b_i).
    const w0 = world({ num_users: 300, taste_strength: 0, popularity_bias: 0 });
    let e0 = 0;
    let n0 = 0;
    for (const l of logs(w0))
      for (const i of l.items) {
        e0 += w0.expectedRating(l.user, i);
        n0++;
      }
    let r0 = 0;
    for (let k = 0; k < 5000; k++) r0 += w0.expectedRating(1 + rng.int(w0.numUsers), 1 + rng.int(w0.numItems));
    expect(Math.abs(e0 / n0 - r0 / 5000)).toBeLessThan(0.1);
  });

  it('leaves a 5-star last rating (a test case at threshold 4.5) for a good share of users with the small preset', () => {
    const w = generateRatingsWorld(ratingsWorldParams(resolveRatingsOptions('small', {}), 0));
    let ending5 = 0;
    let rows = 0;
    const hist = new Float64Array(6);
    for (let u = 1; u <= w.numUsers; u++) {
      const l = simulateUserRatings(w, u);
      if (l.ratings[l.ratings.length - 1] === 5) ending5++;
      rows += l.items.length;
      for (const r of l.ratings) hist[r]! += 1;
    }
    console.info(
      `ratings preset small: ${rows} ratings, ${(rows / w.numUsers).toFixed(1)} per user, shares 1..5 = ${Array.from(hist.slice(1), (h) => ((100 * h) / rows).toFixed(1)).join('/')}%, last rating 5 for ${((100 * ending5) / w.numUsers).toFixed(1)}% of users`,
    );
    expect(w.numUsers).toBe(1000);
    expect(rows / w.numUsers).toBeGreaterThan(70);
    expect(rows / w.numUsers).toBeLessThan(140);
    expect(ending5 / w.numUsers).toBeGreaterThan(0.15);
    expect(hist[5]! / rows).toBeGreaterThan(0.15);
    expect(hist[5]! / rows).toBeLessThan(0.4);
  });

  it('is deterministic under a seed and different across seeds', () => {
    const a = logs(world({}, 5));
    const b = logs(world({}, 5));
    const c = logs(world({}, 6));
    expect(b).toEqual(a);
    expect(c.map((l) => Array.from(l.items))).not.toEqual(a.map((l) => Array.from(l.items)));
  });
});

describe('MovieLens ratings.dat', () => {
  it('writes one user::item::rating::timestamp line per rating, parsable line by line', () => {
    const w = world();
    const all = logs(w);
    const file = path.join(tmp, 'ml', 'ratings.dat');
    const writer = new MovieLensWriter(file);
    for (const l of all) writer.writeUser(l.user, l.items, l.ratings, l.timestamps);
    expect(fs.existsSync(file)).toBe(false);
    writer.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const want = all.flatMap((l) => Array.from(l.items, (it, j) => [l.user, it, l.ratings[j], l.timestamps[j]]));
    expect(lines.length).toBe(want.length);
    lines.forEach((line, k) => {
      const m = /^(\d+)::(\d+)::([1-5])::(\d+)$/.exec(line);
      expect(m, `line ${k + 1}: ${line}`).not.toBeNull();
      expect(m!.slice(1).map(Number)).toEqual(want[k]);
    });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['ratings.dat']);
  });

  it('leaves nothing behind when aborted', () => {
    const file = path.join(tmp, 'ml-abort', 'ratings.dat');
    const writer = new MovieLensWriter(file);
    writer.writeUser(1, [1], [5], [100]);
    writer.abort();
    expect(fs.readdirSync(path.dirname(file))).toEqual([]);
  });
});

describe('RatingsWorld', () => {
  it('round-trips through save/load with identical expected ratings', async () => {
    const w = world({}, 9);
    const dir = path.join(tmp, 'truth');
    w.save(dir);
    const back = await RatingsWorld.load(dir);
    expect(back.params).toEqual(w.params);
    expect(back.userFactors).toEqual(w.userFactors);
    expect(back.itemFactors).toEqual(w.itemFactors);
    expect(back.userBias).toEqual(w.userBias);
    expect(back.itemBias).toEqual(w.itemBias);
    expect(back.itemPopularityRank).toEqual(w.itemPopularityRank);
    const rng = new Rng(2);
    const users = Int32Array.from({ length: 300 }, () => 1 + rng.int(w.numUsers));
    const items = Int32Array.from({ length: 300 }, () => 1 + rng.int(w.numItems));
    expect(back.expectedRatings(users, items)).toEqual(w.expectedRatings(users, items));
    // The simulator's output directory (holding truth/) loads too.
    expect((await RatingsWorld.load(tmp)).params).toEqual(w.params);
    await expect(RatingsWorld.load(path.join(tmp, 'missing'))).rejects.toThrow(/world.json/);
  });

  it('computes the score as μ + b_u + b_i + ⟨p_u, q_i⟩ and values recommendation lists', () => {
    const w = world({}, 10);
    const u = 7;
    const i = 33;
    let dot = 0;
    for (let k = 0; k < w.rank; k++) dot += w.userFactors[u * w.rank + k]! * w.itemFactors[i * w.rank + k]!;
    expect(w.score(u, i)).toBeCloseTo(w.globalMean + w.userBias[u]! + w.itemBias[i]! + dot, 12);
    const users = Int32Array.of(1, 2);
    const recs = Int32Array.of(5, 6, 7, 8, 9, 10);
    const v = w.trueValueOfRecommendations(users, recs, 3);
    expect(v.perRow[0]).toBeCloseTo((w.expectedRating(1, 5) + w.expectedRating(1, 6) + w.expectedRating(1, 7)) / 3, 14);
    expect(v.mean).toBeCloseTo((v.perRow[0]! + v.perRow[1]!) / 2, 14);
    const best = w.bestItems(3, 5);
    const all = Array.from({ length: w.numItems }, (_, j) => w.expectedRating(3, j + 1)).sort((a, b) => b - a);
    expect(Array.from(best, (it) => w.expectedRating(3, it))).toEqual(all.slice(0, 5));
    expect(() => w.expectedRating(0, 1)).toThrow(/user id 0/);
    expect(() => w.expectedRating(1, w.numItems + 1)).toThrow(/item id/);
    expect(() => w.trueValueOfRecommendations(users, recs, 4)).toThrow(/× k = 4/);
  });
});

describe('expected ratings for dense (ingested) ids', () => {
  /** A vocabulary file as ingest writes it: raw_id utf8, index int32 1..n. */
  function writeVocab(file: string, rawInIndexOrder: number[]): void {
    const table = new arrow.Table({
      raw_id: arrow.vectorFromArray(rawInIndexOrder.map(String), new arrow.Utf8()),
      index: arrow.makeVector(Int32Array.from(rawInIndexOrder, (_, k) => k + 1)),
    });
    writeParquetFile(file, table);
  }

  it('maps dense indices back through vocabularies (files, Maps, arrays, IdVocabulary-like)', async () => {
    const w = world({}, 12);
    const rng = new Rng(3);
    const userOrder = rng.shuffle(Array.from({ length: w.numUsers }, (_, j) => j + 1));
    const itemOrder = rng.shuffle(Array.from({ length: w.numItems }, (_, j) => j + 1));
    const vocabDir = path.join(tmp, 'vocab');
    writeVocab(path.join(vocabDir, 'users.parquet'), userOrder);
    writeVocab(path.join(vocabDir, 'items.parquet'), itemOrder);
    const denseUsers = Int32Array.from({ length: 200 }, () => 1 + rng.int(w.numUsers));
    const denseItems = Int32Array.from({ length: 200 }, () => 1 + rng.int(w.numItems));
    const want = w.expectedRatings(
      Int32Array.from(denseUsers, (d) => userOrder[d - 1]!),
      Int32Array.from(denseItems, (d) => itemOrder[d - 1]!),
    );
    const fromFiles = await DenseRatingsTruth.fromVocabDir(w, vocabDir);
    expect(fromFiles.expectedRatings(denseUsers, denseItems)).toEqual(want);
    expect(fromFiles.trueRewards(denseUsers, denseItems)).toEqual(want);
    const userMap = new Map(userOrder.map((raw, k) => [k + 1, String(raw)]));
    const itemMap = new Map(itemOrder.map((raw, k) => [k + 1, raw]));
    expect(denseExpectedRatings(w, userMap, itemMap, denseUsers, denseItems)).toEqual(want);
    const asVocab = (order: number[]) => ({ rawIds: () => order.map(String) });
    expect(denseExpectedRatings(w, asVocab(userOrder), asVocab(itemOrder), denseUsers, denseItems)).toEqual(want);
    expect(await readDenseToRaw(path.join(vocabDir, 'items.parquet'))).toEqual(Int32Array.from([0, ...itemOrder]));
    expect(() => fromFiles.expectedRating(w.numUsers + 1, 1)).toThrow(/dense user index/);
    expect(() => fromFiles.expectedRating(1, 0)).toThrow(/dense item index 0/);
    expect(() => denseExpectedRatings(w, new Map([[1, 'u7']]), itemMap, Int32Array.of(1), Int32Array.of(1))).toThrow(/not a simulator id/);
  });
});
