/**
 * The Gaussian embedding policy as an offline training task: one row per
 * train example (state = mean embedding of its context, action = the logged
 * item's embedding), loss −(1/N) Σ w·log π(e_a | s) (paper 002 Eq. 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { column, isListColumn, numericColumn, type Batch, type ListColumn } from '../core/batch.js';
import { gaussianLogProb, gaussianMean, logSigma, meanEmbeddings, type GaussianConfig } from './gaussian-policy.js';
import { gaussianStored } from './gaussian-codec.js';
import type { OfflineTask, PreparedBatch } from './offline-trainer.js';
import type { ParamStore } from './params.js';
import { weightedNll } from './losses/weighted-nll.js';
import { clippedSurrogateLoss } from './losses/clipped-surrogate.js';
import type { ProximalRequest } from '../weighting/critic-request.js';
import type { RecSimWorld } from '../simulators/recsim-world.js';
import type { CriticInputs } from './critic/critic-inputs.js';
import { CatalogSampler } from './gaussian-catalog-sampler.js';
import { collectOnline, onlineRowCount } from './gaussian-online-mix.js';
import { streamFor } from './rng.js';

/** Stream purposes of the draws made while preparing a batch (apart from rng.ts's purposes). */
const PURPOSE_CRITIC_SAMPLES = 42;
const PURPOSE_ONLINE = 43;

/**
 * What the value-based baselines and the offline-to-online mix add to the task (all optional; none given = the plain weighted NLL).
 * Their draws are keyed by (seed, number of batches prepared so far), so a fresh run is reproducible; a resumed run draws anew.
 */
export interface GaussianTaskExtras {
  seed: number;
  /** A fitted critic: the objective gets its Q and baseline per row (IQL, CRR with a critic, BPPO, DRPO-Q). */
  critic?: CriticInputs;
  /** BPPO: the clipped surrogate against π_k (refreshed every refreshSteps batches) with the objective's weights as advantages. */
  proximal?: ProximalRequest;
  /** Offline-to-online: this fraction of each batch is collected fresh from the world by the current policy. */
  online?: { world: RecSimWorld; ratio: number };
}

/** States, actions and rewards of the train examples, as typed arrays. */
export interface GaussianData {
  dim: number;
  /** [N × dim] mean context embeddings. */
  states: Float32Array;
  actions: Int32Array;
  rewards: Float64Array;
  users: Int32Array;
  numRows: number;
  numItemsSeen: number;
}

/** Accumulates train examples (split 0) into GaussianData. */
export class GaussianCollector {
  private readonly parts: { states: Float32Array; actions: Int32Array; rewards: Float64Array; users: Int32Array }[] = [];
  private maxItem = 0;
  examplesSeen = 0;

  constructor(
    private readonly itemEmb: Float32Array,
    private readonly dim: number,
    private readonly splits: readonly number[] = [0],
  ) {}

  add(b: Batch): void {
    this.examplesSeen += b.numRows;
    const ctx = column(b, 'context');
    if (!isListColumn(ctx)) throw new Error(`"${b.table}" batch: column "context" must be a list column`);
    const context = ctx as ListColumn<Int32Array>;
    const action = numericColumn(b, 'action');
    const reward = numericColumn(b, 'reward');
    const user = numericColumn(b, 'user_id');
    const split = b.columns.split ? numericColumn(b, 'split') : undefined;
    const keep: number[] = [];
    for (let i = 0; i < b.numRows; i++) {
      const a = Number(action[i]);
      if (a > this.maxItem) this.maxItem = a;
      if ((!split || this.splits.includes(Number(split[i]))) && a > 0) keep.push(i);
    }
    for (let j = 0; j < context.values.length; j++) if (context.values[j]! > this.maxItem) this.maxItem = context.values[j]!;
    if (!keep.length) return;
    const offsets = new Int32Array(keep.length + 1);
    const lens = keep.map((i) => context.offsets[i + 1]! - context.offsets[i]!);
    for (let j = 0; j < keep.length; j++) offsets[j + 1] = offsets[j]! + lens[j]!;
    const values = new Int32Array(offsets[keep.length]!);
    keep.forEach((i, j) => values.set(context.values.subarray(context.offsets[i]!, context.offsets[i + 1]!), offsets[j]!));
    this.parts.push({
      states: meanEmbeddings(offsets, values, this.itemEmb, this.dim),
      actions: Int32Array.from(keep, (i) => Number(action[i])),
      rewards: Float64Array.from(keep, (i) => Number(reward[i])),
      users: Int32Array.from(keep, (i) => Number(user[i])),
    });
  }

  finish(): GaussianData {
    const n = this.parts.reduce((s, p) => s + p.actions.length, 0);
    const states = new Float32Array(n * this.dim);
    const actions = new Int32Array(n);
    const rewards = new Float64Array(n);
    const users = new Int32Array(n);
    let o = 0;
    for (const p of this.parts) {
      states.set(p.states, o * this.dim);
      actions.set(p.actions, o);
      rewards.set(p.rewards, o);
      users.set(p.users, o);
      o += p.actions.length;
    }
    return { dim: this.dim, states, actions, rewards, users, numRows: n, numItemsSeen: this.maxItem + 1 };
  }
}

export type GaussianPrepared = PreparedBatch & { states: Float32Array; actionEmb: Float32Array; n: number; oldLogProb?: Float32Array };

export function gaussianTask(
  params: ParamStore,
  config: GaussianConfig,
  data: GaussianData,
  itemEmb: Float32Array,
  extras?: GaussianTaskExtras,
): OfflineTask<GaussianPrepared> {
  const d = config.dim;
  const online = extras?.online && extras.online.ratio > 0 ? extras.online : undefined;
  const sampler = online || extras?.critic?.baseline === 'policy_mean' ? new CatalogSampler(params, config, itemEmb) : undefined;
  const proximal = extras?.proximal;
  const reference = proximal ? params.clone(false) : undefined;
  let prepared = 0;
  const withExtras = (rows: Int32Array, b: GaussianPrepared): GaussianPrepared => {
    const seed = extras!.seed;
    const batchNo = prepared++;
    let fresh = 0;
    if (online) {
      const count = onlineRowCount(b.n, online.ratio);
      const draw = collectOnline(online.world, sampler!, b.states, b.groups, count, d, streamFor(seed, PURPOSE_ONLINE, batchNo));
      for (let j = 0; j < count; j++) {
        const a = draw.items[j]!;
        b.actionEmb.set(itemEmb.subarray(a * d, a * d + d), j * d);
        b.rewards[j] = draw.rewards[j]!;
      }
      fresh = count;
      b.onlineRows = count;
    }
    if (extras!.critic) {
      const c = extras!.critic.forRows(rows, b.states, sampler, streamFor(seed, PURPOSE_CRITIC_SAMPLES, batchNo));
      if (fresh > 0) c.q.set(extras!.critic.critic.q(b.states.subarray(0, fresh * d), b.actionEmb.subarray(0, fresh * d)));
      b.critic = c;
    }
    if (proximal) {
      if (batchNo % proximal.refreshSteps === 0) reference!.copyFrom(params);
      const t = tf.tidy(() =>
        gaussianLogProb(tf.tensor2d(b.actionEmb, [b.n, d]), gaussianMean(reference!, config, tf.tensor2d(b.states, [b.n, d])), logSigma(reference!, config)),
      );
      b.oldLogProb = t.dataSync() as Float32Array;
      t.dispose();
    }
    return b;
  };
  return {
    stored: gaussianStored(config),
    params,
    numRows: data.numRows,
    // Paper 002 Fig. 2b: the phantom gradient's μ (mean network) and σ components.
    paramGroups: config.sigma === 'learned' ? { mu: (n) => n.startsWith('mlp/'), sigma: (n) => n === 'log_sigma' } : { mu: (n) => n.startsWith('mlp/') },
    prepare(rows: Int32Array): GaussianPrepared {
      const n = rows.length;
      const states = new Float32Array(n * d);
      const actionEmb = new Float32Array(n * d);
      const rewards = new Float64Array(n);
      const groups = new Int32Array(n);
      for (let j = 0; j < n; j++) {
        const r = rows[j]!;
        states.set(data.states.subarray(r * d, r * d + d), j * d);
        const a = data.actions[r]!;
        actionEmb.set(itemEmb.subarray(a * d, a * d + d), j * d);
        rewards[j] = data.rewards[r]!;
        groups[j] = data.users[r]!;
      }
      const b: GaussianPrepared = { states, actionEmb, rewards, groups, n };
      return extras ? withExtras(rows, b) : b;
    },
    loss(b: GaussianPrepared, weights: Float32Array) {
      return tf.tidy(() => {
        const mu = gaussianMean(params, config, tf.tensor2d(b.states, [b.n, d]));
        const logp = gaussianLogProb(tf.tensor2d(b.actionEmb, [b.n, d]), mu, logSigma(params, config));
        const surrogate = b.oldLogProb ? clippedSurrogateLoss(logp, tf.tensor1d(b.oldLogProb), tf.tensor1d(weights), proximal!.epsilon) : undefined;
        const loss = surrogate ? surrogate.loss : weightedNll(logp, weights);
        const nll = tf.neg(tf.mean(logp)) as tf.Scalar;
        const extra: Record<string, tf.Scalar> = config.sigma === 'learned' ? { sigma: tf.exp(logSigma(params, config)) as tf.Scalar } : {};
        if (surrogate) extra.clip_frac = surrogate.clipFraction;
        return { loss, nll, extra };
      });
    },
  };
}
