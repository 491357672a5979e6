/**
 * Throughput of every objective's pure function on a 10M-row reward column
 * (quick: 1M), processed in 65536-row batches as the stages do, state carried
 * across batches; the grouped shapers on 10M candidates with G = 16; and two
 * objectives behind their stream stage (highland, float32 → float64 columns,
 * output batch assembly, metric records) to show the wrapper's cost.
 *
 * Each figure is the best of three passes (the machine is shared).
 *
 * Targets: ≥ 20M rows/s for the O(N) objectives (bc, rsft_linear, exp_rsft,
 * awr, asymre, apg, crr). top-κ and the DRPO family need an order statistic per
 * batch (quickselect on a copy, O(N) on average, O(N log N) in the worst case);
 * their figures are reported without a target.
 */
import _ from 'highland';
import type { Batch } from '../stages/core/batch.js';
import { validateConfig } from '../stages/core/config-schema.js';
import { memoryLogger } from '../stages/core/logger.js';
import type { StageContext } from '../stages/core/stage.js';
import { applyStage } from '../stages/core/stage-driver.js';
import { ARTIFACT, artifactMap } from '../stages/core/artifacts.js';
import type { RewardStatsSummary } from '../schemas/reward-stats.js';
import { getStage } from '../stages/registry.js';
import { createGroupShaper, createOfflineObjective } from '../stages/weighting/registry.js';
import type { BenchOptions, BenchResult } from './common.js';
import { peakRssMB } from './common.js';

const BATCH = 65536;
const TARGET = 20e6;
/** Each figure is the best of REPS timed passes: the machine is shared, and the best pass is the least disturbed one. */
const REPS = 3;

function best(fn: () => number): number {
  let t = Infinity;
  for (let i = 0; i < REPS; i++) t = Math.min(t, fn());
  return t;
}

async function bestAsync(fn: () => Promise<number>): Promise<number> {
  let t = Infinity;
  for (let i = 0; i < REPS; i++) t = Math.min(t, await fn());
  return t;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function rewardsOf(n: number): Float64Array {
  const rand = lcg(7);
  // Ratings-like: integer stars plus a little noise (ties and spread both present).
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = 1 + Math.floor(rand() * 5) + rand() * 0.01;
  return r;
}

function statsOf(r: Float64Array): RewardStatsSummary {
  let s = 0;
  let mx = -Infinity;
  let mn = Infinity;
  for (let i = 0; i < r.length; i++) {
    s += r[i]!;
    if (r[i]! > mx) mx = r[i]!;
    if (r[i]! < mn) mn = r[i]!;
  }
  const mean = s / r.length;
  let ss = 0;
  for (let i = 0; i < r.length; i++) ss += (r[i]! - mean) ** 2;
  const variance = ss / r.length;
  return {
    count: r.length,
    mean,
    variance,
    std: Math.sqrt(variance),
    min: mn,
    max: mx,
    quantiles: [],
    quantileRankError: 0,
    histogram: { edges: [], counts: [] },
  };
}

interface Case {
  name: string;
  config: Record<string, unknown>;
  /** O(N): held to ≥ 20M rows/s. */
  linear: boolean;
}

const CASES: Case[] = [
  { name: 'bc', config: {}, linear: true },
  { name: 'rsft_linear', config: { standardize: true }, linear: true },
  { name: 'exp_rsft', config: { lambda: 0.5 }, linear: true },
  { name: 'awr', config: { beta: 1 }, linear: true },
  { name: 'asymre', config: {}, linear: true },
  { name: 'apg', config: {}, linear: true },
  { name: 'crr', config: { variant: 'exp' }, linear: true },
  { name: 'exp_rsft_trajectory', config: { lambda: 0.5, shift_mode: 'batch' }, linear: false },
  { name: 'topk', config: { kappa: 0.2 }, linear: false },
  { name: 'drpo', config: {}, linear: false },
  { name: 'drpo_exp', config: {}, linear: false },
  { name: 'adaptive_bc', config: {}, linear: false },
];

function timeObjective(c: Case, r: Float64Array, group: Int32Array, stats: RewardStatsSummary): number {
  const o = createOfflineObjective(c.name, c.config, { rewardStats: stats });
  const n = r.length;
  // Warm-up (JIT) on a few batches, not timed.
  let s = o.initialState();
  for (let a = 0; a < Math.min(n, 8 * BATCH); a += BATCH) s = o.weigh({ reward: r.subarray(a, a + BATCH), group: group.subarray(a, a + BATCH) }, s).state;
  return best(() => {
    s = o.initialState();
    const t0 = performance.now();
    for (let a = 0; a < n; a += BATCH) {
      const e = Math.min(n, a + BATCH);
      s = o.weigh({ reward: r.subarray(a, e), group: group.subarray(a, e) }, s).state;
    }
    return (performance.now() - t0) / 1000;
  });
}

function ctxFor(stats: RewardStatsSummary): StageContext {
  return {
    outDir: '/nonexistent',
    runId: 'bench',
    seed: 0,
    log: memoryLogger(),
    progress: false,
    artifacts: artifactMap([[ARTIFACT.rewardStats, stats]]),
    counters: { rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 },
    emitMetric() {},
    allMetrics: () => [],
  };
}

async function timeStage(name: string, config: Record<string, unknown>, r32: Float32Array, stats: RewardStatsSummary): Promise<number> {
  const def = getStage(name)!;
  const batches: Batch[] = [];
  for (let a = 0; a < r32.length; a += BATCH) {
    const reward = r32.subarray(a, Math.min(r32.length, a + BATCH));
    batches.push({ table: 'examples', numRows: reward.length, columns: { reward } });
  }
  const inst = def.create(validateConfig(name, def.fields, config), ctxFor(stats));
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    applyStage(inst, _<Batch>(batches))
      .stopOnError((e: Error) => reject(e))
      .done(() => resolve());
  });
  return (performance.now() - t0) / 1000;
}

function result(name: string, rows: number, seconds: number, linear: boolean | undefined, notes?: string): BenchResult {
  const rate = rows / seconds;
  return {
    suite: 'weighting',
    name,
    rows,
    seconds,
    rate,
    peakRssMB: peakRssMB(),
    ...(linear === true ? { target: '≥ 20M rows/s', met: rate >= TARGET } : {}),
    ...(notes ? { notes } : {}),
  };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const n = opts.quick ? 1_000_000 : 10_000_000;
  const size = opts.quick ? '1M' : '10M';
  const r = rewardsOf(n);
  const stats = statsOf(r);
  // Trajectories of 1–16 rows, adjacent.
  const group = new Int32Array(n);
  const rand = lcg(3);
  for (let i = 0, g = 0; i < n; g++) {
    const len = 1 + Math.floor(rand() * 16);
    for (let k = 0; k < len && i < n; k++) group[i++] = g;
  }
  const out: BenchResult[] = [];
  for (const c of CASES) {
    const sec = timeObjective(c, r, group, stats);
    out.push(
      result(
        `${c.name} ${size} rows (65536-row batches)`,
        n,
        sec,
        c.linear,
        c.linear ? undefined : 'O(N) average (quickselect / group sums), reported without target',
      ),
    );
  }
  // Behind the stream stage (float32 reward column in, weighted batch out, metric records).
  const r32 = Float32Array.from(r);
  for (const [name, cfg] of [
    ['exp_rsft', { lambda: 0.5 }],
    ['drpo', {}],
  ] as const) {
    const sec = await bestAsync(() => timeStage(name, cfg, r32, stats));
    out.push(result(`${name} stage ${size} rows (highland, float32 in)`, n, sec, name === 'exp_rsft' ? true : undefined));
  }
  // Grouped shapers: n candidates, G = 16, 4096 groups per call.
  const G = 16;
  const proxy = new Float64Array(n);
  const lp = new Float64Array(n);
  const ref = new Float64Array(n);
  const rg = lcg(11);
  for (let i = 0; i < n; i++) {
    proxy[i] = rg() * 4;
    lp[i] = -rg() * 80;
    ref[i] = lp[i]! + (rg() - 0.5);
  }
  const shapers: [string, string, Record<string, unknown>][] = [
    ['grpo', 'grpo', {}],
    ['drro_hard', 'drro_hard fixed', {}],
    ['drro_soft', 'drro_soft fixed', {}],
    ['drro_soft', 'drro_soft dynamic k3', { budget: 'dynamic' }],
    ['dro', 'dro fixed', {}],
  ];
  const per = G * 4096;
  for (const [name, label, cfg] of shapers) {
    const s = createGroupShaper(name, cfg);
    let st = s.initialState();
    st = s.shape({ groupSize: G, proxyReward: proxy.subarray(0, per), rolloutLogProb: lp.subarray(0, per), refLogProb: ref.subarray(0, per) }, st).state;
    const sec = best(() => {
      st = s.initialState();
      const t0 = performance.now();
      for (let a = 0; a < n; a += per) {
        const e = Math.min(n, a + per);
        st = s.shape({ groupSize: G, proxyReward: proxy.subarray(a, e), rolloutLogProb: lp.subarray(a, e), refLogProb: ref.subarray(a, e) }, st).state;
      }
      return (performance.now() - t0) / 1000;
    });
    out.push({ ...result(`${label} ${size} candidates (G = 16)`, n, sec, undefined), unit: 'candidates/s' });
  }
  return out;
}
