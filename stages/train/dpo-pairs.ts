/**
 * The advantage source of online DPO (paper 000's baseline): two candidates
 * per context from the current policy; the one the proxy scores higher is the
 * preferred y_w, the other y_l (ties give no pair); the loss is DPO's
 * (losses/online-dpo-loss.ts) against the frozen reference policy π_ref.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdvantageSource } from './advantage-source.js';
import { onlineDpoLoss, referenceMargin } from './losses/online-dpo-loss.js';
import type { OnlineModel } from './online-model.js';
import type { ParamStore } from './params.js';

export interface PreferencePairs {
  /** The context of each pair. */
  rows: Int32Array;
  win: Int32Array;
  lose: Int32Array;
}

/** Pairs from two candidates per context (items[2r], items[2r + 1]) and their proxy rewards; ties are skipped. */
export function preferencePairs(items: Int32Array, proxy: Float64Array, contexts: number): PreferencePairs {
  const rows: number[] = [];
  const win: number[] = [];
  const lose: number[] = [];
  for (let r = 0; r < contexts; r++) {
    const a = proxy[2 * r]!;
    const b = proxy[2 * r + 1]!;
    if (a === b) continue;
    rows.push(r);
    win.push(items[2 * r + (a > b ? 0 : 1)]!);
    lose.push(items[2 * r + (a > b ? 1 : 0)]!);
  }
  return { rows: Int32Array.from(rows), win: Int32Array.from(win), lose: Int32Array.from(lose) };
}

export function dpoPairs<P>(model: OnlineModel<P>, reference: ParamStore, beta: number): AdvantageSource<P> {
  const V = model.numItems;
  return {
    groupSize: 2,
    targets({ batch, prep, rollout, proxy }) {
      const pairs = preferencePairs(rollout.items, proxy, batch.users.length);
      /** Positions of the pairs' items in a flattened [rows, V] log-probability tensor. */
      const flatIndex = (items: Int32Array) =>
        tf.tensor1d(
          Int32Array.from(items, (it, j) => pairs.rows[j]! * V + it),
          'int32',
        );
      const learnable = pairs.rows.length > 0;
      let refMargin: tf.Tensor1D | undefined;
      if (learnable) {
        const lp0 = model.catalogLogProbs(reference, prep);
        refMargin = tf.tidy(() => {
          const flat = tf.reshape(lp0, [-1]);
          return referenceMargin(tf.gather(flat, flatIndex(pairs.win)) as tf.Tensor1D, tf.gather(flat, flatIndex(pairs.lose)) as tf.Tensor1D);
        });
        lp0.dispose();
      }
      return {
        diagnostics: { dpo_pairs: pairs.rows.length },
        learnable,
        loss(catalogLogProbs) {
          const flat = tf.reshape(catalogLogProbs, [-1]);
          const chosen = tf.gather(flat, flatIndex(pairs.win)) as tf.Tensor1D;
          const rejected = tf.gather(flat, flatIndex(pairs.lose)) as tf.Tensor1D;
          return { loss: onlineDpoLoss(chosen, rejected, refMargin!, beta), parts: {} };
        },
        dispose: () => refMargin?.dispose(),
      };
    },
    checkpointPart: () => ({ extra: {}, params: [], optimizer: [] }),
    restore() {},
    dispose() {},
  };
}
