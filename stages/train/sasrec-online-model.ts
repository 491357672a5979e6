/** The sequence model as the online trainer sees it: log π over the catalog from the last position's state, which is also the value head's feature; the reward head is the proxy. */
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './nn.js';
import type { OnlineModel } from './online-model.js';
import type { ParamStore } from './params.js';
import { createSasrecParams, padContexts, rewardHeadForward, sasrecEncode, type SasrecConfig } from './sasrec.js';
import { sasrecStored } from './sasrec-codec.js';
import { paddingBias } from './softmax-output.js';
import { matMulNN } from './wasm-kernels.js';

interface SasrecPrep {
  ids: Int32Array;
  rows: number;
  T: number;
  last: Int32Array;
}

export function sasrecOnlineModel(config: SasrecConfig): OnlineModel<SasrecPrep> {
  const state = (params: ParamStore, prep: SasrecPrep): tf.Tensor2D =>
    tf.tidy(() => tf.gather(sasrecEncode(params, config, prep.ids, prep.rows, prep.T), tf.tensor1d(prep.last, 'int32')) as tf.Tensor2D);
  return {
    stored: sasrecStored(config),
    numItems: config.numItems,
    featureDim: config.d,
    createParams: (seed) => createSasrecParams(config, seed),
    policyNames: (params) => params.names().filter((n) => !n.startsWith('reward/')),
    prepare(batch) {
      const { ids, rows, T, lastPos } = padContexts(batch.offsets, batch.values, config.maxLen);
      const last = Int32Array.from(lastPos, (p, r) => r * T + p);
      return { ids, rows, T, last };
    },
    catalogLogProbs(params, prep) {
      return tf.tidy(() => {
        const h = state(params, prep);
        return tf.logSoftmax(tf.add(matMulNN(h, params.get('item_emb') as tf.Tensor2D, false, true), paddingBias(config.numItems))) as tf.Tensor2D;
      });
    },
    stateFeatures: (params, prep) => tf.tidy(() => stopGradient(state(params, prep))),
    predictRewards(params, prep, items, groupSize) {
      if (!config.rewardHead || !params.has('reward/w1'))
        throw new Error('the policy checkpoint has no reward head to use as the proxy (train it with reward_head: true, or use proxy: simulator)');
      const t = tf.tidy(() => {
        const h = state(params, prep);
        const rep = Int32Array.from({ length: items.length }, (_, i) => Math.floor(i / groupSize));
        const hr = tf.gather(h, tf.tensor1d(rep, 'int32')) as tf.Tensor2D;
        const e = tf.gather(params.get('item_emb'), tf.tensor1d(items, 'int32')) as tf.Tensor2D;
        return rewardHeadForward(params, hr, e);
      });
      const out = t.dataSync() as Float32Array;
      t.dispose();
      return out;
    },
    dispose() {},
  };
}
