import * as fs from 'node:fs';
import { applyStage } from '../../stages/core/stage-driver.js';
import * as os from 'node:os';
import * as path from 'node:path';
import _ from 'highland';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipelines/cli.js';
import { runPipeline } from '../../pipelines/runner.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { concatBatches, type Batch, type ListColumn } from '../../stages/core/batch.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { StageInstance } from '../../stages/core/stage.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { getStage } from '../../stages/registry.js';
import { createGroupShaper, createOfflineObjective, OFFLINE_OBJECTIVES } from '../../stages/weighting/registry.js';
import { createStage, rewardBatch, rng, runInstance, testCtx } from './helpers.js';

/** Push batches into a stage without ending its input; resolves with what it emitted so far. */
async function feedWithoutEnd(inst: StageInstance, batches: Batch[]): Promise<Batch[]> {
  const src = _<Batch>();
  const got: Batch[] = [];
  applyStage(inst, src).each((b: Batch) => {
    got.push(b);
  });
  for (const b of batches) src.write(b);
  await new Promise((r) => setImmediate(r));
  return got;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-weighting-'));

const stats = (values: number[]) => {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return {
    count: n,
    mean,
    variance,
    std: Math.sqrt(variance),
    min: Math.min(...values),
    max: Math.max(...values),
    quantiles: [],
    quantileRankError: 0,
    histogram: { edges: [], counts: [] },
  };
};

/** An `examples` batch with list columns, as split_sequences writes it. */
function examples(n: number, seed: number, userOffset = 0): Batch {
  const rand = rng(seed);
  const offsets = Int32Array.from({ length: n + 1 }, (_, i) => 2 * i);
  return {
    table: 'examples',
    numRows: n,
    columns: {
      user_id: Int32Array.from({ length: n }, (_, i) => userOffset + Math.floor(i / 4)),
      context: { kind: 'list', offsets, values: Int32Array.from({ length: 2 * n }, (_, i) => 1 + (i % 9)) },
      context_rewards: { kind: 'list', offsets: Int32Array.from(offsets), values: Float32Array.from({ length: 2 * n }, () => 1 + Math.floor(rand() * 5)) },
      action: Int32Array.from({ length: n }, (_, i) => 1 + (i % 13)),
      reward: Float32Array.from({ length: n }, () => 1 + Math.floor(rand() * 5)),
      timestamp: BigInt64Array.from({ length: n }, (_, i) => BigInt(1000 + i)),
      split: new Int8Array(n),
    },
  };
}

const col = (b: Batch, name: string) => Array.from(b.columns[name] as Float32Array);

describe('objective stages', () => {
  it('exist for every objective, named after it, with the objective fields plus stats_path', () => {
    for (const [name, entry] of Object.entries(OFFLINE_OBJECTIVES)) {
      const def = getStage(name);
      expect(def, name).toBeDefined();
      expect(def!.output).toBe('weighted_examples');
      for (const f of Object.keys(entry.fields)) expect(def!.fields).toHaveProperty(f);
      expect(def!.fields).toHaveProperty('stats_path');
    }
    expect(getStage('exp_rsft_trajectory')!.fields).toHaveProperty('group_column');
    expect(getStage('regret_bonus')).toBeDefined();
  });

  it('add weight/advantage/kept to the batch, keep the other columns, and emit per-batch metric records', async () => {
    const ctx = testCtx();
    const inst = createStage(getStage('topk')!, { kappa: 0.5 }, ctx);
    const input = [examples(8, 1), rewardBatch([]), { ...examples(6, 2), columns: { ...examples(6, 2).columns, weight: new Float32Array(6).fill(9) } }];
    const out = await runInstance(inst, input);
    expect(out).toHaveLength(3);
    expect(out[0]!.table).toBe('weighted_examples');
    expect(out[0]!.columns.weight).toBeInstanceOf(Float32Array);
    expect(out[0]!.columns.advantage).toBeInstanceOf(Float32Array);
    expect(out[0]!.columns.kept).toBeInstanceOf(Uint8Array);
    expect(out[0]!.columns.context).toBe(input[0]!.columns.context);
    expect(out[1]!.numRows).toBe(0);
    // The stale weight column of the third batch is replaced.
    const expected = createOfflineObjective('topk', { kappa: 0.5 }).weigh({ reward: Float64Array.from(input[2]!.columns.reward as Float32Array) }, null).result
      .weight;
    expect(col(out[2]!, 'weight')).toEqual(Array.from(expected));
    const nu = ctx.metrics.filter((m) => m.metric === 'nu');
    expect(nu.map((m) => m.step)).toEqual([0, 2]);
    expect(nu.every((m) => m.split === 'batch' && m.method === 'topk' && m.seed === 3)).toBe(true);
    expect(ctx.metrics.find((m) => m.metric === 'n' && m.step === 1)!.value).toBe(0);
    for (const m of ctx.metrics) expect(Number.isFinite(m.value)).toBe(true);
  });

  it('read global statistics lazily from the reward_stats artifact, or from stats_path', async () => {
    const ctx = testCtx();
    const inst = createStage(getStage('exp_rsft')!, { lambda: 1 }, ctx);
    // Published after the stage was created, before its first batch (reward_stats with barrier: true).
    ctx.artifacts.set('reward_stats', stats([1, 7]));
    const [b] = await runInstance(inst, [rewardBatch([7, 6])]);
    expect(col(b!, 'weight')).toEqual([1, Math.fround(Math.exp(-1))]);

    const d = tmp();
    const file = path.join(d, 'reward_stats.json');
    fs.writeFileSync(file, JSON.stringify(stats([0, 10])));
    const inst2 = createStage(getStage('exp_rsft')!, { lambda: 2, stats_path: file }, testCtx());
    const [c] = await runInstance(inst2, [rewardBatch([10, 8])]);
    expect(col(c!, 'weight')).toEqual([1, Math.fround(Math.exp(-1))]);

    const missing = createStage(getStage('exp_rsft')!, {}, testCtx());
    await expect(runInstance(missing, [rewardBatch([1])])).rejects.toThrow(/reward_stats stage .*barrier: true/);
    fs.writeFileSync(file, JSON.stringify({ count: 1, mean: 0, std: 1, min: 0 }));
    const bad = createStage(getStage('exp_rsft')!, { stats_path: file }, testCtx());
    await expect(runInstance(bad, [rewardBatch([1])])).rejects.toThrow(/field "max" must be a finite number/);
  });

  it('name the batch and row of a bad reward', async () => {
    const inst = createStage(getStage('awr')!, {}, testCtx());
    await expect(runInstance(inst, [rewardBatch([1, 2]), rewardBatch([1, NaN])])).rejects.toThrow(/awr: batch 1: .*reward at row 1 is NaN/);
    const noReward = createStage(getStage('bc')!, {}, testCtx());
    await expect(runInstance(noReward, [{ table: 'examples', numRows: 1, columns: { action: Int32Array.of(1) } }])).rejects.toThrow(
      /column "reward" is missing/,
    );
  });
});

describe('DRPO stage checkpoint and resume', () => {
  it('a stage restored from the state after batch k weights batch k + 1 on exactly like an uninterrupted run', async () => {
    const batches = Array.from({ length: 9 }, (_, i) => examples(30 + 7 * i, 100 + i));
    const full = await runInstance(createStage(getStage('drpo')!, {}, testCtx()), batches);
    for (const k of [0, 3, 7]) {
      const ctxA = testCtx();
      const a = createStage(getStage('drpo')!, {}, ctxA);
      await runInstance(a, batches.slice(0, k + 1));
      const saved = JSON.parse(JSON.stringify(a.getState!()));
      expect(saved.batch_index).toBe(k + 1);
      const ctxB = testCtx();
      const b = createStage(getStage('drpo')!, {}, ctxB);
      b.setState!(saved);
      const rest = await runInstance(b, batches.slice(k + 1));
      rest.forEach((batch, j) => expect(col(batch, 'weight')).toEqual(col(full[k + 1 + j]!, 'weight')));
      // Metric steps continue from k + 1.
      expect(Math.min(...ctxB.metrics.map((m) => m.step))).toBe(k + 1);
      const P = ctxB.metrics.find((m) => m.metric === 'P')!.value;
      expect(P).toBe(saved.objective.P);
    }
  });

  it('rejects a state of the wrong shape', () => {
    const inst = createStage(getStage('drpo')!, {}, testCtx());
    expect(() => inst.setState!({ batch_index: -1, objective: null })).toThrow(/invalid saved state/);
    const other = createStage(getStage('drpo')!, {}, testCtx());
    other.setState!({ batch_index: 2, objective: { P: 'x' } });
    return expect(runInstance(other, [rewardBatch([1, 2, 3])])).rejects.toThrow(/field "P" is string, expected number/);
  });
});

describe('trajectory-level stage', () => {
  /** Users of 1–6 rows, rows of a user adjacent, cut into batches at arbitrary places. */
  function trajectories(seed: number) {
    const rand = rng(seed);
    const users: number[] = [];
    const rewards: number[] = [];
    for (let u = 1; u <= 40; u++) {
      const len = 1 + Math.floor(rand() * 6);
      for (let t = 0; t < len; t++) {
        users.push(u);
        rewards.push(1 + Math.floor(rand() * 5));
      }
    }
    const all: Batch = { table: 'examples', numRows: users.length, columns: { user_id: Int32Array.from(users), reward: Float32Array.from(rewards) } };
    const cuts = [0, 7, 8, 30, 31, 32, 60, 90, users.length];
    const batches = cuts.slice(1).map((e, i) => ({
      table: 'examples',
      numRows: e - cuts[i]!,
      columns: { user_id: Int32Array.from(users.slice(cuts[i]!, e)), reward: Float32Array.from(rewards.slice(cuts[i]!, e)) },
    }));
    return { all, batches };
  }

  it('keeps trajectories whole across batch boundaries: the same weights as weighting all rows at once', async () => {
    const { all, batches } = trajectories(4);
    const cfg = { lambda: 2, shift: 30, standardize: false };
    const out = await runInstance(createStage(getStage('exp_rsft_trajectory')!, cfg, testCtx()), batches);
    const got = concatBatches(out);
    expect(Array.from(got.columns.user_id as Int32Array)).toEqual(Array.from(all.columns.user_id as Int32Array));
    const o = createOfflineObjective('exp_rsft_trajectory', cfg);
    const want = o.weigh({ reward: Float64Array.from(all.columns.reward as Float32Array), group: all.columns.user_id as Int32Array }, null).result.weight;
    expect(col(got, 'weight')).toEqual(Array.from(want));
  });

  it('resumes with the held-back rows in its state', async () => {
    const { batches } = trajectories(6);
    const cfg = { lambda: 1, shift_mode: 'batch', standardize: false };
    const full = concatBatches(await runInstance(createStage(getStage('exp_rsft_trajectory')!, cfg, testCtx()), batches));
    // Feed 4 batches without ending the stream (ending it would flush the held rows).
    const live = createStage(getStage('exp_rsft_trajectory')!, cfg, testCtx());
    const partial = await feedWithoutEnd(live, batches.slice(0, 4));
    const saved = JSON.parse(JSON.stringify(live.getState!()));
    expect(saved.held).toBeDefined();
    const b = createStage(getStage('exp_rsft_trajectory')!, cfg, testCtx());
    b.setState!(saved);
    const rest = await runInstance(b, batches.slice(4));
    const resumed = concatBatches([...partial, ...rest]);
    expect(col(resumed, 'weight')).toEqual(col(full, 'weight'));
    expect(Array.from(resumed.columns.user_id as Int32Array)).toEqual(Array.from(full.columns.user_id as Int32Array));
  });

  it('uses a return column when present, and rejects a trajectory that reappears', async () => {
    const b = rewardBatch([1, 2, 3], { user_id: Int32Array.of(1, 1, 2), return: Float32Array.of(10, 10, 4) });
    const [out] = await runInstance(createStage(getStage('exp_rsft_trajectory')!, { shift: 10, standardize: false }, testCtx()), [b]);
    expect(col(out!, 'weight')).toEqual([1, 1, Math.fround(Math.exp(-6))]);
    const split = [rewardBatch([1, 2], { user_id: Int32Array.of(1, 2) }), rewardBatch([1, 2], { user_id: Int32Array.of(3, 1) })];
    await expect(runInstance(createStage(getStage('exp_rsft_trajectory')!, { shift_mode: 'batch' }, testCtx()), split)).rejects.toThrow(
      /trajectory 1 appears again/,
    );
  });
});

describe('end to end through Parquet files', () => {
  it('`recpost stage drpo` reads examples, writes weighted examples and metric records', async () => {
    const d = tmp();
    const src = path.join(d, 'examples.parquet');
    const input = [examples(500, 1), examples(300, 2, 1000)];
    writeParquetFile(src, input, { rowGroupSize: 200 });
    const out = path.join(d, 'weighted');
    expect(await main(['stage', 'drpo', '--input', src, '--output', out, '--opt', 'rho=0.4', '--quiet'])).toBe(0);
    const back = concatBatches(await readParquetAll(out));
    expect(back.numRows).toBe(800);
    // The file's row groups are the stage's batches: recompute them with the pure objective.
    const o = createOfflineObjective('drpo', { rho: 0.4 });
    let s = o.initialState();
    const expected: number[] = [];
    const read = await readParquetAll(src);
    expect(read.length).toBeGreaterThan(2);
    for (const b of read) {
      const res = o.weigh({ reward: Float64Array.from(b.columns.reward as Float32Array) }, s);
      s = res.state;
      expected.push(...res.result.weight);
    }
    expect(col(back, 'weight')).toEqual(expected);
    expect(Array.from(back.columns.kept as Uint8Array).every((v) => v === 0 || v === 1)).toBe(true);
    expect((back.columns.context as ListColumn).values.length).toBe(1600);
    const metrics = fs
      .readFileSync(path.join(`${out}.run`, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.metric === 'P').map((m) => m.step)).toEqual(read.map((_b, i) => i));
  });

  it('a pipeline chains read_parquet → exp_rsft (stats_path) → write_parquet', async () => {
    const d = tmp();
    const src = path.join(d, 'examples.parquet');
    writeParquetFile(src, [examples(100, 3)]);
    const statsFile = path.join(d, 'reward_stats.json');
    fs.writeFileSync(statsFile, JSON.stringify(stats([1, 5])));
    const p = resolvePipeline({
      name: 'w',
      stages: [
        { stage: 'read_parquet', with: { path: src } },
        { stage: 'exp_rsft', with: { lambda: 0.5, stats_path: statsFile } },
        { stage: 'write_parquet', with: { path: path.join(d, 'out') } },
      ],
    });
    const r = await runPipeline(p, { outDir: path.join(d, 'run'), logger: memoryLogger() });
    expect(r.stages[1]!.rowsOut).toBe(100);
    const back = concatBatches(await readParquetAll(path.join(d, 'out')));
    const rew = back.columns.reward as Float32Array;
    col(back, 'weight').forEach((w, i) => expect(w).toBeCloseTo(Math.exp((rew[i]! - 5) / 0.5), 6));
    expect(() =>
      resolvePipeline({
        stages: [
          { stage: 'read_parquet', with: { path: src } },
          { stage: 'drpo', with: { rho: 'x' } },
        ],
      }),
    ).toThrow(/stage "drpo"\): field "rho" must be a finite number/);
  });
});

describe('regret_bonus stage', () => {
  it('shapes whole groups like the shaper and carries the KL window across batches', async () => {
    const G = 4;
    const rand = rng(12);
    const mk = (groups: number): Batch => ({
      table: 'candidates',
      numRows: groups * G,
      columns: {
        proxy_reward: Float32Array.from({ length: groups * G }, () => rand() * 3),
        rollout_logprob: Float32Array.from({ length: groups * G }, () => -rand() * 60),
        ref_logprob: Float32Array.from({ length: groups * G }, () => -rand() * 60),
      },
    });
    const batches = [mk(3), mk(2), mk(5)];
    const cfg = { shaper: 'drro_soft', group_size: G, budget: 'dynamic', alpha: 0.01 };
    const ctx = testCtx();
    const out = await runInstance(createStage(getStage('regret_bonus')!, cfg, ctx), batches);
    const s = createGroupShaper('drro_soft', { budget: 'dynamic', alpha: 0.01 });
    let st = s.initialState();
    batches.forEach((b, i) => {
      const f = (n: string) => Float64Array.from(b.columns[n] as Float32Array);
      const res = s.shape({ groupSize: G, proxyReward: f('proxy_reward'), rolloutLogProb: f('rollout_logprob'), refLogProb: f('ref_logprob') }, st);
      st = res.state;
      expect(Array.from(out[i]!.columns.shaped_reward as Float64Array)).toEqual(Array.from(res.result.shapedReward));
      for (const v of out[i]!.columns.shaped_reward as Float64Array) expect(Number.isFinite(v)).toBe(true);
    });
    expect(ctx.metrics.filter((m) => m.metric === 'kl_smoothed')).toHaveLength(3);
    await expect(runInstance(createStage(getStage('regret_bonus')!, { group_size: 3 }, testCtx()), [mk(1)])).rejects.toThrow(/not a multiple of group_size 3/);
    expect(() => createStage(getStage('regret_bonus')!, { shaper: 'grpo', budget: 'dynamic' }, testCtx())).toThrow(
      /field "budget" does not apply to shaper grpo/,
    );
  });
});
