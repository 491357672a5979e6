/**
 * Drawing a RecSim world (paper 002 App. H.1) from its parameters: topic
 * centres, items from the mixture of Gaussians, users around their segment's
 * centre, and each segment's popularity chart. Deterministic in the seed.
 *
 * Choices the paper leaves open (documented here):
 * - Topic centres are independent unit vectors (random directions in R^d,
 *   nearly orthogonal for d ≳ 16); topic weights are equal for items and users.
 * - Per-coordinate noise is spread/√d, so `item_spread` and `user_spread` are
 *   the expected length of the offset from the (unit) centre.
 * - Every topic gets at least one item (the first `topics` draws cover them),
 *   so every segment has a non-empty popularity chart.
 * - Within a topic, the popularity order is a uniformly random permutation:
 *   popular items are on topic for the segment but not tailored to the user,
 *   giving the "moderate relevance" of π_pop (App. H.2).
 */
import { Rng } from './rng.js';
import { normaliseInPlace } from './vectors.js';
import { RecSimWorld, type RecSimWorldParams } from './recsim-world.js';

/** Stream keys of Rng.derive, so each part of the world has its own stream. */
const STREAM_CENTERS = 1;
const STREAM_ITEMS = 2;
const STREAM_USERS = 3;

export function checkRecSimWorldParams(p: RecSimWorldParams): void {
  const bad = (msg: string) => {
    throw new Error(`RecSim parameters: ${msg}`);
  };
  if (!(Number.isInteger(p.numUsers) && p.numUsers >= 1)) bad(`num_users must be an integer ≥ 1, got ${p.numUsers}`);
  if (!(Number.isInteger(p.numItems) && p.numItems >= 1)) bad(`num_items must be an integer ≥ 1, got ${p.numItems}`);
  if (!(Number.isInteger(p.dim) && p.dim >= 1)) bad(`dim must be an integer ≥ 1, got ${p.dim}`);
  if (!(Number.isInteger(p.topics) && p.topics >= 1)) bad(`topics must be an integer ≥ 1, got ${p.topics}`);
  if (p.topics > p.numItems) bad(`topics (${p.topics}) cannot exceed num_items (${p.numItems}): every topic needs an item`);
  if (!(p.delta > 0)) bad(`delta must be > 0, got ${p.delta}`);
  if (!(p.rewardNoise >= 0)) bad(`reward_noise must be ≥ 0, got ${p.rewardNoise}`);
  if (!(p.itemSpread >= 0) || !(p.userSpread >= 0)) bad('item_spread and user_spread must be ≥ 0');
  if (!(p.zipfExponent >= 0)) bad(`zipf_exponent must be ≥ 0, got ${p.zipfExponent}`);
}

export function generateRecSimWorld(p: RecSimWorldParams): RecSimWorld {
  checkRecSimWorldParams(p);
  const { numUsers, numItems, dim: d, topics: K } = p;
  const scale = 1 / Math.sqrt(d);

  const rc = Rng.derive(p.seed, STREAM_CENTERS);
  const centers = new Float64Array(K * d);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < d; j++) centers[k * d + j] = rc.normal();
    normaliseInPlace(centers, k * d, d);
  }

  const ri = Rng.derive(p.seed, STREAM_ITEMS);
  const itemTopics = new Int32Array(numItems + 1);
  const assign = new Int32Array(numItems);
  for (let i = 0; i < numItems; i++) assign[i] = i < K ? i : ri.int(K);
  ri.shuffle(assign);
  itemTopics[0] = -1;
  itemTopics.set(assign, 1);
  const itemEmbeddings = new Float32Array((numItems + 1) * d);
  for (let a = 1; a <= numItems; a++) {
    const k = itemTopics[a]!;
    for (let j = 0; j < d; j++) itemEmbeddings[a * d + j] = centers[k * d + j]! + p.itemSpread * scale * ri.normal();
  }
  // Popularity charts: a random order of each topic's items.
  const itemPopularityRank = new Int32Array(numItems + 1);
  const byTopic: number[][] = Array.from({ length: K }, () => []);
  for (let a = 1; a <= numItems; a++) byTopic[itemTopics[a]!]!.push(a);
  for (const list of byTopic) {
    ri.shuffle(list);
    list.forEach((a, r) => (itemPopularityRank[a] = r + 1));
  }

  const ru = Rng.derive(p.seed, STREAM_USERS);
  const userTopics = new Int32Array(numUsers + 1);
  userTopics[0] = -1;
  const userInterests = new Float32Array((numUsers + 1) * d);
  for (let u = 1; u <= numUsers; u++) {
    const k = ru.int(K);
    userTopics[u] = k;
    for (let j = 0; j < d; j++) userInterests[u * d + j] = centers[k * d + j]! + p.userSpread * scale * ru.normal();
  }

  return new RecSimWorld({
    params: { ...p },
    topicCenters: Float32Array.from(centers),
    itemEmbeddings,
    itemTopics,
    itemPopularityRank,
    userInterests,
    userTopics,
  });
}
