import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecSimWorld, observedReward, rbfReward } from '../../stages/simulators/recsim-world.js';
import { generateRecSimWorld } from '../../stages/simulators/recsim-generate.js';
import { recsimWorldParams, resolveRecSimOptions } from '../../stages/simulators/recsim-options.js';
import { Rng } from '../../stages/simulators/rng.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-recsim-world-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Two users, three items in R², written out by hand. */
function handWorld(delta = 0.5): RecSimWorld {
  return new RecSimWorld({
    params: { numUsers: 2, numItems: 3, dim: 2, topics: 1, itemSpread: 0, userSpread: 0, delta, rewardNoise: 0.1, zipfExponent: 1, seed: 0 },
    topicCenters: Float32Array.of(1, 0),
    itemEmbeddings: Float32Array.of(0, 0, 1, 0, 0, 2, -1, -1),
    itemTopics: Int32Array.of(-1, 0, 0, 0),
    itemPopularityRank: Int32Array.of(0, 1, 2, 3),
    userInterests: Float32Array.of(0, 0, 1, 1, 3, 0),
    userTopics: Int32Array.of(-1, 0, 0),
  });
}

function smallWorld(seed = 1): RecSimWorld {
  const o = resolveRecSimOptions('medium', { num_users: 40, num_items: 120, dim: 6, topics: 4 });
  return generateRecSimWorld(recsimWorldParams(o, seed));
}

describe('RecSimWorld rewards (paper 002 Eq. 48–49)', () => {
  it('computes R_latent = exp(−(1 − cos)/(2δ²)) as by hand', () => {
    const w = handWorld(0.5);
    // user 1 = (1,1): cos with (1,0) is 1/√2, with (0,2) is 1/√2, with (−1,−1) is −1.
    expect(w.trueReward(1, 1)).toBeCloseTo(Math.exp(-(1 - Math.SQRT1_2) / 0.5), 14);
    expect(w.trueReward(1, 2)).toBeCloseTo(Math.exp(-(1 - Math.SQRT1_2) / 0.5), 14);
    expect(w.trueReward(1, 3)).toBeCloseTo(Math.exp(-2 / 0.5), 14);
    // user 2 = (3,0): cos 1, 0, −1/√2 (scale-free).
    expect(w.trueReward(2, 1)).toBeCloseTo(1, 14);
    expect(w.trueReward(2, 2)).toBeCloseTo(Math.exp(-1 / 0.5), 14);
    expect(w.trueReward(2, 3)).toBeCloseTo(Math.exp(-(1 + Math.SQRT1_2) / 0.5), 14);
    expect(rbfReward(0.25, 0.3)).toBeCloseTo(Math.exp(-0.75 / 0.18), 14);
    const w2 = handWorld(1);
    expect(w2.trueReward(2, 2)).toBeCloseTo(Math.exp(-0.5), 14);
  });

  it('answers batches like single calls; padding is 0; bad ids throw', () => {
    const w = handWorld();
    const users = Int32Array.of(1, 2, 2, 1, 2);
    const items = Int32Array.of(3, 1, 2, 0, 3);
    const got = w.trueRewards(users, items);
    users.forEach((u, i) => expect(got[i]).toBe(w.trueReward(u, items[i]!)));
    expect(got[3]).toBe(0);
    expect(() => w.trueReward(3, 1)).toThrow(/user id 3/);
    expect(() => w.trueReward(1, 4)).toThrow(/item id 4/);
    expect(() => w.trueRewards(Int32Array.of(1), Int32Array.of(1, 2))).toThrow(/1 users but 2 items/);
    expect(w.numItems).toBe(4);
    expect(w.numUsers).toBe(2);
  });

  it('clips observed rewards to [0, 1]', () => {
    expect(observedReward(0.9, 0.3)).toBe(1);
    expect(observedReward(0.1, -0.3)).toBe(0);
    expect(observedReward(0.5, 0.1)).toBeCloseTo(0.6, 15);
  });

  it('ranks, retrieves and summarises histories consistently with brute force', () => {
    const w = smallWorld();
    for (const u of [1, 17, 40]) {
      const r = w.rewardsForUser(u);
      const brute = Array.from({ length: w.numItems - 1 }, (_, j) => j + 1).sort((a, b) => r[b]! - r[a]! || a - b);
      expect(Array.from(w.bestItems(u, 5))).toEqual(brute.slice(0, 5));
      expect(w.optimalReward(u)).toBe(r[brute[0]!]);
    }
    const d = w.dim;
    const contexts = { kind: 'list' as const, offsets: Int32Array.of(0, 3, 3, 4), values: Int32Array.of(5, 9, 5, 120) };
    const f = w.historyFeatures(contexts);
    for (let k = 0; k < d; k++) {
      const want = (2 * w.itemEmbeddings[5 * d + k]! + w.itemEmbeddings[9 * d + k]!) / 3;
      expect(f[k]).toBeCloseTo(want, 6);
      expect(f[d + k]).toBe(0);
      expect(f[2 * d + k]).toBeCloseTo(w.itemEmbeddings[120 * d + k]!, 6);
    }
    const rng = new Rng(9);
    const queries = Float32Array.from({ length: 5 * d }, () => rng.normal());
    const nn = w.nearestItems(queries);
    for (let q = 0; q < 5; q++) {
      let best = -Infinity;
      let arg = -1;
      for (let a = 1; a < w.numItems; a++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += w.itemEmbeddings[a * d + k]! * queries[q * d + k]!;
        if (s > best) [best, arg] = [s, a];
      }
      expect(nn[q]).toBe(arg);
    }
  });

  it('draws items around their topic centres and users around theirs', () => {
    const w = smallWorld(3);
    const d = w.dim;
    const cos = (m: Float32Array, row: number, k: number) => {
      let s = 0;
      let n = 0;
      for (let j = 0; j < d; j++) {
        s += m[row * d + j]! * w.topicCenters[k * d + j]!;
        n += m[row * d + j]! ** 2;
      }
      return s / Math.sqrt(n);
    };
    let own = 0;
    let other = 0;
    for (let a = 1; a < w.numItems; a++) {
      const k = w.itemTopics[a]!;
      own += cos(w.itemEmbeddings, a, k);
      other += cos(w.itemEmbeddings, a, (k + 1) % w.topics);
    }
    expect(own / (w.numItems - 1)).toBeGreaterThan(other / (w.numItems - 1) + 0.5);
    for (let k = 0; k < w.topics; k++) expect(Array.from(w.itemTopics).includes(k)).toBe(true);
    for (let j = 0; j < d; j++) expect(w.itemEmbeddings[j]).toBe(0);
  });
});

describe('RecSimWorld save/load', () => {
  it('round-trips every array and answers the same rewards', async () => {
    const w = smallWorld(5);
    const dir = path.join(tmp, 'rt');
    w.save(dir);
    for (const f of ['world.json', 'items.parquet', 'users.parquet']) expect(fs.existsSync(path.join(dir, f))).toBe(true);
    const back = await RecSimWorld.load(dir);
    expect(back.numUsers).toBe(w.numUsers);
    expect(back.numItems).toBe(w.numItems);
    expect(back.dim).toBe(w.dim);
    expect(back.params).toEqual(w.params);
    expect(back.itemEmbeddings).toEqual(w.itemEmbeddings);
    expect(back.userInterests).toEqual(w.userInterests);
    expect(back.topicCenters).toEqual(w.topicCenters);
    expect(back.itemTopics).toEqual(w.itemTopics);
    expect(back.userTopics).toEqual(w.userTopics);
    expect(back.itemPopularityRank).toEqual(w.itemPopularityRank);
    const rng = new Rng(1);
    const users = Int32Array.from({ length: 200 }, () => 1 + rng.int(w.numUsers));
    const items = Int32Array.from({ length: 200 }, () => rng.int(w.numItems));
    expect(back.trueRewards(users, items)).toEqual(w.trueRewards(users, items));
    // A simulator output directory holding world/ loads too.
    const parent = path.join(tmp, 'out');
    w.save(path.join(parent, 'world'));
    expect((await RecSimWorld.load(parent)).itemEmbeddings).toEqual(w.itemEmbeddings);
  });

  it('names the problem when files are missing or wrong', async () => {
    await expect(RecSimWorld.load(path.join(tmp, 'nothing'))).rejects.toThrow(/world.json/);
    const dir = path.join(tmp, 'bad');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'world.json'), JSON.stringify({ format: 'something-else' }));
    await expect(RecSimWorld.load(dir)).rejects.toThrow(/recpost-recsim-world/);
    const w = smallWorld(6);
    const dir2 = path.join(tmp, 'noitems');
    w.save(dir2);
    fs.rmSync(path.join(dir2, 'items.parquet'));
    await expect(RecSimWorld.load(dir2)).rejects.toThrow(/items\.parquet/);
  });
});
