/**
 * Training throughput of the generative recommender, per available backend.
 *
 * Workload (fixed): 1,000 sequences of 200 inputs (201 items: 200 next-item
 * targets each), catalog 1,700 items, d = 64, 2 blocks, 2 heads, dropout 0.2,
 * full softmax, batch 128, BC objective, Adam; no reward head. --quick: 200
 * sequences. Reported per backend: examples (targets) per second, seconds per
 * epoch and peak RSS. Seconds per epoch are timed as bench/sasrec_torch.py
 * times PyTorch: after one warm-up step, with the threads already running —
 * the mean step time from the end of the timed run's first step to the end
 * of its last, times the steps per epoch. The figure from the start of the
 * timed run (starting the worker threads, whose WASM compiles and JIT warms
 * in their first steps) is reported beside it.
 * The peer is bench/sasrec_torch.py, the same model in PyTorch on the same
 * sequences, run in the same bench when `python3` can import torch (see
 * bench/peers.ts); the ratio recpost/PyTorch in seconds per epoch is reported.
 *
 * Each backend runs in its own child process, so the peak RSS is that run's.
 * - wasm on every core (data-parallel gradients over worker threads,
 *   stages/train/parallel/): the full workload (2 epochs; 1 with --quick),
 *   the figure compared with PyTorch.
 * - wasm on one thread: the same workload, for the per-core figure.
 * - cpu: the plain-JavaScript backend is ~50× slower; it runs a tiny slice
 *   (16 sequences, 1 epoch) so the figure exists without taking minutes.
 * - tensorflow: only when @tensorflow/tfjs-node(-gpu) is installed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult } from './common.js';
import { peakRssMB, runBenchChild } from './common.js';
import { torchPython, torchSasrec } from './peers.js';
import { initBackend, type BackendName } from '../stages/train/backend.js';
import { sasrecDataParallel } from '../stages/train/parallel/sasrec-parallel.js';
import { createSasrecParams, type SasrecConfig } from '../stages/train/sasrec.js';
import { sasrecTask } from '../stages/train/sasrec-task.js';
import { trainOffline } from '../stages/train/offline-trainer.js';
import { Rng } from '../stages/train/rng.js';
import type { SequenceSet } from '../stages/train/sequence-data.js';
import { createOfflineObjective } from '../stages/weighting/registry.js';

const SELF = fileURLToPath(import.meta.url);
const NUM_ITEMS = 1701;
const SEQ_LEN = 200;

interface ChildArgs {
  backend: BackendName;
  sequences: number;
  epochs: number;
  /** Threads computing each minibatch's gradient (1 = the main thread only). */
  threads: number;
}

interface ChildResult {
  backend: string;
  targets: number;
  /** After the timed run's first step (as PyTorch is timed). */
  secondsPerEpoch: number;
  /** From the start of the timed run: worker threads started, first steps cold. */
  secondsPerEpochFromStart: number;
  examplesPerSecond: number;
  peakRssMB: number;
  steps: number;
}

/** Sequences with a Zipfian item distribution and some sequential structure. */
export function benchSequences(n: number, len: number, numItems: number, seed: number): SequenceSet {
  const rng = new Rng(seed, 17);
  const items = new Int32Array(n * (len + 1));
  const zipf = (): number => 1 + Math.min(numItems - 2, Math.floor(Math.pow(rng.uniform(), 2.5) * (numItems - 1)));
  for (let i = 0; i < items.length; i++) {
    const prev = i % (len + 1) === 0 ? 0 : items[i - 1]!;
    items[i] = prev > 0 && rng.uniform() < 0.3 ? (prev % (numItems - 1)) + 1 : zipf();
  }
  const offsets = Int32Array.from({ length: n + 1 }, (_, r) => r * (len + 1));
  const counts = new Float64Array(numItems);
  for (let r = 0; r < n; r++) for (let p = 1; p <= len; p++) counts[items[r * (len + 1) + p]!]! += 1;
  return {
    offsets,
    items,
    rewards: Float32Array.from({ length: items.length }, () => 1 + rng.int(5)),
    targetFrom: new Int32Array(n).fill(1),
    users: Int32Array.from({ length: n }, (_, r) => r + 1),
    numRows: n,
    numTargets: n * len,
    numItemsSeen: numItems,
    targetCounts: counts,
  };
}

async function childMain(args: ChildArgs): Promise<void> {
  const info = await initBackend(args.backend);
  if (info.name !== args.backend) throw new Error(`backend ${args.backend} is not available (got ${info.name})`);
  const data = benchSequences(args.sequences, SEQ_LEN, NUM_ITEMS, 1);
  const config: SasrecConfig = { numItems: NUM_ITEMS, maxLen: SEQ_LEN, d: 64, blocks: 2, heads: 2, ffn: 64, dropout: 0.2, rewardHead: false, rewardHidden: 1 };
  const params = createSasrecParams(config, 1);
  const taskOptions = { softmax: 'full' as const, negatives: 0, negativeAlpha: 0, rewardWeight: 0, detachRewardHead: true, seed: 1 };
  const task = { ...sasrecTask(params, config, data, taskOptions), parallel: sasrecDataParallel(config, taskOptions, data) };
  const objective = createOfflineObjective('bc');
  const trainer = (epochs: number, stopAfterSteps?: number, logEvery = 0) => ({
    method: 'bench',
    seed: 1,
    epochs,
    batchSize: 128,
    adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    clipNorm: 1,
    checkpointEveryEpochs: 0,
    checkpointEverySteps: 0,
    logEvery,
    phantomEvery: 0,
    stopAfterSteps,
    threads: args.threads,
  });
  // Warm-up: one step (WASM compiles, heap grows), not timed.
  await trainOffline(task, objective, trainer(1, 1), { emit: () => {} });
  // Timed: a record per step (logEvery 1) marks the end of each step.
  const stepEnds = new Map<number, number>();
  const t0 = performance.now();
  const res = await trainOffline(task, objective, trainer(args.epochs, undefined, 1), {
    emit: (r) => {
      if (r.metric === 'examples_per_s') stepEnds.set(r.step, performance.now());
    },
  });
  const fromStart = (performance.now() - t0) / 1000;
  params.dispose();
  const first = stepEnds.get(1);
  const last = stepEnds.get(res.step);
  const stepsPerEpoch = res.step / args.epochs;
  // A run of one step (the CPU backend's tiny slice) has only the figure from the start.
  const perStep = first !== undefined && last !== undefined && res.step >= 2 ? (last - first) / 1000 / (res.step - 1) : fromStart / res.step;
  const out: ChildResult = {
    backend: args.threads > 1 ? `${info.description} on ${args.threads} threads (data-parallel)` : info.description,
    targets: data.numTargets,
    secondsPerEpoch: perStep * stepsPerEpoch,
    secondsPerEpochFromStart: fromStart / args.epochs,
    examplesPerSecond: data.numTargets / (perStep * stepsPerEpoch),
    peakRssMB: peakRssMB(),
    steps: res.step,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Run one backend's child; `wholeProcessSeconds`: its whole process (start, data, the warm-up run, the timed run), measured here. */
async function runChild(args: ChildArgs): Promise<ChildResult & { wholeProcessSeconds: number }> {
  const t0 = performance.now();
  const r = await runBenchChild<ChildResult>(SELF, args, { label: `train bench child (${args.backend})`, stderr: 'capture' });
  return { ...r, wholeProcessSeconds: (performance.now() - t0) / 1000 };
}

async function nativeAvailable(): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return true;
    } catch {
      // not installed
    }
  }
  return false;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const sequences = opts.quick ? 200 : 1000;
  const epochs = opts.quick ? 1 : 2;
  const cores = os.availableParallelism();
  const plan: (ChildArgs & { note: string })[] = [];
  if (cores > 1)
    plan.push({
      backend: 'wasm',
      sequences,
      epochs,
      threads: cores,
      note: 'every core: data-parallel gradients (the figure from the start includes starting the workers)',
    });
  plan.push({ backend: 'wasm', sequences, epochs, threads: 1, note: cores > 1 ? 'one thread: the per-core figure' : '' });
  plan.push({
    backend: 'cpu',
    sequences: 16,
    epochs: 1,
    threads: 1,
    note: 'tiny slice (16 sequences): the JavaScript CPU backend is too slow for the full workload',
  });
  if (await nativeAvailable()) plan.unshift({ backend: 'tensorflow', sequences, epochs, threads: 1, note: '' });
  const results: BenchResult[] = [];
  const fromStart = new Map<BenchResult, { epoch: number; whole: number }>();
  for (const p of plan) {
    let r: ChildResult & { wholeProcessSeconds: number };
    try {
      r = await runChild(p);
    } catch (e) {
      process.stderr.write(`  train bench on ${p.backend} failed: ${(e as Error).message}\n`);
      continue;
    }
    const row: BenchResult = {
      suite: 'train',
      name: `SASRec ${p.sequences}×${SEQ_LEN}, d 64, 2 blocks, 2 heads, 1,700 items, full softmax, batch 128 (${p.backend}${p.backend === 'wasm' ? `, ${p.threads} thread${p.threads === 1 ? '' : 's'}` : ''})`,
      rows: r.targets,
      seconds: r.secondsPerEpoch,
      rate: r.examplesPerSecond,
      unit: 'examples/s',
      peakRssMB: r.peakRssMB,
      notes: [
        `${r.backend}`,
        `${r.secondsPerEpoch.toFixed(2)} s/epoch after the first step (${r.secondsPerEpochFromStart.toFixed(2)} from the start)`,
        `whole process ${r.wholeProcessSeconds.toFixed(1)} s`,
        `${p.epochs} epoch(s), ${r.steps} steps`,
        p.note,
      ]
        .filter(Boolean)
        .join('; '),
    };
    results.push(row);
    fromStart.set(row, { epoch: r.secondsPerEpochFromStart, whole: r.wholeProcessSeconds });
  }
  // PyTorch uses every core: the ratio is taken against wasm on every core.
  const wasm = results.find((r) => r.name.endsWith(`(wasm, ${cores} thread${cores === 1 ? '' : 's'})`));
  if (wasm) results.push(...(await torchPeer(opts, wasm, fromStart.get(wasm)!)));
  return results;
}

/** PyTorch on the same sequences and settings, and the recpost/PyTorch ratio (target ≤ 1.0). */
/**
 * The PyTorch peer's rows and the ratio; `wasmFromStart`: recpost's s/epoch timed from the start of its run (workers starting)
 * and its whole process (which runs its warm-up step as a run of its own, starting its workers twice), reported beside the ratio.
 */
async function torchPeer(opts: BenchOptions, wasm: BenchResult, wasmFromStart: { epoch: number; whole: number }): Promise<BenchResult[]> {
  const python = torchPython();
  if (!python) {
    process.stderr.write('  PyTorch peer skipped: python3 cannot import torch (apt-get install python3-torch libopenblas0-pthread)\n');
    return [];
  }
  const n = opts.quick ? 200 : 1000;
  const epochs = opts.quick ? 1 : 2;
  const data = benchSequences(n, SEQ_LEN, NUM_ITEMS, 1);
  const scratch = opts.scratch || fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-bench-'));
  try {
    const r = await torchSasrec(python, data.items, n, SEQ_LEN + 1, NUM_ITEMS, epochs, scratch);
    const sPerEpoch = Number(r.report.seconds_per_epoch);
    const ratio = wasm.seconds / sPerEpoch;
    return [
      {
        suite: 'train',
        name: `peer: PyTorch ${String(r.report.torch)} SASRec ${n}×${SEQ_LEN}, same settings (${String(r.report.threads)} threads, BLAS ${String(r.report.blas)})`,
        rows: data.numTargets,
        seconds: sPerEpoch,
        rate: Number(r.report.examples_per_second),
        unit: 'examples/s',
        peakRssMB: r.peakRssMB,
        notes: `${sPerEpoch.toFixed(2)} s/epoch; ${epochs} epoch(s), ${String(r.report.steps)} steps; whole process ${r.wallSeconds.toFixed(1)} s`,
      },
      {
        suite: 'train',
        name: 'ratio recpost/PyTorch, SASRec s/epoch',
        rows: data.numTargets,
        seconds: wasm.seconds,
        rate: ratio,
        unit: '×',
        target: '≤ 1.0×',
        met: ratio <= 1,
        notes:
          `both timed after one warm-up step: recpost ${wasm.seconds.toFixed(2)} s/epoch, ${wasm.peakRssMB?.toFixed(0)} MB; PyTorch ${sPerEpoch.toFixed(2)} s/epoch, ${r.peakRssMB.toFixed(0)} MB; ` +
          `recpost timed from the start of its run (worker threads starting): ${wasmFromStart.epoch.toFixed(2)} s/epoch, ${(wasmFromStart.epoch / sPerEpoch).toFixed(2)}×; ` +
          `whole process: recpost ${wasmFromStart.whole.toFixed(1)} s, PyTorch ${r.wallSeconds.toFixed(1)} s, ${(wasmFromStart.whole / r.wallSeconds).toFixed(2)}×`,
      },
    ];
  } catch (e) {
    process.stderr.write(`  PyTorch peer failed: ${(e as Error).message}\n`);
    return [];
  } finally {
    if (!opts.scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(SELF);
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    childMain(JSON.parse(argv[1]!) as ChildArgs).catch((e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    });
  } else {
    run({ quick: argv.includes('--quick'), scratch: '' }).then((rs) => {
      for (const r of rs)
        process.stdout.write(
          `${r.name}: ${r.rate.toFixed(0)} examples/s, ${r.seconds.toFixed(2)} s/epoch, peak ${r.peakRssMB?.toFixed(0)} MB${r.met === undefined ? '' : r.met ? ' (target met)' : ' (target missed)'}\n`,
        );
    });
  }
}
