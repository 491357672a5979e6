/**
 * Evaluation throughput: full-catalog ranking metrics (rank of the target with
 * history excluded and ties against the model, then NDCG/HR@{10,50} and MRR)
 * over a 1,700-item catalog (ML-1M-sized) with random scores for 10,000
 * contexts of up to 50 history items.
 *
 * - "rank + metrics": the kernel alone, scores already in memory.
 * - "evaluate (random scorer)": evaluateRanking end to end in chunks of 512
 *   contexts, including generating the scores and accumulating by split.
 */
import type { BenchOptions, BenchResult } from './common.js';
import { peakRssMB } from './common.js';
import type { Batch } from '../stages/core/batch.js';
import { mulberry32 } from '../stages/core/seeded-random.js';
import { RandomScorer } from '../stages/eval/baselines.js';
import { evaluateRanking } from '../stages/eval/ranking-evaluator.js';
import { rankingMetricSums, targetRanks } from '../stages/eval/ranking-metrics.js';

const NUM_ITEMS = 1701; // 1,700 items + padding

function workload(contexts: number, seed: number): Batch {
  const rnd = mulberry32(seed);
  const offsets = new Int32Array(contexts + 1);
  const values: number[] = [];
  const action = new Int32Array(contexts);
  const split = new Int8Array(contexts);
  for (let r = 0; r < contexts; r++) {
    const len = 1 + Math.floor(rnd() * 50);
    for (let j = 0; j < len; j++) values.push(1 + Math.floor(rnd() * (NUM_ITEMS - 1)));
    offsets[r + 1] = values.length;
    action[r] = 1 + Math.floor(rnd() * (NUM_ITEMS - 1));
    split[r] = r % 2 === 0 ? 2 : 1;
  }
  return { table: 'examples', numRows: contexts, columns: { context: { kind: 'list', offsets, values: Int32Array.from(values) }, action, split } };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const contexts = opts.quick ? 2000 : 10000;
  const rows = workload(contexts, 42);
  const ks = [10, 50];
  const scorer = new RandomScorer(NUM_ITEMS, 7);
  const ctxCol = rows.columns.context as { kind: 'list'; offsets: Int32Array; values: Int32Array };
  const scores = await scorer.scoreContexts(ctxCol);
  const targets = rows.columns.action as Int32Array;
  const split = rows.columns.split as Int8Array;

  // Warm-up, then the timed kernel (best of 3 to damp a shared machine's noise).
  rankingMetricSums(targetRanks(scores, NUM_ITEMS, targets, ctxCol), ks, split);
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    rankingMetricSums(targetRanks(scores, NUM_ITEMS, targets, ctxCol), ks, split);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  const results: BenchResult[] = [
    {
      suite: 'eval',
      name: `rank + metrics, ${NUM_ITEMS - 1}-item catalog, ${contexts} contexts`,
      rows: contexts,
      seconds: best,
      rate: contexts / best,
      unit: 'contexts/s',
      peakRssMB: peakRssMB(),
      notes: `${((contexts * NUM_ITEMS) / best / 1e6).toFixed(0)}M scores compared per second`,
    },
  ];

  const t0 = performance.now();
  await evaluateRanking(scorer, rows, { ks, excludeHistory: true, batchRows: 512, key: { run: 'bench', method: 'random', seed: 7, step: 0, epoch: 0 } });
  const secs = (performance.now() - t0) / 1000;
  results.push({
    suite: 'eval',
    name: `evaluate (random scorer), ${NUM_ITEMS - 1} items, ${contexts} contexts`,
    rows: contexts,
    seconds: secs,
    rate: contexts / secs,
    unit: 'contexts/s',
    peakRssMB: peakRssMB(),
    notes: 'includes generating the scores',
  });
  return results;
}
