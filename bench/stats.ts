/**
 * Benchmarks of the statistics and split concern (DESIGN "Targets":
 * statistics stages ≥ 20M rows/s on their columns):
 *   - RewardStats.add on a 20M float32 reward column (quick: 2M): moments
 *     alone, and with the KLL sketch and the histogram;
 *   - the reward_stats stage over 65536-row batches, streaming and barrier
 *     (spill to Parquet and replay, on a tenth of the rows);
 *   - split_sequences on a 2M-row interaction log (quick: 200K), ~100
 *     interactions per user in random time order, L = 50, run in a child
 *     process so its peak RSS is its own.
 *
 *   npx tsx bench/stats.ts [--quick]       (or through bench/run.ts)
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import _ from 'highland';
import type { BenchOptions, BenchResult } from './common.js';
import { peakRssMB } from './common.js';
import type { Batch } from '../stages/core/batch.js';
import { validateConfig } from '../stages/core/config-schema.js';
import { memoryLogger } from '../stages/core/logger.js';
import { defineStage, type AnyStageDefinition, type StageDefinition } from '../stages/core/stage.js';
import { runPipeline } from '../pipelines/runner.js';
import { RewardStats } from '../stages/stats/reward-stats.js';
import { rewardStatsStage } from '../stages/stats/reward-stats-stage.js';
import { splitSequencesStage } from '../stages/split/split-stage.js';

const SUITE = 'stats';
const BATCH = 65536;

/** Deterministic ratings-like float32 column: integers 1–5, a fifth with a fractional part. */
function rewardColumn(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = 1 + (s % 5);
    out[i] = s >>> 24 < 51 ? r + ((s >>> 8) & 0xffff) / 65536 : r;
  }
  return out;
}

/** CPU-time rate and load average, for figures taken on a shared machine. */
function cpuNote(rows: number, since: NodeJS.CpuUsage): string {
  const u = process.cpuUsage(since);
  const cpu = (u.user + u.system) / 1e6;
  return `${(rows / cpu / 1e6).toFixed(1)}M rows per CPU-second; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`;
}

function sliceBatches(table: string, n: number, make: (start: number, end: number) => Batch['columns']): Batch[] {
  const out: Batch[] = [];
  for (let s = 0; s < n; s += BATCH) {
    const e = Math.min(n, s + BATCH);
    out.push({ table, numRows: e - s, columns: make(s, e) });
  }
  return out;
}

function source(batches: Batch[]): StageDefinition<Record<string, never>> {
  return defineStage<Record<string, never>>({
    name: 'bench_source',
    role: 'source',
    summary: '',
    fields: {},
    create: () => ({
      source: async function* () {
        yield* batches;
      },
    }),
  });
}

async function runStage(def: AnyStageDefinition, cfg: Record<string, unknown>, batches: Batch[], outDir: string) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await runPipeline(
    {
      name: 'bench',
      outDir,
      seed: 0,
      stages: [
        { index: 0, id: 'source', def: source(batches), config: {} },
        { index: 1, id: def.name, def, config: validateConfig(def.name, def.fields, cfg) },
      ],
    },
    { outDir, logger: memoryLogger(), writeFiles: false },
  );
  return { seconds: (performance.now() - t0) / 1000, report: r.stages[1]!, cpu: c0 };
}

function addThroughput(name: string, col: Float32Array, make: () => RewardStats): BenchResult {
  // One warm-up pass on a prefix, then the timed pass over the whole column in 65536-row batches.
  const warm = make();
  for (let s = 0; s < Math.min(col.length, 4 * BATCH); s += BATCH) warm.add(col.subarray(s, s + BATCH));
  const st = make();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let s = 0; s < col.length; s += BATCH) st.add(col.subarray(s, Math.min(col.length, s + BATCH)));
  const seconds = (performance.now() - t0) / 1000;
  const rate = col.length / seconds;
  return {
    suite: SUITE,
    name,
    rows: col.length,
    seconds,
    rate,
    target: '≥ 20M rows/s',
    met: rate >= 20e6,
    peakRssMB: peakRssMB(),
    notes: cpuNote(col.length, c0),
  };
}

/** Interaction log for the split: ~100 interactions per user, random times, random row order. */
function interactionLog(n: number): Batch[] {
  const users = Math.max(1, Math.floor(n / 100));
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  const ts = new BigInt64Array(n);
  const tsHalves = new Int32Array(ts.buffer);
  const reward = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    user[i] = 1 + (next() % users);
    item[i] = 1 + (next() % 20000);
    tsHalves[2 * i] = next() % 1_000_000_000;
    tsHalves[2 * i + 1] = 0;
    reward[i] = 1 + (next() % 5);
  }
  return sliceBatches('interactions', n, (a, b) => ({
    user_id: user.subarray(a, b),
    item_id: item.subarray(a, b),
    timestamp: ts.subarray(a, b),
    reward: reward.subarray(a, b),
  }));
}

async function splitBench(n: number, scratch: string): Promise<BenchResult> {
  const batches = interactionLog(n);
  const { seconds, report, cpu } = await runStage(splitSequencesStage, { max_len: 50 }, batches, path.join(scratch, 'split-run'));
  const rate = n / seconds;
  return {
    suite: SUITE,
    name: `split_sequences ${n / 1e6}M interactions (L = 50)`,
    rows: n,
    seconds,
    rate,
    unit: 'interactions/s',
    peakRssMB: peakRssMB(),
    notes: `${report.rowsOut} examples in ${report.batchesOut} batches; ${cpuNote(n, cpu).replace('rows', 'interactions')}; peak RSS of a child process running only this`,
  };
}

/** Run the split bench in a child process so its peak memory is its own. */
function splitInChild(n: number, scratch: string): Promise<BenchResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--stats-bench-child', String(n), scratch], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: BenchResult | undefined;
    child.on('message', (m) => (result = m as BenchResult));
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`split bench child exited with code ${code}`))));
  });
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const n = opts.quick ? 2_000_000 : 20_000_000;
  const col = rewardColumn(n);
  const results: BenchResult[] = [];
  results.push(addThroughput(`RewardStats.add moments only, ${n / 1e6}M float32`, col, () => new RewardStats({ sketch: false, histogram: false })));
  results.push(addThroughput(`RewardStats.add moments + KLL (k=400) + histogram, ${n / 1e6}M float32`, col, () => new RewardStats()));

  const batches = sliceBatches('interactions', n, (a, b) => ({ reward: col.subarray(a, b) }));
  const streaming = await runStage(rewardStatsStage, {}, batches, path.join(opts.scratch, 'stats-run'));
  results.push({
    suite: SUITE,
    name: `reward_stats stage, ${n / 1e6}M rows in 65536-row batches`,
    rows: n,
    seconds: streaming.seconds,
    rate: n / streaming.seconds,
    target: '≥ 20M rows/s',
    met: n / streaming.seconds >= 20e6,
    peakRssMB: peakRssMB(),
    notes: `busy ${(streaming.report.busyMs / 1000).toFixed(2)} s; ${cpuNote(n, streaming.cpu)}`,
  });

  const nb = Math.max(BATCH, Math.floor(n / 10));
  const barrier = await runStage(rewardStatsStage, { barrier: true }, batches.slice(0, Math.ceil(nb / BATCH)), path.join(opts.scratch, 'stats-barrier'));
  const rowsB = barrier.report.rowsOut;
  results.push({
    suite: SUITE,
    name: `reward_stats barrier (spill to Parquet + replay), ${(rowsB / 1e6).toFixed(1)}M rows`,
    rows: rowsB,
    seconds: barrier.seconds,
    rate: rowsB / barrier.seconds,
    peakRssMB: peakRssMB(),
    notes: `one float32 column, bounded by Parquet encode/decode; ${cpuNote(rowsB, barrier.cpu)}`,
  });

  results.push(await splitInChild(opts.quick ? 200_000 : 2_000_000, opts.scratch));
  return results;
}

const self = fileURLToPath(import.meta.url);
const invoked = process.argv[1] ? fs.realpathSync(process.argv[1]) : '';
if (process.argv[2] === '--stats-bench-child') {
  splitBench(Number(process.argv[3]), process.argv[4]!).then(
    (r) => process.send?.(r, () => process.exit(0)),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
} else if (invoked === self) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-bench-stats-'));
  run({ quick: process.argv.includes('--quick'), scratch })
    .then((rs) => {
      for (const r of rs)
        process.stdout.write(
          `${r.name}: ${(r.rate / 1e6).toFixed(2)}M ${r.unit ?? 'rows/s'} in ${r.seconds.toFixed(2)} s, peak ${r.peakRssMB?.toFixed(0)} MB${r.notes ? ` (${r.notes})` : ''}\n`,
        );
    })
    .finally(() => fs.rmSync(scratch, { recursive: true, force: true }));
}
