/**
 * The registry entry of the Gaussian embedding policy (kind "gaussian",
 * paper 002): parameters and policy (gaussian-policy.ts), the online
 * trainer's view (online-model.ts) and the offline task (gaussian-task.ts).
 * Its checkpoints keep the catalog's item embeddings beside the parameters.
 */
import { ConfigError } from '../core/config-schema.js';
import type { LoadedCheckpoint } from './checkpoint.js';
import { GAUSSIAN_KIND, gaussianConfigCodec } from './gaussian-codec.js';
import { createGaussianParams, GaussianPolicy, ITEM_EMBEDDINGS_NAME, type GaussianConfig } from './gaussian-policy.js';
import { gaussianTask, type GaussianData, type GaussianTaskExtras } from './gaussian-task.js';
import { defineModel } from './model-entry.js';
import { gaussianOnlineModel } from './gaussian-online-model.js';

/** The catalog embeddings stored in a Gaussian-policy checkpoint, [numItems × dim]. */
function itemEmbeddings(config: GaussianConfig, ck: LoadedCheckpoint): Float32Array {
  const emb = ck.params.get(ITEM_EMBEDDINGS_NAME);
  if (!emb) throw new ConfigError(`checkpoint ${ck.dir}: the Gaussian policy's item embeddings (${ITEM_EMBEDDINGS_NAME}) are missing`, [ITEM_EMBEDDINGS_NAME]);
  if (emb.data.length !== config.numItems * config.dim)
    throw new ConfigError(`checkpoint ${ck.dir}: ${emb.data.length} item embedding values for ${config.numItems} items × ${config.dim}`, [
      ITEM_EMBEDDINGS_NAME,
    ]);
  return emb.data;
}

export const gaussianModel = defineModel({
  kind: GAUSSIAN_KIND,
  codec: gaussianConfigCodec,
  numItems: (config: GaussianConfig) => config.numItems,
  maxContext: () => Number.MAX_SAFE_INTEGER,
  createParams: createGaussianParams,
  hasRewardHead: () => false,
  policy(config, ck) {
    const embeddings = itemEmbeddings(config, ck);
    const params = createGaussianParams(config, ck.meta.seed);
    params.load(ck.params, `checkpoint ${ck.dir}`);
    return new GaussianPolicy(params, config, embeddings);
  },
  onlineModel(config, ck) {
    const embeddings = itemEmbeddings(config, ck);
    return {
      model: gaussianOnlineModel(config, embeddings),
      extraArrays: [{ name: ITEM_EMBEDDINGS_NAME, shape: [config.numItems, config.dim], data: embeddings }],
    };
  },
  task: (params, config, data: GaussianData, options: { itemEmbeddings: Float32Array; extras?: GaussianTaskExtras }) =>
    gaussianTask(params, config, data, options.itemEmbeddings, options.extras),
});
