/**
 * Large catalogs (issue 11 item 5). Every figure runs in its own child
 * process, so its peak RSS is its own.
 *
 * - ML-20M-sized training: 138,493 users, 26,744 items, 20,000,263 ratings
 *   (generated: Zipfian items with some sequential structure; user lengths
 *   20 + a geometric tail, mean ≈ 144 as in ML-20M), cut into windows of at
 *   most 201 items (200 inputs), SASRec d 64, 2 blocks, 2 heads, max_len 200,
 *   sampled softmax (256 shared negatives, α 0.75), batch 128, BC, wasm on
 *   every core. An epoch is ≈ 1,400 steps: the bench times a few steps after
 *   one warm-up step and EXTRAPOLATES the epoch time (steps/epoch × s/step).
 *   --quick: a tenth of the users (2M ratings), fewer timed steps.
 * - Full-catalog evaluation on the ML-20M catalog (26,744 items): contexts of
 *   1..200 items (SASRec as above, random weights), history excluded, NDCG/HR
 *   @10/50 and MRR, 512 contexts per chunk; one thread and every core.
 * - A 1,000,000-item catalog: evaluation with the blocked top-K (item blocks
 *   under the 64 MB score bound, max_score_block_mb) on one thread and on
 *   every core; contexts/s and peak RSS (the item embeddings alone are 256 MB).
 *
 * Evaluation figures include starting the worker threads (once per run) and
 * say how much of the time encoding the contexts took (one thread always).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult } from './common.js';
import { peakRssMB, runBenchChild } from './common.js';
import type { Batch } from '../stages/core/batch.js';
import { DEFAULT_MAX_SCORE_BLOCK_MB, scoreBlockFloats } from '../stages/eval/blocked-topk.js';
import { EvalThreads } from '../stages/eval/eval-threads-option.js';
import { evaluateRanking } from '../stages/eval/ranking-evaluator.js';
import { initBackend } from '../stages/train/backend.js';
import { trainOffline } from '../stages/train/offline-trainer.js';
import { sasrecDataParallel } from '../stages/train/parallel/sasrec-parallel.js';
import { Rng } from '../stages/train/rng.js';
import { createSasrecParams, type SasrecConfig } from '../stages/train/sasrec.js';
import { SasrecPolicy } from '../stages/train/sasrec-policy.js';
import { sasrecTask } from '../stages/train/sasrec-task.js';
import type { SequenceSet } from '../stages/train/sequence-data.js';
import { createOfflineObjective } from '../stages/weighting/registry.js';

const SELF = fileURLToPath(import.meta.url);
const ML20M = { users: 138_493, items: 26_744, ratings: 20_000_263 };
const MAX_LEN = 200;
const BATCH = 128;

const sasrecConfig = (numItems: number): SasrecConfig => ({
  numItems,
  maxLen: MAX_LEN,
  d: 64,
  blocks: 2,
  heads: 2,
  ffn: 64,
  dropout: 0.2,
  rewardHead: false,
  rewardHidden: 1,
});

type ChildArgs = { kind: 'train'; users: number; steps: number; threads: number } | { kind: 'eval'; numItems: number; contexts: number; threads: number };

/**
 * An ML-20M-shaped log as training windows: `users` users with lengths 20 +
 * geometric (mean ≈ 144), scaled so the total is users/138,493 of 20M ratings.
 */
export function ml20mSequences(users: number, numItems: number, seed: number): SequenceSet {
  const rng = new Rng(seed, 23);
  const target = Math.round((ML20M.ratings * users) / ML20M.users);
  const lens = new Int32Array(users);
  let total = 0;
  for (let u = 0; u < users; u++) {
    lens[u] = 20 + Math.floor(-Math.log(1 - rng.uniform()) * 124);
    total += lens[u]!;
  }
  // Adjust to the exact total (ML-20M's mean), keeping every user ≥ 20.
  for (let u = 0; total !== target; u = (u + 1) % users) {
    const step = total < target ? 1 : lens[u]! > 20 ? -1 : 0;
    lens[u]! += step;
    total += step;
  }
  const zipf = (): number => 1 + Math.min(numItems - 2, Math.floor(Math.pow(rng.uniform(), 2.5) * (numItems - 1)));
  const windows: number[] = []; // per window: [user, start, length] in the flat log
  const log = new Int32Array(total);
  let pos = 0;
  for (let u = 0; u < users; u++) {
    for (let p = 0; p < lens[u]!; p++) log[pos + p] = p > 0 && rng.uniform() < 0.3 ? (log[pos + p - 1]! % (numItems - 1)) + 1 : zipf();
    // Windows of ≤ 201 items; each after the first starts with the previous window's last item (its first target is new).
    for (let s = 0; s < lens[u]! - 1; s += MAX_LEN) windows.push(u, pos + s, Math.min(MAX_LEN + 1, lens[u]! - s));
    pos += lens[u]!;
  }
  const numRows = windows.length / 3;
  const offsets = new Int32Array(numRows + 1);
  for (let r = 0; r < numRows; r++) offsets[r + 1] = offsets[r]! + windows[3 * r + 2]!;
  const items = new Int32Array(offsets[numRows]!);
  const counts = new Float64Array(numItems);
  for (let r = 0; r < numRows; r++) {
    items.set(log.subarray(windows[3 * r + 1]!, windows[3 * r + 1]! + windows[3 * r + 2]!), offsets[r]!);
    for (let p = offsets[r]! + 1; p < offsets[r + 1]!; p++) counts[items[p]!]! += 1;
  }
  return {
    offsets,
    items,
    rewards: Float32Array.from({ length: items.length }, () => 1 + rng.int(5)),
    targetFrom: new Int32Array(numRows).fill(1),
    users: Int32Array.from({ length: numRows }, (_, r) => windows[3 * r]! + 1),
    numRows,
    numTargets: total - users,
    numItemsSeen: numItems,
    targetCounts: counts,
  };
}

async function trainChild(a: Extract<ChildArgs, { kind: 'train' }>): Promise<Record<string, number | string>> {
  const info = await initBackend('wasm');
  const t0 = performance.now();
  const data = ml20mSequences(a.users, ML20M.items + 1, 1);
  const genSeconds = (performance.now() - t0) / 1000;
  const config = sasrecConfig(ML20M.items + 1);
  const params = createSasrecParams(config, 1);
  const taskOptions = { softmax: 'sampled' as const, negatives: 256, negativeAlpha: 0.75, rewardWeight: 0, detachRewardHead: true, seed: 1 };
  const task = { ...sasrecTask(params, config, data, taskOptions), parallel: sasrecDataParallel(config, taskOptions, data) };
  const objective = createOfflineObjective('bc');
  const trainer = (stopAfterSteps: number) => ({
    method: 'bench',
    seed: 1,
    epochs: 1,
    batchSize: BATCH,
    adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    clipNorm: 1,
    checkpointEveryEpochs: 0,
    checkpointEverySteps: 0,
    logEvery: 0,
    phantomEvery: 0,
    stopAfterSteps,
    threads: a.threads,
  });
  // One step warms up (WASM compiles, workers start, heaps grow); then the timed steps.
  await trainOffline(task, objective, trainer(1), { emit: () => {} });
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const res = await trainOffline(task, objective, trainer(a.steps), { emit: () => {} });
  const seconds = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(c1);
  params.dispose();
  const stepsPerEpoch = Math.ceil(data.numRows / BATCH);
  return {
    backend: info.description,
    rows: data.numRows,
    targets: data.numTargets,
    ratings: data.numTargets + a.users,
    steps: res.step,
    secondsPerStep: seconds / res.step,
    cpuSecondsPerStep: (cpu.user + cpu.system) / 1e6 / res.step,
    stepsPerEpoch,
    epochSeconds: (seconds / res.step) * stepsPerEpoch,
    genSeconds,
    peakRssMB: peakRssMB(),
  };
}

/** Evaluation rows: contexts of 1..MAX_LEN items, random targets, all in the test split. */
function evalRows(contexts: number, numItems: number, seed: number): Batch {
  const rng = new Rng(seed, 29);
  const offsets = new Int32Array(contexts + 1);
  for (let r = 0; r < contexts; r++) offsets[r + 1] = offsets[r]! + 1 + rng.int(MAX_LEN);
  const values = Int32Array.from({ length: offsets[contexts]! }, () => 1 + rng.int(numItems - 1));
  const action = Int32Array.from({ length: contexts }, () => 1 + rng.int(numItems - 1));
  return { table: 'examples', numRows: contexts, columns: { context: { kind: 'list', offsets, values }, action, split: new Int32Array(contexts).fill(2) } };
}

async function evalChild(a: Extract<ChildArgs, { kind: 'eval' }>): Promise<Record<string, number | string>> {
  const info = await initBackend('wasm');
  const config = sasrecConfig(a.numItems);
  const policy = new SasrecPolicy(createSasrecParams(config, 1), config);
  const rows = evalRows(a.contexts, a.numItems, 3);
  const maxScoreFloats = scoreBlockFloats(DEFAULT_MAX_SCORE_BLOCK_MB);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const threads = new EvalThreads(a.threads, undefined, 0);
  const pool = await threads.poolFor(policy, a.contexts);
  const startSeconds = (performance.now() - t0) / 1000;
  const key = { run: 'bench', method: 'sasrec', seed: 1, step: 0, epoch: 0 };
  await evaluateRanking(policy, rows, { ks: [10, 50], excludeHistory: true, batchRows: 512, maxScoreFloats, pool, key });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await threads.close();
  // Encoding the contexts alone (one thread), for the share of the time it takes.
  const t1 = performance.now();
  policy.scoreFactors().contextVectors(rows.columns.context as { kind: 'list'; offsets: Int32Array; values: Int32Array });
  const encodeSeconds = (performance.now() - t1) / 1000;
  return {
    backend: info.description,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    startSeconds,
    encodeSeconds,
    contextsPerSecond: a.contexts / seconds,
    peakRssMB: peakRssMB(),
    boundMB: DEFAULT_MAX_SCORE_BLOCK_MB,
  };
}

function runChild(args: ChildArgs): Promise<Record<string, number | string>> {
  return runBenchChild(SELF, args, { label: `large-catalog child (${args.kind})`, keepExposeGc: true, stderr: 'capture', tailLines: 4 });
}

const num = (r: Record<string, number | string>, k: string) => Number(r[k]);

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const cores = os.availableParallelism();
  const results: BenchResult[] = [];
  const threadCounts = cores > 1 ? [1, cores] : [1];

  const users = opts.quick ? Math.round(ML20M.users / 10) : ML20M.users;
  const steps = opts.quick ? 3 : 12;
  try {
    const r = await runChild({ kind: 'train', users, steps, threads: cores });
    results.push({
      suite: 'large-catalog',
      name: `SASRec on an ML-20M-sized log (${users.toLocaleString('en')} users, ${ML20M.items.toLocaleString('en')} items, ${num(r, 'ratings').toLocaleString('en')} ratings), sampled softmax 256, batch ${BATCH}, ${cores} thread(s)`,
      rows: num(r, 'targets'),
      seconds: num(r, 'epochSeconds'),
      rate: num(r, 'targets') / num(r, 'epochSeconds'),
      unit: 'examples/s',
      peakRssMB: num(r, 'peakRssMB'),
      notes: `epoch EXTRAPOLATED: ${num(r, 'steps')} timed steps at ${num(r, 'secondsPerStep').toFixed(2)} s/step (CPU ${num(r, 'cpuSecondsPerStep').toFixed(2)} s/step, all threads) × ${num(r, 'stepsPerEpoch')} steps/epoch = ${(num(r, 'epochSeconds') / 60).toFixed(1)} min; ${r.backend}; data generated in ${num(r, 'genSeconds').toFixed(1)} s`,
    });
  } catch (e) {
    process.stderr.write(`  ML-20M training bench failed: ${(e as Error).message}\n`);
  }

  for (const [numItems, contexts] of [
    [ML20M.items + 1, opts.quick ? 1024 : 8192],
    [1_000_001, opts.quick ? 256 : 2048],
  ] as const) {
    for (const threads of threadCounts) {
      try {
        const r = await runChild({ kind: 'eval', numItems, contexts, threads });
        const blocked = 512 * numItems > scoreBlockFloats(DEFAULT_MAX_SCORE_BLOCK_MB);
        results.push({
          suite: 'large-catalog',
          name: `evaluate_ranking, SASRec, ${(numItems - 1).toLocaleString('en')}-item catalog, ${contexts} contexts of 1..${MAX_LEN} items, ${threads} thread(s)${blocked ? ', blocked top-K' : ''}`,
          rows: contexts,
          seconds: num(r, 'seconds'),
          rate: num(r, 'contextsPerSecond'),
          unit: 'contexts/s',
          peakRssMB: num(r, 'peakRssMB'),
          notes: `score bound ${num(r, 'boundMB')} MB (${scoreBlockFloats(num(r, 'boundMB')).toLocaleString('en')} scores)${blocked ? `, item blocks of ${Math.floor(scoreBlockFloats(num(r, 'boundMB')) / 512 / threads).toLocaleString('en')} per thread` : ', whole rows'}; CPU ${num(r, 'cpuSeconds').toFixed(1)} s (all threads); workers started in ${num(r, 'startSeconds').toFixed(2)} s; encoding the contexts alone ${num(r, 'encodeSeconds').toFixed(2)} s; ${r.backend}`,
        });
      } catch (e) {
        process.stderr.write(`  large-catalog evaluation bench (${numItems} items, ${threads} threads) failed: ${(e as Error).message}\n`);
      }
    }
  }
  return results;
}

const invokedDirectly = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(SELF);
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const a = JSON.parse(argv[1]!) as ChildArgs;
    (a.kind === 'train' ? trainChild(a) : evalChild(a)).then(
      (r) => {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
      },
    );
  } else {
    run({ quick: argv.includes('--quick'), scratch: '' }).then((rs) => {
      for (const r of rs)
        process.stdout.write(`${r.name}: ${r.rate.toFixed(1)} ${r.unit}, ${r.seconds.toFixed(2)} s, peak ${r.peakRssMB?.toFixed(0)} MB; ${r.notes}\n`);
    });
  }
}
