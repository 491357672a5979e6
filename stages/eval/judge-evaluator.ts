/**
 * Reward-model-as-judge and true policy value (paper 000 §6 "Avg Reward";
 * paper 002 Tables 1–2 for the simulator's true reward and eCPM).
 *
 * For each context s (up to the stage's max_contexts):
 * - k recommendations a_1..a_k ~ π(·|s) (k = 10 in paper 000);
 * - avg_reward: (1/k) Σ_j r̂(s, a_j), the judge reward head's mean score;
 * - true_reward_sampled: (1/k) Σ_j r*(u, a_j), where a simulator knows r*;
 * - true_reward_top1: r*(u, argmax_a score(s, a)), the decoded recommendation
 *   (padding and, by default, the context's items excluded);
 * - ecpm_sampled / ecpm_top1: ecpmFactor × the true reward (5 for RecSim, the
 *   ratio of paper 002's tables).
 * - dist: ‖μ(s) − e_â‖₂ for a policy with action vectors μ(s) (the Gaussian
 *   embedding policy), paper 002's "Dist." (embedding-distance.ts).
 * Each context contributes one observation (its mean over the k samples).
 */
import type { Batch, ListColumn } from '../core/batch.js';
import { sliceBatch } from '../core/batch.js';
import type { RewardPredictor, SamplingPolicy } from '../core/policy.js';
import { MetricAccumulator, type MetricKey } from './accumulator.js';
import { mix32 } from '../core/seeded-random.js';
import { addValuesBySplit } from './by-split.js';
import type { EvalScorer } from './checkpoints.js';
import { repeatContexts, repeatEach, topItems } from './contexts.js';
import { contextsOf, int32Of } from './eval-rows.js';
import type { TrueRewardOracle } from '../simulators/truth.js';
import { decodedDistances, hasActionVectors } from './embedding-distance.js';

export const JUDGE_METRICS = {
  avgReward: 'avg_reward',
  trueSampled: 'true_reward_sampled',
  trueTop1: 'true_reward_top1',
  ecpmSampled: 'ecpm_sampled',
  ecpmTop1: 'ecpm_top1',
  dist: 'dist',
} as const;

export interface JudgeEvalOptions {
  samples: number;
  batchRows: number;
  /** Seed of this partition's sampling; chunk c samples with mix(seed, c). */
  seed: number;
  excludeHistory: boolean;
  /** eCPM = factor × true reward; 0 emits no eCPM records. */
  ecpmFactor: number;
  key: Omit<MetricKey, 'split' | 'metric'>;
  /** Reward head that scores the sampled recommendations (avg_reward). */
  judge?: RewardPredictor;
  /** Simulator truth (true_reward_*). */
  oracle?: TrueRewardOracle;
}

/** Draw k samples per context and check they are catalog items (never padding). */
export async function sampleItems(policy: SamplingPolicy, contexts: ListColumn<Int32Array>, k: number, seed: number): Promise<Int32Array> {
  const rows = contexts.offsets.length - 1;
  const s = await policy.sample(contexts, k, seed);
  if (s.length !== rows * k) throw new Error(`sample: policy returned ${s.length} items for ${rows} contexts × ${k} samples`);
  for (let i = 0; i < s.length; i++) {
    if (!(s[i]! >= 1 && s[i]! < policy.numItems))
      throw new Error(`sample: policy returned item ${s[i]} outside 1..${policy.numItems - 1} (padding must never be sampled)`);
  }
  return s;
}

/** Mean of each consecutive group of k values. */
export function groupMeans(values: ArrayLike<number>, k: number): Float64Array {
  const rows = Math.floor(values.length / k);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += values[r * k + j]!;
    out[r] = s / k;
  }
  return out;
}

const scaled = (v: ArrayLike<number>, f: number) => Float64Array.from(v, (x) => x * f);

/** Seed of chunk `c` of a partition whose sampling seed is `seed`. */
export const chunkSeed = (seed: number, c: number): number => mix32(seed ^ Math.imul(c + 1, 0x9e3779b1)) & 0x7fffffff;

/** Judge and true-value metrics of `policy` on `rows` (columns context, action, user_id, split). */
export async function evaluateJudge(policy: EvalScorer, rows: Batch, opts: JudgeEvalOptions): Promise<MetricAccumulator> {
  const acc = new MetricAccumulator();
  const k = opts.samples;
  const canSample = typeof policy.sample === 'function';
  for (let start = 0, c = 0; start < rows.numRows; start += opts.batchRows, c++) {
    const chunk = sliceBatch(rows, start, Math.min(rows.numRows, start + opts.batchRows));
    const contexts = contextsOf(chunk);
    const split = int32Of(chunk, 'split');
    const users = opts.oracle ? int32Of(chunk, 'user_id') : undefined;
    if (canSample && (opts.judge || opts.oracle)) {
      const samples = await sampleItems(policy as SamplingPolicy, contexts, k, chunkSeed(opts.seed, c));
      if (opts.judge) {
        const scores = await opts.judge.predictRewards(repeatContexts(contexts, k), samples);
        addValuesBySplit(acc, opts.key, JUDGE_METRICS.avgReward, groupMeans(scores, k), split);
      }
      if (opts.oracle) {
        const truth = groupMeans(opts.oracle.trueRewards(repeatEach(users!, k), samples), k);
        addValuesBySplit(acc, opts.key, JUDGE_METRICS.trueSampled, truth, split);
        if (opts.ecpmFactor > 0) addValuesBySplit(acc, opts.key, JUDGE_METRICS.ecpmSampled, scaled(truth, opts.ecpmFactor), split);
      }
    }
    if (hasActionVectors(policy)) {
      const dim = policy.itemEmbeddings.length / policy.numItems;
      addValuesBySplit(acc, opts.key, JUDGE_METRICS.dist, decodedDistances(policy.meansSync(contexts), policy.itemEmbeddings, dim), split);
    }
    if (opts.oracle) {
      const top = topItems(await policy.scoreContexts(contexts), policy.numItems, contexts, opts.excludeHistory);
      if (top.some((t) => t < 0)) throw new Error('true_reward_top1: a context excludes every catalog item');
      const truth = Float64Array.from(opts.oracle.trueRewards(users!, top));
      addValuesBySplit(acc, opts.key, JUDGE_METRICS.trueTop1, truth, split);
      if (opts.ecpmFactor > 0) addValuesBySplit(acc, opts.key, JUDGE_METRICS.ecpmTop1, scaled(truth, opts.ecpmFactor), split);
    }
  }
  return acc;
}
