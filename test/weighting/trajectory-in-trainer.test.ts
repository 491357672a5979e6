/**
 * Issue 12, defect 1: inside the trainers, trajectory-level Exp-RSFT must see
 * the return R(τ) of the user's whole trajectory (not the sum of the user's
 * targets inside the current minibatch), standardised by statistics of the
 * returns (paper 000 §5), so that its weights equal the exp_rsft_trajectory
 * stage's weights on the same data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Batch } from '../../stages/core/batch.js';
import { artifactMap } from '../../stages/core/artifacts.js';
import { numericColumn } from '../../stages/core/batch.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { initBackend } from '../../stages/train/backend.js';
import { assembleMinibatch, ExampleCollector } from '../../stages/train/sequence-data.js';
import { buildObjective } from '../../stages/train/stage-support.js';
import { gaussianTrajectoryInput, sequenceTrajectoryInput } from '../../stages/train/trajectory-input.js';
import type { GaussianData } from '../../stages/train/gaussian-task.js';
import { STAGES } from '../../stages/registry.js';
import { simulateLog } from '../train/helpers.js';
import { createStage, runInstance, testCtx } from './helpers.js';

const LAMBDA = 0.5;
const log = simulateLog({ users: 12, length: 30, numItems: 20, seed: 5, holdOut: true });

/** R_u = Σ of user u's train rewards, written into the `return` column as split_sequences does. */
function withReturns(b: Batch): { batch: Batch; R: Map<number, number> } {
  const user = numericColumn(b, 'user_id');
  const reward = numericColumn(b, 'reward');
  const split = numericColumn(b, 'split');
  const R = new Map<number, number>();
  for (let i = 0; i < b.numRows; i++) if (split[i] === 0) R.set(Number(user[i]), (R.get(Number(user[i])) ?? 0) + Number(reward[i]));
  const ret = Float32Array.from({ length: b.numRows }, (_, i) => R.get(Number(user[i]))!);
  return { batch: { ...b, columns: { ...b.columns, return: ret } }, R };
}

const { batch, R } = withReturns(log.batch);
// Statistics over trajectories (one value per user), computed here by hand.
const returns = [...R.values()];
const maxR = Math.max(...returns);
const meanR = returns.reduce((s, v) => s + v, 0) / returns.length;
const stdR = Math.sqrt(returns.reduce((s, v) => s + (v - meanR) ** 2, 0) / returns.length);
/** The paper's weight of user u: exp((R̃_u − max R̃)/λ) = exp((R_u − max R)/(λσ_R)). */
const expected = (u: number) => Math.fround(Math.exp((R.get(u)! - maxR) / (LAMBDA * stdR)));
// The usual statistics in a pipeline: reward_stats over per-step rewards (max 5).
const rewardStats = {
  count: 1,
  mean: 3,
  variance: 2,
  std: Math.SQRT2,
  min: 1,
  max: 5,
  quantiles: [],
  quantileRankError: 0,
  histogram: { edges: [], counts: [] },
};

describe('trajectory Exp-RSFT inside the trainers', () => {
  it("the returns differ between users and are far above one step's reward (the case that broke)", () => {
    expect(new Set(returns).size).toBeGreaterThan(3);
    expect(Math.min(...returns)).toBeGreaterThan(50);
  });

  it("the stage, given the return column and the returns' max and std, weights every row of user u by exp((R_u − max R)/(λσ_R))", async () => {
    const ctx = testCtx();
    const stage = createStage(STAGES.get('exp_rsft_trajectory')!, { lambda: LAMBDA, shift: maxR, scale: stdR }, ctx);
    const [out] = await runInstance(stage, [batch]);
    const w = out!.columns.weight as Float32Array;
    const user = numericColumn(batch, 'user_id');
    for (let i = 0; i < batch.numRows; i++) expect(w[i]).toBe(expected(Number(user[i])));
  });

  it("a sequence trainer's minibatch of a few windows gets the stage's weights, with per-step statistics published", () => {
    const collector = new ExampleCollector('sequence', 8);
    collector.add(batch);
    const data = collector.finish();
    expect(data.numRows).toBeGreaterThan(12); // users' histories are cut into several windows
    const ctx = { artifacts: artifactMap([['reward_stats', rewardStats]]) };
    const objective = buildObjective({ name: 'exp_rsft_trajectory', lambda: LAMBDA }, undefined, ctx, 'train_sasrec', () => sequenceTrajectoryInput(data));
    let state = objective.initialState();
    for (const rows of [[0, 5, 9], [1], [data.numRows - 1, 2]]) {
      const mb = assembleMinibatch(data, Int32Array.from(rows), 8);
      const out = objective.weigh({ reward: mb.rewards, group: mb.groups }, state);
      state = out.state;
      expect(Array.from(out.result.weight)).toEqual(Array.from(mb.groups, (u) => expected(u)));
    }
  });
});

describe("the Gaussian trainer's rows", () => {
  it("a minibatch of two rows gets exp((R_u − max R)/(λσ_R)) with R summed over all of the user's rows", () => {
    // Users 1: rewards 1, 2, 3 (R = 6); 2: 5 (R = 5); 3: 0.5, 0.5 (R = 1); max R = 6, σ_R the population std of (6, 5, 1).
    const users = Int32Array.from([1, 1, 1, 2, 3, 3]);
    const rewards = Float64Array.from([1, 2, 3, 5, 0.5, 0.5]);
    const data = { dim: 1, states: new Float32Array(6), actions: new Int32Array(6), rewards, users, numRows: 6, numItemsSeen: 1 } as GaussianData;
    const Rs = [6, 5, 1];
    const mean = 4;
    const std = Math.sqrt(Rs.reduce((s, v) => s + (v - mean) ** 2, 0) / 3);
    const objective = buildObjective({ name: 'exp_rsft_trajectory', lambda: 2 }, undefined, { artifacts: new Map() }, 'train_gaussian', () =>
      gaussianTrajectoryInput(data),
    );
    const out = objective.weigh({ reward: Float64Array.from([2, 0.5]), group: Int32Array.from([1, 3]) }, objective.initialState());
    expect(Array.from(out.result.weight)).toEqual([1, Math.fround(Math.exp((1 - 6) / (2 * std)))]);
  });
});

describe('train_sasrec with exp_rsft_trajectory in a pipeline', () => {
  let dir: string;
  beforeAll(async () => {
    await initBackend('wasm');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-traj-'));
    writeParquetFile(path.join(dir, 'examples.parquet'), [batch]);
  });

  it('trains with the whole-trajectory weights: one step over every target has w_mean = the mean of exp((R_u − max R)/(λσ_R))', async () => {
    const p = resolvePipeline({
      name: 'traj',
      seed: 1,
      stages: [
        { stage: 'read_parquet', with: { path: path.join(dir, 'examples.parquet') } },
        { stage: 'reward_stats', with: { barrier: true, batch_metrics: false } },
        {
          stage: 'train_sasrec',
          with: {
            objective: { name: 'exp_rsft_trajectory', lambda: LAMBDA },
            max_len: 8,
            d: 8,
            blocks: 1,
            heads: 1,
            epochs: 1,
            batch_size: 1000,
            log_every: 1,
          },
        },
      ],
    });
    const res = await runPipeline(p, { outDir: path.join(dir, 'run'), logger: memoryLogger() });
    const wMean = res.metrics.find((m) => m.split === 'train' && m.metric === 'w_mean')!;
    // Every user has 27 train targets, so the mean over targets is the mean over users.
    const users = [...R.keys()];
    const mean = users.reduce((s, u) => s + expected(u), 0) / users.length;
    expect(wMean.value).toBeCloseTo(mean, 6);
  });
});
