/** The Gaussian embedding policy as the online trainer sees it: the catalog-restricted Gaussian's log π; the mean context embedding is the value head's feature; no reward head. */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianStored } from './gaussian-codec.js';
import { catalogGaussianLogits, createGaussianParams, gaussianMean, logSigma, meanEmbeddings, type GaussianConfig } from './gaussian-policy.js';
import type { OnlineModel } from './online-model.js';

interface GaussianPrep {
  states: Float32Array;
  rows: number;
}

export function gaussianOnlineModel(config: GaussianConfig, itemEmbeddings: Float32Array): OnlineModel<GaussianPrep> {
  const items = tf.keep(tf.tensor2d(itemEmbeddings, [config.numItems, config.dim]));
  const itemSq = tf.keep(tf.tidy(() => tf.sum(tf.square(items), 1) as tf.Tensor1D));
  return {
    stored: gaussianStored(config),
    numItems: config.numItems,
    featureDim: config.dim,
    createParams: (seed) => createGaussianParams(config, seed),
    policyNames: (params) => params.names(),
    prepare(batch) {
      return { states: meanEmbeddings(batch.offsets, batch.values, itemEmbeddings, config.dim), rows: batch.offsets.length - 1 };
    },
    catalogLogProbs(params, prep) {
      return tf.tidy(() => {
        const mu = gaussianMean(params, config, tf.tensor2d(prep.states, [prep.rows, config.dim]));
        return tf.logSoftmax(catalogGaussianLogits(mu, items, itemSq, logSigma(params, config))) as tf.Tensor2D;
      });
    },
    stateFeatures: (_params, prep) => tf.tensor2d(prep.states, [prep.rows, config.dim]),
    dispose() {
      items.dispose();
      itemSq.dispose();
    },
  };
}
