/**
 * One checkpoint's point on the proxy-vs-gold curve (paper 004 §5): k samples
 * per held-out context from the policy, scored by the proxy reward model and
 * by the gold reward (a simulator's truth or a held-out reward head), and the
 * exact KL(π‖π₀) to the initial policy over the catalog. Per context, the mean
 * over its samples is one observation of proxy_reward / gold_reward; its KL is
 * one observation of kl_to_init, and the proxy's pairwise agreement with the
 * gold reward over its distinct sampled items one observation of
 * proxy_gold_agreement (pairwise-agreement.ts; paper 004 App. G).
 */
import type { Batch, ListColumn } from '../core/batch.js';
import { sliceBatch } from '../core/batch.js';
import type { RewardPredictor, SamplingPolicy } from '../core/policy.js';
import { MetricAccumulator, type MetricKey } from './accumulator.js';
import { addValuesBySplit } from './by-split.js';
import type { EvalScorer } from './checkpoints.js';
import { repeatContexts, repeatEach } from './contexts.js';
import { contextsOf, int32Of } from './eval-rows.js';
import { chunkSeed, groupMeans, sampleItems } from './judge-evaluator.js';
import { exactKl } from './kl.js';
import { pairwiseAgreement } from './pairwise-agreement.js';
import { AGREEMENT_METRIC, GOLD_METRIC, KL_METRIC, PROXY_METRIC } from './proxy-gold.js';

/** Gold reward of (context, user, item) rows. */
export type GoldFn = (contexts: ListColumn<Int32Array>, users: Int32Array, items: Int32Array) => Promise<ArrayLike<number>>;

export interface ProxyGoldEvalOptions {
  samples: number;
  batchRows: number;
  seed: number;
  key: Omit<MetricKey, 'split' | 'metric'>;
  proxy: RewardPredictor;
  /** A proxy that scores (context, user, item), e.g. a calibrate_proxy file's; used instead of `proxy` when given. */
  userProxy?: GoldFn;
  gold: GoldFn;
  /** The initial policy π₀ (KL is skipped when it or the policy has no logProbs). */
  initial?: Partial<SamplingPolicy>;
}

export async function evaluateProxyGold(policy: EvalScorer, rows: Batch, opts: ProxyGoldEvalOptions): Promise<MetricAccumulator> {
  if (!policy.sample) throw new Error('proxy vs gold: the policy cannot sample');
  const acc = new MetricAccumulator();
  const k = opts.samples;
  const withKl = typeof policy.logProbs === 'function' && typeof opts.initial?.logProbs === 'function';
  for (let start = 0, c = 0; start < rows.numRows; start += opts.batchRows, c++) {
    const chunk = sliceBatch(rows, start, Math.min(rows.numRows, start + opts.batchRows));
    const contexts = contextsOf(chunk);
    const users = int32Of(chunk, 'user_id');
    const split = int32Of(chunk, 'split');
    const samples = await sampleItems(policy as SamplingPolicy, contexts, k, chunkSeed(opts.seed, c));
    const repeated = repeatContexts(contexts, k);
    const proxy = opts.userProxy ? await opts.userProxy(repeated, repeatEach(users, k), samples) : await opts.proxy.predictRewards(repeated, samples);
    const gold = await opts.gold(repeated, repeatEach(users, k), samples);
    addValuesBySplit(acc, opts.key, PROXY_METRIC, groupMeans(proxy, k), split);
    addValuesBySplit(acc, opts.key, GOLD_METRIC, groupMeans(gold, k), split);
    addAgreement(acc, opts.key, pairwiseAgreement(samples, proxy, gold, k), split);
    if (withKl) {
      const lp = await policy.logProbs!(contexts);
      const lq = await opts.initial!.logProbs!(contexts);
      addValuesBySplit(acc, opts.key, KL_METRIC, exactKl(lp, lq, policy.numItems), split);
    }
  }
  return acc;
}

/** Contexts with at least one pair of distinct samples, one observation each. */
function addAgreement(acc: MetricAccumulator, key: Omit<MetricKey, 'split' | 'metric'>, agreement: Float64Array, split: Int32Array): void {
  const keep: number[] = [];
  for (let i = 0; i < agreement.length; i++) if (!Number.isNaN(agreement[i]!)) keep.push(i);
  if (keep.length === 0) return;
  addValuesBySplit(
    acc,
    key,
    AGREEMENT_METRIC,
    Float64Array.from(keep, (i) => agreement[i]!),
    Int32Array.from(keep, (i) => split[i]!),
  );
}
