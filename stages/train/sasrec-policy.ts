/**
 * A trained sequence model as the policy evaluation and online training use
 * (stages/core/policy.ts): catalog scores h·Eᵀ, log π over the catalog,
 * samples from π, and the reward head's predictions. Contexts are processed
 * in chunks so that [rows × numItems] stays a few million floats.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ListColumn } from '../core/batch.js';
import type { RankingScorer, RewardPredictor, SamplingPolicy, ScoreFactors } from '../core/policy.js';
import type { ParamStore } from './params.js';
import { Rng, RNG_PURPOSE, sampleCategorical } from './rng.js';
import { catalogLogits, contextStates, rewardHeadForward, type SasrecConfig } from './sasrec.js';

function chunkSize(numItems: number): number {
  return Math.max(1, Math.min(512, Math.floor(4_000_000 / numItems)));
}

/** Rows [start, end) of a list column, offsets rebased to 0. */
export function sliceList(c: ListColumn<Int32Array>, start: number, end: number): { offsets: Int32Array; values: Int32Array } {
  const o0 = c.offsets[start]!;
  const offsets = new Int32Array(end - start + 1);
  for (let i = 0; i <= end - start; i++) offsets[i] = c.offsets[start + i]! - o0;
  return { offsets, values: c.values.subarray(o0, c.offsets[end]!) };
}

export class SasrecPolicy implements RankingScorer, RewardPredictor, SamplingPolicy {
  readonly numItems: number;

  constructor(
    readonly params: ParamStore,
    readonly config: SasrecConfig,
  ) {
    this.numItems = config.numItems;
  }

  get hasRewardHead(): boolean {
    return this.config.rewardHead && this.params.has('reward/w1');
  }

  private forChunks(rows: number, fn: (start: number, end: number) => void): void {
    const step = chunkSize(this.numItems);
    for (let s = 0; s < rows; s += step) fn(s, Math.min(rows, s + step));
  }

  /** Logits over the catalog [rows × numItems]; padding gets −∞. */
  logitsSync(contexts: ListColumn<Int32Array>): Float32Array {
    const rows = contexts.offsets.length - 1;
    const out = new Float32Array(rows * this.numItems);
    this.forChunks(rows, (s, e) => {
      const { offsets, values } = sliceList(contexts, s, e);
      const t = tf.tidy(() => catalogLogits(this.params, contextStates(this.params, this.config, offsets, values)));
      out.set(t.dataSync() as Float32Array, s * this.numItems);
      t.dispose();
    });
    for (let r = 0; r < rows; r++) out[r * this.numItems] = -Infinity;
    return out;
  }

  async scoreContexts(contexts: ListColumn<Int32Array>): Promise<Float32Array> {
    return this.logitsSync(contexts);
  }

  /** Catalog scores are h·eⱼ (catalogLogits): the context states, chunked as logitsSync chunks them, and the item embeddings. */
  scoreFactors(): ScoreFactors {
    const d = this.config.d;
    return {
      dim: d,
      contextVectors: (contexts) => {
        const rows = contexts.offsets.length - 1;
        const out = new Float32Array(rows * d);
        this.forChunks(rows, (s, e) => {
          const { offsets, values } = sliceList(contexts, s, e);
          const t = contextStates(this.params, this.config, offsets, values);
          out.set(t.dataSync() as Float32Array, s * d);
          t.dispose();
        });
        return out;
      },
      itemVectors: () => this.params.get('item_emb').dataSync() as Float32Array,
    };
  }

  /** log π(i | s) for every item, [rows × numItems] (padding: −∞). */
  logProbsSync(contexts: ListColumn<Int32Array>): Float32Array {
    const logits = this.logitsSync(contexts);
    const n = this.numItems;
    const rows = logits.length / n;
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let i = 1; i < n; i++) if (logits[r * n + i]! > max) max = logits[r * n + i]!;
      let sum = 0;
      for (let i = 1; i < n; i++) sum += Math.exp(logits[r * n + i]! - max);
      const lse = max + Math.log(sum);
      for (let i = 1; i < n; i++) logits[r * n + i] = logits[r * n + i]! - lse;
    }
    return logits;
  }

  async logProbs(contexts: ListColumn<Int32Array>): Promise<Float32Array> {
    return this.logProbsSync(contexts);
  }

  async sample(contexts: ListColumn<Int32Array>, k: number, seed: number): Promise<Int32Array> {
    const logits = this.logitsSync(contexts);
    const rows = logits.length / this.numItems;
    const out = new Int32Array(rows * k);
    const rng = new Rng(seed, RNG_PURPOSE.sample);
    for (let r = 0; r < rows; r++) sampleCategorical(logits, r * this.numItems, this.numItems, k, rng, out, r * k, 0);
    return out;
  }

  /** Mean −log π(target | context) over the rows (a validation loss), computed in chunks. */
  meanNll(contexts: { offsets: Int32Array; values: Int32Array }, targets: Int32Array): number {
    const rows = targets.length;
    if (rows === 0) return NaN;
    const list: ListColumn<Int32Array> = { kind: 'list', offsets: contexts.offsets, values: contexts.values };
    let sum = 0;
    this.forChunks(rows, (s, e) => {
      const { offsets, values } = sliceList(list, s, e);
      const t = tf.tidy(() => {
        const lsm = tf.logSoftmax(catalogLogits(this.params, contextStates(this.params, this.config, offsets, values)));
        const idx = Int32Array.from(targets.subarray(s, e), (it, j) => j * this.numItems + it);
        return tf.sum(tf.gather(tf.reshape(lsm, [-1]), tf.tensor1d(idx, 'int32')));
      });
      sum -= t.dataSync()[0]!;
      t.dispose();
    });
    return sum / rows;
  }

  predictRewardsSync(contexts: ListColumn<Int32Array>, items: Int32Array): Float32Array {
    if (!this.hasRewardHead) throw new Error('this checkpoint has no reward head (train with reward_head: true)');
    const rows = contexts.offsets.length - 1;
    if (items.length !== rows) throw new Error(`predictRewards: ${rows} contexts but ${items.length} items`);
    const out = new Float32Array(rows);
    this.forChunks(rows, (s, e) => {
      const { offsets, values } = sliceList(contexts, s, e);
      const t = tf.tidy(() => {
        const h = contextStates(this.params, this.config, offsets, values);
        const emb = tf.gather(this.params.get('item_emb'), tf.tensor1d(items.subarray(s, e), 'int32')) as tf.Tensor2D;
        return rewardHeadForward(this.params, h, emb);
      });
      out.set(t.dataSync() as Float32Array, s);
      t.dispose();
    });
    return out;
  }

  async predictRewards(contexts: ListColumn<Int32Array>, items: Int32Array): Promise<Float32Array> {
    return this.predictRewardsSync(contexts, items);
  }

  dispose(): void {
    this.params.dispose();
  }
}
